/**
 * Partition layout and diff, pure: which object keys belong to which partition, which
 * prefixes are anomalies, and what to add, drop and update in the catalog.
 */
import type { TimeKey } from './config.js';
import type { PartitionDef } from './ports.js';

export type Layout = 'hive' | 'firehose';

const VALUE_RULES: Record<TimeKey, { pattern: RegExp; min: number; max: number; what: string }> = {
  year: { pattern: /^\d{4}$/, min: 1970, max: 2999, what: 'four digits' },
  month: { pattern: /^\d{2}$/, min: 1, max: 12, what: 'two digits 01-12' },
  day: { pattern: /^\d{2}$/, min: 1, max: 31, what: 'two digits 01-31' },
  hour: { pattern: /^\d{2}$/, min: 0, max: 23, what: 'two digits 00-23' },
};

/** Why a value does not fit its key, or undefined when it does. */
export function checkValue(key: TimeKey, value: string): string | undefined {
  const rule = VALUE_RULES[key];
  if (!rule.pattern.test(value)) return `${key} '${value}' is not ${rule.what}`;
  const n = Number(value);
  if (n < rule.min || n > rule.max) return `${key} '${value}' is out of range (${rule.what})`;
  return undefined;
}

export interface Anomaly {
  /** Key or prefix relative to the bucket. */
  path: string;
  reason: string;
}

export type KeyPlacement = { kind: 'partition'; values: string[]; prefix: string } | { kind: 'anomaly'; anomaly: Anomaly } | { kind: 'ignored' };

