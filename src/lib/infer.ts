/**
 * `lake init --infer SAMPLE`: read the first rows of a CSV, JSON or NDJSON sample and
 * propose a Glue type for each field, saying why. The proposal follows what the pipeline
 * will do with the values: JSON strings become timestamps only in the forms Firehose's
 * OpenX SerDe reads as timestamps (`lake send` rewrites other ISO forms only for CSV),
 * whole numbers become bigint (room to grow; Parquet stores them compactly anyway), and
 * anything mixed stays a string, which never rejects a record.
 */
import type { TimeKey } from './config.js';
import { TIME_KEYS } from './config.js';
import { InputError } from './errors.js';
import { resolveInputs } from './records/input.js';
import { openReader } from './records/reader.js';
import type { RecordFormat } from './records/types.js';

export interface InferredColumn {
  name: string;
  type: string;
  /** Why this type, in a few words, with an example value. */
  reason: string;
  /** The field as the sample spells it, when the column name differs (a ColumnToJsonKeyMappings entry). */
  key?: string;
}

export interface Inference {
  format: RecordFormat;
  rows: number;
  columns: InferredColumn[];
  /** Fields left out, and why. */
  skipped: { key: string; reason: string }[];
  /** Columns that look like an event time (timestamp or date): candidates for --time-field. */
  timeCandidates: string[];
}

export const DEFAULT_SAMPLE_ROWS = 1000;

type Kind = 'boolean' | 'integer' | 'number' | 'timestamp' | 'date' | 'string' | 'struct' | 'array';

/** What the values of one field (or nested field, or array element) looked like. */
export class FieldStats {
  readonly counts = new Map<Kind, number>();
  readonly examples = new Map<Kind, string>();
  missing = 0;
  /** JSON strings that are times with an offset: the serde cannot read them as timestamps. */
  offsetTimes = 0;
  /** CSV digits with leading zeros (zip codes, ids): kept as text. */
  leadingZeros = 0;
  fields?: Map<string, FieldStats>;
  element?: FieldStats;

  add(kind: Kind, example: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (!this.examples.has(kind)) this.examples.set(kind, example.length > 40 ? `${example.slice(0, 37)}...` : example);
  }

  child(key: string): FieldStats {
    this.fields ??= new Map();
    let field = this.fields.get(key);
    if (!field) this.fields.set(key, (field = new FieldStats()));
    return field;
  }
}

const SQL_TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d{1,9})?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const ISO_ANY_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INTEGER = /^[+-]?(0|[1-9]\d*)$/;
const DECIMAL = /^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$/;

/** Classifies one JSON value into `field`. */
export function observeJson(field: FieldStats, value: unknown): void {
  if (value === null || value === undefined) {
    field.missing++;
    return;
  }
  switch (typeof value) {
    case 'boolean':
      return field.add('boolean', String(value));
    case 'number':
      return field.add(Number.isInteger(value) ? 'integer' : 'number', String(value));
    case 'string':
      if (SQL_TIMESTAMP.test(value) || ISO_UTC.test(value)) return field.add('timestamp', value);
      if (DATE.test(value)) return field.add('date', value);
      if (ISO_ANY_TIME.test(value)) field.offsetTimes++;
      return field.add('string', value);
    case 'object':
      if (Array.isArray(value)) {
        field.add('array', JSON.stringify(value));
        field.element ??= new FieldStats();
        for (const item of value) observeJson(field.element, item);
        return;
      }
      field.add('struct', JSON.stringify(value));
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) observeJson(field.child(k), v);
      return;
    default:
      return field.add('string', String(value));
  }
}

/**
 * Classifies one CSV cell. `lake send` turns CSV text into the JSON each column type
 * wants, including ISO times with an offset, so any ISO time counts as a timestamp here.
 */
