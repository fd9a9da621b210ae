// `lake init --infer`: column types proposed from the first rows of a sample, with reasons.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/lib/errors.js';
import { FieldStats, columnName, inferSchema, observeCsv, observeJson, proposeColumns, resolveField } from '../../src/lib/infer.js';

const dir = mkdtempSync(join(tmpdir(), 'lake-infer-'));
const sample = (name: string, text: string | Buffer) => {
  writeFileSync(join(dir, name), text);
  return name;
};
const infer = (name: string, rows?: number) => inferSchema(name, { cwd: dir, stdin: Readable.from([]), rows });

describe('inferSchema on CSV', () => {
  it('proposes a type for each header, saying why, and maps headers that are not column names', async () => {
    // given
    const file = sample(
      'orders.csv',
      [
        'id,Customer Name,ordered_at,amount,paid,zip,year,day_of,note,meta',
        '1,Ada,2024-05-17 13:00:00,12.50,true,00123,2024,2024-05-17,,"{""a"":1}"',
        '2,Bob,2024-05-17T14:00:00+02:00,3,FALSE,10001,2024,2024-05-18,n/a,"{""a"":2}"',
        '3,Cy,2024-05-17T15:30:00Z,7,true,00042,2024,2024-05-19,42,"{""a"":3}"',
      ].join('\n'),
    );

    // when
    const inference = await infer(file);

    // then
    expect(inference).toEqual({
      format: 'csv',
      rows: 3,
      columns: [
        { name: 'id', type: 'bigint', reason: "whole numbers, e.g. '1' (3 of 3 rows); bigint leaves room to grow" },
        { name: 'customer_name', type: 'string', reason: "text, e.g. 'Ada' (3 of 3 rows)", key: 'Customer Name' },
        { name: 'ordered_at', type: 'timestamp', reason: "times Firehose reads as timestamps, e.g. '2024-05-17 13:00:00' (3 of 3 rows)" },
        { name: 'amount', type: 'double', reason: "numbers with a fraction, e.g. '12.50' (3 of 3 rows)" },
        { name: 'paid', type: 'boolean', reason: 'true/false (3 of 3 rows)' },
        { name: 'zip', type: 'string', reason: "mixed values: string (2, e.g. '00123'), integer (1, e.g. '10001'); string keeps every record" },
        { name: 'year_value', type: 'bigint', reason: "whole numbers, e.g. '2024' (3 of 3 rows); bigint leaves room to grow (renamed: 'year' is a partition key)", key: 'year' },
        { name: 'day_of', type: 'date', reason: "dates, e.g. '2024-05-17' (3 of 3 rows)" },
        { name: 'note', type: 'string', reason: "mixed values: string (1, e.g. 'n/a'), integer (1, e.g. '42'); string keeps every record" },
        { name: 'meta', type: 'struct<a:bigint>', reason: 'objects with fields a (3 of 3 rows)' },
      ],
      skipped: [],
      timeCandidates: ['ordered_at', 'day_of'],
    });
  });

  it('reads only the first rows asked for, gzip or not', async () => {
    const text = ['n', '1', '2', 'x'].join('\n');
    const first = await infer(sample('n.csv.gz', gzipSync(text)), 2);
    expect(first.rows).toBe(2);
    expect(first.columns).toEqual([{ name: 'n', type: 'bigint', reason: "whole numbers, e.g. '1' (2 of 2 rows); bigint leaves room to grow" }]);
    const all = await infer(sample('n.csv', text));
    expect(all.columns[0]!.type).toBe('string');
  });

  it('keeps digits with leading zeros as text, and says so', async () => {
    const inference = await infer(sample('zips.csv', 'zip\n00123\n00042\n'));
    expect(inference.columns).toEqual([{ name: 'zip', type: 'string', reason: "text, e.g. '00123' (2 of 2 rows); 2 are digits with leading zeros, which a number would lose" }]);
  });
});

