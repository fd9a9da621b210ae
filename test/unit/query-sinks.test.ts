import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileFormat, fileSink, RowFormatter, textSink, uniqueNames } from '../../src/lib/query/sinks.js';
import type { Value } from '../../src/lib/query/values.js';

const columns = [
  { name: 'id', type: 'bigint' },
  { name: 'note', type: 'varchar' },
  { name: 'id', type: 'bigint' },
  { name: 'tags', type: 'array' },
];
const rows: Value[][] = [
  [1n, 'a, "b"', 10n, ['x', 'y']],
  [2n, null, 9007199254740993n, []],
];

describe('row sinks', () => {
  it('names a repeated column with a suffix so row objects keep every value', () => {
    expect(uniqueNames(columns)).toEqual(['id', 'note', 'id_2', 'tags']);
    expect(uniqueNames([{ name: 'a', type: 'x' }, { name: 'a_2', type: 'x' }, { name: 'a', type: 'x' }])).toEqual(['a', 'a_2', 'a_2_']);
  });

  it('CSV: RFC 4180 quoting, nested values as JSON, NULL empty', async () => {
    let text = '';
    const sink = textSink((t) => (text += t), new RowFormatter('csv', uniqueNames(columns)));
    await sink.write(rows.slice(0, 1));
    await sink.write(rows.slice(1));
    await sink.end();
    expect(text).toBe('id,note,id_2,tags\r\n1,"a, ""b""",10,"[""x"",""y""]"\r\n2,,9007199254740993,[]\r\n');
  });

  it('NDJSON: one object a line, bigint exact', async () => {
    let text = '';
    const sink = textSink((t) => (text += t), new RowFormatter('ndjson', uniqueNames(columns)));
    await sink.write(rows);
    await sink.end();
    expect(text).toBe('{"id":1,"note":"a, \\"b\\"","id_2":10,"tags":["x","y"]}\n{"id":2,"note":null,"id_2":"9007199254740993","tags":[]}\n');
  });

  it('a JSON array, also when empty', async () => {
    let text = '';
    const sink = textSink((t) => (text += t), new RowFormatter('json', ['id']));
    await sink.write([[1n]]);
    await sink.write([[2n]]);
    await sink.end();
    expect(JSON.parse(text)).toEqual([{ id: 1 }, { id: 2 }]);
    let empty = '';
    const none = textSink((t) => (empty += t), new RowFormatter('json', ['id']));
    await none.end();
    expect(empty).toBe('[]\n');
  });

  it('JSON rows of scalars keep column order, also when a name is an array index or __proto__', async () => {
    const texts: string[] = [];
    for (const names of [['b', 'a', 'n'], ['_col0', '1', 'n'], ['__proto__', 'a', 'n']]) {
      let text = '';
      const sink = textSink((t) => (text += t), new RowFormatter('json', names));
      await sink.write([['x"y', 1.5, null]]);
      await sink.write([['z', Number.NaN, true]]);
      await sink.end();
      texts.push(text);
    }
    expect(texts).toEqual([
      '[{"b":"x\\"y","a":1.5,"n":null},{"b":"z","a":null,"n":true}]\n',
      '[{"_col0":"x\\"y","1":1.5,"n":null},{"_col0":"z","1":null,"n":true}]\n',
      '[{"__proto__":"x\\"y","a":1.5,"n":null},{"__proto__":"z","a":null,"n":true}]\n',
    ]);
  });

  it('--out picks the format from the file name and writes every row', async () => {
    expect([fileFormat('a.csv'), fileFormat('a.ndjson'), fileFormat('a.JSONL'), fileFormat('a.json'), fileFormat('a.txt')]).toEqual(['csv', 'ndjson', 'ndjson', 'json', 'csv']);
    const dir = mkdtempSync(join(tmpdir(), 'lake-sink-'));
    const sink = await fileSink(join(dir, 'rows.ndjson'), columns);
    await sink.write(rows);
    await sink.end();
    expect(readFileSync(join(dir, 'rows.ndjson'), 'utf8').split('\n')).toHaveLength(3);
    await expect(fileSink(join(dir, 'missing', 'rows.csv'), columns)).rejects.toThrow(/^--out: cannot write .*rows\.csv: ENOENT/);
  });
});
