/**
 * CSV rows to the JSON records Firehose converts: each header matched to a table column
 * the way the OpenX SerDe matches JSON keys (case-insensitive, dots to underscores when
 * configured, ColumnToJsonKeyMappings), each value written as the JSON the column's type
 * wants. The keys stay as the header spells them, so Firehose does the same matching.
 *
 * | column type                  | CSV text                        | JSON sent                  |
 * |------------------------------|---------------------------------|----------------------------|
 * | any                          | empty (unquoted)                | null                       |
 * | string, char, varchar, binary| anything ("" stays "")          | string                     |
 * | tinyint .. bigint            | +007                            | 7 (digits kept exactly)    |
 * | float, double, decimal       | 1.50, .5, 1e3                   | 1.50, 0.5, 1e3             |
 * | boolean                      | true/false, t/f, yes/no, y/n, 1/0 (any case) | true/false    |
 * | timestamp                    | 2024-05-17 13:00:00[.f], ...Z   | passed as it is            |
 * |                              | ISO 8601 with T and/or offset   | UTC yyyy-MM-dd HH:mm:ss[.f]|
 * |                              | digits (epoch s or ms)          | number                     |
 * |                              | matching --timestamp-format     | UTC yyyy-MM-dd HH:mm:ss[.f]|
 * | date                         | yyyy-MM-dd; ISO date-time       | yyyy-MM-dd                 |
 * | array, map, struct           | JSON text                       | that JSON                  |
 *
 * Text that fits none of these is sent as a JSON string: the serde then decides, and the
 * pre-flight check reports exactly what Firehose would.
 */
import { InputError } from '../errors.js';
import { parseGlueType } from '../glue-types.js';
import type { SerdeSchema } from '../serde/types.js';
import { type TimestampFormat, type TimestampParts, formatDate, formatFirehoseTimestamp, parseOffset, validParts } from './timestamp-format.js';

export type ValueKind = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'date' | 'complex';

export interface FieldTarget {
  /** `"header":`, ready to concatenate. */
  key: string;
  column: string;
  kind: ValueKind;
}

export interface CsvPlan {
  header: string[];
  /** One per header field; null when the header names no column (the value is not sent). */
  targets: (FieldTarget | null)[];
  /** Header names that match no column: Firehose would drop them. */
  unmatched: string[];
}

export interface RowProblem {
  code: string;
  message: string;
}

function kindOf(type: string): ValueKind {
  const t = parseGlueType(type);
  switch (t.kind) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
      return 'integer';
    case 'float':
    case 'double':
    case 'decimal':
      return 'number';
    case 'boolean':
    case 'timestamp':
    case 'date':
      return t.kind;
    case 'array':
    case 'map':
    case 'struct':
      return 'complex';
    default:
      return 'string';
  }
}

/** Matches a CSV header to the table's columns as the serde matches JSON keys. */
export function planCsv(header: string[], schema: SerdeSchema, inputName: string): CsvPlan {
  if (header.length === 0 || header.every((h) => h === '')) throw new InputError(`${inputName}: the header row is empty`, { hint: 'a CSV input needs a header row naming the columns' });
  const { caseInsensitive, convertDotsInJsonKeysToUnderscores: dots, columnToJsonKeyMappings: mappings } = schema.options;
  const norm = (key: string) => {
    const k = dots ? key.replace(/\./g, '_') : key;
    return caseInsensitive ? k.toLowerCase() : k;
  };
  const byKey = new Map<string, { name: string; kind: ValueKind }>();
  for (const column of schema.columns) {
    const jsonKey = Object.hasOwn(mappings, column.name) ? mappings[column.name]! : column.name;
    byKey.set(norm(jsonKey), { name: column.name, kind: kindOf(column.type) });
  }
  const claimed = new Map<string, string>();
  const unmatched: string[] = [];
  const targets = header.map((name) => {
    const column = byKey.get(norm(name));
    if (!column) {
      if (name !== '') unmatched.push(name);
      return null;
    }
    const other = claimed.get(column.name);
    if (other !== undefined) {
      throw new InputError(`${inputName}: headers '${other}' and '${name}' both map to column '${column.name}'`, { hint: 'rename or remove one of them: Firehose rejects records with duplicate keys' });
    }
    claimed.set(column.name, name);
    return { key: `${JSON.stringify(name)}:`, column: column.name, kind: column.kind };
  });
  return { header, targets, unmatched };
}

const INTEGER = /^([+-]?)0*(\d+)$/;
const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);
/** Forms the serde reads as they are (java.sql.Timestamp.valueOf, strict ISO with Z). */
const SQL_TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d{1,9})?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const ISO_ANY = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH = /^-?\d+(\.\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isoParts(text: string): TimestampParts | undefined {
  const m = ISO_ANY.exec(text);
  if (!m) return undefined;
  const parts: TimestampParts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    fraction: m[7] ?? '',
    offsetMinutes: m[8] ? parseOffset(m[8]) : 0,
  };
  return validParts(parts) ? parts : undefined;
}

