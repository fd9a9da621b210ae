/**
 * JSON inputs, split into records without parsing them: the record's text is passed
 * through to Firehose as it is (the serde decides what it makes of it).
 *
 * - JsonScanner: a file holding one array (streamed element by element, never loaded
 *   whole) or top-level values one after another (`{...}{...}` or one object). It tracks
 *   only strings, escapes and nesting depth; a record's own syntax is the serde's business,
 *   but a broken array structure stops the file, since record boundaries are then unknown.
 * - NdjsonSplitter: one record a line; blank lines skipped; a malformed line is just a
 *   record the serde will reject.
 */
import { failureAfterRecords, RecordSyntaxError, withoutBom } from './chunks.js';
import { type JsonLayout, MAX_SCANNED_RECORD_BYTES, type ReadPosition, type SourceRecord } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const isSpace = (c: number) => c === 0x20 || c === LF || c === CR || c === 0x09;

const EMPTY = Buffer.alloc(0);


// Scanner states.
const BEFORE_ARRAY = 0;
const BEFORE_ELEMENT = 1;
const IN_ELEMENT = 2;
const AFTER_ELEMENT = 3;
const AFTER_ARRAY = 4;

export class JsonScanner {
  private buf: Buffer = EMPTY;
  private base: number;
  private pos = 0;
  private line: number;
  private seq: number;
  private state: number;
  private atStart: boolean;
  private first = true;
  // Element in progress.
  private elemStart = -1;
  private elemLine = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  private scalar = false;
  private failure: RecordSyntaxError | undefined;

  /**
   * `from` resumes just after a record: inside the array (expecting `,` or `]`) for the
   * array layout, between values for the sequence layout.
   */
  constructor(
    readonly layout: JsonLayout,
    from?: ReadPosition,
  ) {
    this.base = from?.offset ?? 0;
    this.line = from?.line ?? 1;
    this.seq = from?.seq ?? 0;
    this.atStart = from === undefined || from.offset === 0;
    this.state = layout === 'sequence' ? BEFORE_ELEMENT : this.atStart ? BEFORE_ARRAY : AFTER_ELEMENT;
    if (!this.atStart) this.first = false;
  }

  push(chunk: Buffer): SourceRecord[] {
    if (this.failure) throw this.failure;
    if (this.atStart) {
      this.atStart = false;
      const stripped = withoutBom(chunk);
      this.base += chunk.length - stripped.length;
      chunk = stripped;
    }
    // Keep only the element in progress (if any) from the previous chunk.
    const keepFrom = this.elemStart >= 0 ? this.elemStart : this.buf.length;
    const kept = this.buf.subarray(keepFrom);
    this.base += keepFrom;
    this.pos -= keepFrom;
    if (this.elemStart >= 0) this.elemStart -= keepFrom;
    this.buf = kept.length === 0 ? chunk : Buffer.concat([kept, chunk]);
    const out: SourceRecord[] = [];
    // Records found before a syntax error are still returned; the error comes next time.
    this.failure = failureAfterRecords(out, () => {
      this.scan(out);
      if (this.elemStart >= 0 && this.buf.length - this.elemStart > MAX_SCANNED_RECORD_BYTES) {
        throw new RecordSyntaxError(`a JSON value runs over ${MAX_SCANNED_RECORD_BYTES / 1024 / 1024} MiB; is the file truncated or a string unterminated?`, this.elemLine);
      }
    });
    return out;
  }

  end(): SourceRecord[] {
    if (this.failure) throw this.failure;
    const out: SourceRecord[] = [];
    if (this.state === IN_ELEMENT) {
      if (this.scalar && !this.inString) this.finish(this.buf.length, out);
      else throw new RecordSyntaxError('the input ends inside a JSON value', this.elemLine);
    }
    if (this.layout === 'array') {
      if (this.state === BEFORE_ARRAY) return out;
      if (this.state !== AFTER_ARRAY) throw new RecordSyntaxError("the input ends before the array's closing ']'", this.line);
    }
    return out;
  }

  private fail(message: string): never {
    throw new RecordSyntaxError(message, this.line);
  }

