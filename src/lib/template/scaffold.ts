/**
 * The lake.config.json `lake init` writes: every field a user may want to change, with the
 * choices made from the flags, checked by the same validation as any loaded config.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CONFIG_FILE, type LakeConfig, TIME_KEYS, type TimeKey, defaultConfig, validateConfig } from '../config.js';
import { InputError, UsageError } from '../errors.js';
import type { Column } from '../ports.js';

export interface ScaffoldOptions {
  name: string;
  backend: 'local' | 'aws';
  region?: string;
  columns: Column[];
  /** Column -> JSON key, where the sample spells a field differently from its column. */
  keyMappings?: Record<string, string>;
  timeField?: string;
  partitionBy?: TimeKey[];
  layout?: 'hive' | 'firehose';
  projection?: boolean;
  api?: boolean;
  kinesisSource?: boolean;
  /** Appended to the bucket name: S3 bucket names are global, so an AWS lake needs its own. */
  bucketSuffix?: string;
}

/** A lake name from a folder name: lowercase letters, digits and '-', starting with a letter, at most 40. */
export function nameFromFolder(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+/g, '-')
    .slice(0, 40)
    .replace(/-+$/, '');
  return name === '' ? 'lake' : name;
}

/** `--partition-by year,month`: the time keys in order, stopping early if wanted. */
export function parsePartitionBy(text: string): TimeKey[] {
  const keys = text.split(',').map((k) => k.trim().toLowerCase()).filter((k) => k !== '');
  const ok = keys.length > 0 && keys.every((k, i) => k === TIME_KEYS[i]);
  if (!ok) {
    throw new UsageError(`--partition-by: expected the keys year,month,day,hour in that order (they may stop early), got '${text}'`, { hint: 'e.g. --partition-by year,month,day' });
  }
  return keys as TimeKey[];
}

/** `--schema FILE`: a JSON list of {"name","type"} (or Glue's {"Name","Type"}), or {"columns": [...]}. */
export function readSchemaFile(path: string, shown: string): { columns: Column[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`--schema ${shown}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`, { hint: 'give a JSON file: [{"name": "id", "type": "bigint"}, ...]', cause: err });
  }
  const list = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null && Array.isArray((raw as { columns?: unknown }).columns) ? (raw as { columns: unknown[] }).columns : undefined;
  if (!list) throw new InputError(`--schema ${shown}: expected a list of columns, or an object with "columns"`, { hint: 'e.g. [{"name": "id", "type": "bigint"}, {"name": "ts", "type": "timestamp"}]' });
  const columns = list.map((item, i) => {
    const c = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const name = c.name ?? c.Name;
    const type = c.type ?? c.Type;
    if (typeof name !== 'string' || typeof type !== 'string') throw new InputError(`--schema ${shown}: column ${i + 1} needs a "name" and a "type"`);
    const comment = c.comment ?? c.Comment;
    return typeof comment === 'string' ? { name, type, comment } : { name, type };
  });
  return { columns };
}

/**
 * The configuration document to write, and the configuration it loads as. Problems (a
 * time field that is not a column, a bad type) come back as one ConfigError naming them.
 */
export function scaffoldConfig(options: ScaffoldOptions): { document: Record<string, unknown>; config: LakeConfig } {
  if (options.timeField !== undefined && options.timeField !== 'arrival' && !options.columns.some((c) => c.name === options.timeField)) {
    const names = options.columns.map((c) => c.name);
    throw new UsageError(`--time-field ${options.timeField}: not one of the columns${names.length ? ` (${names.join(', ')})` : ' (there are none yet)'}`, {
      hint: 'name a timestamp column of the schema, or leave --time-field out to partition by arrival time',
    });
  }
  const base = defaultConfig(options.name);
  const document: Record<string, unknown> = {
    name: options.name,
    backend: options.backend,
    region: options.region ?? base.region,
    bucket: options.bucketSuffix ? `${base.bucket}-${options.bucketSuffix}` : base.bucket,
    prefix: base.prefix,
    errorPrefix: base.errorPrefix,
    backupPrefix: base.backupPrefix,
    database: base.database,
    table: base.table,
    stream: base.stream,
    workgroup: base.workgroup,
    resultsPrefix: base.resultsPrefix,
    columns: options.columns,
    partitioning: {
      keys: options.partitionBy ?? base.partitioning.keys,
      time: options.timeField ?? 'arrival',
      layout: options.layout ?? base.partitioning.layout,
      projection: options.projection ?? false,
    },
    buffering: base.buffering,
    pricePerTiB: base.pricePerTiB,
    bytesScannedCutoff: '10GB',
  };
  if (options.keyMappings && Object.keys(options.keyMappings).length > 0) document.serde = { columnToJsonKeyMappings: options.keyMappings };
  if (options.kinesisSource) document.kinesisSource = true;
  if (options.api) document.api = true;
  const { config } = validateConfig(document, CONFIG_FILE);
  return { document, config };
}