export class CsvRowEncoder {
  /** Boolean cells that were not a recognised truth value, by column: Firehose reads them as false. */
  readonly oddBooleans = new Map<string, number>();

  constructor(
    readonly plan: CsvPlan,
    private readonly timestampFormat?: TimestampFormat,
  ) {}

  /** The row as one JSON object, or why it cannot be one. */
  encode(fields: (string | null)[]): string | RowProblem {
    const targets = this.plan.targets;
    if (fields.length !== targets.length) {
      const extraEmpty = fields.length > targets.length && fields.slice(targets.length).every((f) => f === null);
      if (!extraEmpty) {
        return { code: 'lake.FieldCount', message: `expected ${targets.length} fields (as the header has), found ${fields.length}` };
      }
    }
    let json = '{';
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i];
      if (!target) continue;
      if (json.length > 1) json += ',';
      json += target.key;
      json += this.value(target, fields[i] ?? null);
    }
    return `${json}}`;
  }

  value(target: FieldTarget, text: string | null): string {
    if (text === null) return 'null';
    if (target.kind === 'string') return JSON.stringify(text);
    const t = text.trim();
    if (t === '') return 'null';
    switch (target.kind) {
      case 'integer': {
        if (isPlainInteger(t)) return t;
        const m = INTEGER.exec(t);
        return m ? `${m[1] === '-' && m[2] !== '0' ? '-' : ''}${m[2]}` : JSON.stringify(text);
      }
      case 'number':
        return isPlainNumber(t) ? t : (jsonNumber(t) ?? JSON.stringify(text));
      case 'boolean': {
        if (t === 'true' || t === 'false') return t;
        const lower = t.toLowerCase();
        if (TRUE.has(lower)) return 'true';
        if (FALSE.has(lower)) return 'false';
        this.oddBooleans.set(target.column, (this.oddBooleans.get(target.column) ?? 0) + 1);
        return JSON.stringify(text);
      }
      case 'timestamp':
        return this.timestamp(t) ?? JSON.stringify(text);
      case 'date': {
        if (DATE.test(t)) return JSON.stringify(t);
        const parts = this.timestampFormat?.parse(t) ?? isoParts(t);
        return JSON.stringify(parts ? formatDate(parts) : text);
      }
      case 'complex':
        if (t.startsWith('[') || t.startsWith('{')) {
          try {
            JSON.parse(t);
            return t;
          } catch {
            // not JSON: sent as text, which the serde rejects
          }
        }
        return JSON.stringify(text);
    }
  }

  private timestamp(t: string): string | undefined {
    if (this.timestampFormat) {
      const parts = this.timestampFormat.parse(t);
      if (parts) return JSON.stringify(formatFirehoseTimestamp(parts));
    }
    // These forms hold no character JSON would escape.
    if (SQL_TIMESTAMP.test(t) || ISO_UTC.test(t)) return `"${t}"`;
    if (EPOCH.test(t)) return jsonNumber(t);
    const parts = isoParts(t);
    return parts ? JSON.stringify(formatFirehoseTimestamp(parts)) : undefined;
  }
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Digits with an optional '-' and no leading zero: already JSON (the common case, checked fast). */
function isPlainInteger(t: string): boolean {
  const n = t.length;
  let i = t.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n || (t.charCodeAt(i) === 48 && (n - i > 1 || i === 1))) return false;
  for (; i < n; i++) if (!isDigit(t.charCodeAt(i))) return false;
  return true;
}

/** A plain integer, or one with a fraction (`12.50`): already JSON. */
function isPlainNumber(t: string): boolean {
  const dot = t.indexOf('.');
  if (dot < 0) return isPlainInteger(t);
  const int = t.slice(0, dot);
  if (dot === t.length - 1 || !(isPlainInteger(int) || int === '-0')) return false;
  for (let i = dot + 1; i < t.length; i++) if (!isDigit(t.charCodeAt(i))) return false;
  return true;
}

/** A number as JSON spells it (`+1` -> `1`, `.5` -> `0.5`, `007` -> `7`), or undefined. */
export function jsonNumber(t: string): string | undefined {
  const m = NUMBER.exec(t);
  if (!m) return undefined;
  const [, sign, intDigits = '', frac, exp] = m;
  if (intDigits === '' && (frac === undefined || frac === '')) return undefined;
  const int = intDigits.replace(/^0+(?=\d)/, '') || '0';
  let out = sign === '-' ? `-${int}` : int;
  if (frac !== undefined && frac !== '') out += `.${frac}`;
  if (exp !== undefined) out += `e${exp}`;
  return out;
}
