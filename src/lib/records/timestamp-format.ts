/**
 * `--timestamp-format`: reads timestamps written in a local convention
 * (`03/18/2015 02:05:00 PM` with `MM/dd/yyyy hh:mm:ss a`) and rewrites them in a form
 * Firehose's OpenX SerDe accepts: `yyyy-MM-dd HH:mm:ss[.fffffffff]`, in UTC.
 *
 * Patterns use Java DateTimeFormatter letters (as Firehose's own `!{timestamp:...}` does):
 * y, M (MM digits, MMM/MMMM names), d, H, h with a, m, s, S (fraction, one letter a digit),
 * X/x/Z (offsets), E (day names, ignored), 'quoted text'. strftime patterns (%Y-%m-%d
 * %H:%M:%S, %I %p, %f, %z, %b) are accepted too. A time without an offset is taken as UTC.
 */
import { UsageError } from '../errors.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

type Field = 'year' | 'year2' | 'month' | 'monthName' | 'day' | 'hour' | 'hour12' | 'minute' | 'second' | 'fraction' | 'ampm' | 'offset' | 'ignore';

interface Part {
  field: Field;
  re: string;
}

export interface TimestampParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction digits as written (up to 9), '' when none. */
  fraction: string;
  /** Minutes east of UTC; 0 when the text has no offset. */
  offsetMinutes: number;
}

export interface TimestampFormat {
  readonly pattern: string;
  /** The parts of `text`, or undefined when it does not match the pattern or is not a real time. */
  parse(text: string): TimestampParts | undefined;
}

function javaParts(pattern: string): Part[] {
  const parts: Part[] = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw new UsageError(`--timestamp-format: unclosed quote in '${pattern}'`);
      const text = close === i + 1 ? "'" : pattern.slice(i + 1, close);
      parts.push({ field: 'ignore', re: escape(text) });
      i = close + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      parts.push({ field: 'ignore', re: escape(c) });
      i++;
      continue;
    }
    let n = 1;
    while (pattern[i + n] === c) n++;
    i += n;
    switch (c) {
      case 'y':
      case 'u':
        parts.push(n === 2 ? { field: 'year2', re: '(\\d{2})' } : { field: 'year', re: n >= 4 ? `(\\d{${n}})` : '(\\d{1,4})' });
        break;
      case 'M':
      case 'L':
        if (n >= 3) parts.push({ field: 'monthName', re: '([A-Za-z]{3,9})' });
        else parts.push({ field: 'month', re: n === 2 ? '(\\d{2})' : '(\\d{1,2})' });
        break;
      case 'd':
        parts.push({ field: 'day', re: n === 2 ? '(\\d{2})' : '(\\d{1,2})' });
        break;
      case 'H':
      case 'k':
        parts.push({ field: 'hour', re: n === 2 ? '(\\d{2})' : '(\\d{1,2})' });
        break;
      case 'h':
      case 'K':
        parts.push({ field: 'hour12', re: n === 2 ? '(\\d{2})' : '(\\d{1,2})' });
        break;
      case 'm':
        parts.push({ field: 'minute', re: n === 2 ? '(\\d{2})' : '(\\d{1,2})' });
        break;
      case 's':
        parts.push({ field: 'second', re: n === 2 ? '(\\d{2})' : '(\\d{1,2})' });
        break;
      case 'S':
        if (n > 9) throw new UsageError(`--timestamp-format: at most 9 fraction digits (S), got ${n}`);
        parts.push({ field: 'fraction', re: `(\\d{${n}})` });
        break;
      case 'a':
        parts.push({ field: 'ampm', re: '([AaPp][Mm])' });
        break;
      case 'X':
      case 'x':
      case 'Z':
        parts.push({ field: 'offset', re: '(Z|[+-]\\d{2}(?::?\\d{2})?)' });
        break;
      case 'E':
        parts.push({ field: 'ignore', re: '[A-Za-z]{3,9}' });
        break;
      default:
        throw new UsageError(`--timestamp-format: unknown pattern letter '${c}' in '${pattern}'`, { hint: "use y M d H h m s S a X (Java DateTimeFormatter letters); quote literal text with ''" });
    }
  }
  return parts;
}

