import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/lib/errors.js';
import { CsvRowEncoder, jsonNumber, planCsv } from '../../src/lib/records/csv-values.js';
import { compileTimestampFormat, formatFirehoseTimestamp } from '../../src/lib/records/timestamp-format.js';
import { convertRecord } from '../../src/lib/serde/index.js';
import type { SerdeSchema } from '../../src/lib/serde/types.js';

const schema = (columns: [string, string][], options: Partial<SerdeSchema['options']> = {}): SerdeSchema => ({
  columns: columns.map(([name, type]) => ({ name, type })),
  options: { caseInsensitive: true, convertDotsInJsonKeysToUnderscores: false, columnToJsonKeyMappings: {}, ...options },
});

const TYPES = schema([
  ['s', 'string'],
  ['i', 'int'],
  ['big', 'bigint'],
  ['d', 'double'],
  ['dec', 'decimal(10,2)'],
  ['b', 'boolean'],
  ['ts', 'timestamp'],
  ['dt', 'date'],
  ['tags', 'array<string>'],
]);

function encoder(format?: string) {
  const plan = planCsv(['s', 'i', 'big', 'd', 'dec', 'b', 'ts', 'dt', 'tags'], TYPES, 'in.csv');
  return new CsvRowEncoder(plan, format ? compileTimestampFormat(format) : undefined);
}

/** The JSON sent for one cell of the named column. */
function cell(column: string, text: string | null, format?: string): string {
  const e = encoder(format);
  const target = e.plan.targets.find((t) => t?.column === column)!;
  return e.value(target, text);
}

