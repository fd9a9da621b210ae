/**
 * One input as a stream of record batches (one batch per chunk read), whatever its
 * format: the format is guessed from the first chunk unless given, a CSV header is read
 * first, and a resumed read starts just after the last settled record.
 */
import { InputError } from '../errors.js';
import { CsvParser, RecordSyntaxError } from './csv.js';
import { type InputFile, delimiterFromName, formatFromName, openBytes, sniffFormat } from './input.js';
import { JsonScanner, NdjsonSplitter } from './json.js';
import type { JsonLayout, ReadPosition, RecordFormat, SourceRecord } from './types.js';

export interface ReaderOptions {
  /** --format: decides instead of the guess. */
  format?: RecordFormat;
  /** CSV field delimiter (default ',' or tab for .tsv). */
  delimiter?: string;
  /** Resume: where to start, and what the first read learned (format, JSON layout, CSV header). */
  resume?: { position: ReadPosition; format: RecordFormat; layout?: JsonLayout; header?: string[] };
}

export interface RecordReader {
  readonly input: InputFile;
  readonly format: RecordFormat;
  readonly layout?: JsonLayout;
  /** CSV: the header row's fields. */
  readonly header?: string[];
  records(): AsyncGenerator<SourceRecord[]>;
  rawBytesRead(): number;
  close(): Promise<void>;
}

interface Splitter {
  push(chunk: Buffer): SourceRecord[];
  end(): SourceRecord[];
}

function syntaxError(input: InputFile, err: RecordSyntaxError): InputError {
  return new InputError(`${input.name}:${err.line}: ${err.message}`, { hint: 'fix the input, or give its format with --format', cause: err });
}

/** Opens an input and reads as far as its format (and CSV header) needs. */
export async function openReader(input: InputFile, stdin: NodeJS.ReadableStream, options: ReaderOptions = {}): Promise<RecordReader> {
  const resume = options.resume;
  const bytes = openBytes(input, stdin, resume?.position.offset ?? 0);
  const delimiterText = options.delimiter ?? delimiterFromName(input.name) ?? ',';
  if (Buffer.byteLength(delimiterText) !== 1) throw new InputError(`--delimiter: expected one single-byte character, got '${delimiterText}'`);
  const delimiter = Buffer.from(delimiterText)[0]!;

  let format: RecordFormat;
  let layout: JsonLayout | undefined;
  let header: string[] | undefined = resume?.header;
  const pending: Buffer[] = [];
  if (resume) {
    format = resume.format;
    layout = resume.layout;
  } else {
    const first = await bytes.chunks.next();
    const head = first.done ? Buffer.alloc(0) : first.value;
    if (!first.done) pending.push(head);
    const guess = sniffFormat(head, { format: options.format ?? formatFromName(input.name), forced: options.format !== undefined });
    format = guess.format;
    layout = guess.layout;
  }

  let splitter: Splitter;
  if (format === 'csv') {
    // Before the header is read, the header is "record -1", so data records count from 0.
    splitter = new CsvParser(delimiter, resume?.position ?? { offset: 0, line: 1, seq: -1 });
  } else if (format === 'ndjson') splitter = new NdjsonSplitter(resume?.position);
  else splitter = new JsonScanner(layout ?? 'sequence', resume?.position);

  const carried: SourceRecord[] = [];
  let ended = false;
  const feed = (chunk: Buffer): SourceRecord[] => {
    try {
      return splitter.push(chunk);
    } catch (err) {
      if (err instanceof RecordSyntaxError) throw syntaxError(input, err);
      throw err;
    }
  };

  if (format === 'csv' && header === undefined) {
    // Read until the header row is complete.
    for (;;) {
      const chunk = pending.shift() ?? (await nextChunk());
      const records = chunk === undefined ? endSplitter() : feed(chunk);
      if (records.length > 0) {
        const [first, ...rest] = records as [SourceRecord, ...SourceRecord[]];
        header = first.fields!.map((f) => (f ?? '').trim());
        carried.push(...rest);
        break;
      }
      if (chunk === undefined) {
        header = [];
        break;
      }
    }
  }

  async function nextChunk(): Promise<Buffer | undefined> {
    const next = await bytes.chunks.next();
    return next.done ? undefined : next.value;
  }

  function endSplitter(): SourceRecord[] {
    if (ended) return [];
    ended = true;
    try {
      return splitter.end();
    } catch (err) {
      if (err instanceof RecordSyntaxError) throw syntaxError(input, err);
      throw err;
    }
  }

  return {
    input,
    format,
    layout,
    header,
    rawBytesRead: bytes.rawBytesRead,
    async *records() {
      if (carried.length > 0) yield carried.splice(0);
      for (;;) {
        const chunk = pending.shift() ?? (await nextChunk());
        if (chunk === undefined) break;
        const records = feed(chunk);
        if (records.length > 0) yield records;
      }
      const last = endSplitter();
      if (last.length > 0) yield last;
    },
    async close() {
      await bytes.chunks.return(undefined);
    },
  };
}