function strftimeParts(pattern: string): Part[] {
  const parts: Part[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c !== '%') {
      parts.push({ field: 'ignore', re: escape(c) });
      continue;
    }
    const d = pattern[++i];
    const add = (...p: Part[]) => parts.push(...p);
    switch (d) {
      case 'Y':
        add({ field: 'year', re: '(\\d{4})' });
        break;
      case 'y':
        add({ field: 'year2', re: '(\\d{2})' });
        break;
      case 'm':
        add({ field: 'month', re: '(\\d{1,2})' });
        break;
      case 'b':
      case 'h':
      case 'B':
        add({ field: 'monthName', re: '([A-Za-z]{3,9})' });
        break;
      case 'd':
      case 'e':
        add({ field: 'day', re: ' ?(\\d{1,2})' });
        break;
      case 'H':
        add({ field: 'hour', re: '(\\d{1,2})' });
        break;
      case 'I':
        add({ field: 'hour12', re: '(\\d{1,2})' });
        break;
      case 'M':
        add({ field: 'minute', re: '(\\d{2})' });
        break;
      case 'S':
        add({ field: 'second', re: '(\\d{2})' });
        break;
      case 'f':
        add({ field: 'fraction', re: '(\\d{1,9})' });
        break;
      case 'p':
        add({ field: 'ampm', re: '([AaPp][Mm])' });
        break;
      case 'z':
      case 'Z':
        add({ field: 'offset', re: '(Z|[+-]\\d{2}(?::?\\d{2})?)' });
        break;
      case 'a':
      case 'A':
        add({ field: 'ignore', re: '[A-Za-z]{3,9}' });
        break;
      case 'T':
        add({ field: 'hour', re: '(\\d{2})' }, { field: 'ignore', re: ':' }, { field: 'minute', re: '(\\d{2})' }, { field: 'ignore', re: ':' }, { field: 'second', re: '(\\d{2})' });
        break;
      case 'F':
        add({ field: 'year', re: '(\\d{4})' }, { field: 'ignore', re: '-' }, { field: 'month', re: '(\\d{2})' }, { field: 'ignore', re: '-' }, { field: 'day', re: '(\\d{2})' });
        break;
      case '%':
        add({ field: 'ignore', re: '%' });
        break;
      default:
        throw new UsageError(`--timestamp-format: unknown directive '%${d ?? ''}' in '${pattern}'`, { hint: 'use %Y %m %d %H %I %M %S %f %p %z %b, or Java letters (yyyy-MM-dd HH:mm:ss)' });
    }
  }
  return parts;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
}

export function compileTimestampFormat(pattern: string): TimestampFormat {
  if (pattern.trim() === '') throw new UsageError('--timestamp-format: empty pattern');
  const parts = pattern.includes('%') ? strftimeParts(pattern) : javaParts(pattern);
  // Every part but the 'ignore' ones has exactly one capture group, in order.
  const fields = parts.filter((p) => p.field !== 'ignore').map((p) => p.field);
  const has = (f: Field) => fields.includes(f);
  if (!(has('year') || has('year2')) || !(has('month') || has('monthName')) || !has('day')) {
    throw new UsageError(`--timestamp-format: '${pattern}' needs a year, a month and a day`);
  }
  if (has('hour12') && !has('ampm')) throw new UsageError(`--timestamp-format: '${pattern}' has a 12-hour clock (h or %I) without AM/PM (a or %p)`);
  const re = new RegExp(`^\\s*${parts.map((p) => p.re).join('')}\\s*$`);
  return {
    pattern,
    parse(text: string): TimestampParts | undefined {
      const m = re.exec(text);
      if (!m) return undefined;
      const out: TimestampParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, fraction: '', offsetMinutes: 0 };
      let pm: boolean | undefined;
      let hour12: number | undefined;
      fields.forEach((field, k) => {
        const v = m[k + 1]!;
        switch (field) {
          case 'year':
            out.year = Number(v);
            break;
          case 'year2':
            out.year = 2000 + Number(v);
            break;
          case 'month':
            out.month = Number(v);
            break;
          case 'monthName': {
            const lower = v.toLowerCase();
            const index = lower.length === 3 ? MONTHS.indexOf(lower) : MONTH_NAMES.indexOf(lower);
            out.month = index + 1;
            break;
          }
          case 'day':
            out.day = Number(v);
            break;
          case 'hour':
            out.hour = Number(v);
            break;
          case 'hour12':
            hour12 = Number(v);
            break;
          case 'minute':
            out.minute = Number(v);
            break;
          case 'second':
            out.second = Number(v);
            break;
          case 'fraction':
            out.fraction = v;
            break;
          case 'ampm':
            pm = v.toLowerCase() === 'pm';
            break;
          case 'offset':
            out.offsetMinutes = parseOffset(v);
            break;
        }
      });
      if (hour12 !== undefined) {
        if (hour12 < 1 || hour12 > 12) return undefined;
        out.hour = (hour12 % 12) + (pm ? 12 : 0);
      }
      return validParts(out) ? out : undefined;
    },
  };
}

export function parseOffset(text: string): number {
  if (text === 'Z' || text === 'z') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function validParts(p: TimestampParts): boolean {
  return p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysInMonth(p.year, p.month) && p.hour <= 23 && p.minute <= 59 && p.second <= 59;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `yyyy-MM-dd HH:mm:ss[.fraction]` in UTC: the form OpenX reads through java.sql.Timestamp.valueOf. */
export function formatFirehoseTimestamp(p: TimestampParts): string {
  let { year, month, day, hour, minute, second } = p;
  if (p.offsetMinutes !== 0) {
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, minute - p.offsetMinutes, second);
    year = d.getUTCFullYear();
    month = d.getUTCMonth() + 1;
    day = d.getUTCDate();
    hour = d.getUTCHours();
    minute = d.getUTCMinutes();
    second = d.getUTCSeconds();
  }
  const fraction = p.fraction.replace(/0+$/, '');
  return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}${fraction ? `.${fraction}` : ''}`;
}

/** yyyy-MM-dd of the parts' UTC instant. */
export function formatDate(p: TimestampParts): string {
  return formatFirehoseTimestamp(p).slice(0, 10);
}
