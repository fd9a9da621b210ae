import { describe, expect, it } from 'vitest';
import { RecordSyntaxError } from '../../src/lib/records/csv.js';
import { JsonScanner, NdjsonSplitter } from '../../src/lib/records/json.js';
import type { SourceRecord } from '../../src/lib/records/types.js';

function feed(splitter: { push(b: Buffer): SourceRecord[]; end(): SourceRecord[] }, text: string | Buffer, size?: number): SourceRecord[] {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const out: SourceRecord[] = [];
  if (size === undefined) out.push(...splitter.push(bytes));
  else for (let i = 0; i < bytes.length; i += size) out.push(...splitter.push(bytes.subarray(i, i + size)));
  out.push(...splitter.end());
  return out;
}

const view = (records: SourceRecord[]) => records.map((r) => ({ seq: r.seq, line: r.line, end: r.end, endLine: r.endLine, text: r.raw.toString() }));

describe('JsonScanner: an array streamed element by element', () => {
  const text = '[\n  {"a": 1, "s": "]},[\\"{"},\n  {"b": [1, {"c": 2}]},\n  "text", 42, null\n]\n';

  it('yields each element as written, with its line and the offset after it', () => {
    expect(view(feed(new JsonScanner('array'), text))).toEqual([
      { seq: 0, line: 2, end: 28, endLine: 2, text: '{"a": 1, "s": "]},[\\"{"}' },
      { seq: 1, line: 3, end: 52, endLine: 3, text: '{"b": [1, {"c": 2}]}' },
      { seq: 2, line: 4, end: 62, endLine: 4, text: '"text"' },
      { seq: 3, line: 4, end: 66, endLine: 4, text: '42' },
      { seq: 4, line: 4, end: 72, endLine: 4, text: 'null' },
    ]);
  });

  it('gives the same elements whatever the chunk boundaries', () => {
    const whole = view(feed(new JsonScanner('array'), text));
    for (const size of [1, 2, 3, 7]) expect(view(feed(new JsonScanner('array'), text, size))).toEqual(whole);
  });

  it('reads an empty array as no records, and a BOM before it', () => {
    expect(feed(new JsonScanner('array'), '[ ]')).toEqual([]);
    expect(feed(new JsonScanner('array'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[{"a":1}]')])).map((r) => [r.raw.toString(), r.end])).toEqual([['{"a":1}', 11]]);
  });

  it('stops with the line when the array structure is broken', () => {
    expect(() => feed(new JsonScanner('array'), '[{"a":1}\n{"b":2}]')).toThrow(new RecordSyntaxError("expected ',' or ']' after an array element, found '{'", 2));
    expect(() => feed(new JsonScanner('array'), '[{"a":1},\n{"b":')).toThrow(new RecordSyntaxError('the input ends inside a JSON value', 2));
    expect(() => feed(new JsonScanner('array'), '[{"a":1}')).toThrow(new RecordSyntaxError("the input ends before the array's closing ']'", 1));
    expect(() => feed(new JsonScanner('array'), '[1] 2')).toThrow(new RecordSyntaxError("unexpected '2' after the end of the array", 1));
    expect(() => feed(new JsonScanner('array'), '{"a":1}')).toThrow(new RecordSyntaxError("expected a JSON array ('[') at the start, found '{'", 1));
  });

  it('resumes inside the array just after an element', () => {
    const all = feed(new JsonScanner('array'), text);
    const at = all[1]!;
    const resumed = feed(new JsonScanner('array', { offset: at.end, line: at.endLine, seq: at.seq + 1 }), Buffer.from(text).subarray(at.end), 3);
    expect(view(resumed)).toEqual(view(all.slice(2)));
  });
});

describe('JsonScanner: top-level values one after another', () => {
  it('reads one pretty-printed object as one record', () => {
    expect(view(feed(new JsonScanner('sequence'), '{\n  "a": 1,\n  "b": "x"\n}\n'))).toEqual([{ seq: 0, line: 1, end: 24, endLine: 4, text: '{\n  "a": 1,\n  "b": "x"\n}' }]);
  });

  it('splits concatenated values, with or without whitespace between them', () => {
    expect(feed(new JsonScanner('sequence'), '{"a":1}{"a":2}\n[3] 4 "five"').map((r) => r.raw.toString())).toEqual(['{"a":1}', '{"a":2}', '[3]', '4', '"five"']);
  });
});

describe('NdjsonSplitter', () => {
  it('yields one record a line, trimmed, skipping blank lines, with CRLF and a last line without LF', () => {
    expect(view(feed(new NdjsonSplitter(), '{"a":1}\r\n\n  {"a":2}  \n{bad\n{"a":3}'))).toEqual([
      { seq: 0, line: 1, end: 9, endLine: 2, text: '{"a":1}' },
      { seq: 1, line: 3, end: 22, endLine: 4, text: '{"a":2}' },
      { seq: 2, line: 4, end: 27, endLine: 5, text: '{bad' },
      { seq: 3, line: 5, end: 34, endLine: 5, text: '{"a":3}' },
    ]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = '{"a":1}\n{"b":"é"}\r\n\n{"c":3}\n';
    const whole = view(feed(new NdjsonSplitter(), text));
    for (const size of [1, 2, 5]) expect(view(feed(new NdjsonSplitter(), text, size))).toEqual(whole);
  });
});
