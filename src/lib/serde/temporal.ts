/**
 * timestamp and date columns. Firehose documents the OpenX timestamp forms as
 * yyyy-MM-dd'T'HH:mm:ss[.S]'Z', yyyy-[M]M-[d]d HH:mm:ss[.S] (fraction up to 9 digits),
 * epoch seconds, epoch milliseconds and floating-point epoch seconds. The dispatch follows
 * OpenX's ParsePrimitiveUtils.parseTimestamp: text with a ':' is a date-time (the 'Z' form
 * strict ISO, anything else java.sql.Timestamp.valueOf), any other text is an epoch number.
 *
 * Probed on AWS (recorded by another emulator's tests): an epoch below 1e12 in absolute
 * value is seconds and one at or above it milliseconds, numbers and numeric strings alike;
 * a fraction keeps its sub-second part; "2026-9-7 1:2:3" is accepted while
 * "2026-9-7T12:00:02Z" is rejected; and 999999999999 seconds arrives as the year 2092,
 * which is that value in nanoseconds wrapped to 64 bits, so epoch values are wrapped the
 * same way here. All times are UTC; the calendar is proleptic Gregorian (Java would switch
 * to Julian before 1582-10-15).
 */
import { Invalid, TIMESTAMP_FORMAT_MESSAGE, forInputString } from './messages.js';
import { javaTrim } from './java-text.js';

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const EPOCH_NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const JAVA_INT = /^[+-]?\d+$/;
const DIGITS = /^\d+$/;
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
/** |epoch| < 1e12, i.e. at most 12 integer digits, is seconds; otherwise milliseconds. */
const SECONDS_MAX_INTEGER_DIGITS = 12;
const MS_PER_DAY = 86_400_000;

/** Microseconds since the epoch, or why the text is not a timestamp. */
export function parseTimestamp(text: string): bigint | Invalid {
  if (text.includes(':')) {
    const fast = fastIsoMicros(text);
    if (fast !== undefined) return fast;
    const usual = fastValueOfMicros(text);
    if (usual !== undefined) return usual;
    const iso = ISO_UTC.exec(text);
    if (iso !== null) return isoMicros(iso);
    return timestampValueOf(text);
  }
  return epochMicros(text);
}

function isoMicros(m: RegExpExecArray): bigint | Invalid {
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  // The 'T' form is read strictly (a short month fails, probed), so no field may roll over.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  }
  return utcMicros(year, month, day, hour, minute, second, fractionNanos(m[7]));
}

/**
 * The same strict 'Z' form read by position, without a regex or a Date: the common case
 * on the hot path. Returns undefined for anything else (the caller then takes the regex).
 */
function fastIsoMicros(s: string): bigint | undefined {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 || s.charCodeAt(10) !== 84) return undefined;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  let micros = 0;
  if (n > 20) {
    // ".f" .. ".fffffffff": 1-9 digits; sub-microsecond digits are dropped (floor).
    if (s.charCodeAt(19) !== 46 || n - 21 > 9 || n - 21 < 1) return undefined;
    const fraction = digits(s, 20, n - 1);
    if (fraction < 0) return undefined;
    const width = n - 21;
    micros = width <= 6 ? fraction * 10 ** (6 - width) : Math.floor(fraction / 10 ** (width - 6));
  } else if (s.charCodeAt(19) !== 90) return undefined;
  if ((year | month | day | hour | minute | second) < 0) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  const total = seconds * 1_000_000 + micros;
  return Number.isSafeInteger(total) ? BigInt(total) : BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/**
 * Timestamp.valueOf's usual input, "yyyy-MM-dd HH:mm:ss[.f...]" with two-digit fields and no
 * surrounding blanks, read by position: the same value as `timestampValueOf` (its lenient
 * roll-over is the same linear arithmetic). Undefined for anything else.
 */
