/**
 * Firehose error records: the JSON objects Firehose writes under the ErrorOutputPrefix,
 * one per failed record, concatenated (with or without newlines), sometimes gzipped.
 * Writing produces AWS's exact shape and key order; reading accepts every type and every
 * spelling seen in the wild, and reports what it cannot read with its byte offset
 * instead of giving up on the whole file.
 *
 * Shapes, from the Firehose developer guide ("Handling errors for data format conversion",
 * "Handle failure in data transformation") and objects captured from AWS: format
 * conversion writes `lastErrorCode`/`lastErrorMessage` (the guide's schema spells them the
 * same; older pages say `ErrorCode`); Lambda processing writes `errorCode`/`errorMessage`
 * and `lambdaARN` (the guide spells it `lambdaArn`; floci-io/floci#3393 shows a captured
 * object with `lambdaARN`).
 */
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { ErrorRecordParser } from './error-record-parser.js';

export { ErrorRecordParser } from './error-record-parser.js';

export type ErrorRecordType =
  | 'format-conversion-failed'
  | 'processing-failed'
  | 'partitioning-failed'
  | 'decompression-failed'
  | 'http-endpoint-failed'
  | 'splunk-failed'
  | 'AmazonOpenSearchService-failed';

const KNOWN_TYPES: readonly ErrorRecordType[] = [
  'format-conversion-failed',
  'processing-failed',
  'partitioning-failed',
  'decompression-failed',
  'http-endpoint-failed',
  'splunk-failed',
  'AmazonOpenSearchService-failed',
];

export interface DataCatalogTable {
  catalogId: string | null;
  databaseName: string;
  tableName: string;
  region: string;
  versionId: string;
  roleArn: string;
}

/** An error record read back, whatever its type and spelling. */
export interface ErrorRecord {
  /** From the object's fields or the S3 key; undefined when neither tells. */
  type: ErrorRecordType | undefined;
  code: string | undefined;
  message: string | undefined;
  /** Milliseconds since the epoch. */
  arrivalTimestamp: number | undefined;
  attemptEndingTimestamp: number | undefined;
  attemptsMade: number | undefined;
  /** The record as it was sent (base64-decoded). */
  rawData: Uint8Array;
  sequenceNumber?: string | null;
  subSequenceNumber?: number | null;
  dataCatalogTable?: Partial<DataCatalogTable> & Record<string, unknown>;
  lambdaArn?: string;
  /** Byte offset of the object in the (decompressed) file. */
  offset: number;
  /** The object as parsed, for fields this type does not name. */
  fields: Record<string, unknown>;
}

export interface ErrorRecordProblem {
  /** Byte offset in the (decompressed) file where the unreadable part starts. */
  offset: number;
  message: string;
}

export interface ParsedErrorRecords {
  records: ErrorRecord[];
  problems: ErrorRecordProblem[];
}

// ---------------------------------------------------------------- writing

export interface FormatConversionFailure {
  attemptsMade?: number;
  arrivalTimestamp: number;
  code: string;
  message: string;
  attemptEndingTimestamp: number;
  rawData: Uint8Array;
  sequenceNumber: string | null;
  subSequenceNumber: number | null;
  dataCatalogTable: DataCatalogTable;
}

/** One `format-conversion-failed` object, keys in the order AWS writes them. */
export function formatConversionErrorJson(failure: FormatConversionFailure): string {
  const t = failure.dataCatalogTable;
  return JSON.stringify({
    attemptsMade: failure.attemptsMade ?? 1,
    arrivalTimestamp: failure.arrivalTimestamp,
    lastErrorCode: failure.code,
    lastErrorMessage: failure.message,
    attemptEndingTimestamp: failure.attemptEndingTimestamp,
    rawData: Buffer.from(failure.rawData.buffer, failure.rawData.byteOffset, failure.rawData.byteLength).toString('base64'),
    sequenceNumber: failure.sequenceNumber,
    subSequenceNumber: failure.subSequenceNumber,
    dataCatalogTable: {
      catalogId: t.catalogId,
      databaseName: t.databaseName,
      tableName: t.tableName,
      region: t.region,
      versionId: t.versionId,
      roleArn: t.roleArn,
    },
  });
}

export interface GenericFailure {
  attemptsMade?: number;
  arrivalTimestamp: number;
  code: string;
  message: string;
  attemptEndingTimestamp: number;
  rawData: Uint8Array;
}

/**
 * A `partitioning-failed` (or other non-conversion) object: the fields every error record
 * shares, with the `errorCode`/`errorMessage` spelling of the non-conversion types.
 */
export function genericErrorJson(failure: GenericFailure): string {
  return JSON.stringify({
    attemptsMade: failure.attemptsMade ?? 1,
    arrivalTimestamp: failure.arrivalTimestamp,
    errorCode: failure.code,
    errorMessage: failure.message,
    attemptEndingTimestamp: failure.attemptEndingTimestamp,
    rawData: Buffer.from(failure.rawData.buffer, failure.rawData.byteOffset, failure.rawData.byteLength).toString('base64'),
  });
}

// ---------------------------------------------------------------- reading

/** The error output type named by a key such as `errors/format-conversion-failed/2024/...`. */
export function errorTypeFromKey(key: string): ErrorRecordType | undefined {
  for (const segment of key.split('/')) {
    const found = KNOWN_TYPES.find((t) => segment === t || segment.startsWith(t));
    if (found) return found;
  }
  return undefined;
}