/** The partition prefix (relative to `tablePrefix`) that `segments` describe, checked level by level. */
export function parseSegments(keys: readonly TimeKey[], layout: Layout, segments: readonly string[]): { values: string[] } | { reason: string } {
  const values: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const segment = segments[i];
    if (segment === undefined) return { reason: `path stops before the ${key} level` };
    let value = segment;
    if (layout === 'hive') {
      const eq = segment.indexOf('=');
      if (eq < 0) return { reason: `'${segment}' is not ${key}=VALUE` };
      const name = segment.slice(0, eq);
      value = segment.slice(eq + 1);
      if (name !== key) return { reason: `unknown key '${name}' where ${key} was expected` };
    }
    if (/['"\\]/.test(value)) return { reason: `${key} value '${value}' contains a quote or backslash` };
    const problem = checkValue(key, value);
    if (problem) return { reason: problem };
    values.push(value);
  }
  return { values };
}

export interface PlacementRules {
  tablePrefix: string;
  keys: readonly TimeKey[];
  layout: Layout;
  /** Prefixes (relative to the bucket) that are never data: errors, backups, results. */
  excludedPrefixes: readonly string[];
}

/** Where an object key belongs: a partition, an anomaly, or nothing to consider. */
export function placeKey(key: string, size: number, rules: PlacementRules): KeyPlacement {
  if (!key.startsWith(rules.tablePrefix)) return { kind: 'ignored' };
  if (rules.excludedPrefixes.some((p) => p && key.startsWith(p))) return { kind: 'ignored' };
  const rest = key.slice(rules.tablePrefix.length);
  const segments = rest.split('/');
  const name = segments[segments.length - 1]!;
  // Folder markers (console-created "folders") and lake's temporary objects are not data.
  if (name === '' && size === 0) return { kind: 'ignored' };
  if (name.startsWith('.lake-tmp-') || name.endsWith('_$folder$')) return { kind: 'ignored' };
  const dirs = segments.slice(0, -1);
  if (dirs.length < rules.keys.length) {
    return { kind: 'anomaly', anomaly: { path: key, reason: dirs.length === 0 ? 'object outside any partition' : `path stops before the ${rules.keys[dirs.length]} level` } };
  }
  const parsed = parseSegments(rules.keys, rules.layout, dirs);
  if ('reason' in parsed) {
    const badLevel = firstBadLevel(rules, dirs);
    return { kind: 'anomaly', anomaly: { path: rules.tablePrefix + dirs.slice(0, badLevel + 1).join('/') + '/', reason: parsed.reason } };
  }
  return { kind: 'partition', values: parsed.values, prefix: rules.tablePrefix + dirs.slice(0, rules.keys.length).join('/') + '/' };
}

function firstBadLevel(rules: PlacementRules, dirs: readonly string[]): number {
  for (let i = 1; i <= rules.keys.length; i++) {
    if ('reason' in parseSegments(rules.keys.slice(0, i), rules.layout, dirs)) return i - 1;
  }
  return rules.keys.length - 1;
}

export interface FoundPartition {
  values: string[];
  location: string;
  objects: number;
  bytes: number;
}

export interface SyncPlan {
  add: PartitionDef[];
  drop: PartitionDef[];
  update: { before: PartitionDef; after: PartitionDef }[];
  unchanged: number;
}

export const valuesKey = (values: readonly string[]) => values.join('\u0000');
const normalizeLocation = (location: string) => (location.endsWith('/') ? location : `${location}/`);

/** What to change in the catalog so it matches what storage holds. */
export function planSync(found: readonly FoundPartition[], registered: readonly PartitionDef[], options: { prune: boolean; inScope?: (values: string[]) => boolean }): SyncPlan {
  const registeredByValues = new Map(registered.map((p) => [valuesKey(p.values), p]));
  const foundKeys = new Set<string>();
  const plan: SyncPlan = { add: [], drop: [], update: [], unchanged: 0 };
  for (const f of found) {
    const key = valuesKey(f.values);
    foundKeys.add(key);
    const existing = registeredByValues.get(key);
    if (!existing) plan.add.push({ values: f.values, location: f.location });
    else if (normalizeLocation(existing.location) !== normalizeLocation(f.location)) plan.update.push({ before: existing, after: { ...existing, location: f.location } });
    else plan.unchanged++;
  }
  if (options.prune) {
    for (const p of registered) {
      if (!foundKeys.has(valuesKey(p.values)) && (options.inScope?.(p.values) ?? true)) plan.drop.push(p);
    }
  }
  const byValues = (a: PartitionDef, b: PartitionDef) => valuesKey(a.values).localeCompare(valuesKey(b.values));
  plan.add.sort(byValues);
  plan.drop.sort(byValues);
  plan.update.sort((a, b) => byValues(a.after, b.after));
  return plan;
}

/** Partition values as a UTC date: the start of the period they cover. */
export function valuesStart(keys: readonly TimeKey[], values: readonly string[]): Date {
  const part = (key: TimeKey, fallback: number) => {
    const i = keys.indexOf(key);
    return i >= 0 && values[i] !== undefined ? Number(values[i]) : fallback;
  };
  return new Date(Date.UTC(part('year', 1970), part('month', 1) - 1, part('day', 1), part('hour', 0)));
}

/** The end (exclusive) of the period partition values cover. */
export function valuesEnd(keys: readonly TimeKey[], values: readonly string[]): Date {
  const start = valuesStart(keys, values);
  const last = keys[Math.min(values.length, keys.length) - 1];
  const d = new Date(start);
  if (last === 'year') d.setUTCFullYear(d.getUTCFullYear() + 1);
  else if (last === 'month') d.setUTCMonth(d.getUTCMonth() + 1);
  else if (last === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else d.setUTCHours(d.getUTCHours() + 1);
  return d;
}

/**
 * `--since`: an ISO date (2024-05-17), date and hour (2024-05-17T13), a full timestamp, or a
 * duration back from now (48h, 7d, 90m).
 */
export function parseSince(text: string, now: Date): Date | undefined {
  const rel = /^(\d+)\s*([mhdw])$/.exec(text.trim());
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(rel[1]) * unit);
  }
  const hourOnly = /^(\d{4}-\d{2}-\d{2})[T ](\d{2})$/.exec(text.trim());
  const iso = hourOnly ? `${hourOnly[1]}T${hourOnly[2]}:00:00Z` : /^\d{4}-\d{2}(-\d{2})?$/.test(text.trim()) ? `${text.trim().length === 7 ? `${text.trim()}-01` : text.trim()}T00:00:00Z` : text.trim();
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
