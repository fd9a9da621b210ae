/**
 * Converters for the nested Glue types: array, map and struct, each wrapping the
 * already-compiled converters of its parts. A failure inside one is reported with its
 * path (`[2]`, `["key"]`, `.field`) prepended to the inner value's.
 */
import { LBRACE, LBRACKET, LOWER_N, MALFORMED, QUOTE, RBRACE, RBRACKET } from './json-cursor.js';
import { javaTrim } from './java-text.js';
import { Invalid, SCHEMA_MISMATCH_MESSAGE } from './messages.js';
import type { ObjectBinder } from './object-binder.js';
import type { Converter } from './scalar-converters.js';
import type { RowValue } from './types.js';

export type MapKey = string | number | bigint | boolean;

export function arrayConverter(element: Converter): Converter {
  return (p) => {
    const c = p.src.charCodeAt(p.i);
    if (c === LBRACKET) {
      p.enter();
      const out: RowValue[] = [];
      if (p.ws() === RBRACKET) {
        p.leave();
        return out;
      }
      do {
        const seq = p.failSeq;
        const v = element(p);
        if (p.failSeq !== seq) p.failPath = `[${out.length}]${p.failPath}`;
        out.push(v);
      } while (p.next(RBRACKET));
      return out;
    }
    if (c === LOWER_N) {
      p.literal('null');
      return null;
    }
    const start = p.i;
    p.skipValue();
    return p.mismatch(SCHEMA_MISMATCH_MESSAGE, start);
  };
}

/**
 * Map keys are JSON keys, so they are lowercased too when case-insensitive (Firehose
 * "converts JSON keys to lowercase before deserializing them"), then read as the key type.
 */
export function mapConverter(parseKey: (text: string) => MapKey | Invalid, value: Converter): Converter {
  return (p) => {
    const c = p.src.charCodeAt(p.i);
    if (c === LBRACE) {
      p.enter();
      const keys = p.keySet();
      const out = new Map<MapKey, RowValue>();
      if (p.ws() === RBRACE) {
        p.leave();
        return out;
      }
      do {
        if (p.src.charCodeAt(p.i) !== QUOTE) throw MALFORMED;
        const key = p.normalizeKey(p.readString());
        if (!keys.add(key)) throw MALFORMED;
        p.colon();
        const seq = p.failSeq;
        const k = parseKey(key);
        if (k instanceof Invalid) {
          p.mismatchText(k.message, JSON.stringify(key));
          p.skipValue();
        } else out.set(k, value(p));
        if (p.failSeq !== seq) p.failPath = `[${JSON.stringify(key)}]${p.failPath}`;
      } while (p.next(RBRACE));
      return out;
    }
    if (c === LOWER_N) {
      p.literal('null');
      return null;
    }
    const start = p.i;
    p.skipValue();
    return p.mismatch(SCHEMA_MISMATCH_MESSAGE, start);
  };
}

export function structConverter(binder: ObjectBinder): Converter {
  return (p) => {
    const c = p.src.charCodeAt(p.i);
    if (c === LBRACE) {
      binder.bind(p);
      return binder.toObject();
    }
    if (c === LOWER_N) {
      p.literal('null');
      return null;
    }
    const start = p.i;
    // OpenX reads an array as the struct's fields by position, and [] as null.
    if (c === LBRACKET) return binder.bindPositional(p) ? binder.toObject() : null;
    // OpenX's checkObject: a blank string is a null struct.
    if (c === QUOTE) return javaTrim(p.readString()).length === 0 ? null : p.mismatch(SCHEMA_MISMATCH_MESSAGE, start);
    p.skipValue();
    return p.mismatch(SCHEMA_MISMATCH_MESSAGE, start);
  };
}
