/**
 * Text-to-value rules for the scalar Hive types, as OpenX applies them. OpenX keeps every
 * JSON number as its source text ("the JSON parser won't parse the number because it's
 * deferred"), so a number and a string holding the same digits convert identically, and
 * each type parses the text with Java's own parser (Integer.parseInt, Double.parseDouble,
 * ...). Firehose surfaces those parsers' exception texts after "Data does not match the
 * schema." (probed for doubles), which is why the failures below carry Java's wording.
 */
import { EMPTY_STRING_MESSAGE, Invalid, forInputString, valueOutOfRange } from './messages.js';

export type IntegerBits = 8 | 16 | 32 | 64;

const RANGE: Record<IntegerBits, readonly [bigint, bigint]> = {
  8: [-128n, 127n],
  16: [-32768n, 32767n],
  32: [-2147483648n, 2147483647n],
  64: [-9223372036854775808n, 9223372036854775807n],
};

const DECIMAL_DIGITS = /^[+-]?\d+$/;
const HEX_DIGITS = /^[+-]?[0-9a-fA-F]+$/;

/**
 * tinyint/smallint/int/bigint from text: OpenX's ParsePrimitiveUtils (a `0x`/`0X` prefix
 * means hexadecimal) over Byte/Short/Integer/Long.parseX. Byte and Short parse as an int
 * first, so a value beyond int reports "For input string" and one that is an int but too
 * wide for the column reports "Value out of range". A fraction ("12.5", even "1.0") or an
 * exponent never parses: integral columns take integer literals only.
 */
export function parseJavaInteger(text: string, bits: IntegerBits): number | bigint | Invalid {
  let digits = text;
  let radix = 10;
  if (text.startsWith('0x') || text.startsWith('0X')) {
    digits = text.slice(2);
    radix = 16;
  }
  if (!(radix === 10 ? DECIMAL_DIGITS : HEX_DIGITS).test(digits)) return new Invalid(forInputString(digits, radix));
  const value = radix === 10 ? BigInt(digits) : hexToBigInt(digits);
  const parsed = RANGE[bits === 64 ? 64 : 32];
  if (value < parsed[0] || value > parsed[1]) return new Invalid(forInputString(digits, radix));
  const range = RANGE[bits];
  if (value < range[0] || value > range[1]) return new Invalid(valueOutOfRange(digits, radix));
  return bits === 64 ? value : Number(value);
}

function hexToBigInt(digits: string): bigint {
  const negative = digits.startsWith('-');
  const body = digits.startsWith('-') || digits.startsWith('+') ? digits.slice(1) : digits;
  const value = BigInt(`0x${body}`);
  return negative ? -value : value;
}

/** JSON integer literal of at most 15 digits, read without allocating. */
export function smallIntegerValue(s: string, start: number, end: number): number {
  let i = start;
  const negative = s.charCodeAt(i) === 45;
  if (negative) i++;
  let v = 0;
  for (; i < end; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return negative && v !== 0 ? -v : v;
}

/** The same bounds check as parseJavaInteger, for a value already read as a number. */
export function integerOutOfRange(value: number, bits: Exclude<IntegerBits, 64>): boolean {
  return bits === 32 ? value < -2147483648 || value > 2147483647 : bits === 16 ? value < -32768 || value > 32767 : value < -128 || value > 127;
}

const JAVA_FLOAT = /^[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)$/;

/**
 * float/double from text: Double.parseDouble, which trims whitespace, takes NaN, Infinity,
 * "1.", ".5" and a trailing f/d suffix, and overflows to Infinity rather than failing.
 * (Hexadecimal floating-point literals are not supported here.)
 */
export function parseJavaDouble(text: string): number | Invalid {
  const trimmed = javaTrim(text);
  if (trimmed.length === 0) return new Invalid(EMPTY_STRING_MESSAGE);
  if (!JAVA_FLOAT.test(trimmed)) return new Invalid(forInputString(trimmed));
  const last = trimmed.charCodeAt(trimmed.length - 1);
  const core = last === 102 || last === 70 || last === 100 || last === 68 ? trimmed.slice(0, -1) : trimmed;
  return Number(core);
}

/** Boolean.parseBoolean, what OpenX applies to any text: true only for "true" in any case. */
export function parseJavaBoolean(text: string): boolean {
  return text.length === 4 && text.toLowerCase() === 'true';
}

/** String.trim(): strips every char <= U+0020 at both ends. */
export function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 32) start++;
  while (end > start && text.charCodeAt(end - 1) <= 32) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * decimal(p,s) from text, the way Hive's HiveDecimal enforces a column type: rounded
 * HALF_UP to s fraction digits, and NULL (not an error) when the integer part needs more
 * than p - s digits. Text that is not a number fails the record like the other numeric
 * types. Returns the value with exactly s fraction digits ("12.30").
 */
export function parseDecimal(text: string, precision: number, scale: number): string | null | Invalid {
  const m = DECIMAL_TEXT.exec(text);
  const intPart = m?.[2] ?? '';
  const fracPart = m?.[3] ?? '';
  if (m === null || intPart.length + fracPart.length === 0) return new Invalid(forInputString(text));
  const negative = m[1] === '-';
  let digits = (intPart + fracPart).replace(/^0+/, '');
  const exponent = (m[4] === undefined ? 0 : Number(m[4])) - fracPart.length;
  let unscaled: string;
  if (digits.length === 0) unscaled = '0';
  else {
    const shift = exponent + scale;
    if (shift >= 0) {
      if (digits.length + shift > precision) return null;
      unscaled = digits + '0'.repeat(shift);
    } else {
      const drop = -shift;
      if (drop > digits.length) unscaled = '0';
      else {
        const kept = digits.slice(0, digits.length - drop);
        const roundUp = digits.charCodeAt(digits.length - drop) >= 53;
        digits = kept.length === 0 ? '0' : kept;
        unscaled = roundUp ? (BigInt(digits) + 1n).toString() : digits;
      }
    }
    if (unscaled.replace(/^0+/, '').length > precision) return null;
  }
  const isZero = /^0*$/.test(unscaled);
  const padded = unscaled.padStart(scale + 1, '0');
  const whole = padded.slice(0, padded.length - scale);
  const fraction = padded.slice(padded.length - scale);
  return `${negative && !isZero ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}
