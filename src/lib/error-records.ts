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
import { Readable } from 'node:stream';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';

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

const CODE_KEYS = ['lastErrorCode', 'errorCode', 'ErrorCode', 'LastErrorCode'];
const MESSAGE_KEYS = ['lastErrorMessage', 'errorMessage', 'ErrorMessage', 'LastErrorMessage'];

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
 * object at a time. Problems go to `onProblem`; the records readable around them are yielded.
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
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let sentHead = false;
      return {
        next: (): Promise<IteratorResult<Uint8Array>> => {
          if (!sentHead) {
            sentHead = true;
            return Promise.resolve({ done: false, value: head });
          }
          return done ? Promise.resolve({ done: true, value: undefined }) : iterator.next();
        },
      };
    },
  };
  let decompressed = 0;
  try {
    const chunks: AsyncIterable<Uint8Array> = isGzip(head) ? Readable.from(rest).pipe(createGunzip()) : rest;
    for await (const chunk of chunks) {
      decompressed += chunk.length;
      yield* parser.push(chunk);
    }
  } catch (err) {
    options.onProblem?.({ offset: decompressed, message: `gzip data unreadable after ${decompressed} decompressed bytes: ${(err as Error).message}` });
  }
  const end = parser.end();
  yield* end.records;
  for (const problem of end.problems) options.onProblem?.(problem);
}

/**
 * Streaming reader: feed chunks of the (decompressed) bytes with `push`, which returns the
 * records completed so far; `end` returns the rest and every problem found. Memory holds
 * one object at a time, not the file.
 */
export class ErrorRecordParser {
  private pending: Uint8Array = new Uint8Array(0);
  /** Offset of `pending[0]` in the whole input. */
  private base = 0;
  /** Scan state inside the current object, kept between chunks. */
  private scan = { start: -1, depth: 0, inString: false, escaped: false, pos: 0 };
  private skipping = false;
  private readonly problems: ErrorRecordProblem[] = [];
  private readonly type?: ErrorRecordType;

  constructor(options: { type?: ErrorRecordType } = {}) {
    this.type = options.type;
  }

  push(chunk: Uint8Array): ErrorRecord[] {
    this.pending = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    return this.drain(false);
  }

  end(): ParsedErrorRecords {
    const records = this.drain(true);
    return { records, problems: this.problems };
  }

  private drain(final: boolean): ErrorRecord[] {
    const out: ErrorRecord[] = [];
    const buf = this.pending;
    const s = this.scan;
    let consumed = 0;
    while (s.pos < buf.length) {
      const c = buf[s.pos]!;
      if (s.start < 0) {
        if (c === 0x7b /* { */ && (!this.skipping || startsObject(buf, s.pos))) {
          this.skipping = false;
          s.start = s.pos;
          s.depth = 1;
          s.inString = false;
          s.escaped = false;
        } else if (!this.skipping && !isSpace(c)) {
          this.problems.push({ offset: this.base + s.pos, message: `unreadable data at byte ${this.base + s.pos}: expected '{' to start an error record` });
          this.skipping = true;
        }
        s.pos++;
        if (s.start < 0) consumed = s.pos;
        continue;
      }
      if (s.inString) {
        if (s.escaped) s.escaped = false;
        else if (c === 0x5c /* \ */) s.escaped = true;
        else if (c === 0x22 /* " */) s.inString = false;
      } else if (c === 0x22) s.inString = true;
      else if (c === 0x7b) s.depth++;
      else if (c === 0x7d /* } */) {
        s.depth--;
        if (s.depth === 0) {
          const offset = this.base + s.start;
          const record = this.decode(buf.subarray(s.start, s.pos + 1), offset);
          if (record) out.push(record);
          s.start = -1;
          consumed = s.pos + 1;
        }
      }
      s.pos++;
    }
    if (final && s.start >= 0) {
      const offset = this.base + s.start;
      this.problems.push({ offset, message: `unreadable error record at byte ${offset}: truncated (the file ends inside it)` });
      s.start = -1;
      consumed = buf.length;
    }
    // Keep only the unfinished object.
    this.pending = buf.subarray(consumed);
    this.base += consumed;
    s.pos -= consumed;
    if (s.start >= 0) s.start -= consumed;
    return out;
  }

  private decode(bytes: Uint8Array, offset: number): ErrorRecord | undefined {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch (err) {
      this.problems.push({ offset, message: `unreadable error record at byte ${offset}: ${(err as Error).message}` });
      return undefined;
    }
    const fields = value as Record<string, unknown>;
    const rawData = fields.rawData ?? fields.RawData;
    if (typeof rawData !== 'string') {
      this.problems.push({ offset, message: `unreadable error record at byte ${offset}: no rawData` });
      return undefined;
    }
    return normalize(fields, rawData, offset, this.type);
  }
}

function normalize(fields: Record<string, unknown>, rawData: string, offset: number, typeHint: ErrorRecordType | undefined): ErrorRecord {
  const pick = (keys: string[]) => {
    for (const k of keys) if (typeof fields[k] === 'string') return fields[k];
    return undefined;
  };
  const num = (key: string) => {
    const v = fields[key];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    return undefined;
  };
  const code = pick(CODE_KEYS);
  const lambdaArn = pick(['lambdaArn', 'lambdaARN', 'LambdaArn']);
  const record: ErrorRecord = {
    type: typeHint ?? inferType(code, fields, lambdaArn),
    code,
    message: pick(MESSAGE_KEYS),
    arrivalTimestamp: num('arrivalTimestamp'),
    attemptEndingTimestamp: num('attemptEndingTimestamp'),
    attemptsMade: num('attemptsMade'),
    rawData: new Uint8Array(Buffer.from(rawData, 'base64')),
    offset,
    fields,
  };
  if ('sequenceNumber' in fields) record.sequenceNumber = fields.sequenceNumber === null ? null : String(fields.sequenceNumber);
  if ('subSequenceNumber' in fields) record.subSequenceNumber = typeof fields.subSequenceNumber === 'number' ? fields.subSequenceNumber : null;
  const table = fields.dataCatalogTable;
  if (table && typeof table === 'object') record.dataCatalogTable = table as ErrorRecord['dataCatalogTable'];
  if (lambdaArn !== undefined) record.lambdaArn = lambdaArn;
  return record;
}

function inferType(code: string | undefined, fields: Record<string, unknown>, lambdaArn: string | undefined): ErrorRecordType | undefined {
  if (code?.startsWith('DataFormatConversion.') || 'dataCatalogTable' in fields) return 'format-conversion-failed';
  if (lambdaArn !== undefined || code?.startsWith('Lambda.')) return 'processing-failed';
  if (code?.startsWith('DynamicPartitioning.')) return 'partitioning-failed';
  if (code?.startsWith('Decompression') || code?.startsWith('CloudWatchLogs.')) return 'decompression-failed';
  return undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** After garbage, only a `{` opening a line or following a `}` is trusted as an object start. */
function startsObject(buf: Uint8Array, pos: number): boolean {
  let i = pos - 1;
  while (i >= 0 && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0d)) i--;
  return i < 0 || buf[i] === 0x0a || buf[i] === 0x7d;
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
