/**
 * Binding a JSON object's members to a fixed list of fields (the table's columns or a
 * struct's fields), with OpenX's key rules: lowercasing, duplicate keys, dots to
 * underscores, and arrays read by position.
 */
import { type JsonCursor, MALFORMED, QUOTE, RBRACE, RBRACKET } from './json-cursor.js';
import type { KeySet } from './key-set.js';
import type { Converter } from './scalar-converters.js';
import type { RowValue } from './types.js';

export interface CompileOptions {
  caseInsensitive: boolean;
  convertDotsInJsonKeysToUnderscores: boolean;
}

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
