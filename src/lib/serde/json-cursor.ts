/**
 * A strict JSON scanner (RFC 8259, as Jackson reads it by default: no comments, no single
 * quotes, no leading zeros, no trailing commas, nesting at most 1,000 deep) that the type
 * converters drive directly, so a record is checked and converted in one pass without
 * building an intermediate tree. Syntax errors throw MALFORMED; conversion failures are
 * recorded on the cursor (`mismatch`) and parsing goes on, because a record that is not
 * valid JSON anywhere must report ParseError even when an earlier value did not fit.
 */
import { KeySet } from './key-set.js';

/** Thrown for any syntax error; caught once per record. Preallocated: no stack per throw. */
export const MALFORMED: Error = Object.freeze(new Error('malformed JSON'));

export const MAX_DEPTH = 1000;

export const QUOTE = 34;
export const COMMA = 44;
export const MINUS = 45;
export const COLON = 58;
export const LBRACKET = 91;
export const BACKSLASH = 92;
export const RBRACKET = 93;
export const LBRACE = 123;
export const RBRACE = 125;
export const LOWER_T = 116;
export const LOWER_F = 102;
export const LOWER_N = 110;

export function isNumberStart(c: number): boolean {
  return c === MINUS || (c >= 48 && c <= 57);
}

export class JsonCursor {
  src = '';
  i = 0;
  depth = 0;
  /** Last scanned number: [numStart, numEnd) and whether it had no fraction or exponent. */
  numStart = 0;
  numEnd = 0;
  numIsInt = true;

  /** Failure bookkeeping, see `mismatch`. */
  canRecord = true;
  failSeq = 0;
  failMessage = '';
  failValue = '';
  failPath = '';

  private readonly keySets: KeySet[] = [];

  constructor(readonly caseInsensitive: boolean) {}

  reset(src: string): void {
    this.src = src;
    this.i = 0;
    this.depth = 0;
    this.canRecord = true;
  }

