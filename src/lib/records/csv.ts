/**
 * RFC 4180 CSV, parsed incrementally from byte chunks: quoted fields, doubled quotes,
 * line breaks inside quotes, CRLF or LF, a UTF-8 BOM. Works on bytes (the structural
 * characters are ASCII, so UTF-8 needs no decoding to find them), which gives exact byte
 * offsets for checkpoints; only field contents are decoded. A record split across chunks
 * is carried over without rescanning what was already scanned.
 *
 * Lenient where RFC 4180 is silent and strictness would lose data: a quote inside an
 * unquoted field is kept as text; blank lines are skipped. Text after a closing quote
 * (`"a"b`) makes the row malformed (reported, not guessed at).
 */
import { failureAfterRecords, RecordSyntaxError, withoutBom } from './chunks.js';
import { MAX_SCANNED_RECORD_BYTES, type ReadPosition, type SourceRecord } from './types.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3;

export { RecordSyntaxError };

const EMPTY = Buffer.alloc(0);

export class CsvParser {
  private buf: Buffer = EMPTY;
  /** Absolute offset of buf[0] in the input. */
  private base: number;
  private pos = 0;
  private recStart = 0;
  private line: number;
  private recLine: number;
  private seq: number;
  private state = FIELD_START;
  private fieldStart = 0;
  private escaped = false;
  /** Where the closing quote of the current quoted field is. */
  private closeQuote = 0;
  /** Per field of the current record: start, end, flags (1 quoted, 2 escaped quotes). */
  private spans: number[] = [];
  private malformed: string | undefined;
  private atStart: boolean;
  private failure: RecordSyntaxError | undefined;

  constructor(
    private readonly delimiter = 0x2c,
    from: ReadPosition = { offset: 0, line: 1, seq: 0 },
  ) {
    this.base = from.offset;
    this.line = from.line;
    this.recLine = from.line;
    this.seq = from.seq;
    this.atStart = from.offset === 0;
  }

  /** Parses a chunk; returns the records it completed. */
  push(chunk: Buffer): SourceRecord[] {
    if (this.failure) throw this.failure;
    if (this.atStart) {
      this.atStart = false;
      const stripped = withoutBom(chunk);
      this.base += chunk.length - stripped.length;
      chunk = stripped;
    }
    this.append(chunk);
    const out: SourceRecord[] = [];
    this.scan(out);
    // Rows found before an overlong one are still returned; the error comes next time.
    this.failure = failureAfterRecords(out, () => this.compact());
    return out;
  }

  /** End of input: the last record when the file does not end with a line break. */
  end(): SourceRecord[] {
    if (this.failure) throw this.failure;
    const out: SourceRecord[] = [];
    if (this.state === QUOTED) throw new RecordSyntaxError('a quoted field is not closed before the end of the input', this.recLine);
    const rest = this.buf.subarray(this.recStart);
    if (this.spans.length > 0 || rest.some((b) => b !== CR)) {
      const textEnd = this.state !== QUOTE_SEEN && rest.at(-1) === CR ? this.buf.length - 1 : this.buf.length;
      this.closeField(this.buf.length);
      this.emit(textEnd, this.buf.length, out);
    }
    return out;
  }