  private scan(out: SourceRecord[]): void {
    const buf = this.buf;
    const n = buf.length;
    let i = this.pos;
    while (i < n) {
      const c = buf[i]!;
      if (this.state === IN_ELEMENT) {
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (c === BACKSLASH) this.escape = true;
          else if (c === QUOTE) {
            this.inString = false;
            // A string at depth 0 is a whole top-level value.
            if (this.depth === 0) this.finish(i + 1, out);
          } else if (c === LF) this.line++;
          i++;
          continue;
        }
        if (this.scalar) {
          if (isSpace(c) || c === COMMA || c === RBRACKET || c === LBRACE || c === LBRACKET || c === QUOTE) {
            this.finish(i, out);
            continue; // the terminator is read in the new state
          }
          i++;
          continue;
        }
        if (c === QUOTE) this.inString = true;
        else if (c === LBRACE || c === LBRACKET) this.depth++;
        else if (c === RBRACE || c === RBRACKET) {
          this.depth--;
          if (this.depth === 0) {
            this.finish(i + 1, out);
            i++;
            continue;
          }
        } else if (c === LF) this.line++;
        i++;
        continue;
      }
      if (isSpace(c)) {
        if (c === LF) this.line++;
        i++;
        continue;
      }
      switch (this.state) {
        case BEFORE_ARRAY:
          if (c !== LBRACKET) this.fail(`expected a JSON array ('[') at the start, found '${String.fromCharCode(c)}'`);
          this.state = BEFORE_ELEMENT;
          break;
        case BEFORE_ELEMENT:
          if (c === RBRACKET && this.layout === 'array' && this.first) {
            this.state = AFTER_ARRAY;
            break;
          }
          if (c === COMMA || c === RBRACKET || c === RBRACE) this.fail(`unexpected '${String.fromCharCode(c)}' where a JSON value should start`);
          this.startElement(i, c);
          continue;
        case AFTER_ELEMENT:
          if (this.layout === 'sequence') {
            this.state = BEFORE_ELEMENT;
            continue;
          }
          if (c === COMMA) this.state = BEFORE_ELEMENT;
          else if (c === RBRACKET) this.state = AFTER_ARRAY;
          else this.fail(`expected ',' or ']' after an array element, found '${String.fromCharCode(c)}'`);
          break;
        case AFTER_ARRAY:
          this.fail(`unexpected '${String.fromCharCode(c)}' after the end of the array`);
      }
      i++;
    }
    this.pos = i;
  }

  private startElement(i: number, c: number): void {
    this.state = IN_ELEMENT;
    this.first = false;
    this.elemStart = i;
    this.elemLine = this.line;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    // Numbers and literals end at a delimiter; strings, objects and arrays at their closing
    // character, which the main loop finds (it reads the opening one again).
    this.scalar = c !== LBRACE && c !== LBRACKET && c !== QUOTE;
  }

  private finish(end: number, out: SourceRecord[]): void {
    out.push({ seq: this.seq++, line: this.elemLine, end: this.base + end, endLine: this.line, raw: this.buf.subarray(this.elemStart, end) });
    this.elemStart = -1;
    this.state = AFTER_ELEMENT;
    this.scalar = false;
  }
}

export class NdjsonSplitter {
  private carry: Buffer = EMPTY;
  private base: number;
  private line: number;
  private seq: number;
  private atStart: boolean;
  private failure: RecordSyntaxError | undefined;

  constructor(from?: ReadPosition) {
    this.base = from?.offset ?? 0;
    this.line = from?.line ?? 1;
    this.seq = from?.seq ?? 0;
    this.atStart = from === undefined || from.offset === 0;
  }

  push(chunk: Buffer): SourceRecord[] {
    if (this.failure) throw this.failure;
    if (this.atStart) {
      this.atStart = false;
      const stripped = withoutBom(chunk);
      this.base += chunk.length - stripped.length;
      chunk = stripped;
    }
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const out: SourceRecord[] = [];
    let start = 0;
    for (;;) {
      const lf = buf.indexOf(LF, start);
      if (lf < 0) break;
      this.line++;
      this.record(buf, start, lf, lf + 1, out);
      start = lf + 1;
    }
    this.base += start;
    this.carry = start === 0 ? buf : buf.subarray(start);
    if (this.carry.length > MAX_SCANNED_RECORD_BYTES) {
      this.failure = new RecordSyntaxError(`a line runs over ${MAX_SCANNED_RECORD_BYTES / 1024 / 1024} MiB; is this really NDJSON (one JSON value a line)?`, this.line);
      if (out.length === 0) throw this.failure;
    }
    return out;
  }

  end(): SourceRecord[] {
    if (this.failure) throw this.failure;
    const out: SourceRecord[] = [];
    if (this.carry.length > 0) this.record(this.carry, 0, this.carry.length, this.carry.length, out);
    this.carry = EMPTY;
    return out;
  }

  private record(buf: Buffer, start: number, stop: number, next: number, out: SourceRecord[]): void {
    // The line's number: `line` already counts this line's LF, when it has one.
    const line = next > stop ? this.line - 1 : this.line;
    let s = start;
    let e = stop;
    while (s < e && isSpace(buf[s]!)) s++;
    while (e > s && isSpace(buf[e - 1]!)) e--;
    if (s === e) return;
    out.push({ seq: this.seq++, line, end: this.base + next, endLine: this.line, raw: buf.subarray(s, e) });
  }
}
