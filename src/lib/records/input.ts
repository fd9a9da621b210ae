/**
 * Inputs of `lake send`: files, patterns or `-` for stdin, read as a stream of byte chunks
 * (gzip recognised by its magic bytes and decompressed on the fly), and the format guess.
 * Memory holds a chunk or two, whatever the file's size.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';
import { expandGlob, hasGlob } from './glob.js';
import type { JsonLayout, RecordFormat } from './types.js';

export interface InputFile {
  /** As the user named it; `-` for stdin. */
  name: string;
  /** Absolute path; undefined for stdin. */
  path?: string;
  size?: number;
  mtimeMs?: number;
}

export const STDIN = '-';
const CHUNK_BYTES = 256 * 1024;

/** Expands patterns and checks every input is a readable file, before anything is sent. */
export function resolveInputs(args: string[], cwd: string): InputFile[] {
  if (args.length === 0) throw new InputError('no input: name one or more files, or - for stdin', { hint: 'lake send events.csv, lake send "logs/*.ndjson.gz", or cat x.ndjson | lake send -' });
  const out: InputFile[] = [];
  const seen = new Set<string>();
  const add = (name: string) => {
    const path = resolve(cwd, name);
    if (seen.has(path)) return;
    seen.add(path);
    let stat;
    try {
      stat = statSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(`cannot read ${name}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`, { hint: 'check the path; quote patterns so lake expands them', cause: err });
    }
    if (stat.isDirectory()) throw new InputError(`${name} is a folder`, { hint: `name the files in it, e.g. '${name}/*.csv'` });
    try {
      closeSync(openSync(path, 'r'));
    } catch (err) {
      throw new InputError(`cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    out.push({ name, path, size: stat.size, mtimeMs: stat.mtimeMs });
  };
  let stdin = false;
  for (const arg of args) {
    if (arg === STDIN) {
      if (stdin) throw new InputError('stdin (-) can be read only once');
      stdin = true;
      out.push({ name: STDIN });
      continue;
    }
    if (hasGlob(arg) && !exists(resolve(cwd, arg))) {
      const matches = expandGlob(arg, cwd);
      if (matches.length === 0) throw new InputError(`no file matches '${arg}'`, { hint: 'check the pattern; ** matches across folders' });
      matches.forEach(add);
    } else add(arg);
  }
  return out;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The format a file name says (`.gz` looked through), if it says one. */
export function formatFromName(name: string): RecordFormat | undefined {
  const base = name.toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv)$/.test(base)) return 'csv';
  if (/\.(ndjson|jsonl|ldjson)$/.test(base)) return 'ndjson';
  if (/\.json$/.test(base)) return 'json';
  return undefined;
}

/** Tab-separated when the name says .tsv. */
export function delimiterFromName(name: string): string | undefined {
  return /\.tsv(\.gz)?$/i.test(name) ? '\t' : undefined;
}

/**
 * What the first bytes look like, unless `--format` decided. `[` is a JSON array. `{` is
 * NDJSON when the first line is a whole JSON value (the common case, where a malformed
 * line costs only that line), else JSON values spread over lines. Otherwise the file
 * name's format, or CSV.
 */
export function sniffFormat(head: Buffer, hint: { format?: RecordFormat; forced?: boolean } = {}): { format: RecordFormat; layout?: JsonLayout } {
  let i = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  const first = head[i];
  if (hint.forced && hint.format !== 'json') return { format: hint.format! };
  if (first === 0x5b) return { format: 'json', layout: 'array' };
  if (hint.forced) return { format: 'json', layout: 'sequence' };
  if (first === 0x7b) {
    const lf = head.indexOf(0x0a, i);
    try {
      JSON.parse(head.toString('utf8', i, lf < 0 ? head.length : lf));
      return { format: 'ndjson' };
    } catch {
      return { format: 'json', layout: 'sequence' };
    }
  }
  if (hint.format === 'json') return { format: 'json', layout: 'sequence' };
  return { format: hint.format ?? 'csv' };
}

export interface ByteSource {
  chunks: AsyncGenerator<Buffer>;
  /** Bytes read from the file or stdin itself (compressed bytes for gzip): progress against the file size. */
  rawBytesRead(): number;
}

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * The input's bytes, decompressed when gzip, starting `skip` bytes into the decompressed
 * data (a plain file seeks there; gzip and stdin read and discard).
 */
export function openBytes(input: InputFile, stdin: NodeJS.ReadableStream, skip = 0): ByteSource {
  let raw = 0;
  const counted = async function* (source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      raw += b.length;
      yield b;
    }
  };
  let source: AsyncGenerator<Buffer>;
  if (input.path !== undefined) {
    const head = Buffer.alloc(2);
    const fd = openSync(input.path, 'r');
    let headBytes: number;
    try {
      headBytes = readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
    if (!isGzip(head.subarray(0, headBytes)) && skip > 0) {
      raw = skip;
      return { chunks: counted(createReadStream(input.path, { start: skip, highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>), rawBytesRead: () => raw };
    }
    source = counted(createReadStream(input.path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>);
  } else source = counted(stdin as AsyncIterable<Buffer | string>);
  return { chunks: skipBytes(decompressed(source, input.name), skip), rawBytesRead: () => raw };
}

async function* decompressed(source: AsyncGenerator<Buffer>, name: string): AsyncGenerator<Buffer> {
  const first = await source.next();
  if (first.done) return;
  if (!isGzip(first.value)) {
    yield first.value;
    yield* source;
    return;
  }
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const replay = async function* () {
    yield first.value;
    yield* source;
  };
  const input = Readable.from(replay());
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new InputError(`${name}: not valid gzip data: ${(err as Error).message}`, { cause: err });
    throw err;
  } finally {
    input.destroy();
  }
}

async function* skipBytes(source: AsyncGenerator<Buffer>, skip: number): AsyncGenerator<Buffer> {
  let left = skip;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
  if (left > 0) throw new InputError(`the input is shorter than where the checkpoint says the send stopped (${skip} bytes)`, { hint: 'the input changed since the interrupted send; send it again without --resume' });
}
