/**
 * Athena's result CSV, read as a stream: `<OutputLocation>/<QueryExecutionId>.csv` has a
 * header row, then one line a row; every value is double-quoted (a quote inside doubled),
 * and SQL NULL is an empty field with no quotes. So `"a",,""` is 'a', NULL, ''. A quoted
 * value may span lines. Rows come out in batches, one per chunk read, so memory holds one
 * chunk and its rows at a time whatever the size of the object.
 */
import { ServiceError } from '../errors.js';

export type CsvRow = (string | null)[];

const enum State {
  FieldStart,
  Quoted,
  /** A quote seen inside a quoted field: either the end of the field or the first of `""`. */
  QuoteInQuoted,
  Unquoted,
}

export class AthenaCsvParser {
  private state = State.FieldStart;
  private field = '';
  private row: CsvRow = [];
  private rows: CsvRow[] = [];
  /** The line being read, and the one the current quoted value began on, for error messages. */
  private line = 1;
  private fieldLine = 1;

  /** Parses one decoded piece of text; returns the rows it completed. */
  push(text: string): CsvRow[] {
    const s = text;
    let i = 0;
    const n = s.length;
    while (i < n) {
      switch (this.state) {
        case State.FieldStart: {
          const c = s[i]!;
          if (c === '"') {
            this.state = State.Quoted;
            this.field = '';
            this.fieldLine = this.line;
            i++;
          } else if (c === ',') {
            this.row.push(null);
            i++;
          } else if (c === '\n') {
            this.row.push(null);
            this.endRow();
            i++;
          } else if (c === '\r') {
            i++;
          } else {
            this.state = State.Unquoted;
            this.field = '';
          }
          break;
        }
        case State.Quoted: {
          const q = s.indexOf('"', i);
          if (q < 0) {
            this.field += s.slice(i);
            this.line += countNewlines(s, i, n);
            i = n;
          } else {
            this.field += s.slice(i, q);
            this.line += countNewlines(s, i, q);
            this.state = State.QuoteInQuoted;
            i = q + 1;
          }
          break;
        }
        case State.QuoteInQuoted: {
          const c = s[i]!;
          if (c === '"') {
            this.field += '"';
            this.state = State.Quoted;
            i++;
          } else if (c === ',') {
            this.row.push(this.field);
            this.state = State.FieldStart;
            i++;
          } else if (c === '\n') {
            this.row.push(this.field);
            this.endRow();
            this.state = State.FieldStart;
            i++;
          } else if (c === '\r') {
            i++;
          } else {
            throw new ServiceError(`result CSV line ${this.line}: unexpected '${c}' after a closing quote`, { service: 's3', code: 'MalformedResult' });
          }
          break;
        }
        case State.Unquoted: {
          let j = i;
          while (j < n && s[j] !== ',' && s[j] !== '\n') j++;
          this.field += s.slice(i, j);
          if (j === n) {
            i = n;
            break;
          }
          this.row.push(this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field);
          if (s[j] === '\n') this.endRow();
          this.state = State.FieldStart;
          i = j + 1;
          break;
        }
      }
    }
    const done = this.rows;
    this.rows = [];
    return done;
  }

  /** The last row, when the text does not end with a newline. */
  end(): CsvRow[] {
    if (this.state === State.Quoted) throw new ServiceError(`result CSV line ${this.fieldLine}: a quoted value is not closed`, { service: 's3', code: 'MalformedResult' });
    if (this.state === State.QuoteInQuoted || this.state === State.Unquoted) this.row.push(this.field);
    // A row ending in a comma at the very end: its last value is NULL.
    else if (this.row.length > 0) this.row.push(null);
    if (this.row.length > 0) this.endRow();
    this.state = State.FieldStart;
    const done = this.rows;
    this.rows = [];
    return done;
  }

  private endRow(): void {
    this.rows.push(this.row);
    this.row = [];
    this.line++;
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let count = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) count++;
  return count;
}

/** Batches of rows from a byte stream of Athena CSV, header included. */
export async function* athenaCsvRows(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<CsvRow[]> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const parser = new AthenaCsvParser();
  for await (const chunk of chunks) {
    const rows = parser.push(decoder.decode(chunk, { stream: true }));
    if (rows.length > 0) yield rows;
  }
  const rest = parser.push(decoder.decode());
  const last = parser.end();
  if (rest.length + last.length > 0) yield [...rest, ...last];
}

/** Parses a whole CSV text (tests, small objects). */
export function parseAthenaCsvText(text: string): CsvRow[] {
  const parser = new AthenaCsvParser();
  return [...parser.push(text), ...parser.end()];
}
