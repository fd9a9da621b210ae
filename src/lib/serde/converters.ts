/**
 * One converter per Glue type, compiled once per schema. A converter reads exactly one
 * JSON value at the cursor and returns the Row representation documented in types.ts;
 * when the value does not fit it records the failure on the cursor and returns null.
 *
 * Which JSON values each type accepts follows OpenX's object inspectors: every scalar is
 * its text (see java-text.ts); true/false are booleans; an object or array where a scalar
 * is expected is a ClassCastException in OpenX, i.e. the bare "Data does not match the
 * schema."; a string column takes anything, objects and arrays as compact JSON.
 */
import type { GlueType } from '../glue-types.js';
import {
  type JsonCursor,
  type KeySet,
  LBRACE,
  LBRACKET,
  LOWER_F,
  LOWER_N,
  LOWER_T,
  MALFORMED,
  QUOTE,
  RBRACE,
  RBRACKET,
  isNumberStart,
} from './json-cursor.js';
import { type IntegerBits, integerOutOfRange, javaTrim, parseDecimal, parseJavaBoolean, parseJavaDouble, parseJavaInteger, smallIntegerValue } from './java-text.js';
import { Invalid, SCHEMA_MISMATCH_MESSAGE, UNSUPPORTED_TYPE_MESSAGE } from './messages.js';
import { parseDate, parseTimestamp } from './temporal.js';
import type { RowValue } from './types.js';

export type Converter = (p: JsonCursor) => RowValue;
export type MapKey = string | number | bigint | boolean;
type TextParser = (text: string) => RowValue | Invalid;

export interface CompileOptions {
  caseInsensitive: boolean;
  convertDotsInJsonKeysToUnderscores: boolean;
}

/** A schema Firehose cannot use: every record fails with DataFormatConversion.InvalidSchema. */
export class SchemaError extends Error {}

const PLAIN = new Invalid();

export function compileType(type: GlueType, options: CompileOptions): Converter {
  switch (type.kind) {
    case 'string':
      return stringConverter(Infinity, false);
    case 'varchar':
      return stringConverter(type.length, false);
    case 'char':
      return stringConverter(type.length, true);
    case 'boolean':
      return readBoolean;
    case 'tinyint':
      return integerConverter(8);
    case 'smallint':
      return integerConverter(16);
    case 'int':
      return integerConverter(32);
    case 'bigint':
      return integerConverter(64);
    case 'float':
      return floatingConverter(true);
    case 'double':
      return floatingConverter(false);
    case 'decimal': {
      const { precision, scale } = type;
      return textConverter((text) => parseDecimal(text, precision, scale));
    }
    case 'date':
      return textConverter(parseDate);
    case 'timestamp':
      return textConverter(parseTimestamp);
    case 'binary':
      // OpenX has no reader for binary; Firehose rejects such a schema outright.
      throw new SchemaError(UNSUPPORTED_TYPE_MESSAGE);
    case 'array':
      return arrayConverter(compileType(type.element, options));
    case 'map':
      return mapConverter(keyParser(type.key), compileType(type.value, options));
    case 'struct':
      return structConverter(
        new ObjectBinder(
          type.fields.map((f) => ({ name: f.name, jsonKey: f.name, convert: compileType(f.type, options) })),
          options,
          false,
        ),
      );
  }
}

// ---------------------------------------------------------------- scalars

/**
 * string, varchar(n), char(n). Numbers keep their source text ("12.50" stays "12.50").
 * varchar/char are cut to n characters as Hive's HiveVarchar/HiveChar do; char values
 * lose trailing spaces, as Hive's Parquet writer stores the stripped value.
 */
