/**
 * The streaming reader of Firehose error objects: concatenated JSON objects (with or
 * without whitespace between them) fed in chunks of any size. It finds where each object
 * ends without parsing it (strings are skipped with `indexOf`, not byte by byte: most of an
 * error record is its base64 `rawData`), hands each whole object to JSON.parse, and
 * normalizes the spellings AWS has used into one ErrorRecord. What it cannot read is
 * reported with its byte offset, and reading resumes at the next object.
 */
import type { ErrorRecord, ErrorRecordProblem, ErrorRecordType, ParsedErrorRecords } from './error-records.js';

const CODE_KEYS = ['lastErrorCode', 'errorCode', 'ErrorCode', 'LastErrorCode'];
const MESSAGE_KEYS = ['lastErrorMessage', 'errorMessage', 'ErrorMessage', 'LastErrorMessage'];

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Feed chunks of the (decompressed) bytes with `push`, which returns the records completed
 * so far; `end` returns the rest and every problem found. Memory holds one object at a
 * time, not the file.
 */
export class ErrorRecordParser {
  /** Unconsumed input: `store[0..length)`; `store` may be a caller's chunk until more arrives. */
  private store: Uint8Array = new Uint8Array(0);
  private length = 0;
  /** `store` is ours (grown by doubling), so appending may reuse its spare room. */
  private owned = false;
  /** Offset of `store[0]` in the whole input. */
  private base = 0;
  /** Scan state inside the current object, kept between chunks. */
  private start = -1;
  private depth = 0;
  private inString = false;
  private pos = 0;
  private skipping = false;
  private readonly problems: ErrorRecordProblem[] = [];
  private readonly type?: ErrorRecordType;

  constructor(options: { type?: ErrorRecordType } = {}) {
    this.type = options.type;
  }

  push(chunk: Uint8Array): ErrorRecord[] {
    if (chunk.length === 0) return [];
    this.append(chunk);
    return this.drain(false);
  }

  end(): ParsedErrorRecords {
    const records = this.drain(true);
    return { records, problems: this.problems };
  }

  private append(chunk: Uint8Array): void {
    if (this.length === 0) {
      // Nothing kept: scan the caller's chunk where it is.
      this.store = chunk;
      this.length = chunk.length;
      this.owned = false;
      return;
    }
    const needed = this.length + chunk.length;
    if (!this.owned || needed > this.store.length) {
      const grown = new Uint8Array(Math.max(needed, this.owned ? this.store.length * 2 : needed * 2, 4096));
      grown.set(this.store.subarray(0, this.length), 0);
      this.store = grown;
      this.owned = true;
    }
    this.store.set(chunk, this.length);
    this.length = needed;
  }

  private drain(final: boolean): ErrorRecord[] {
    const out: ErrorRecord[] = [];
    const buf = this.store;
    const end = this.length;
    let pos = this.pos;
    let consumed = 0;
    while (pos < end) {
      if (this.start < 0) {
        const c = buf[pos]!;
        if (c === OPEN && (!this.skipping || startsObject(buf, pos))) {
          this.skipping = false;
          this.start = pos;
          this.depth = 1;
          this.inString = false;
        } else if (!this.skipping && !isSpace(c)) {
          this.problems.push({ offset: this.base + pos, message: `unreadable data at byte ${this.base + pos}: expected '{' to start an error record` });
          this.skipping = true;
        }
        pos++;
        if (this.start < 0) consumed = pos;
        continue;
      }
      if (this.inString) {
        // The closing quote: the next one not escaped by an odd run of backslashes.
        const quote = buf.indexOf(QUOTE, pos);
        if (quote < 0 || quote >= end) {
          pos = end;
          break;
        }
        let slashes = 0;
        while (buf[quote - 1 - slashes] === BACKSLASH) slashes++;
        pos = quote + 1;
        if (slashes % 2 === 0) this.inString = false;
        continue;
      }
      const c = buf[pos]!;
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN) this.depth++;
      else if (c === CLOSE && --this.depth === 0) {
        const offset = this.base + this.start;
        const record = this.decode(buf.subarray(this.start, pos + 1), offset);
        if (record) out.push(record);
        this.start = -1;
        consumed = pos + 1;
      }
      pos++;
    }
    if (final && this.start >= 0) {
      const offset = this.base + this.start;
      this.problems.push({ offset, message: `unreadable error record at byte ${offset}: truncated (the file ends inside it)` });
      this.start = -1;
      consumed = end;
    }
    // Keep only the unfinished object (moved to the front when the store is ours).
    const kept = end - consumed;
    if (kept === 0) {
      this.store = new Uint8Array(0);
      this.owned = false;
    } else if (consumed > 0) {
      if (this.owned) buf.copyWithin(0, consumed, end);
      else this.store = buf.subarray(consumed, end);
    }
    this.length = kept;
    this.base += consumed;
    this.pos = pos - consumed;
    if (this.start >= 0) this.start -= consumed;
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
  return i < 0 || buf[i] === 0x0a || buf[i] === CLOSE;
}
