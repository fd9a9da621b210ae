/**
 * Converters for the scalar Glue types: string/varchar/char, boolean, the integers,
 * float/double, and the text-read types (decimal, date, timestamp) through
 * `textConverter`. Each reads one JSON value at the cursor; the value rules follow
 * OpenX's object inspectors (see converters.ts and java-text.ts).
 */
import {
  type JsonCursor,
  LBRACE,
  LBRACKET,
  LOWER_F,
  LOWER_N,
  LOWER_T,
  MALFORMED,
  QUOTE,
  isNumberStart,
} from './json-cursor.js';
import { type IntegerBits, integerOutOfRange, parseJavaBoolean, parseJavaDouble, parseJavaInteger, smallIntegerValue } from './java-text.js';
import { Invalid, SCHEMA_MISMATCH_MESSAGE } from './messages.js';
import type { RowValue } from './types.js';

export type Converter = (p: JsonCursor) => RowValue;
export type TextParser = (text: string) => RowValue | Invalid;

/** A failure with the bare "Data does not match the schema." message. */
export const PLAIN = new Invalid();

/**
 * string, varchar(n), char(n). Numbers keep their source text ("12.50" stays "12.50").
 * varchar/char are cut to n characters as Hive's HiveVarchar/HiveChar do; char values
 * lose trailing spaces, as Hive's Parquet writer stores the stripped value.
 */
export function stringConverter(maxLength: number, isChar: boolean): Converter {
  const fit = Number.isFinite(maxLength) ? fitString(maxLength, isChar) : null;
  return (p) => {
    const c = p.src.charCodeAt(p.i);
    let text: string;
    if (c === QUOTE) text = p.readString();
    else if (isNumberStart(c)) {
      p.scanNumber();
      text = p.numberText();
    } else if (c === LOWER_T) {
      p.literal('true');
      text = 'true';
    } else if (c === LOWER_F) {
      p.literal('false');
      text = 'false';
    } else if (c === LOWER_N) {
      p.literal('null');
      return null;
    } else if (c === LBRACE || c === LBRACKET) text = p.readCompact();
    else throw MALFORMED;
    return fit === null ? text : fit(text);
  };
}

export function fitString(maxLength: number, isChar: boolean): (text: string) => string {
  return (text) => {
    const cut = text.length > maxLength ? truncateCodePoints(text, maxLength) : text;
    return isChar ? cut.replace(/ +$/, '') : cut;
  };
}

function truncateCodePoints(text: string, count: number): string {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return text.slice(0, i);
}

/**
 * boolean: JSON true/false, and any text through Boolean.parseBoolean as OpenX does, so
 * "TRUE" is true while "yes", "1" and the number 1 are false, never an error.
 */
export const readBoolean: Converter = (p) => {
  const c = p.src.charCodeAt(p.i);
  if (c === LOWER_T) {
    p.literal('true');
    return true;
  }
  if (c === LOWER_F) {
    p.literal('false');
    return false;
  }
  if (c === LOWER_N) {
    p.literal('null');
    return null;
  }
  if (c === QUOTE) return parseJavaBoolean(p.readString());
  if (isNumberStart(c)) {
    p.scanNumber();
    return false;
  }
  const start = p.i;
  p.skipValue();
  return p.mismatch(SCHEMA_MISMATCH_MESSAGE, start);
};

/** A type read from the text of a string or number; true/false/objects/arrays do not fit. */
export function textConverter(parse: TextParser, fromNumber?: (p: JsonCursor) => RowValue | Invalid): Converter {
  return (p) => {
    const c = p.src.charCodeAt(p.i);
    const start = p.i;
    let result: RowValue | Invalid;
    if (c === QUOTE) result = parse(p.readString());
    else if (isNumberStart(c)) {
      p.scanNumber();
      result = fromNumber === undefined ? parse(p.numberText()) : fromNumber(p);
    } else if (c === LOWER_N) {
      p.literal('null');
      return null;
    } else {
      p.skipValue();
      result = PLAIN;
    }
    return result instanceof Invalid ? p.mismatch(result.message, start) : result;
  };
}

/** Integer literals of up to 15 characters are read in place; anything else via the text. */
export function integerConverter(bits: IntegerBits): Converter {
  const parse: TextParser = (text) => parseJavaInteger(text, bits);
  return textConverter(parse, (p) => {
    if (p.numIsInt && p.numEnd - p.numStart <= 15) {
      const v = smallIntegerValue(p.src, p.numStart, p.numEnd);
      if (bits === 64) return BigInt(v);
      if (!integerOutOfRange(v, bits)) return v;
    }
    return parse(p.numberText());
  });
}

export function floatingConverter(single: boolean): Converter {
  const parse: TextParser = (text) => {
    const v = parseJavaDouble(text);
    return single && typeof v === 'number' ? Math.fround(v) : v;
  };
  return textConverter(parse, (p) => {
    let v: number;
    if (p.numIsInt && p.numEnd - p.numStart <= 15) {
      v = smallIntegerValue(p.src, p.numStart, p.numEnd);
      if (v === 0 && p.src.charCodeAt(p.numStart) === 45) v = -0;
    } else v = Number(p.numberText());
    return single ? Math.fround(v) : v;
  });
}
