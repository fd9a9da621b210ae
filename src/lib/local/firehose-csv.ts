/**
 * Writing the serde's row values as spool CSV bytes straight into a growing Buffer: no
 * string per value or per line. The text is the same as `csvEncoder` in firehose-spool.ts
 * gives (which it falls back to for the rare types), except numbers with a fraction, which
 * may be written with other digits of the same double, so DuckDB reads back the same value.
 */
import type { GlueType } from '../glue-types.js';
import type { RowValue } from '../serde/types.js';
import { csvEncoder } from './firehose-spool.js';

const COMMA = 44;
const NEWLINE = 10;
const QUOTE = 34;
const MINUS = 45;
const DOT = 46;
const CR = 13;
/** Powers of ten tried for numbers with a fraction. */
const SCALES = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

/** A growing byte buffer that CSV values are written into. */
export class CsvWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = Buffer.allocUnsafeSlow(size);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** ASCII text written as it is. */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[this.pos + i] = text.charCodeAt(i);
    this.pos += n;
  }

  /** Text written as it is (UTF-8). */
  raw(text: string): void {
    this.ensure(text.length * 3);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  /** A string field: quoted (quotes doubled) when it holds `"`, `,`, CR or LF; `""` when empty. */
  string(s: string): void {
    const n = s.length;
    if (n === 0) {
      this.ensure(2);
      this.buf[this.pos++] = QUOTE;
      this.buf[this.pos++] = QUOTE;
      return;
    }
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || c === QUOTE || c === COMMA || c === NEWLINE || c === CR) {
        this.raw(/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** An integer within 2^53 in decimal (-0 as "0", as String gives it). */
  integer(value: number): void {
    this.ensure(17);
    const buf = this.buf;
    let n = value;
    if (n < 0) {
      buf[this.pos++] = MINUS;
      n = -n;
    }
    let len = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) len++;
    const start = this.pos;
    let p = start + len;
    this.pos = p;
    while (p > start) {
      const q = Math.floor(n / 10);
      buf[--p] = 48 + (n - q * 10);
      n = q;
    }
  }

  /**
   * A double: integers as digits; a value that is an integer over 10^d (d at most 6) as those
   * digits with a point (a decimal that reads back as exactly this double: the division is
   * correctly rounded, as is the reader's parse); anything else as String gives it.
   */
  double(v: number): void {
    if (Number.isInteger(v)) {
      if (Math.abs(v) < 2 ** 53) this.integer(v);
      else this.ascii(String(v));
      return;
    }
    for (let d = 1; d < SCALES.length; d++) {
      const scale = SCALES[d]!;
      const m = Math.round(v * scale);
      if (m / scale !== v || !(Math.abs(m) < 2 ** 53)) continue;
      const abs = Math.abs(m);
      const whole = Math.floor(abs / scale);
      if (v < 0) this.byte(MINUS);
      this.integer(whole);
      this.ensure(d + 1);
      const buf = this.buf;
      buf[this.pos++] = DOT;
      let fraction = abs - whole * scale;
      for (let p = this.pos + d - 1; p >= this.pos; p--) {
        const q = Math.floor(fraction / 10);
        buf[p] = 48 + (fraction - q * 10);
        fraction = q;
      }
      this.pos += d;
      return;
    }
    this.ascii(String(v));
  }
}

/** Writes a non-null Row value of this type as its CSV field. */
export type CsvFieldWriter = (w: CsvWriter, value: RowValue) => void;

export function csvFieldWriter(type: GlueType): CsvFieldWriter {
  switch (type.kind) {
    case 'string':
    case 'char':
    case 'varchar':
    case 'decimal':
      return (w, v) => w.string(v as string);
    case 'boolean':
      return (w, v) => w.ascii(v ? 'true' : 'false');
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'date':
      return (w, v) => w.integer(v as number);
    case 'float':
    case 'double':
      return (w, v) => w.double(v as number);
    case 'bigint':
    case 'timestamp':
      return (w, v) => {
        const n = Number(v);
        if (Number.isSafeInteger(n)) w.integer(n);
        else w.ascii(String(v));
      };
    default: {
      const encode = csvEncoder(type);
      return (w, v) => w.raw(encode(v));
    }
  }
}

/** Writes one row of values (column order) as a CSV line; nulls are empty fields. */
export function writeCsvRow(w: CsvWriter, writers: readonly CsvFieldWriter[], values: readonly RowValue[], source: readonly number[]): void {
  for (let i = 0; i < writers.length; i++) {
    if (i > 0) w.byte(COMMA);
    const value = values[source[i]!];
    if (value !== null && value !== undefined) writers[i]!(w, value);
  }
  w.byte(NEWLINE);
}