  private append(chunk: Buffer): void {
    if (this.recStart >= this.buf.length) {
      this.base += this.buf.length;
      this.pos -= this.buf.length;
      this.fieldStart -= this.buf.length;
      this.closeQuote -= this.buf.length;
      this.recStart = 0;
      this.buf = chunk;
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
  }

  /** Drops the bytes of completed records, keeping the one in progress (rebased to 0). */
  private compact(): void {
    const shift = this.recStart;
    if (shift === 0) {
      if (this.buf.length - this.recStart > MAX_SCANNED_RECORD_BYTES) {
        throw new RecordSyntaxError(`a row runs over ${MAX_SCANNED_RECORD_BYTES / 1024 / 1024} MiB without ending; is a quote unbalanced?`, this.recLine);
      }
      return;
    }
    this.buf = shift >= this.buf.length ? EMPTY : this.buf.subarray(shift);
    this.base += shift;
    this.pos -= shift;
    this.fieldStart -= shift;
    this.closeQuote -= shift;
    for (let i = 0; i < this.spans.length; i += 3) {
      this.spans[i]! -= shift;
      this.spans[i + 1]! -= shift;
    }
    this.recStart = 0;
    if (this.buf.length > MAX_SCANNED_RECORD_BYTES) {
      throw new RecordSyntaxError(`a row runs over ${MAX_SCANNED_RECORD_BYTES / 1024 / 1024} MiB without ending; is a quote unbalanced?`, this.recLine);
    }
  }

  private scan(out: SourceRecord[]): void {
    const buf = this.buf;
    const n = buf.length;
    const delim = this.delimiter;
    let i = this.pos;
    let state = this.state;
    while (i < n) {
      const c = buf[i]!;
      switch (state) {
        case FIELD_START:
          if (c === QUOTE) {
            state = QUOTED;
            this.fieldStart = i + 1;
            this.escaped = false;
          } else if (c === delim) {
            this.spans.push(i, i, 0);
          } else if (c === LF) {
            const end = i > this.recStart && buf[i - 1] === CR ? i - 1 : i;
            if (this.spans.length > 0 || end > this.recStart) this.spans.push(end, end, 0);
            this.line++;
            this.emit(end, i + 1, out);
          } else {
            state = UNQUOTED;
            this.fieldStart = i;
          }
          break;
        case UNQUOTED: {
          // Fast path: run to the next delimiter or line break.
          let j = i;
          while (j < n) {
            const d = buf[j]!;
            if (d === delim || d === LF) break;
            j++;
          }
          if (j === n) {
            i = n;
            continue;
          }
          if (buf[j] === delim) {
            this.spans.push(this.fieldStart, j, 0);
            state = FIELD_START;
          } else {
            const end = j > this.fieldStart && buf[j - 1] === CR ? j - 1 : j;
            this.spans.push(this.fieldStart, end, 0);
            this.line++;
            this.emit(end, j + 1, out);
            state = FIELD_START;
          }
          i = j + 1;
          continue;
        }
        case QUOTED: {
          const q = buf.indexOf(QUOTE, i);
          const stop = q < 0 ? n : q;
          for (let k = i; k < stop; k++) if (buf[k] === LF) this.line++;
          if (q < 0) {
            i = n;
            continue;
          }
          state = QUOTE_SEEN;
          this.closeQuote = q;
          i = q + 1;
          continue;
        }
        case QUOTE_SEEN:
          if (c === QUOTE) {
            this.escaped = true;
            state = QUOTED;
          } else if (c === delim) {
            this.spans.push(this.fieldStart, this.closeQuote, this.escaped ? 3 : 1);
            state = FIELD_START;
          } else if (c === LF) {
            this.spans.push(this.fieldStart, this.closeQuote, this.escaped ? 3 : 1);
            this.line++;
            this.emit(buf[i - 1] === CR && i - 1 > this.closeQuote ? i - 1 : i, i + 1, out);
            state = FIELD_START;
          } else if (c !== CR) {
            this.malformed ??= `text after the closing quote of field ${this.spans.length / 3 + 1}`;
            // Keep the rest of the field as text so the row can be shown as it was.
            state = UNQUOTED;
          }
          break;
      }
      i++;
    }
    this.pos = i;
    this.state = state;
  }

  private closeField(end: number): void {
    if (this.state === UNQUOTED) {
      const e = end > this.fieldStart && this.buf[end - 1] === CR ? end - 1 : end;
      this.spans.push(this.fieldStart, e, 0);
    } else if (this.state === QUOTE_SEEN) {
      this.spans.push(this.fieldStart, this.closeQuote, this.escaped ? 3 : 1);
    } else if (this.spans.length > 0) {
      this.spans.push(end, end, 0);
    }
    this.state = FIELD_START;
  }

  /** Completes a record whose text ends at `textEnd` and whose terminator ends at `next`. */
  private emit(textEnd: number, next: number, out: SourceRecord[]): void {
    const spans = this.spans;
    if (spans.length > 0) {
      const buf = this.buf;
      const fields = new Array<string | null>(spans.length / 3);
      for (let f = 0, s = 0; s < spans.length; f++, s += 3) {
        const start = spans[s]!;
        const end = spans[s + 1]!;
        const flags = spans[s + 2]!;
        if (start >= end) fields[f] = flags & 1 ? '' : null;
        else {
          const text = buf.toString('utf8', start, end);
          fields[f] = flags & 2 ? text.replace(/""/g, '"') : text;
        }
      }
      const record: SourceRecord = {
        seq: this.seq++,
        line: this.recLine,
        end: this.base + next,
        endLine: this.line,
        raw: buf.subarray(this.recStart, textEnd),
        fields,
      };
      if (this.malformed !== undefined) record.malformed = this.malformed;
      out.push(record);
    }
    this.spans = [];
    this.malformed = undefined;
    this.recStart = next;
    this.recLine = this.line;
  }
}
