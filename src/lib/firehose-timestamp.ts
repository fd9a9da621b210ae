/**
 * Java's DateTimeFormatter as Firehose applies it in `!{timestamp:...}` (UTC): the pattern
 * letters a prefix can sensibly use, compiled once per pattern. Also PrefixError, what
 * every prefix check throws, a malformed timestamp pattern included.
 */

export class PrefixError extends Error {}

type Field = (date: Date) => string;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (value: number, width: number) => String(value).padStart(width, '0');
const compiled = new Map<string, Field[]>();

/**
 * Formats `date` in UTC with a Java DateTimeFormatter pattern, as `!{timestamp:...}` does.
 * Supports the fields a prefix can sensibly use (era, year, quarter, month, day, day of
 * year, weekday, am/pm, hours, minutes, seconds, fractions) and quoted literals; other
 * pattern letters throw PrefixError rather than produce a path AWS would not.
 */
export function formatTimestamp(pattern: string, date: Date): string {
  let out = '';
  for (const field of compileTimestampPattern(pattern)) out += field(date);
  return out;
}


/** Compiles a pattern (cached); throws PrefixError for what Firehose would refuse. */
export function compileTimestampPattern(pattern: string): Field[] {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  const fields: Field[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new PrefixError(`timestamp pattern '${pattern}': unclosed quote`);
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j];
        j++;
      }
      const literal = j === i + 1 ? "'" : text;
      fields.push(() => literal);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let count = 1;
      while (pattern[i + count] === ch) count++;
      fields.push(letterField(ch, count, pattern));
      i += count;
      continue;
    }
    if ('[]{}#'.includes(ch)) throw new PrefixError(`timestamp pattern '${pattern}': '${ch}' is reserved`);
    fields.push(() => ch);
    i++;
  }
  compiled.set(pattern, fields);
  return fields;
}

function letterField(letter: string, count: number, pattern: string): Field {
  const tooMany = (max: number) => {
    if (count > max) throw new PrefixError(`timestamp pattern '${pattern}': too many pattern letters: ${letter}`);
  };
  const number = (max: number, get: (d: Date) => number): Field => {
    tooMany(max);
    return (d) => pad(get(d), count);
  };
  switch (letter) {
    case 'G':
      tooMany(5);
      return (d) => (d.getUTCFullYear() > 0 ? (count === 4 ? 'Anno Domini' : count === 5 ? 'A' : 'AD') : count === 4 ? 'Before Christ' : count === 5 ? 'B' : 'BC');
    case 'u':
    case 'y':
      if (count === 2) return (d) => pad(((d.getUTCFullYear() % 100) + 100) % 100, 2);
      return (d) => pad(d.getUTCFullYear(), count);
    case 'Q':
    case 'q':
      tooMany(4);
      if (count === 3) return (d) => `Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
      if (count === 4) return (d) => `${['1st', '2nd', '3rd', '4th'][Math.floor(d.getUTCMonth() / 3)]} quarter`;
      return (d) => pad(Math.floor(d.getUTCMonth() / 3) + 1, count);
    case 'M':
    case 'L':
      tooMany(5);
      if (count === 3) return (d) => MONTHS[d.getUTCMonth()]!.slice(0, 3);
      if (count === 4) return (d) => MONTHS[d.getUTCMonth()]!;
      if (count === 5) return (d) => MONTHS[d.getUTCMonth()]![0]!;
      return (d) => pad(d.getUTCMonth() + 1, count);
    case 'd':
      return number(2, (d) => d.getUTCDate());
    case 'D':
      return number(3, (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1);
    case 'E':
      tooMany(5);
      if (count === 4) return (d) => DAYS[d.getUTCDay()]!;
      if (count === 5) return (d) => DAYS[d.getUTCDay()]![0]!;
      return (d) => DAYS[d.getUTCDay()]!.slice(0, 3);
    case 'a':
      tooMany(1);
      return (d) => (d.getUTCHours() < 12 ? 'AM' : 'PM');
    case 'H':
      return number(2, (d) => d.getUTCHours());
    case 'k':
      return number(2, (d) => d.getUTCHours() || 24);
    case 'K':
      return number(2, (d) => d.getUTCHours() % 12);
    case 'h':
      return number(2, (d) => d.getUTCHours() % 12 || 12);
    case 'm':
      return number(2, (d) => d.getUTCMinutes());
    case 's':
      return number(2, (d) => d.getUTCSeconds());
    case 'S':
      tooMany(9);
      return (d) => pad(d.getUTCMilliseconds(), 3).padEnd(count, '0').slice(0, count);
    default:
      throw new PrefixError(`timestamp pattern '${pattern}': pattern letter '${letter}' is not supported by lake (use y, M, d, H, m, s and quoted literals)`);
  }
}
