import { describe, expect, it } from 'vitest';
import type { ResultColumn } from '../../src/lib/ports.js';
import { RowFormatter, textSink, uniqueNames } from '../../src/lib/query/sinks.js';
import { rowConverter } from '../../src/lib/query/values.js';

const scalarColumns: ResultColumn[] = [
  { name: 'id', type: 'bigint' },
  { name: 'n', type: 'integer' },
  { name: 'note', type: 'varchar' },
  { name: 'amount', type: 'decimal', precision: 10, scale: 2 },
  { name: 'x', type: 'double' },
  { name: 'ok', type: 'boolean' },
  { name: 'ts', type: 'timestamp' },
];
const scalarRows: (string | null)[][] = [
  ['1', '2', 'a, "b"\\ \n', '-0.05', '1.5', 'true', '2024-05-17 13:45:00.000'],
  ['9007199254740993', '-0', null, '12.30', 'NaN', 'false', null],
  ['-123456789012345', '007', '},{"id":1', '0.00', 'Infinity', 'maybe', '2024-05-17 13:45:00.001'],
  ['12345678901234567890', 'x', '\u2028 é', null, '-0.0', null, ''],
  [null, null, '', '1', '1.0E10', 'true', 'x'],
];

/** What the typed path writes: every value converted, then formatted. */
function typedText(format: 'json' | 'ndjson', columns: ResultColumn[], rows: (string | null)[][], batches: number[]): string {
  const formatter = new RowFormatter(format, uniqueNames(columns));
  const convert = rowConverter(columns);
  let text = formatter.header();
  let at = 0;
  for (const size of batches) {
    text += formatter.rows(rows.slice(at, at + size).map(convert));
    at += size;
  }
  return text + formatter.footer();
}

function rawText(format: 'json' | 'ndjson', columns: ResultColumn[], rows: (string | null)[][], batches: number[]): string {
  const formatter = new RowFormatter(format, uniqueNames(columns));
  let text = formatter.header();
  let at = 0;
  for (const size of batches) {
    text += formatter.textRows(rows.slice(at, at + size), columns);
    at += size;
  }
  return text + formatter.footer();
}

describe('rows written from Athena text', () => {
  it('writes a row of scalars exactly as the converted row', () => {
    const formatter = new RowFormatter('ndjson', uniqueNames(scalarColumns));
    expect(formatter.textRows(scalarRows.slice(0, 3), scalarColumns)).toBe(
      '{"id":1,"n":2,"note":"a, \\"b\\"\\\\ \\n","amount":"-0.05","x":1.5,"ok":true,"ts":"2024-05-17 13:45:00.000"}\n' +
        '{"id":"9007199254740993","n":0,"note":null,"amount":"12.30","x":"NaN","ok":false,"ts":null}\n' +
        '{"id":-123456789012345,"n":7,"note":"},{\\"id\\":1","amount":"0.00","x":"Infinity","ok":"maybe","ts":"2024-05-17 13:45:00.001"}\n',
    );
  });

  it('matches the typed path for JSON and NDJSON, across batches', () => {
    for (const format of ['json', 'ndjson'] as const) {
      expect(rawText(format, scalarColumns, scalarRows, [2, 3])).toBe(typedText(format, scalarColumns, scalarRows, [2, 3]));
      expect(rawText(format, scalarColumns, scalarRows, [5])).toBe(typedText(format, scalarColumns, scalarRows, [5]));
    }
  });

  it('matches the typed path for nested values, repeated and index-like names, and no columns', () => {
    const nested: ResultColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'tags', type: 'array' },
      { name: 'm', type: 'map' },
      { name: 'doc', type: 'json' },
    ];
    const nestedRows = [
      ['1', '[a, 2]', '{k=1}', '{"a":[1]}'],
      [null, null, null, 'not json'],
    ];
    expect(rawText('json', nested, nestedRows, [1, 1])).toBe(typedText('json', nested, nestedRows, [1, 1]));
    const odd: ResultColumn[] = [
      { name: 'id', type: 'bigint' },
      { name: 'id', type: 'bigint' },
      { name: '1', type: 'varchar' },
    ];
    const oddRows = [['1', '2', 'x']];
    expect(rawText('ndjson', odd, oddRows, [1])).toBe(typedText('ndjson', odd, oddRows, [1]));
    expect(rawText('ndjson', odd, oddRows, [1])).toBe('{"id":1,"id_2":2,"1":"x"}\n');
    const proto: ResultColumn[] = [{ name: '__proto__', type: 'varchar' }];
    expect(rawText('json', proto, [['x']], [1])).toBe(typedText('json', proto, [['x']], [1]));
    expect(rawText('json', [], [[], []], [2])).toBe(typedText('json', [], [[], []], [2]));
  });

  it('takes text rows through a stdout sink, and typed rows through one without columns', () => {
    const written: string[] = [];
    const sink = textSink((t) => written.push(t), new RowFormatter('ndjson', ['id']), '\n', [{ name: 'id', type: 'bigint' }]);
    sink.writeText?.([['5'], [null]]);
    expect(written).toEqual(['{"id":5}\n{"id":null}\n']);
    expect(textSink(() => undefined, new RowFormatter('csv', ['id']), '\n', [{ name: 'id', type: 'bigint' }]).writeText).toBeUndefined();
    expect(textSink(() => undefined, new RowFormatter('json', ['id'])).writeText).toBeUndefined();
  });
});
