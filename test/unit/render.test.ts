import { describe, expect, it } from 'vitest';
import { csvField, documentRows, renderCsv, renderNdjson, renderTable, renderView, toJson } from '../../src/lib/output/render.js';

describe('csv (RFC 4180)', () => {
  it('quotes only fields with a comma, quote, CR or LF, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(null)).toBe('');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField({ a: [1, 2] })).toBe('"{""a"":[1,2]}"');
  });

  it('writes a header and CRLF-terminated records', () => {
    expect(renderCsv(['id', 'msg'], [{ id: 1, msg: 'x,y' }, { id: 2, msg: null }])).toBe('id,msg\r\n1,"x,y"\r\n2,\r\n');
  });
});

describe('ndjson', () => {
  it('writes one compact JSON document a line', () => {
    expect(renderNdjson([{ a: 1 }, { b: 'x\ny' }])).toBe('{"a":1}\n{"b":"x\\ny"}\n');
  });
});

describe('toJson', () => {
  it('writes safe bigints as numbers and larger ones as strings', () => {
    expect(toJson({ small: 42n, big: 9007199254740993n })).toBe('{"small":42,"big":"9007199254740993"}');
  });
});

describe('tables', () => {
  it('draws a bordered table with the given columns in order', async () => {
    const text = await renderTable(['name', 'n'], [{ name: 'alpha', n: 1 }, { name: 'b', n: 22 }], { color: false });
    expect(text).toBe(
      [
        '┌───────┬────┐',
        '│ name  │ n  │',
        '├───────┼────┤',
        '│ alpha │ 1  │',
        '│ b     │ 22 │',
        '└───────┴────┘',
        '',
      ].join('\n'),
    );
  });

  it('says when there are no rows, and prints title and footer', async () => {
    const text = await renderView({ kind: 'rows', columns: ['a'], rows: [], title: 'partitions', footer: ['0 of 0 shown'] }, 'table', { color: false });
    expect(text).toBe('partitions\n(no rows)\n0 of 0 shown\n');
  });

  it('contains no ANSI escape when colour is off', async () => {
    const text = await renderTable(['a'], [{ a: 'x' }], { color: false });
    expect(text).not.toMatch(/\u001b\[/);
  });
});

describe('documentRows', () => {
  it('flattens nested objects into dotted field names', () => {
    expect(documentRows({ read: 3, stats: { scannedBytes: 10, costUsd: 0.5 }, files: ['a'] })).toEqual([
      { field: 'read', value: 3 },
      { field: 'stats.scannedBytes', value: 10 },
      { field: 'stats.costUsd', value: 0.5 },
      { field: 'files', value: ['a'] },
    ]);
  });
});
