/**
 * The shape of lake.config.json once resolved, its defaults, and the size notation the file
 * accepts. No I/O: loading lives in config.ts, validation in config-validate.ts.
 */
import type { Column } from './ports.js';

export const CONFIG_FILE = 'lake.config.json';
export const TIME_KEYS = ['year', 'month', 'day', 'hour'] as const;
export type TimeKey = (typeof TIME_KEYS)[number];

export interface LakeConfig {
  name: string;
  backend: 'local' | 'aws';
  region: string;
  profile?: string;
  endpointUrl?: string;
  /** Local backend: the folder holding s3/, the catalog and query state. */
  lakeDir: string;
  bucket: string;
  prefix: string;
  errorPrefix: string;
  backupPrefix: string | null;
  database: string;
  table: string;
  stream: string;
  workgroup: string;
  resultsPrefix: string;
  stackName: string;
  columns: Column[];
  partitioning: {
    keys: TimeKey[];
    /** 'arrival' or the name of a timestamp column (event time). */
    time: string;
    layout: 'hive' | 'firehose';
    projection: boolean;
  };
  buffering: { sizeMiB: number; intervalSeconds: number };
  serde: {
    convertDotsInJsonKeysToUnderscores: boolean;
    caseInsensitive: boolean;
    columnToJsonKeyMappings: Record<string, string>;
  };
  pricePerTiB: number;
  /** Workgroup cutoff in bytes (config accepts "10GB"-style sizes). */
  bytesScannedCutoff: number | null;
  /** Default guards for `lake query`. */
  maxBytes: number | null;
  maxCostUsd: number | null;
  kinesisSource: boolean;
  api: boolean;
}

/** Where a value came from; `aws-config:PROFILE` is the region of that profile in ~/.aws/config. */
export type ValueSource = 'default' | 'file' | `env:${string}` | 'flag' | `aws-config:${string}`;

export interface ResolvedConfig {
  config: LakeConfig;
  /** Absolute path of the file read, or undefined when none was found. */
  path?: string;
  /** Source of each top-level field. */
  sources: Record<keyof LakeConfig, ValueSource>;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "10GB" -> 10_000_000_000, "64MiB" -> 67108864, 1234 -> 1234. Undefined when unreadable. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = SIZE_UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.round(Number(match[1]) * unit);
}

export function defaultConfig(name = 'lake'): LakeConfig {
  return {
    name,
    backend: 'local',
    region: 'us-east-1',
    lakeDir: '.lake',
    bucket: `${name}-data`,
    prefix: 'data/',
    errorPrefix: 'errors/',
    backupPrefix: null,
    database: name.replace(/-/g, '_'),
    table: 'events',
    stream: `${name}-ingest`,
    workgroup: name,
    resultsPrefix: 'athena-results/',
    stackName: `lake-${name}`,
    columns: [],
    partitioning: { keys: ['year', 'month', 'day', 'hour'], time: 'arrival', layout: 'hive', projection: false },
    buffering: { sizeMiB: 64, intervalSeconds: 60 },
    serde: { convertDotsInJsonKeysToUnderscores: false, caseInsensitive: true, columnToJsonKeyMappings: {} },
    pricePerTiB: 5,
    bytesScannedCutoff: null,
    maxBytes: null,
    maxCostUsd: null,
    kinesisSource: false,
    api: false,
  };
}

/** Every field marked as coming from one source. */
export function allSources(source: ValueSource): Record<keyof LakeConfig, ValueSource> {
  return Object.fromEntries(Object.keys(defaultConfig()).map((k) => [k, source])) as Record<keyof LakeConfig, ValueSource>;
}

/** s3://bucket/prefix for the table's data. */
export function tableLocation(config: LakeConfig): string {
  return `s3://${config.bucket}/${config.prefix}`;
}