function stringConverter(maxLength: number, isChar: boolean): Converter {
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

function fitString(maxLength: number, isChar: boolean): (text: string) => string {
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
const readBoolean: Converter = (p) => {
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
function textConverter(parse: TextParser, fromNumber?: (p: JsonCursor) => RowValue | Invalid): Converter {
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
function integerConverter(bits: IntegerBits): Converter {
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

function floatingConverter(single: boolean): Converter {
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

// ---------------------------------------------------------------- nested

function arrayConverter(element: Converter): Converter {
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
function mapConverter(parseKey: (text: string) => MapKey | Invalid, value: Converter): Converter {
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

function keyParser(type: GlueType): (text: string) => MapKey | Invalid {
  const primitive = (parse: TextParser) => (text: string) => {
    const v = parse(text);
    return v === null ? PLAIN : (v as MapKey | Invalid);
  };
  switch (type.kind) {
    case 'string':
      return (text) => text;
    case 'char':
    case 'varchar':
      return fitString(type.length, type.kind === 'char');
    case 'boolean':
      return parseJavaBoolean;
    case 'tinyint':
      return (text) => parseJavaInteger(text, 8);
    case 'smallint':
      return (text) => parseJavaInteger(text, 16);
    case 'int':
      return (text) => parseJavaInteger(text, 32);
    case 'bigint':
      return (text) => parseJavaInteger(text, 64);
    case 'float':
      return (text) => {
        const v = parseJavaDouble(text);
        return typeof v === 'number' ? Math.fround(v) : v;
      };
    case 'double':
      return parseJavaDouble;
    case 'decimal': {
      const { precision, scale } = type;
      return primitive((text) => parseDecimal(text, precision, scale));
    }
    case 'date':
      return parseDate;
    case 'timestamp':
      return parseTimestamp;
    default:
      // Hive map keys are primitive; OpenX has no inspector for anything else (binary included).
      throw new SchemaError(UNSUPPORTED_TYPE_MESSAGE);
  }
}

function structConverter(binder: ObjectBinder): Converter {
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

// ---------------------------------------------------------------- objects

export interface BinderField {
  name: string;
  /** The JSON key the field reads (a ColumnToJsonKeyMappings target, or the name). */
  jsonKey: string;
  convert: Converter;
}

interface KeyEntry {
  norm: string;
  /** Fields whose JSON key is this key. */
  exact: readonly number[];
  /** Fields whose name is this key with dots made underscores (when that option is on). */
  dotted: readonly number[];
}

const NONE = 0;
const DOTTED = 1;
const EXACT = 2;
const KEY_CACHE_LIMIT = 4096;
const SHAPE_LIMIT = 256;

/**
 * Binds a JSON object's members to a fixed list of fields: the table's columns or a
 * struct's fields. Keys are lowercased when case-insensitive (duplicates after that are a
 * malformed record, as OpenX's putOnce makes them); unknown keys are skipped; a field
 * matches its JSON key exactly, or, with dots-to-underscores on, a key whose dots become
 * underscores spells the field's name (an exact match wins, as in OpenX's lookup).
 */
export class ObjectBinder {
  readonly values: RowValue[];
  /** Top level: the lowest failing column of the object being bound, or -1. */
  failField = -1;
  private readonly kinds: Uint8Array;
  private readonly cache = new Map<string, KeyEntry>();
  private readonly shapeKeys: string[] = [];
  private readonly shapeEntries: KeyEntry[] = [];
  /** Every field set to null: cloning it gives each row the same hidden class quickly. */
  private readonly template: Record<string, RowValue>;
  private readonly names: readonly string[];
  private readonly matchNames: readonly string[];
  private readonly jsonKeys: readonly string[];
  private readonly converters: readonly Converter[];
  private readonly plainNames: boolean;

  constructor(
    fields: readonly BinderField[],
    private readonly options: CompileOptions,
    private readonly topLevel: boolean,
  ) {
    const ci = options.caseInsensitive;
    this.names = fields.map((f) => f.name);
    this.matchNames = fields.map((f) => (ci ? f.name.toLowerCase() : f.name));
    this.jsonKeys = fields.map((f) => (ci ? f.jsonKey.toLowerCase() : f.jsonKey));
    this.converters = fields.map((f) => f.convert);
    this.values = new Array<RowValue>(fields.length).fill(null);
    this.kinds = new Uint8Array(fields.length);
    this.plainNames = !this.names.includes('__proto__');
    this.template = {};
    for (const name of this.names) Object.defineProperty(this.template, name, { value: null, enumerable: true, writable: true, configurable: true });
  }

  /** Reads the object at the cursor into `values`. */
  bind(p: JsonCursor): void {
    this.values.fill(null);
    this.kinds.fill(NONE);
    this.failField = -1;
    p.enter();
    if (p.ws() === RBRACE) {
      p.leave();
      return;
    }
    const src = p.src;
    const kinds = this.kinds;
    let unknownKeys: KeySet | null = null;
    let member = 0;
    do {
      if (src.charCodeAt(p.i) !== QUOTE) throw MALFORMED;
      const entry = this.readKey(p, member++);
      const { exact, dotted } = entry;
      // A key bound to a field is a duplicate when that field is already set from it;
      // only the other keys need the set.
      if (exact.length > 0 ? kinds[exact[0]!] === EXACT : !(unknownKeys ??= p.keySet()).add(entry.norm)) throw MALFORMED;
      p.colon();
      if (exact.length === 1 && dotted.length === 0) this.assign(p, exact[0]!, EXACT);
      else if (exact.length === 0 && dotted.length === 0) p.skipValue();
      else this.assignAll(p, entry);
    } while (p.next(RBRACE));
  }

  /** One key bound to several fields (mappings sharing a key, or dotted fallbacks). */
  private assignAll(p: JsonCursor, entry: KeyEntry): void {
    const start = p.i;
    let end = -1;
    for (const f of entry.exact) {
      p.i = start;
      this.assign(p, f, EXACT);
      end = p.i;
    }
    for (const f of entry.dotted) {
      if (this.kinds[f] !== NONE) continue;
      p.i = start;
      this.assign(p, f, DOTTED);
      end = p.i;
    }
    if (end < 0) p.skipValue();
  }

  /**
   * Records of one stream mostly share their key order, so the key seen at each member
   * position last time is tried first, by comparing the source in place: no slice, no hash.
   */
  private readKey(p: JsonCursor, member: number): KeyEntry {
    const src = p.src;
    const keyStart = p.i + 1;
    const expected = this.shapeKeys[member];
    if (expected !== undefined && src.startsWith(expected, keyStart) && src.charCodeAt(keyStart + expected.length) === QUOTE) {
      p.i = keyStart + expected.length + 1;
      return this.shapeEntries[member]!;
    }
    const raw = p.readString();
    const entry = this.lookup(raw);
    // Only keys written without escapes can be matched against the source later.
    if (member < SHAPE_LIMIT && p.i - keyStart - 1 === raw.length) {
      this.shapeKeys[member] = raw;
      this.shapeEntries[member] = entry;
    }
    return entry;
  }

  /** Reads an array as the fields in order; false for an empty array. */
  bindPositional(p: JsonCursor): boolean {
    this.values.fill(null);
    p.enter();
    if (p.ws() === RBRACKET) {
      p.leave();
      return false;
    }
    let f = 0;
    do {
      if (f < this.converters.length) this.assign(p, f, EXACT);
      else p.skipValue();
      f++;
    } while (p.next(RBRACKET));
    return true;
  }

  toObject(): Record<string, RowValue> {
    const { names, values } = this;
    if (this.plainNames) {
      const out = { ...this.template };
      for (let f = 0; f < names.length; f++) out[names[f]!] = values[f]!;
      return out;
    }
    // A field named __proto__ must be an own property, not the prototype.
    const out: Record<string, RowValue> = {};
    for (let f = 0; f < names.length; f++) Object.defineProperty(out, names[f]!, { value: values[f], enumerable: true, writable: true, configurable: true });
    return out;
  }

  private assign(p: JsonCursor, f: number, kind: number): void {
    const wasDotted = this.kinds[f] === DOTTED;
    this.kinds[f] = kind;
    // At the top level the reported failure is the first failing column in schema order,
    // as a column-by-column reader would meet them.
    if (this.topLevel) p.canRecord = this.failField < 0 || f <= this.failField;
    const seq = p.failSeq;
    this.values[f] = this.converters[f]!(p);
    if (p.failSeq !== seq) {
      p.failPath = this.topLevel ? this.names[f]! + p.failPath : `.${this.names[f]!}${p.failPath}`;
      if (this.topLevel) this.failField = f;
    } else if (this.topLevel && wasDotted && this.failField === f) {
      this.failField = -1;
    }
  }

  private lookup(raw: string): KeyEntry {
    const cached = this.cache.get(raw);
    if (cached !== undefined) return cached;
    const norm = this.options.caseInsensitive ? raw.toLowerCase() : raw;
    const exact: number[] = [];
    this.jsonKeys.forEach((key, f) => {
      if (key === norm) exact.push(f);
    });
    const dotted: number[] = [];
    if (this.options.convertDotsInJsonKeysToUnderscores && norm.includes('.')) {
      const underscored = norm.replaceAll('.', '_');
      this.matchNames.forEach((name, f) => {
        if (name === underscored && !exact.includes(f)) dotted.push(f);
      });
    }
    const entry: KeyEntry = { norm, exact, dotted };
    if (this.cache.size < KEY_CACHE_LIMIT) this.cache.set(raw, entry);
    return entry;
  }
}