export function observeCsv(field: FieldStats, text: string | null): void {
  if (text === null || text.trim() === '') {
    field.missing++;
    return;
  }
  const t = text.trim();
  if (/^(true|false)$/i.test(t)) return field.add('boolean', t);
  // Leading zeros (zip codes, ids) would be lost as a number.
  if (INTEGER.test(t)) return field.add('integer', t);
  if (DECIMAL.test(t)) return field.add('number', t);
  if (SQL_TIMESTAMP.test(t) || ISO_ANY_TIME.test(t)) return field.add('timestamp', t);
  if (DATE.test(t)) return field.add('date', t);
  if (/^[+-]?0\d+$/.test(t)) field.leadingZeros++;
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return observeJson(field, JSON.parse(t));
    } catch {
      // not JSON: text
    }
  }
  field.add('string', t);
}

const NAME = /^[a-z_][a-z0-9_]*$/;

function quote(example: string | undefined): string {
  return example === undefined ? '' : `'${example}'`;
}

/** The Glue type for what a field held, and why. */
export function resolveField(field: FieldStats): { type: string; reason: string } {
  const kinds = [...field.counts.keys()];
  const seen = [...field.counts.values()].reduce((a, b) => a + b, 0);
  const has = (...wanted: Kind[]) => kinds.length > 0 && kinds.every((k) => wanted.includes(k));
  if (seen === 0) return { type: 'string', reason: `no values (${field.missing} empty): string is the safe guess` };
  const rows = `${seen} of ${seen + field.missing} rows`;
  const example = (kind: Kind) => quote(field.examples.get(kind));
  if (has('boolean')) return { type: 'boolean', reason: `true/false (${rows})` };
  if (has('integer')) return { type: 'bigint', reason: `whole numbers, e.g. ${example('integer')} (${rows}); bigint leaves room to grow` };
  if (has('integer', 'number')) return { type: 'double', reason: `numbers with a fraction, e.g. ${example('number')} (${rows})` };
  if (has('timestamp')) return { type: 'timestamp', reason: `times Firehose reads as timestamps, e.g. ${example('timestamp')} (${rows})` };
  if (has('date')) return { type: 'date', reason: `dates, e.g. ${example('date')} (${rows})` };
  if (has('timestamp', 'date')) return { type: 'timestamp', reason: `times and dates, e.g. ${example('timestamp')} and ${example('date')} (${rows})` };
  if (has('struct') && field.fields) {
    const entries = [...field.fields.entries()];
    if (entries.length > 0 && entries.every(([k]) => NAME.test(k.toLowerCase()))) {
      const parts = entries.map(([k, f]) => `${k.toLowerCase()}:${resolveField(f).type}`);
      return { type: `struct<${parts.join(',')}>`, reason: `objects with fields ${entries.map(([k]) => k).join(', ')} (${rows})` };
    }
    const values = new FieldStats();
    for (const [, f] of entries) mergeInto(values, f);
    return { type: `map<string,${resolveField(values).type}>`, reason: `objects whose keys are not column names, e.g. ${quote(entries[0]?.[0])}: a map (${rows})` };
  }
  if (has('array')) {
    const element = field.element && [...field.element.counts.values()].some((n) => n > 0) ? resolveField(field.element).type : 'string';
    return { type: `array<${element}>`, reason: `lists, e.g. ${example('array')} (${rows})` };
  }
  if (has('string')) {
    let why = `text, e.g. ${example('string')} (${rows})`;
    if (field.leadingZeros > 0) why += `; ${field.leadingZeros} are digits with leading zeros, which a number would lose`;
    if (field.offsetTimes > 0) why += `; ${field.offsetTimes} look like times with an offset, which Firehose cannot read as timestamps from JSON`;
    return { type: 'string', reason: why };
  }
  const count = (kind: Kind) => field.counts.get(kind) ?? 0;
  const mix = kinds.map((k) => `${k} (${count(k)}, e.g. ${example(k)})`).join(', ');
  return { type: 'string', reason: `mixed values: ${mix}; string keeps every record` };
}

