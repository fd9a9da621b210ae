/**
 * Validation of a parsed lake.config.json: every problem is collected and reported at once,
 * each naming the file and the field (`lake.config.json: partitioning.keys[2]: ...`).
 */
import { CONFIG_FILE, type LakeConfig, type ResolvedConfig, TIME_KEYS, type TimeKey, allSources, defaultConfig, parseSize } from './config-defaults.js';
import { ConfigError } from './errors.js';
import { GlueTypeError, parseGlueType } from './glue-types.js';
import type { Column } from './ports.js';
import { suggest } from './suggest.js';

class Problems {
  readonly list: string[] = [];
  constructor(private readonly file: string) {}
  add(field: string, message: string): void {
    this.list.push(`${this.file}: ${field}: ${message}`);
  }
}

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `'${v}'` : String(v));

/** Validates a parsed config document; throws one ConfigError listing every problem. */
export function validateConfig(raw: unknown, file = CONFIG_FILE): ResolvedConfig {
  const problems = new Problems(file);
  if (!isObject(raw)) throw new ConfigError(`${file}: expected a JSON object at the top level`);
  const name = typeof raw.name === 'string' && /^[a-z][a-z0-9-]{0,39}$/.test(raw.name) ? raw.name : 'lake';
  if (raw.name !== undefined && name !== raw.name) problems.add('name', `expected lowercase letters, digits and '-', starting with a letter, at most 40 characters, got ${describe(raw.name)}`);
  const config = defaultConfig(name);
  const sources = allSources('default');
  // The optional fields have no default, so defaultConfig has no key for them.
  const known = new Set([...Object.keys(config), 'profile', 'endpointUrl']);
  for (const key of Object.keys(raw)) {
    if (key === '$schema') continue;
    if (!known.has(key)) problems.add(key, `unknown field${suggest(key, [...known])}`);
  }
  const take = <K extends keyof LakeConfig>(key: K, read: (v: unknown, field: string) => LakeConfig[K] | undefined): void => {
    if (raw[key] === undefined) return;
    const value = read(raw[key], key);
    if (value !== undefined) {
      config[key] = value;
      sources[key] = 'file';
    }
  };
  const str = (pattern?: RegExp, what?: string) => (v: unknown, field: string): string | undefined => {
    if (typeof v !== 'string' || v.length === 0) return void problems.add(field, `expected a non-empty string, got ${describe(v)}`);
    if (pattern && !pattern.test(v)) return void problems.add(field, `expected ${what}, got ${describe(v)}`);
    return v;
  };
  const prefix = (v: unknown, field: string): string | undefined => {
    const s = str(/^[^/].*\/$|^$/, "a key prefix ending in '/' and not starting with '/'")(v, field);
    if (s !== undefined && s.split('/').includes('..')) return void problems.add(field, "must not contain '..'");
    return s;
  };
  const num = (min: number, max: number, integer = false) => (v: unknown, field: string): number | undefined => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) return void problems.add(field, `expected ${integer ? 'an integer' : 'a number'}, got ${describe(v)}`);
    if (v < min || v > max) return void problems.add(field, `expected ${min} to ${max}, got ${v}`);
    return v;
  };
  const bool = (v: unknown, field: string): boolean | undefined => (typeof v === 'boolean' ? v : void problems.add(field, `expected true or false, got ${describe(v)}`));
  const size = (v: unknown, field: string): number | null | undefined => {
    if (v === null) return null;
    const bytes = typeof v === 'string' || typeof v === 'number' ? parseSize(v) : undefined;
    if (bytes === undefined) return void problems.add(field, `expected a size like "10GB", "500MiB" or a number of bytes, got ${describe(v)}`);
    return bytes;
  };

  take('name', (v) => (typeof v === 'string' ? name : undefined));
  take('backend', (v, f) => (v === 'local' || v === 'aws' ? v : void problems.add(f, `expected one of local, aws, got ${describe(v)}`)));
  take('region', str(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region like us-east-1'));
  take('profile', str());
  take('endpointUrl', str(/^https?:\/\//, 'an http(s) URL'));
  take('lakeDir', str());
  take('bucket', str(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)'));
  take('prefix', prefix);
  take('errorPrefix', prefix);
  take('backupPrefix', (v, f) => (v === null ? null : prefix(v, f)));
  take('database', str(/^[a-z0-9_]{1,255}$/, 'lowercase letters, digits and underscores (Glue/Athena naming)'));
  take('table', str(/^[a-z0-9_]{1,255}$/, 'lowercase letters, digits and underscores (Glue/Athena naming)'));
  take('stream', str(/^[a-zA-Z0-9_.-]{1,64}$/, 'a Firehose stream name (1-64 of letters, digits, _ . -)'));
  take('workgroup', str(/^[a-zA-Z0-9._-]{1,128}$/, 'an Athena workgroup name'));
  take('resultsPrefix', prefix);
  take('stackName', str(/^[a-zA-Z][a-zA-Z0-9-]{0,127}$/, 'a CloudFormation stack name'));
  take('columns', (v, f) => readColumns(v, f, problems));
  take('partitioning', (v, f) => readPartitioning(v, f, problems, config.partitioning));
  take('buffering', (v, f) => {
    if (!isObject(v)) return void problems.add(f, 'expected an object');
    const out = { ...config.buffering };
    if (v.sizeMiB !== undefined) out.sizeMiB = num(1, 128, true)(v.sizeMiB, `${f}.sizeMiB`) ?? out.sizeMiB;
    if (v.intervalSeconds !== undefined) out.intervalSeconds = num(0, 900, true)(v.intervalSeconds, `${f}.intervalSeconds`) ?? out.intervalSeconds;
    for (const k of Object.keys(v)) if (!(k in out)) problems.add(`${f}.${k}`, `unknown field${suggest(k, Object.keys(out))}`);
    return out;
  });
  take('serde', (v, f) => {
    if (!isObject(v)) return void problems.add(f, 'expected an object');
    const out = { ...config.serde, columnToJsonKeyMappings: { ...config.serde.columnToJsonKeyMappings } };
    if (v.convertDotsInJsonKeysToUnderscores !== undefined) out.convertDotsInJsonKeysToUnderscores = bool(v.convertDotsInJsonKeysToUnderscores, `${f}.convertDotsInJsonKeysToUnderscores`) ?? false;
    if (v.caseInsensitive !== undefined) out.caseInsensitive = bool(v.caseInsensitive, `${f}.caseInsensitive`) ?? true;
    if (v.columnToJsonKeyMappings !== undefined) {
      const m = v.columnToJsonKeyMappings;
      if (!isObject(m) || Object.values(m).some((x) => typeof x !== 'string')) problems.add(`${f}.columnToJsonKeyMappings`, 'expected an object of column name to JSON key strings');
      else out.columnToJsonKeyMappings = m as Record<string, string>;
    }
    for (const k of Object.keys(v)) if (!(k in out)) problems.add(`${f}.${k}`, `unknown field${suggest(k, Object.keys(out))}`);
    return out;
  });
  take('pricePerTiB', num(0, 1000));
  take('bytesScannedCutoff', (v, f) => {
    const bytes = size(v, f);
    if (bytes !== null && bytes !== undefined && bytes < 10_000_000) return void problems.add(f, `Athena's minimum cutoff is 10MB, got ${bytes} bytes`);
    return bytes;
  });
  take('maxBytes', size);
  take('maxCostUsd', (v, f) => (v === null ? null : num(0, 1e9)(v, f)));
  take('kinesisSource', bool);
  take('api', bool);

  // Cross-field rules.
  const { time } = config.partitioning;
  if (time !== 'arrival') {
    const column = config.columns.find((c) => c.name === time);
    if (!column) problems.add('partitioning.time', `'${time}' is not one of the columns; expected 'arrival' or a column name`);
    else if (column.type !== 'timestamp' && column.type !== 'date' && column.type !== 'string' && column.type !== 'bigint') {
      problems.add('partitioning.time', `column '${time}' has type ${column.type}; event time needs timestamp, date, string or bigint`);
    }
  }
  for (const key of config.partitioning.keys) {
    if (config.columns.some((c) => c.name === key)) problems.add('columns', `'${key}' is a partition key and cannot also be a column`);
  }
  const prefixes: [string, string][] = [];
  for (const key of ['prefix', 'errorPrefix', 'resultsPrefix', 'backupPrefix'] as const) {
    const value = config[key];
    if (typeof value === 'string' && value.length > 0) prefixes.push([key, value]);
  }
  prefixes.forEach(([a, pa], i) => {
    for (const [b, pb] of prefixes.slice(i + 1)) {
      if (pa.startsWith(pb) || pb.startsWith(pa)) problems.add(b, `'${pb}' overlaps ${a} '${pa}': data, errors, backups and results need separate prefixes`);
    }
  });

  if (problems.list.length > 0) {
    throw new ConfigError(problems.list.join('\n'), { hint: 'fix the fields named above; `lake init --help` shows a valid configuration' });
  }
  return { config, sources };
}

function readColumns(v: unknown, field: string, problems: Problems): Column[] | undefined {
  if (!Array.isArray(v)) return void problems.add(field, 'expected an array of {"name","type"} objects');
  const seen = new Set<string>();
  const out: Column[] = [];
  v.forEach((c, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(c)) return problems.add(f, 'expected an object with "name" and "type"');
    if (typeof c.name !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(c.name)) {
      return problems.add(`${f}.name`, `expected a lowercase column name (letters, digits, _), got ${describe(c.name)}`);
    }
    if (seen.has(c.name)) return problems.add(`${f}.name`, `duplicate column '${c.name}'`);
    seen.add(c.name);
    if (typeof c.type !== 'string') return problems.add(`${f}.type`, `expected a Glue type string, got ${describe(c.type)}`);
    try {
      parseGlueType(c.type);
    } catch (err) {
      if (err instanceof GlueTypeError) return problems.add(`${f}.type`, err.message);
      throw err;
    }
    out.push(c.comment === undefined ? { name: c.name, type: c.type.toLowerCase() } : { name: c.name, type: c.type.toLowerCase(), comment: String(c.comment) });
  });
  return out;
}

function readPartitioning(v: unknown, field: string, problems: Problems, base: LakeConfig['partitioning']): LakeConfig['partitioning'] | undefined {
  if (!isObject(v)) return void problems.add(field, 'expected an object');
  const out = { ...base };
  for (const k of Object.keys(v)) if (!(k in out)) problems.add(`${field}.${k}`, `unknown field${suggest(k, Object.keys(out))}`);
  if (v.keys !== undefined) {
    if (!Array.isArray(v.keys) || v.keys.length === 0) problems.add(`${field}.keys`, 'expected a non-empty array, e.g. ["year","month","day","hour"]');
    else {
      let ok = true;
      v.keys.forEach((k, i) => {
        if (k !== TIME_KEYS[i]) {
          ok = false;
          problems.add(`${field}.keys[${i}]`, i < TIME_KEYS.length ? `expected ${TIME_KEYS[i]} (keys are year, month, day, hour in that order, and may stop early), got ${describe(k)}` : 'too many keys: at most year, month, day, hour');
        }
      });
      if (ok) out.keys = v.keys as TimeKey[];
    }
  }
  if (v.time !== undefined) {
    if (typeof v.time !== 'string' || v.time.length === 0) problems.add(`${field}.time`, `expected 'arrival' or a column name, got ${describe(v.time)}`);
    else out.time = v.time;
  }
  if (v.layout !== undefined) {
    if (v.layout !== 'hive' && v.layout !== 'firehose') problems.add(`${field}.layout`, `expected one of hive, firehose, got ${describe(v.layout)}`);
    else out.layout = v.layout;
  }
  if (v.projection !== undefined) {
    if (typeof v.projection !== 'boolean') problems.add(`${field}.projection`, `expected true or false, got ${describe(v.projection)}`);
    else out.projection = v.projection;
  }
  return out;
}
