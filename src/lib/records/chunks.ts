/**
 * What the incremental readers (CSV, JSON, NDJSON) share about the chunks they are pushed:
 * the UTF-8 BOM an input may start with, and the rule that records found in a chunk before
 * a syntax error still go out, the error coming with the next call.
 */
import type { SourceRecord } from './types.js';

/** A record boundary or structure the reader cannot get past; `line` is where it was found. */
export class RecordSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** The first chunk of an input without its UTF-8 BOM, if it has one. */
export function withoutBom(chunk: Buffer): Buffer {
  return chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? chunk.subarray(3) : chunk;
}

/**
 * Runs one chunk's `work`, which puts the records it finds in `out`. A RecordSyntaxError
 * after some records were found is returned, for the reader to throw on its next call, so
 * those records are not lost; before any, or any other error, is thrown.
 */
export function failureAfterRecords(out: readonly SourceRecord[], work: () => void): RecordSyntaxError | undefined {
  try {
    work();
    return undefined;
  } catch (err) {
    if (!(err instanceof RecordSyntaxError) || out.length === 0) throw err;
    return err;
  }
}
