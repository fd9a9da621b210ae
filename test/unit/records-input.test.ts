import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/lib/errors.js';
import { type InputFile, openBytes, resolveInputs, sniffFormat } from '../../src/lib/records/input.js';
import { openReader } from '../../src/lib/records/reader.js';
import type { SourceRecord } from '../../src/lib/records/types.js';

const noStdin = Readable.from([]);

function dir(files: Record<string, string | Buffer> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'lake-records-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), body);
  }
  return d;
}

async function readAll(input: InputFile, stdin: NodeJS.ReadableStream = noStdin, options = {}) {
  const reader = await openReader(input, stdin, options);
  const records: SourceRecord[] = [];
  for await (const batch of reader.records()) records.push(...batch);
  return { reader, records };
}

describe('resolveInputs', () => {
  it('expands quoted patterns in sorted order and keeps names as given', () => {
    const d = dir({ 'logs/b.ndjson': '', 'logs/a.ndjson': '', 'logs/x.csv': '', 'logs/deep/c.ndjson': '' });
    expect(resolveInputs(['logs/*.ndjson'], d).map((i) => i.name)).toEqual(['logs/a.ndjson', 'logs/b.ndjson']);
    expect(resolveInputs(['logs/**/*.ndjson'], d).map((i) => i.name)).toEqual(['logs/a.ndjson', 'logs/b.ndjson', 'logs/deep/c.ndjson']);
    expect(resolveInputs(['logs/x.csv', '-'], d)).toMatchObject([{ name: 'logs/x.csv', path: join(d, 'logs/x.csv'), size: 0 }, { name: '-' }]);
  });

  it('refuses missing files, folders, unmatched patterns and stdin twice, before anything is read', () => {
    const d = dir({ 'a.csv': 'x\n' });
    expect(() => resolveInputs(['a.csv', 'missing.csv'], d)).toThrow('cannot read missing.csv: no such file');
    expect(() => resolveInputs(['.'], d)).toThrow('. is a folder');
    expect(() => resolveInputs(['*.json'], d)).toThrow("no file matches '*.json'");
    expect(() => resolveInputs(['-', '-'], d)).toThrow('stdin (-) can be read only once');
    expect(() => resolveInputs([], d)).toThrow(InputError);
  });
});

describe('sniffFormat', () => {
  it.each([
    ['[{"a":1}]', {}, { format: 'json', layout: 'array' }],
    ['  \n{"a":1}\n{"a":2}\n', {}, { format: 'ndjson' }],
    ['{\n  "a": 1\n}\n', {}, { format: 'json', layout: 'sequence' }],
    ['a,b\n1,2\n', {}, { format: 'csv' }],
    ['a,b\n', { format: 'json' }, { format: 'json', layout: 'sequence' }],
    ['{"a":1}\n', { format: 'json', forced: true }, { format: 'json', layout: 'sequence' }],
    ['[1]', { format: 'csv', forced: true }, { format: 'csv' }],
    ['x', { format: 'ndjson' }, { format: 'ndjson' }],
  ] as const)('%j with %j is %j', (head, hint, expected) => {
    expect(sniffFormat(Buffer.from(head), hint)).toEqual(expected);
  });
});

describe('openReader', () => {
  it('reads gzip transparently, by its magic bytes, whatever the name', async () => {
    const d = dir({ 'events.csv.gz': gzipSync('id,n\n1,a\n2,b\n'), 'plain.data': gzipSync('{"a":1}\n{"a":2}\n') });
    const csv = await readAll(resolveInputs(['events.csv.gz'], d)[0]!);
    expect(csv.reader.format).toBe('csv');
    expect(csv.reader.header).toEqual(['id', 'n']);
    expect(csv.records.map((r) => [r.seq, r.line, r.fields])).toEqual([
      [0, 2, ['1', 'a']],
      [1, 3, ['2', 'b']],
    ]);
    const nd = await readAll(resolveInputs(['plain.data'], d)[0]!);
    expect(nd.reader.format).toBe('ndjson');
    expect(nd.records.map((r) => r.raw.toString())).toEqual(['{"a":1}', '{"a":2}']);
  });

  it('reads stdin, gzipped or not', async () => {
    const plain = await readAll({ name: '-' }, Readable.from([Buffer.from('[{"a":1},'), Buffer.from('{"a":2}]')]));
    expect(plain.records.map((r) => r.raw.toString())).toEqual(['{"a":1}', '{"a":2}']);
    const gz = gzipSync('h\nv\n');
    const zipped = await readAll({ name: '-' }, Readable.from([gz.subarray(0, 5), gz.subarray(5)]));
    expect(zipped.records.map((r) => r.fields)).toEqual([['v']]);
  });

  it('resumes a plain file at an offset, and a gzip one by skipping decompressed bytes', async () => {
    const body = 'id\n1\n2\n3\n';
    const d = dir({ 'a.csv': body, 'b.csv.gz': gzipSync(body) });
    for (const name of ['a.csv', 'b.csv.gz']) {
      const input = resolveInputs([name], d)[0]!;
      const { records } = await readAll(input, noStdin, { resume: { position: { offset: 5, line: 3, seq: 1 }, format: 'csv', header: ['id'] } });
      expect(records.map((r) => [r.seq, r.line, r.fields![0], r.end])).toEqual([
        [1, 3, '2', 7],
        [2, 4, '3', 9],
      ]);
    }
  });

  it('turns a broken input into an InputError naming file and line', async () => {
    const d = dir({ 'bad.json': '[{"a":1}\n{"a":2}]', 'bad.gz': Buffer.concat([gzipSync('x'.repeat(1000)).subarray(0, 20), Buffer.alloc(40, 7)]) });
    await expect(readAll(resolveInputs(['bad.json'], d)[0]!)).rejects.toThrow("bad.json:2: expected ',' or ']' after an array element, found '{'");
    await expect(readAll(resolveInputs(['bad.gz'], d)[0]!)).rejects.toThrow(/^bad.gz: not valid gzip data/);
  });

  it('counts raw bytes read, for progress against the file size', async () => {
    const d = dir({ 'a.ndjson': '{"a":1}\n'.repeat(1000) });
    const input = resolveInputs(['a.ndjson'], d)[0]!;
    const source = openBytes(input, noStdin);
    let decoded = 0;
    for await (const chunk of source.chunks) decoded += chunk.length;
    expect([decoded, source.rawBytesRead()]).toEqual([8000, 8000]);
  });
});
