/**
 * Results as Athena hands them out: column types under Athena's names (varchar, bigint,
 * decimal with precision and scale, ...), every value rendered as the string
 * GetQueryResults returns (`2024-05-17 13:45:00.000`, `[1, 2]`, `{a=1}`, doubles as Java
 * prints them). The result objects they are written to are in athena-result-files.ts.
 *
 * Only type imports from @duckdb/node-api here: the native module loads with the engine.
 */
import type { DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import type { ResultColumn } from '../ports.js';

/** DuckDB's type ids (duckdb.h DUCKDB_TYPE); checked against the package's enum in tests. */
export const TYPE_ID = {
  BOOLEAN: 1,
  TINYINT: 2,
  SMALLINT: 3,
  INTEGER: 4,
  BIGINT: 5,
  UTINYINT: 6,
  USMALLINT: 7,
  UINTEGER: 8,
  UBIGINT: 9,
  FLOAT: 10,
  DOUBLE: 11,
  TIMESTAMP: 12,
  DATE: 13,
  TIME: 14,
  INTERVAL: 15,
  HUGEINT: 16,
  VARCHAR: 17,
  BLOB: 18,
  DECIMAL: 19,
  TIMESTAMP_S: 20,
  TIMESTAMP_MS: 21,
  TIMESTAMP_NS: 22,
  ENUM: 23,
  LIST: 24,
  STRUCT: 25,
  MAP: 26,
  UUID: 27,
  UNION: 28,
  BIT: 29,
  TIME_TZ: 30,
  TIMESTAMP_TZ: 31,
  UHUGEINT: 32,
  ARRAY: 33,
  BIGNUM: 35,
  SQLNULL: 36,
} as const;

/** Athena's name for a result column's type. */
export function athenaColumn(name: string, type: DuckDBType): ResultColumn {
  const t = type as DuckDBType & { width?: number; scale?: number };
  switch (type.typeId) {
    case TYPE_ID.BOOLEAN:
      return { name, type: 'boolean' };
    case TYPE_ID.TINYINT:
      return { name, type: 'tinyint' };
    case TYPE_ID.SMALLINT:
    case TYPE_ID.UTINYINT:
      return { name, type: 'smallint' };
    case TYPE_ID.INTEGER:
    case TYPE_ID.USMALLINT:
      return { name, type: 'integer' };
    // DuckDB widens sum(bigint) to HUGEINT where Trino keeps bigint.
    case TYPE_ID.BIGINT:
    case TYPE_ID.UINTEGER:
    case TYPE_ID.UBIGINT:
    case TYPE_ID.HUGEINT:
    case TYPE_ID.UHUGEINT:
    case TYPE_ID.BIGNUM:
      return { name, type: 'bigint' };
    case TYPE_ID.FLOAT:
      return { name, type: 'float' };
    case TYPE_ID.DOUBLE:
      return { name, type: 'double' };
    case TYPE_ID.DECIMAL:
      return { name, type: 'decimal', precision: t.width ?? 38, scale: t.scale ?? 0 };
    case TYPE_ID.VARCHAR:
      return { name, type: type.alias === 'JSON' ? 'json' : 'varchar' };
    case TYPE_ID.ENUM:
      return { name, type: 'varchar' };
    case TYPE_ID.DATE:
      return { name, type: 'date' };
    case TYPE_ID.TIMESTAMP:
    case TYPE_ID.TIMESTAMP_S:
    case TYPE_ID.TIMESTAMP_MS:
    case TYPE_ID.TIMESTAMP_NS:
      return { name, type: 'timestamp' };
    case TYPE_ID.TIMESTAMP_TZ:
      return { name, type: 'timestamp with time zone' };
    case TYPE_ID.TIME:
      return { name, type: 'time' };
    case TYPE_ID.TIME_TZ:
      return { name, type: 'time with time zone' };
    case TYPE_ID.INTERVAL:
      return { name, type: 'interval day to second' };
    case TYPE_ID.BLOB:
      return { name, type: 'varbinary' };
    case TYPE_ID.UUID:
      return { name, type: 'uuid' };
    case TYPE_ID.LIST:
    case TYPE_ID.ARRAY:
      return { name, type: 'array' };
    case TYPE_ID.MAP:
      return { name, type: 'map' };
    case TYPE_ID.STRUCT:
      return { name, type: 'row' };
    case TYPE_ID.SQLNULL:
      return { name, type: 'unknown' };
    default:
      return { name, type: 'varchar' };
  }
}

export type Render = (value: DuckDBValue) => string | null;

/** A renderer for one column type, chosen once per column rather than once per value. */
export function athenaRenderer(type: DuckDBType): Render {
  const inner = nestedRenderer(type, false);
  return (value) => (value === null || value === undefined ? null : inner(value));
}

/** One cell of a result chunk's column vector, as Athena renders it (null for NULL). */
export type CellReader = (vector: DuckDBVector, row: number) => string | null;

/**
 * A reader for one column's vectors. A decimal is read as its scaled integer
 * (getScaledValue), without a value object per cell; every other type renders the vector's
 * value as `athenaRenderer` does.
 */
export function athenaCellReader(type: DuckDBType): CellReader {
  if (type.typeId === TYPE_ID.DECIMAL) {
    const scale = (type as DuckDBType & { scale?: number }).scale ?? 0;
    return (vector, row) => {
      const scaled = (vector as DuckDBVector & { getScaledValue(row: number): number | bigint | null }).getScaledValue(row);
      return scaled === null ? null : decimalText(scaled, scale);
    };
  }
  const render = athenaRenderer(type);
  return (vector, row) => render(vector.getItem(row));
}

type AnyValue = DuckDBValue & Record<string, unknown>;

/**
 * `nested` renders NULL as `null`, as Athena shows it inside arrays, maps and rows.
 */
function nestedRenderer(type: DuckDBType, nested: boolean): (value: DuckDBValue) => string {
  const render = baseRenderer(type);
  return nested ? (v) => (v === null || v === undefined ? 'null' : render(v)) : render;
}

function baseRenderer(type: DuckDBType): (value: DuckDBValue) => string {
  const t = type as DuckDBType & {
    valueType?: DuckDBType;
    keyType?: DuckDBType;
    entryNames?: string[];
    entryTypes?: DuckDBType[];
  };
  switch (type.typeId) {
    case TYPE_ID.BOOLEAN:
      return (v) => (v ? 'true' : 'false');
    case TYPE_ID.FLOAT:
      return (v) => javaFloatString(Number(v));
    case TYPE_ID.DOUBLE:
      return (v) => javaDoubleString(Number(v));
    case TYPE_ID.TIMESTAMP:
      return (v) => formatTimestampMicros((v as AnyValue)['micros'] as bigint);
    case TYPE_ID.TIMESTAMP_S:
      return (v) => formatTimestampMicros(((v as AnyValue)['seconds'] as bigint) * 1_000_000n);
    case TYPE_ID.TIMESTAMP_MS:
      return (v) => formatTimestampMicros(((v as AnyValue)['milliseconds'] as bigint) * 1000n);
    case TYPE_ID.TIMESTAMP_NS:
      return (v) => formatTimestampMicros(((v as AnyValue)['nanoseconds'] as bigint) / 1000n);
    case TYPE_ID.TIMESTAMP_TZ:
      return (v) => `${formatTimestampMicros((v as AnyValue)['micros'] as bigint)} UTC`;
    case TYPE_ID.DATE:
      return (v) => {
        const day = Number((v as AnyValue)['days']);
        if (day !== lastDay) {
          lastDayText = formatDate(day);
          lastDay = day;
        }
        return lastDayText;
      };
    case TYPE_ID.TIME:
      return (v) => formatTimeMicros(BigInt((v as AnyValue)['micros'] as bigint));
    case TYPE_ID.INTERVAL:
      return (v) => formatInterval(v as AnyValue);
    case TYPE_ID.BLOB:
      return (v) => Array.from((v as AnyValue)['bytes'] as Uint8Array, (b) => b.toString(16).padStart(2, '0')).join(' ');
    case TYPE_ID.LIST:
    case TYPE_ID.ARRAY: {
      const element = nestedRenderer(t.valueType!, true);
      return (v) => `[${((v as AnyValue)['items'] as DuckDBValue[]).map(element).join(', ')}]`;
    }
    case TYPE_ID.MAP: {
      const key = nestedRenderer(t.keyType!, true);
      const value = nestedRenderer(t.valueType!, true);
      return (v) => `{${((v as AnyValue)['entries'] as { key: DuckDBValue; value: DuckDBValue }[]).map((e) => `${key(e.key)}=${value(e.value)}`).join(', ')}}`;
    }
    case TYPE_ID.STRUCT: {
      const names = t.entryNames ?? [];
      const fields = (t.entryTypes ?? []).map((ft) => nestedRenderer(ft, true));
      return (v) => {
        const entries = (v as AnyValue)['entries'] as Record<string, DuckDBValue>;
        return `{${names.map((n, i) => `${n}=${fields[i]!(entries[n] ?? null)}`).join(', ')}}`;
      };
    }
    case TYPE_ID.DECIMAL:
      return (v) => decimalText((v as AnyValue)['value'] as bigint, (v as AnyValue)['scale'] as number);
    case TYPE_ID.UNION:
      return (v) => String((v as AnyValue)['value']);
    default:
      return (v) => String(v);
  }
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** `-0.05` for -5 at scale 2: every fractional digit, as Athena prints a decimal. */
export function decimalText(scaled: bigint | number, scale: number): string {
  if (scale === 0) return String(scaled);
  const n = Number(scaled);
  if (Number.isSafeInteger(n) && scale < POWERS_OF_TEN.length) {
    // Exact on doubles: below 2^53, % and the division of a multiple are exact.
    const pow = POWERS_OF_TEN[scale]!;
    const abs = n < 0 ? -n : n;
    const fraction = abs % pow;
    const digits = String(fraction);
    return `${n < 0 ? '-' : ''}${(abs - fraction) / pow}.${digits.length < scale ? '0'.repeat(scale - digits.length) + digits : digits}`;
  }
  if (typeof scaled === 'number') scaled = BigInt(scaled);
  const negative = scaled < 0n;
  let digits = String(negative ? -scaled : scaled);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

const MICROS_PER_DAY = 86_400_000_000n;
/** 0001-01-01 and 9999-12-31 23:59:59.999 in ms: where Date#toISOString prints yyyy-MM-dd. */
const ISO_MIN_MS = -62_135_596_800_000;
const ISO_MAX_MS = 253_402_300_799_999;

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const MS_PER_DAY = 86_400_000;
/** Rows of one result mostly share a few days: the last day's text is kept. */
let lastDay = Number.NaN;
let lastDayText = '';

/** `2024-05-17 13:45:00.000`: Athena's timestamp(3), the microseconds truncated. */
export function formatTimestampMicros(micros: bigint): string {
  const n = Number(micros);
  if (Number.isSafeInteger(n)) {
    // Integer arithmetic on doubles, exact below 2^53 microseconds (the year 2255).
    const ms = (n - (((n % 1000) + 1000) % 1000)) / 1000;
    const inDay = ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
    const day = (ms - inDay) / MS_PER_DAY;
    if (day !== lastDay) {
      lastDayText = formatDate(day);
      lastDay = day;
    }
    const seconds = Math.floor(inDay / 1000);
    return `${lastDayText} ${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:${TWO_DIGITS[seconds % 60]}.${THREE_DIGITS[inDay % 1000]}`;
  }
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  return `${formatDate(Number(days))} ${formatTimeMicros(rest)}`;
}

function formatTimeMicros(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ms % 1000, 3)}`;
}

/** Days since 1970-01-01 as `yyyy-MM-dd` (proleptic Gregorian, as Trino). */
export function formatDate(days: number): string {
  const ms = days * 86_400_000;
  if (ms >= ISO_MIN_MS && ms <= ISO_MAX_MS) return new Date(ms).toISOString().slice(0, 10);
  // Civil-from-days (H. Hinnant), for years outside 1-9999.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y < 0 ? '-' + pad(-y, 4) : pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/** Trino's interval rendering: `3-5` (year to month) or `2 03:00:00.000` (day to second). */
function formatInterval(v: AnyValue): string {
  const months = Number(v['months']);
  const days = Number(v['days']);
  const micros = BigInt(v['micros'] as bigint);
  if (months !== 0 && days === 0 && micros === 0n) {
    const sign = months < 0 ? '-' : '';
    return `${sign}${Math.floor(Math.abs(months) / 12)}-${Math.abs(months) % 12}`;
  }
  const total = BigInt(days) * MICROS_PER_DAY + micros;
  const sign = total < 0n ? '-' : '';
  const abs = total < 0n ? -total : total;
  return `${sign}${abs / MICROS_PER_DAY} ${formatTimeMicros(abs % MICROS_PER_DAY)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Java's Double.toString, which Athena's results use: plain notation with at least one
 * decimal for 1e-3 <= |x| < 1e7 (`3.0`, `0.001`), otherwise `1.0E10`, `1.5E-4`; digits are
 * the shortest that read back as the same double.
 */
export function javaDoubleString(x: number): string {
  // In Java's plain range JavaScript prints the same shortest digits, plain: add the `.0`.
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  return javaFloatingString(x, (v) => v.toExponential());
}

/** Java's Float.toString: as for doubles, with the shortest digits for a 32-bit float. */
export function javaFloatString(x: number): string {
  const f = Math.fround(x);
  return javaFloatingString(f, (v) => {
    for (let p = 1; p <= 9; p++) {
      const s = v.toExponential(p - 1);
      if (Math.fround(Number(s)) === v) return s;
    }
    return v.toExponential(8);
  });
}

function javaFloatingString(x: number, shortest: (v: number) => string): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, expText] = shortest(Math.abs(x)).split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1) || '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${exp}`;
}