function fastValueOfMicros(s: string): bigint | undefined {
  const n = s.length;
  if (n < 19 || n > 29 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  let micros = 0;
  if (n > 19) {
    if (s.charCodeAt(19) !== 46 || n === 20) return undefined;
    const fraction = digits(s, 20, n);
    if (fraction < 0) return undefined;
    const width = n - 20;
    micros = width <= 6 ? fraction * 10 ** (6 - width) : Math.floor(fraction / 10 ** (width - 6));
  }
  if ((year | month | day | hour | minute | second) < 0 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  const total = seconds * 1_000_000 + micros;
  return Number.isSafeInteger(total) ? BigInt(total) : BigInt(seconds) * 1_000_000n + BigInt(micros);
}

/** The decimal digits in [start, end) as a number, or -1 when one is not a digit. */
function digits(s: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * java.sql.Timestamp.valueOf: trimmed; a 4-digit year, 1-2 digit month (1-12) and day
 * (1-31); hour, minute and second any integers, rolling over like the lenient Date
 * constructor it calls (so "2021-02-30 24:00:00" is 2021-03-03 00:00:00); an optional
 * fraction of 1-9 digits. Parts that are not integers fail with Integer.parseInt's text.
 */
function timestampValueOf(text: string): bigint | Invalid {
  const s = javaTrim(text);
  const space = s.indexOf(' ');
  if (space <= 0) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  const date = s.slice(0, space);
  const time = s.slice(space + 1);

  const firstDash = date.indexOf('-');
  const secondDash = date.indexOf('-', firstDash + 1);
  if (!(firstDash > 0 && secondDash > 0 && secondDash < date.length - 1)) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  const yyyy = date.slice(0, firstDash);
  const mm = date.slice(firstDash + 1, secondDash);
  const dd = date.slice(secondDash + 1);
  if (yyyy.length !== 4 || mm.length < 1 || mm.length > 2 || dd.length < 1 || dd.length > 2) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  const year = javaInt(yyyy);
  const month = javaInt(mm);
  const day = javaInt(dd);
  if (year instanceof Invalid) return year;
  if (month instanceof Invalid) return month;
  if (day instanceof Invalid) return day;
  if (month < 1 || month > 12 || day < 1 || day > 31) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);

  const firstColon = time.indexOf(':');
  const secondColon = time.indexOf(':', firstColon + 1);
  if (!(firstColon > 0 && secondColon > 0 && secondColon < time.length - 1)) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  const hour = javaInt(time.slice(0, firstColon));
  if (hour instanceof Invalid) return hour;
  const minute = javaInt(time.slice(firstColon + 1, secondColon));
  if (minute instanceof Invalid) return minute;
  const period = time.indexOf('.', secondColon + 1);
  let second: number | Invalid;
  let nanos = 0;
  if (period > 0 && period < time.length - 1) {
    second = javaInt(time.slice(secondColon + 1, period));
    const fraction = time.slice(period + 1);
    if (fraction.length > 9 || !DIGITS.test(fraction.charAt(0))) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
    const digits = javaInt(fraction);
    if (digits instanceof Invalid) return digits;
    nanos = fractionNanos(fraction);
  } else if (period > 0) {
    return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  } else {
    second = javaInt(time.slice(secondColon + 1));
  }
  if (second instanceof Invalid) return second;
  return utcMicros(year, month, day, hour, minute, second, nanos);
}

/** Integer.parseInt: optional sign, decimal digits, within int. */
function javaInt(text: string): number | Invalid {
  if (!JAVA_INT.test(text)) return new Invalid(forInputString(text));
  const value = Number(text);
  return value < -2147483648 || value > 2147483647 ? new Invalid(forInputString(text)) : value;
}

/**
 * An epoch number: seconds below 1e12, milliseconds from there (probed). An integer
 * must fit a Java long (Long.parseLong); a fraction or exponent reads as a double. The
 * value is computed exactly in nanoseconds and wrapped to 64 bits, as AWS's writer does.
 */
function epochMicros(text: string): bigint | Invalid {
  const m = EPOCH_NUMBER.exec(text);
  const intDigits = m?.[2] ?? '';
  const fracDigits = m?.[3];
  if (m === null || intDigits.length + (fracDigits?.length ?? 0) === 0) return new Invalid(forInputString(text));
  const isInteger = fracDigits === undefined && m[4] === undefined;
  if (isInteger) {
    const value = BigInt(text);
    if (value > LONG_MAX || value < LONG_MIN) return new Invalid(forInputString(text));
  }
  const fraction = fracDigits ?? '';
  const digits = (intDigits + fraction).replace(/^0+/, '');
  if (digits.length === 0) return 0n;
  const exponent = (m[4] === undefined ? 0 : Number(m[4])) - fraction.length;
  const unitExponent = digits.length + exponent <= SECONDS_MAX_INTEGER_DIGITS ? 9 : 6;
  const shift = exponent + unitExponent;
  let nanos: bigint;
  if (shift >= 64) nanos = 0n; // 10^64 is a multiple of 2^64: the wrapped value is 0
  else if (shift >= 0) nanos = BigInt(digits) * 10n ** BigInt(shift);
  else if (-shift >= digits.length) nanos = 0n;
  else nanos = BigInt(digits.slice(0, digits.length + shift));
  if (m[1] === '-') nanos = -nanos;
  return floorDiv(BigInt.asIntN(64, nanos), 1000n);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/**
 * date columns: java.sql.Date.valueOf, "yyyy-[m]m-[d]d" with month 1-12 and day 1-31,
 * rolling over like the lenient Date constructor ("2021-02-30" is 2021-03-02). Anything
 * else (a time part, an epoch number) fails; Date.valueOf's exception has no message.
 * Returns days since 1970-01-01.
 */
export function parseDate(text: string): number | Invalid {
  const firstDash = text.indexOf('-');
  const secondDash = text.indexOf('-', firstDash + 1);
  const len = text.length;
  if (firstDash !== 4 || secondDash - firstDash < 2 || secondDash - firstDash > 3 || len - secondDash < 2 || len - secondDash > 3) return new Invalid();
  const year = javaInt(text.slice(0, firstDash));
  const month = javaInt(text.slice(firstDash + 1, secondDash));
  const day = javaInt(text.slice(secondDash + 1));
  if (year instanceof Invalid || month instanceof Invalid || day instanceof Invalid) return new Invalid();
  if (month < 1 || month > 12 || day < 1 || day > 31) return new Invalid();
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.floor(d.getTime() / MS_PER_DAY);
}

function utcMicros(year: number, month: number, day: number, hour: number, minute: number, second: number, nanos: number): bigint | Invalid {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const ms = d.getTime();
  if (Number.isNaN(ms)) return new Invalid(TIMESTAMP_FORMAT_MESSAGE);
  return BigInt(ms) * 1000n + BigInt(Math.floor(nanos / 1000));
}

function fractionNanos(fraction: string | undefined): number {
  return fraction === undefined ? 0 : Number(fraction.padEnd(9, '0'));
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