describe('CSV values to the JSON Firehose converts (the conversion table)', () => {
  it.each([
    ['s', null, 'null'],
    ['s', '', '""'],
    ['s', ' padded "q" ', '" padded \\"q\\" "'],
    ['i', null, 'null'],
    ['i', '', 'null'],
    ['i', ' 42 ', '42'],
    ['i', '+007', '7'],
    ['i', '-0', '0'],
    ['i', '-12', '-12'],
    ['i', '1.5', '"1.5"'],
    ['i', 'abc', '"abc"'],
    ['big', '9007199254740993', '9007199254740993'],
    ['d', '1.50', '1.50'],
    ['d', '.5', '0.5'],
    ['d', '-3.', '-3'],
    ['d', '1e3', '1e3'],
    ['d', '1,5', '"1,5"'],
    ['dec', '12.345', '12.345'],
    ['b', 'TRUE', 'true'],
    ['b', 'yes', 'true'],
    ['b', 'Y', 'true'],
    ['b', '1', 'true'],
    ['b', 'f', 'false'],
    ['b', 'No', 'false'],
    ['b', '0', 'false'],
    ['b', 'maybe', '"maybe"'],
    ['ts', '2024-05-17 13:00:00', '"2024-05-17 13:00:00"'],
    ['ts', '2024-5-7 1:02:03.25', '"2024-5-7 1:02:03.25"'],
    ['ts', '2024-05-17T13:00:00.123Z', '"2024-05-17T13:00:00.123Z"'],
    ['ts', '2024-05-17T13:00:00', '"2024-05-17 13:00:00"'],
    ['ts', '2024-05-17T15:30:00+02:00', '"2024-05-17 13:30:00"'],
    ['ts', '2024-05-17T00:30:00.500-0100', '"2024-05-17 01:30:00.5"'],
    ['ts', '2024-05-17', '"2024-05-17 00:00:00"'],
    ['ts', '1715950800', '1715950800'],
    ['ts', '1715950800123', '1715950800123'],
    ['ts', '03/18/2015 02:05:00 PM', '"03/18/2015 02:05:00 PM"'],
    ['ts', '2024-02-30T00:00:00', '"2024-02-30T00:00:00"'],
    ['dt', '2024-05-17', '"2024-05-17"'],
    ['dt', '2024-05-17T23:30:00-02:00', '"2024-05-18"'],
    ['dt', '17/05/2024', '"17/05/2024"'],
    ['tags', '["a","b"]', '["a","b"]'],
    ['tags', '[broken', '"[broken"'],
  ])('%s column, %j -> %s', (column, text, json) => {
    expect(cell(column, text)).toBe(json);
  });

  it('with --timestamp-format reads local conventions and sends UTC yyyy-MM-dd HH:mm:ss', () => {
    expect(cell('ts', '03/18/2015 02:05:00 PM', 'MM/dd/yyyy hh:mm:ss a')).toBe('"2015-03-18 14:05:00"');
    expect(cell('ts', '03/18/2015 12:05:00 AM', 'MM/dd/yyyy hh:mm:ss a')).toBe('"2015-03-18 00:05:00"');
    expect(cell('ts', '18.03.2015 14:05', 'dd.MM.yyyy HH:mm')).toBe('"2015-03-18 14:05:00"');
    expect(cell('ts', '18/Mar/2015:14:05:09 +0100', '%d/%b/%Y:%H:%M:%S %z')).toBe('"2015-03-18 13:05:09"');
    expect(cell('dt', '03/18/2015 02:05:00 PM', 'MM/dd/yyyy hh:mm:ss a')).toBe('"2015-03-18"');
    // A value the pattern does not fit falls back to the usual forms.
    expect(cell('ts', '2015-03-18T14:05:00Z', 'MM/dd/yyyy hh:mm:ss a')).toBe('"2015-03-18T14:05:00Z"');
  });

  it('every converted form is one the serde accepts as the intended instant', () => {
    const e = encoder('MM/dd/yyyy hh:mm:ss a');
    const row = e.encode(['x', '+1', '2', '.5', '3', 'yes', '03/18/2015 02:05:00 PM', '2015-03-18T22:00:00-05:00', '["t"]']) as string;
    expect(row).toBe('{"s":"x","i":1,"big":2,"d":0.5,"dec":3,"b":true,"ts":"2015-03-18 14:05:00","dt":"2015-03-19","tags":["t"]}');
    const result = convertRecord(row, TYPES);
    expect(result).toEqual({
      ok: true,
      rows: [{ s: 'x', i: 1, big: 2n, d: 0.5, dec: '3.00', b: true, ts: BigInt(Date.UTC(2015, 2, 18, 14, 5)) * 1000n, dt: 16513, tags: ['t'] }],
    });
  });

  it('reports a row whose field count differs from the header, but allows trailing empty fields', () => {
    const e = encoder();
    expect(e.encode(['x', '1'])).toEqual({ code: 'lake.FieldCount', message: 'expected 9 fields (as the header has), found 2' });
    expect(e.encode(['x', '1', '2', '3', '4', 'true', '1', '2024-01-01', '[]', null])).toBe('{"s":"x","i":1,"big":2,"d":3,"dec":4,"b":true,"ts":1,"dt":"2024-01-01","tags":[]}');
  });

  it('counts boolean cells it cannot read, which Firehose would store as false', () => {
    const e = encoder();
    e.encode(['x', '1', '2', '3', '4', 'maybe', '', '', '']);
    e.encode(['x', '1', '2', '3', '4', 'nope', '', '', '']);
    expect([...e.oddBooleans]).toEqual([['b', 2]]);
  });

  it('jsonNumber spells numbers as JSON does, or refuses', () => {
    expect(['0', '00', '+1.0', '-.25', '1E-7', '5.', '.', '', '1.2.3', '0x10', 'NaN'].map(jsonNumber)).toEqual(['0', '0', '1.0', '-0.25', '1e-7', '5', undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('planCsv: headers matched to columns as the serde matches keys', () => {
  it('matches case-insensitively, keeps the header spelling as the key, and lists headers matching no column', () => {
    const plan = planCsv(['ID', 'Extra', 'note'], schema([['id', 'bigint'], ['note', 'string']]), 'a.csv');
    expect(plan.targets).toEqual([{ key: '"ID":', column: 'id', kind: 'integer' }, null, { key: '"note":', column: 'note', kind: 'string' }]);
    expect(plan.unmatched).toEqual(['Extra']);
  });

  it('follows ConvertDotsInJsonKeysToUnderscores and ColumnToJsonKeyMappings', () => {
    const plan = planCsv(['user.name', 'ts-ms'], schema([['user_name', 'string'], ['ts', 'bigint']], { convertDotsInJsonKeysToUnderscores: true, columnToJsonKeyMappings: { ts: 'ts-ms' } }), 'a.csv');
    expect(plan.targets.map((t) => t?.column)).toEqual(['user_name', 'ts']);
  });

  it('refuses two headers for one column, and an empty header row', () => {
    expect(() => planCsv(['id', 'ID'], schema([['id', 'int']]), 'a.csv')).toThrow(InputError);
    expect(() => planCsv(['id', 'ID'], schema([['id', 'int']]), 'a.csv')).toThrow("a.csv: headers 'id' and 'ID' both map to column 'id'");
    expect(() => planCsv([''], schema([['id', 'int']]), 'a.csv')).toThrow('a.csv: the header row is empty');
  });
});

describe('--timestamp-format patterns', () => {
  it('parses Java and strftime patterns into parts, rejecting impossible dates', () => {
    const java = compileTimestampFormat("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    expect(java.parse('2024-05-17T13:00:00.120+02:00')).toEqual({ year: 2024, month: 5, day: 17, hour: 13, minute: 0, second: 0, fraction: '120', offsetMinutes: 120 });
    expect(formatFirehoseTimestamp(java.parse('2024-05-17T01:00:00.120+02:00')!)).toBe('2024-05-16 23:00:00.12');
    expect(java.parse('2024-02-30T13:00:00.000Z')).toBeUndefined();
    expect(compileTimestampFormat('%Y%m%d %I%p').parse('20240517 12AM')).toMatchObject({ year: 2024, month: 5, day: 17, hour: 0 });
    expect(compileTimestampFormat('d MMMM yy').parse('7 March 24')).toMatchObject({ year: 2024, month: 3, day: 7 });
  });

  it('refuses patterns it cannot read', () => {
    expect(() => compileTimestampFormat('yyyy-MM-dd qq')).toThrow(UsageError);
    expect(() => compileTimestampFormat('HH:mm')).toThrow("--timestamp-format: 'HH:mm' needs a year, a month and a day");
    expect(() => compileTimestampFormat('yyyy-MM-dd hh:mm')).toThrow('without AM/PM');
  });
});