describe('inferSchema on JSON', () => {
  it('reads NDJSON: nested objects, lists, nulls, fields missing from some rows, and times with an offset', async () => {
    const file = sample(
      'events.ndjson',
      [
        { Source: 'web', ts: '2024-05-17T13:00:00Z', ms: 1715950800000, geo: { lat: 1.5, lon: 2 }, tags: ['a'], when: '2024-05-17T13:00:00+02:00', extra: null },
        { Source: 'app', ts: '2024-05-17 13:00:01', ms: 1715950800001, geo: { lat: 3, lon: 4.25 }, tags: [], when: '2024-05-17T14:00:00+02:00', extra: null, late: true },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const inference = await infer(file);
    expect(inference.format).toBe('ndjson');
    expect(inference.columns).toEqual([
      // Firehose matches keys ignoring case: Source needs no mapping.
      { name: 'source', type: 'string', reason: "text, e.g. 'web' (2 of 2 rows)" },
      { name: 'ts', type: 'timestamp', reason: "times Firehose reads as timestamps, e.g. '2024-05-17T13:00:00Z' (2 of 2 rows)" },
      { name: 'ms', type: 'bigint', reason: "whole numbers, e.g. '1715950800000' (2 of 2 rows); bigint leaves room to grow" },
      { name: 'geo', type: 'struct<lat:double,lon:double>', reason: 'objects with fields lat, lon (2 of 2 rows)' },
      { name: 'tags', type: 'array<string>', reason: `lists, e.g. '["a"]' (2 of 2 rows)` },
      { name: 'when', type: 'string', reason: "text, e.g. '2024-05-17T13:00:00+02:00' (2 of 2 rows); 2 look like times with an offset, which Firehose cannot read as timestamps from JSON" },
      { name: 'extra', type: 'string', reason: 'no values (2 empty): string is the safe guess' },
      { name: 'late', type: 'boolean', reason: 'true/false (1 of 2 rows)' },
    ]);
    expect(inference.timeCandidates).toEqual(['ts']);
  });

  it('reads a JSON array, and gives objects with unusual keys a map type', async () => {
    const inference = await infer(sample('counts.json', JSON.stringify([{ counts: { 'a-b': 1, 'c d': 2 } }, { counts: { 'e.f': 3 } }])));
    expect(inference.format).toBe('json');
    expect(inference.columns).toEqual([{ name: 'counts', type: 'map<string,bigint>', reason: "objects whose keys are not column names, e.g. 'a-b': a map (2 of 2 rows)" }]);
  });

  it('skips a field that would clash with another once lowercased, as Firehose would', async () => {
    const inference = await infer(sample('clash.ndjson', '{"User":"a","user":"b"}\n'));
    expect(inference.columns.map((c) => c.name)).toEqual(['user']);
    expect(inference.skipped).toEqual([{ key: 'user', reason: "'user' and 'User' both become column 'user' (Firehose matches keys ignoring case)" }]);
  });

  it('refuses a sample with no records, or a record that is not JSON', async () => {
    await expect(infer(sample('empty.ndjson', ''))).rejects.toMatchObject({ name: 'InputError', message: 'empty.ndjson: no records to infer from', hint: 'give a sample with a few rows, or the columns with --schema FILE' });
    await expect(infer(sample('bad.ndjson', '{"a":1}\n{"a":\n'))).rejects.toBeInstanceOf(InputError);
    await expect(infer('missing.csv')).rejects.toMatchObject({ name: 'InputError', message: 'cannot read missing.csv: no such file' });
  });
});

describe('the type rules', () => {
  const resolveJson = (...values: unknown[]) => {
    const f = new FieldStats();
    for (const v of values) observeJson(f, v);
    return resolveField(f).type;
  };
  const resolveCsv = (...values: (string | null)[]) => {
    const f = new FieldStats();
    for (const v of values) observeCsv(f, v);
    return resolveField(f).type;
  };

  it('widens whole numbers to double, times and dates to timestamp, and anything else mixed to string', () => {
    expect(resolveJson(1, 2.5)).toBe('double');
    expect(resolveJson('2024-05-17', '2024-05-17 10:00:00')).toBe('timestamp');
    expect(resolveJson(true, 1)).toBe('string');
    expect(resolveJson('42')).toBe('string');
    expect(resolveJson([1, 2], [3])).toBe('array<bigint>');
    expect(resolveJson([[{ a: 'x' }]])).toBe('array<array<struct<a:string>>>');
  });

  it('reads CSV text as the send path will write it', () => {
    expect(resolveCsv('1', '-2', '+3')).toBe('bigint');
    expect(resolveCsv('.5', '1e3')).toBe('double');
    expect(resolveCsv('True', 'false')).toBe('boolean');
    // yes/no and 1/0 are booleans to `send` only once the column is boolean: as a guess they are ambiguous.
    expect(resolveCsv('yes', 'no')).toBe('string');
    expect(resolveCsv('2024-05-17T13:00:00+02:00', '2024-05-17 13:00')).toBe('timestamp');
    expect(resolveCsv('', null)).toBe('string');
    expect(resolveCsv('[1,2]')).toBe('array<bigint>');
    expect(resolveCsv('{not json')).toBe('string');
  });

  it('makes column names of lowercase letters, digits and underscores', () => {
    expect(['User Name', 'geo.lat', '2nd', '--', 'Straße'].map(columnName)).toEqual(['user_name', 'geo_lat', '_2nd', 'field', 'stra_e']);
  });

  it('renames fields named like the partition keys', () => {
    const fields = new Map([['Hour', new FieldStats()]]);
    observeJson(fields.get('Hour')!, 13);
    expect(proposeColumns(fields).columns).toEqual([{ name: 'hour_value', type: 'bigint', key: 'Hour', reason: "whole numbers, e.g. '13' (1 of 1 rows); bigint leaves room to grow (renamed: 'hour' is a partition key)" }]);
  });
});
