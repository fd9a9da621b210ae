import { describe, expect, it } from 'vitest';
import { CsvParser, RecordSyntaxError } from '../../src/lib/records/csv.js';
import type { SourceRecord } from '../../src/lib/records/types.js';

/** Parses `text` fed in chunks of `size` bytes (whole when undefined). */
function parse(text: string | Buffer, size?: number, parser = new CsvParser()): SourceRecord[] {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const out: SourceRecord[] = [];
  if (size === undefined) out.push(...parser.push(bytes));
  else for (let i = 0; i < bytes.length; i += size) out.push(...parser.push(bytes.subarray(i, i + size)));
  out.push(...parser.end());
  return out;
}

const view = (records: SourceRecord[]) => records.map((r) => ({ seq: r.seq, line: r.line, end: r.end, endLine: r.endLine, fields: r.fields, raw: r.raw.toString() }));

describe('CsvParser (RFC 4180)', () => {
  it('splits plain rows and numbers them with their line and the byte offset after them', () => {
    expect(view(parse('a,b\n1,2\n'))).toEqual([
      { seq: 0, line: 1, end: 4, endLine: 2, fields: ['a', 'b'], raw: 'a,b' },
      { seq: 1, line: 2, end: 8, endLine: 3, fields: ['1', '2'], raw: '1,2' },
    ]);
  });

  it('reads quoted fields holding commas, doubled quotes and line breaks, and counts the lines they span', () => {
    const text = 'id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,end\n';
    expect(view(parse(text))).toEqual([
      { seq: 0, line: 1, end: 8, endLine: 2, fields: ['id', 'note'], raw: 'id,note' },
      { seq: 1, line: 2, end: 17, endLine: 3, fields: ['1', 'a, b'], raw: '1,"a, b"' },
      { seq: 2, line: 3, end: 32, endLine: 4, fields: ['2', 'say "hi"'], raw: '2,"say ""hi"""' },
      { seq: 3, line: 4, end: 46, endLine: 6, fields: ['3', 'two\nlines'], raw: '3,"two\nlines"' },
      { seq: 4, line: 6, end: 52, endLine: 7, fields: ['4', 'end'], raw: '4,end' },
    ]);
  });

  it('takes CRLF line ends, inside and outside quotes, without keeping the CR', () => {
    const records = parse('a,b\r\n"x\r\ny",2\r\n3,"z"\r\n');
    expect(records.map((r) => r.fields)).toEqual([['a', 'b'], ['x\r\ny', '2'], ['3', 'z']]);
    expect(records.map((r) => r.raw.toString())).toEqual(['a,b', '"x\r\ny",2', '3,"z"']);
    expect(records.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it('drops a UTF-8 byte order mark, counting it in the offsets', () => {
    const records = parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('name\nÉlise\n')]));
    expect(records.map((r) => [r.fields, r.end])).toEqual([
      [['name'], 8],
      [['Élise'], 15],
    ]);
  });

  it('reads a last row that has no line break', () => {
    expect(parse('a,b\n1,2').map((r) => [r.fields, r.end])).toEqual([
      [['a', 'b'], 4],
      [['1', '2'], 7],
    ]);
    expect(parse('a\n"q"').map((r) => r.fields)).toEqual([['a'], ['q']]);
  });

  it('skips blank lines but keeps counting lines', () => {
    const records = parse('a\n\n1\r\n\n2\n');
    expect(records.map((r) => [r.fields, r.line])).toEqual([
      [['a'], 1],
      [['1'], 3],
      [['2'], 5],
    ]);
  });

  it('tells an empty field (null) from an empty quoted one ("")', () => {
    expect(parse('a,b,c,d\n,"",x,\n').map((r) => r.fields)[1]).toEqual([null, '', 'x', null]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'id,note,n\r\n1,"a ""q"", b\r\nc",7\r\n2,,\r\n"3",x,"y"\r\nlast,"é",9';
    const whole = view(parse(text));
    for (const size of [1, 2, 3, 5, 7, 11]) expect(view(parse(text, size))).toEqual(whole);
    expect(whole.map((r) => r.fields)).toEqual([
      ['id', 'note', 'n'],
      ['1', 'a "q", b\r\nc', '7'],
      ['2', null, null],
      ['3', 'x', 'y'],
      ['last', 'é', '9'],
    ]);
  });

  it('marks a row with text after a closing quote as malformed and keeps its text', () => {
    const [, row, next] = parse('a,b\n"x"y,2\n3,4\n');
    expect(row!.malformed).toBe('text after the closing quote of field 1');
    expect(row!.raw.toString()).toBe('"x"y,2');
    expect(next!.fields).toEqual(['3', '4']);
    expect(next!.malformed).toBeUndefined();
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(parse('a\n5" disk\n').map((r) => r.fields)[1]).toEqual(['5" disk']);
  });

  it('fails on a quote still open at the end, naming the line where the row starts', () => {
    expect(() => parse('a,b\n1,2\n3,"open\nmore\n')).toThrow(new RecordSyntaxError('a quoted field is not closed before the end of the input', 3));
  });

  it('uses another delimiter when told (tab)', () => {
    expect(parse('a\tb\n1,5\t"x\ty"\n', undefined, new CsvParser(0x09)).map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1,5', 'x\ty'],
    ]);
  });

  it('resumes from an offset with the same numbering as a read from the start', () => {
    const text = 'h\n1\n"2\n2"\n3\n';
    const all = parse(text);
    const after = all[1]!;
    const resumed = parse(Buffer.from(text).subarray(after.end), 2, new CsvParser(0x2c, { offset: after.end, line: after.endLine, seq: after.seq + 1 }));
    expect(view(resumed)).toEqual(view(all.slice(2)));
  });
});