function mergeInto(target: FieldStats, source: FieldStats): void {
  for (const [kind, n] of source.counts) {
    target.counts.set(kind, (target.counts.get(kind) ?? 0) + n);
    if (!target.examples.has(kind)) target.examples.set(kind, source.examples.get(kind)!);
  }
  target.missing += source.missing;
}

/** A column name for a field: lowercase letters, digits, underscores. */
export function columnName(key: string): string {
  let name = key.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (name === '') name = 'field';
  if (/^\d/.test(name)) name = `_${name}`;
  return name;
}

/** Turns the observed fields into columns, in first-seen order. */
export function proposeColumns(fields: Map<string, FieldStats>, partitionKeys: readonly TimeKey[] = TIME_KEYS): Pick<Inference, 'columns' | 'skipped' | 'timeCandidates'> {
  const columns: InferredColumn[] = [];
  const skipped: Inference['skipped'] = [];
  const taken = new Map<string, string>();
  for (const [key, field] of fields) {
    let name = columnName(key);
    let why = '';
    if ((partitionKeys as readonly string[]).includes(name)) {
      why = ` (renamed: '${name}' is a partition key)`;
      name = `${name}_value`;
    }
    const clash = taken.get(name);
    if (clash !== undefined) {
      skipped.push({ key, reason: `'${key}' and '${clash}' both become column '${name}' (Firehose matches keys ignoring case)` });
      continue;
    }
    taken.set(name, key);
    const { type, reason } = resolveField(field);
    const column: InferredColumn = { name, type, reason: reason + why };
    if (name !== key.toLowerCase()) column.key = key;
    columns.push(column);
  }
  const timeCandidates = columns.filter((c) => c.type === 'timestamp' || c.type === 'date').map((c) => c.name);
  return { columns, skipped, timeCandidates };
}

/** Reads up to `rows` records of `sample` (resolved against `cwd`) and proposes columns. */
export async function inferSchema(sample: string, options: { cwd: string; stdin: NodeJS.ReadableStream; rows?: number }): Promise<Inference> {
  const limit = options.rows ?? DEFAULT_SAMPLE_ROWS;
  const [input] = resolveInputs([sample], options.cwd);
  const reader = await openReader(input!, options.stdin);
  const fields = new Map<string, FieldStats>();
  const field = (key: string) => {
    let f = fields.get(key);
    if (!f) {
      f = new FieldStats();
      // A field first seen now was absent from the rows before.
      f.missing = rows - 1;
      fields.set(key, f);
    }
    return f;
  };
  let rows = 0;
  let notObjects = 0;
  try {
    read: for await (const batch of reader.records()) {
      for (const record of batch) {
        if (rows >= limit) break read;
        rows++;
        if (reader.format === 'csv') {
          const header = reader.header ?? [];
          header.forEach((key, i) => {
            if (key !== '') observeCsv(field(key), record.fields?.[i] ?? null);
          });
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(record.raw.toString('utf8'));
        } catch (err) {
          throw new InputError(`${sample}:${record.line}: not JSON: ${(err as Error).message}`, { hint: 'infer from a clean sample, or give the columns with --schema FILE' });
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          notObjects++;
          continue;
        }
        const present = new Set(Object.keys(value));
        for (const [key, v] of Object.entries(value)) observeJson(field(key), v);
        // A field absent from this record counts as empty for it.
        for (const [key, f] of fields) if (!present.has(key)) f.missing++;
      }
    }
  } finally {
    await reader.close();
  }
  if (rows === 0) throw new InputError(`${sample}: no records to infer from`, { hint: 'give a sample with a few rows, or the columns with --schema FILE' });
  if (fields.size === 0) throw new InputError(`${sample}: no fields found in ${rows} record${rows === 1 ? '' : 's'}${notObjects ? ' (records must be JSON objects)' : ''}`);
  return { format: reader.format, rows, ...proposeColumns(fields) };
}