/**
 * Parses a whole error object (plain or gzip, detected by its magic bytes). Records before
 * an unreadable part are returned; the unreadable part is reported with its byte offset and
 * reading resumes at the next object that starts a line or follows a `}`.
 */
export function parseErrorRecords(bytes: Uint8Array, options: { type?: ErrorRecordType } = {}): ParsedErrorRecords {
  const problems: ErrorRecordProblem[] = [];
  let data = bytes;
  if (isGzip(bytes)) {
    const result = gunzipLenient(bytes);
    data = result.data;
    if (result.problem) problems.push({ offset: data.length, message: result.problem });
  }
  const parser = new ErrorRecordParser(options);
  const records = parser.push(data);
  const end = parser.end();
  records.push(...end.records);
  problems.unshift(...end.problems);
  problems.sort((a, b) => a.offset - b.offset);
  return { records, problems };
}

/**
 * Reads error records from a stream of chunks (an S3 object body), gzip or not, holding one
 * object at a time. What cannot be read in the object (a truncated or corrupt gzip stream,
 * broken JSON) goes to `onProblem`, and the records readable around it are yielded. An error
 * of the source itself (the transport) is not a problem of the object: it is thrown as it
 * came, after the records read before it.
 */
export async function* streamErrorRecords(
  source: AsyncIterable<Uint8Array>,
  options: { type?: ErrorRecordType; onProblem?: (problem: ErrorRecordProblem) => void } = {},
): AsyncGenerator<ErrorRecord> {
  const parser = new ErrorRecordParser(options);
  const iterator = source[Symbol.asyncIterator]();
  // Enough bytes to see the gzip magic number.
  let head: Uint8Array = new Uint8Array(0);
  let done = false;
  while (head.length < 2 && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else head = concat(head, next.value);
  }
  if (head.length === 0) return;
  if (isGzip(head)) {
    yield* gunzipRecords(head, done ? undefined : iterator, parser, options.onProblem);
  } else {
    yield* parser.push(head);
    while (!done) {
      const next = await iterator.next();
      if (next.done) break;
      yield* parser.push(next.value);
    }
  }
  const end = parser.end();
  yield* end.records;
  for (const problem of end.problems) options.onProblem?.(problem);
}

/** Compressed bytes handed to gunzip at once: output of a write that fails is lost, so keep them small. */
const GUNZIP_SLICE_BYTES = 16 * 1024;
/** A gzip member's trailer: CRC-32 and size. */
const GUNZIP_TAIL_BYTES = 8;

/**
 * The gzip path of `streamErrorRecords`. A gzip failure (truncated or corrupt data) is
 * reported through `onProblem` after the records decompressed before it; a failure of the
 * source is thrown as the source's own error.
 */
async function* gunzipRecords(
  head: Uint8Array,
  iterator: AsyncIterator<Uint8Array> | undefined,
  parser: ErrorRecordParser,
  onProblem: ((problem: ErrorRecordProblem) => void) | undefined,
): AsyncGenerator<ErrorRecord> {
  const gunzip = createGunzip();
  const output: Buffer[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  gunzip.on('data', (chunk: Buffer) => output.push(chunk));
  gunzip.on('error', (err) => {
    failure = err;
    wake?.();
  });
  gunzip.on('end', () => {
    ended = true;
    wake?.();
  });
  /** Feeds gunzip (or ends it) and waits until it has processed that input or failed. */
  const step = (input?: Uint8Array) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      if (input === undefined) gunzip.end();
      else gunzip.write(input, () => resolve());
    });
  let decompressed = 0;
  const drain = function* (): Generator<ErrorRecord> {
    for (let chunk = output.shift(); chunk !== undefined; chunk = output.shift()) {
      decompressed += chunk.length;
      yield* parser.push(chunk);
    }
  };
  let chunk: Uint8Array | undefined = head;
  try {
    while (chunk !== undefined && failure === undefined) {
      for (let at = 0; at < chunk.length && failure === undefined; at += GUNZIP_SLICE_BYTES) {
        const slice = chunk.subarray(at, at + GUNZIP_SLICE_BYTES);
        // The last bytes apart: a member's trailer (its checksum) is checked in the write that
        // holds it, so the data before it is decompressed and kept even when the check fails.
        const split = Math.max(0, slice.length - GUNZIP_TAIL_BYTES);
        if (split > 0) await step(slice.subarray(0, split));
        if (failure === undefined) await step(slice.subarray(split));
        yield* drain();
      }
      const next: IteratorResult<Uint8Array> | undefined = failure === undefined ? await iterator?.next() : undefined;
      chunk = next?.done === false ? next.value : undefined;
    }
    if (failure === undefined) {
      if (!ended) await step();
      yield* drain();
    }
  } finally {
    gunzip.destroy();
    // Ended early (gzip failure, caller stopped): release the source. A source that threw is done.
    if (chunk !== undefined) await iterator?.return?.()?.catch(() => undefined);
  }
  if (failure !== undefined) {
    yield* drain();
    onProblem?.({ offset: decompressed, message: `gzip data unreadable after ${decompressed} decompressed bytes: ${failure.message}` });
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips what can be read; a truncated or corrupt tail is reported, not thrown. */
function gunzipLenient(bytes: Uint8Array): { data: Uint8Array; problem?: string } {
  try {
    return { data: gunzipSync(bytes) };
  } catch (err) {
    let data: Uint8Array = new Uint8Array(0);
    try {
      data = gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      // nothing readable
    }
    return { data, problem: `gzip data unreadable after ${data.length} decompressed bytes: ${(err as Error).message}` };
  }
}
