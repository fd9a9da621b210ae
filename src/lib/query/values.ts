/**
 * Athena's result values are text (GetQueryResults and the result CSV alike); their column
 * types say what they are. Converted here:
 *
 * - tinyint, smallint, integer: numbers; bigint: exact, a number while it is a safe
 *   integer and a BigInt beyond (JSON prints that as a string);
 * - decimal: the exact string (`"12.30"`), never a float;
 * - real, float, double: numbers (NaN and the infinities stay strings: JSON has none);
 * - boolean: true/false; json: the parsed value;
 * - date, time, timestamp, interval, varbinary, char, varchar...: the text as Athena prints it;
 * - array, map, row: JSON values parsed from Athena's rendering (`[1, 2]`, `{a=1}`).
 *   That rendering does not quote strings, so a string element holding `, `, `=` or a
 *   bracket cannot be told apart from structure: such values come out split (see the tests).
 */
import { toJson } from '../output/render.js';
import type { ResultColumn } from '../ports.js';

export type Value = string | number | bigint | boolean | null | Value[] | { [key: string]: Value };
export type Convert = (text: string | null) => Value;

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int']);
const FLOAT_TYPES = new Set(['real', 'float', 'double']);
const NESTED_TYPES = new Set(['array', 'map', 'row', 'struct']);

/** Athena's type name without its parameters: `decimal(10,2)` -> `decimal`, `varchar(20)` -> `varchar`. */
export function baseType(type: string): string {
  return type.toLowerCase().replace(/\s*\(.*$/s, '').trim();
}

/** A converter for one column, chosen once per column rather than once per value. */
export function converterFor(column: ResultColumn): Convert {
  const type = baseType(column.type);
  // Up to 15 digits a number is exact; beyond, a BigInt keeps every digit.
  if (type === 'bigint') return (t) => (t === null ? null : !/^-?\d+$/.test(t) ? t : t.length <= 15 ? Number(t) : toBigint(t));
  if (INTEGER_TYPES.has(type)) return (t) => (t === null ? null : /^-?\d+$/.test(t) ? Number(t) : t);
  if (FLOAT_TYPES.has(type)) return (t) => (t === null ? null : toFloat(t));
  if (type === 'boolean') return (t) => (t === null ? null : t === 'true' ? true : t === 'false' ? false : t);
  if (type === 'json') return (t) => (t === null ? null : parseJsonOrText(t));
  if (NESTED_TYPES.has(type)) return (t) => (t === null ? null : parseNested(t));
  if (type === 'unknown') return () => null;
  return (t) => t;
}

function toBigint(text: string): Value {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function toFloat(text: string): Value {
  const n = Number(text);
  return Number.isFinite(n) && text.trim() !== '' ? n : text;
}

function parseJsonOrText(text: string): Value {
  try {
    return JSON.parse(text) as Value;
  } catch {
    return text;
  }
}

/** A converted value as JSON text: bigint as a number while safe, a string beyond; NaN and the infinities as null. */
export function valueJson(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return toJson(v);
}

/** Integers whose text is the one their number prints, exact as a number. */
const PLAIN_INTEGER = /^(?:-?[1-9]\d{0,13}|0)$/;
const TEXT_TYPES = new Set(['varchar', 'char', 'string', 'decimal', 'date', 'time', 'timestamp', 'interval', 'varbinary', 'uuid']);

export type JsonScalar = string | number | boolean | null;

/**
 * For a column of scalars, the converted value as JSON.stringify writes it the way
 * `valueJson` does (a bigint as a number while safe, a string beyond); undefined for
 * arrays, maps, rows and json, whose values are objects.
 */
export function jsonScalarFor(column: ResultColumn): ((text: string | null) => JsonScalar) | undefined {
  const type = baseType(column.type);
  if (type === 'json' || NESTED_TYPES.has(type)) return undefined;
  if (TEXT_TYPES.has(type)) return (t) => t;
  const convert = converterFor(column);
  const scalar = (t: string | null): JsonScalar => {
    const v = convert(t);
    if (typeof v !== 'bigint') return v as JsonScalar;
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v.toString();
  };
  if (type === 'bigint' || INTEGER_TYPES.has(type)) return (t) => (t === null ? null : PLAIN_INTEGER.test(t) ? Number(t) : scalar(t));
  return scalar;
}

/** Converts whole rows: one converter per column. */
export function rowConverter(columns: readonly ResultColumn[]): (row: readonly (string | null)[]) => Value[] {
  const converters = columns.map(converterFor);
  return (row) => converters.map((convert, i) => convert(row[i] ?? null));
}

// ---------------------------------------------------------------- Athena's nested rendering

/**
 * `[1, 2]` -> [1, 2]; `{a=1, b=x}` -> {a: 1, b: 'x'}; `[{a=[x, y]}]` -> [{a: ['x', 'y']}].
 * Scalars inside are typed by their look: null, true/false, numbers, else strings. Text
 * that is not a well-formed rendering is returned unchanged.
 */
export function parseNested(text: string): Value {
  const parser = new NestedParser(text);
  try {
    const value = parser.value(true);
    return parser.atEnd() ? value : text;
  } catch {
    return text;
  }
}

class NestedParser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i === this.s.length;
  }

  value(top = false): Value {
    const c = this.s[this.i];
    if (c === '[') return this.list();
    if (c === '{') return this.entries();
    if (top) throw new Error('not nested');
    return scalar(this.scalarText(']}'));
  }

  private list(): Value[] {
    this.i++;
    const items: Value[] = [];
    if (this.s[this.i] === ']') {
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      if (this.s[this.i] === ']') {
        this.i++;
        return items;
      }
      this.separator();
    }
  }

  private entries(): { [key: string]: Value } {
    this.i++;
    const out: { [key: string]: Value } = {};
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      const eq = this.s.indexOf('=', this.i);
      if (eq < 0) throw new Error('entry without =');
      const key = this.s.slice(this.i, eq);
      this.i = eq + 1;
      out[key] = this.value();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      this.separator();
    }
  }

  private separator(): void {
    if (this.s[this.i] !== ',' || this.s[this.i + 1] !== ' ') throw new Error('expected ", "');
    this.i += 2;
  }

  /** Up to the next `, ` or closing bracket of the enclosing collection. */
  private scalarText(closers: string): string {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (closers.includes(c)) break;
      if (c === ',' && this.s[this.i + 1] === ' ') break;
      this.i++;
    }
    return this.s.slice(start, this.i);
  }
}

function scalar(text: string): Value {
  if (text === 'null') return null;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  if (/^-?\d+\.\d+(E-?\d+)?$/i.test(text) || /^-?\d+E-?\d+$/i.test(text)) return Number(text);
  return text;
}