  /** Skips JSON whitespace; returns the next char code, or -1 at the end. */
  ws(): number {
    const s = this.src;
    const n = s.length;
    let i = this.i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else {
        this.i = i;
        return c;
      }
    }
    this.i = i;
    return -1;
  }

  /**
   * Records a conversion failure of the value that ended at the cursor (started at
   * `start`), unless one is already recorded for the current column. Returns null so a
   * converter can `return p.mismatch(...)`.
   */
  mismatch(message: string, start: number): null {
    if (this.canRecord) this.record(message, this.src.slice(start, this.i));
    return null;
  }

  /** As `mismatch`, for a value that is not a slice of the record (a map key). */
  mismatchText(message: string, value: string): null {
    if (this.canRecord) this.record(message, value);
    return null;
  }

  private record(message: string, value: string): void {
    this.canRecord = false;
    this.failSeq++;
    this.failMessage = message;
    this.failValue = value;
    this.failPath = '';
  }

  enter(): void {
    if (++this.depth > MAX_DEPTH) throw MALFORMED;
    this.i++;
  }

  leave(): void {
    this.depth--;
    this.i++;
  }

  /** The duplicate-key set of the object just entered. */
  keySet(): KeySet {
    let set = this.keySets[this.depth];
    if (set === undefined) {
      set = new KeySet();
      this.keySets[this.depth] = set;
    }
    set.reset();
    return set;
  }

  /** Reads `:` and the whitespace around it, leaving the cursor on the value. */
  colon(): void {
    if (this.ws() !== COLON) throw MALFORMED;
    this.i++;
    this.ws();
  }

  /**
   * After a member or element: true when another follows (`,` consumed, cursor on it),
   * false at the closing char (consumed, depth left).
   */
  next(close: number): boolean {
    const c = this.ws();
    if (c === COMMA) {
      this.i++;
      this.ws();
      return true;
    }
    if (c === close) {
      this.leave();
      return false;
    }
    throw MALFORMED;
  }

  /** Reads the string at the cursor (which is on the opening quote). */
  readString(): string {
    const s = this.src;
    const n = s.length;
    const start = this.i + 1;
    for (let i = start; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c === BACKSLASH) return this.readEscaped(start, i);
      if (c < 32) throw MALFORMED;
    }
    throw MALFORMED;
  }

  private readEscaped(start: number, from: number): string {
    const s = this.src;
    const n = s.length;
    let out = s.slice(start, from);
    let runStart = from;
    let i = from;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return out + s.slice(runStart, i);
      }
      if (c < 32) throw MALFORMED;
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += s.slice(runStart, i);
      const e = s.charCodeAt(i + 1);
      switch (e) {
        case QUOTE:
          out += '"';
          break;
        case BACKSLASH:
          out += '\\';
          break;
        case 47:
          out += '/';
          break;
        case 98:
          out += '\b';
          break;
        case 102:
          out += '\f';
          break;
        case 110:
          out += '\n';
          break;
        case 114:
          out += '\r';
          break;
        case 116:
          out += '\t';
          break;
        case 117: {
          let code = 0;
          for (let k = i + 2; k < i + 6; k++) {
            const h = s.charCodeAt(k);
            const d = h >= 48 && h <= 57 ? h - 48 : h >= 97 && h <= 102 ? h - 87 : h >= 65 && h <= 70 ? h - 55 : -1;
            if (d < 0) throw MALFORMED;
            code = code * 16 + d;
          }
          out += String.fromCharCode(code);
          i += 4;
          break;
        }
        default:
          throw MALFORMED;
      }
      i += 2;
      runStart = i;
    }
    throw MALFORMED;
  }

  /** Scans the number at the cursor into numStart/numEnd/numIsInt. */
  scanNumber(): void {
    const s = this.src;
    const start = this.i;
    let i = start;
    let isInt = true;
    let c = s.charCodeAt(i);
    if (c === MINUS) c = s.charCodeAt(++i);
    if (c === 48) c = s.charCodeAt(++i);
    else if (c >= 49 && c <= 57) {
      do c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57);
    } else throw MALFORMED;
    if (c === 46) {
      isInt = false;
      c = s.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) throw MALFORMED;
      do c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69) {
      isInt = false;
      c = s.charCodeAt(++i);
      if (c === 43 || c === MINUS) c = s.charCodeAt(++i);
      if (!(c >= 48 && c <= 57)) throw MALFORMED;
      do c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57);
    }
    this.numStart = start;
    this.numEnd = i;
    this.numIsInt = isInt;
    this.i = i;
  }

  numberText(): string {
    return this.src.slice(this.numStart, this.numEnd);
  }

  /** Consumes `true`, `false` or `null` (the caller saw its first letter). */
  literal(word: 'true' | 'false' | 'null'): void {
    if (!this.src.startsWith(word, this.i)) throw MALFORMED;
    this.i += word.length;
  }

  /** Key as OpenX stores it: lowercased when case-insensitive. */
  normalizeKey(raw: string): string {
    return this.caseInsensitive ? raw.toLowerCase() : raw;
  }

  /** Checks and skips any value (duplicate keys included). */
  skipValue(): void {
    const c = this.src.charCodeAt(this.i);
    if (c === QUOTE) this.skipString();
    else if (c === LBRACE) this.skipObject();
    else if (c === LBRACKET) this.skipArray();
    else if (c === LOWER_T) this.literal('true');
    else if (c === LOWER_F) this.literal('false');
    else if (c === LOWER_N) this.literal('null');
    else if (isNumberStart(c)) this.scanNumber();
    else throw MALFORMED;
  }

  private skipString(): void {
    const s = this.src;
    const n = s.length;
    for (let i = this.i + 1; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return;
      }
      if (c === BACKSLASH) {
        this.readString();
        return;
      }
      if (c < 32) throw MALFORMED;
    }
    throw MALFORMED;
  }

  private skipObject(): void {
    this.enter();
    const keys = this.keySet();
    if (this.ws() === RBRACE) {
      this.leave();
      return;
    }
    do {
      if (this.src.charCodeAt(this.i) !== QUOTE) throw MALFORMED;
      if (!keys.add(this.normalizeKey(this.readString()))) throw MALFORMED;
      this.colon();
      this.skipValue();
    } while (this.next(RBRACE));
  }

  private skipArray(): void {
    this.enter();
    if (this.ws() === RBRACKET) {
      this.leave();
      return;
    }
    do this.skipValue();
    while (this.next(RBRACKET));
  }

  /**
   * Reads any value and returns it as compact JSON (keys normalized the way OpenX stores
   * them, numbers as written): what a string column receives for an object or array.
   */
  readCompact(): string {
    const c = this.src.charCodeAt(this.i);
    if (c === QUOTE) return JSON.stringify(this.readString());
    if (c === LBRACE) {
      this.enter();
      const keys = this.keySet();
      if (this.ws() === RBRACE) {
        this.leave();
        return '{}';
      }
      let out = '{';
      do {
        if (this.src.charCodeAt(this.i) !== QUOTE) throw MALFORMED;
        const key = this.normalizeKey(this.readString());
        if (!keys.add(key)) throw MALFORMED;
        this.colon();
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${this.readCompact()}`;
      } while (this.next(RBRACE));
      return `${out}}`;
    }
    if (c === LBRACKET) {
      this.enter();
      if (this.ws() === RBRACKET) {
        this.leave();
        return '[]';
      }
      const parts: string[] = [];
      do parts.push(this.readCompact());
      while (this.next(RBRACKET));
      return `[${parts.join(',')}]`;
    }
    const start = this.i;
    this.skipValue();
    return this.src.slice(start, this.i);
  }
}
