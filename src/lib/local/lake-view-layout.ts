/**
 * Which objects belong to which partition of a table, as Athena decides it: the registered
 * partitions' locations (the most specific one wins), or the instances of a projection's
 * location template within its ranges; hidden and temporary objects are not data. Also the
 * fingerprint that tells a view it must be rebuilt.
 */
import { createHash } from 'node:crypto';
import type { ObjectInfo, PartitionDef, TableDef } from '../ports.js';

export interface PartitionSpec {
  values: string[];
  /** s3://bucket/prefix/ */
  location: string;
}

export interface Listed extends ObjectInfo {
  bucket: string;
}

export function parseS3(location: string): { bucket: string; prefix: string } {
  const m = /^s3a?n?:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!m) throw new Error(`not an s3:// location: ${location}`);
  const prefix = m[2]!;
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/' };
}

export interface PlacedPartition {
  values: string[];
  root: { bucket: string; prefix: string };
  files: Listed[];
}

export function isProjected(table: TableDef): boolean {
  return table.partitionKeys.length > 0 && table.parameters['projection.enabled']?.toLowerCase() === 'true';
}

export function defaultLocation(table: TableDef, p: PartitionDef): string {
  const base = table.location.endsWith('/') ? table.location : table.location + '/';
  return base + table.partitionKeys.map((k, i) => `${k.name}=${p.values[i]}`).join('/') + '/';
}

/** Where to list: the table location, or for projection the template's fixed prefix. */
export function listingRoot(table: TableDef): string {
  const template = isProjected(table) ? table.parameters['storage.location.template'] : undefined;
  if (!template) return table.location;
  const fixed = template.slice(0, template.indexOf('${') < 0 ? template.length : template.indexOf('${'));
  return fixed.slice(0, fixed.lastIndexOf('/') + 1);
}

/** Hive's hidden files (`_SUCCESS`, `.crc`) and lake's temporary objects are not data. */
export function isHidden(relativeKey: string): boolean {
  return relativeKey.split('/').some((segment) => segment.startsWith('.') || segment.startsWith('_'));
}

export function isPlainRelativePath(rel: string): boolean {
  const dirs = rel.split('/').slice(0, -1);
  return !dirs.some((d) => d.includes('=')) && !/[*?[\]{}\\\n]/.test(rel);
}

/** Each object goes to the most specific registered partition containing it, or nowhere. */
export function placeRegistered(table: TableDef, specs: PartitionSpec[], files: Listed[]): PlacedPartition[] {
  const byPrefix = new Map<string, PlacedPartition>();
  const placed: PlacedPartition[] = [];
  for (const spec of specs) {
    const root = parseS3(spec.location);
    const partition: PlacedPartition = { values: spec.values, root, files: [] };
    placed.push(partition);
    byPrefix.set(`${root.bucket}/${root.prefix}`, partition);
  }
  if (table.partitionKeys.length === 0) {
    const root = parseS3(table.location);
    return [{ values: [], root, files: files.filter((f) => f.bucket === root.bucket && f.key.startsWith(root.prefix)) }];
  }
  for (const f of files) {
    let cut = f.key.lastIndexOf('/');
    while (cut >= 0) {
      const partition = byPrefix.get(`${f.bucket}/${f.key.slice(0, cut + 1)}`);
      if (partition) {
        partition.files.push(f);
        break;
      }
      cut = f.key.lastIndexOf('/', cut - 1);
    }
    if (cut < 0) byPrefix.get(`${f.bucket}/`)?.files.push(f);
  }
  return placed;
}

/**
 * Partition projection: partitions are the template's instances that objects exist under
 * and whose values the projection admits (integer ranges, enum values; injected and date
 * keys admit any value).
 */
export function placeProjected(table: TableDef, files: Listed[]): PlacedPartition[] {
  const params = table.parameters;
  const base = table.location.endsWith('/') ? table.location : table.location + '/';
  let template = params['storage.location.template'] ?? base + table.partitionKeys.map((k) => `${k.name}=\${${k.name}}`).join('/');
  if (!template.endsWith('/')) template += '/';
  const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
  const order: string[] = [];
  let pattern = '^';
  let last = 0;
  for (const m of template.matchAll(/\$\{([^}]+)\}/g)) {
    pattern += escapeRegExp(template.slice(last, m.index));
    const key = m[1]!.toLowerCase();
    order.push(key);
    pattern += `(${projectedValuePattern(params, key)})`;
    last = m.index + m[0].length;
  }
  pattern += escapeRegExp(template.slice(last));
  const re = new RegExp(pattern);
  const byLocation = new Map<string, PlacedPartition>();
  for (const f of files) {
    const m = re.exec(`s3://${f.bucket}/${f.key}`);
    if (!m) continue;
    const found = new Map(order.map((k, i) => [k, m[i + 1]!]));
    const values = keys.map((k) => found.get(k) ?? '');
    if (!values.every((v, i) => admits(params, keys[i]!, v))) continue;
    let partition = byLocation.get(m[0]);
    if (!partition) {
      partition = { values, root: parseS3(m[0]), files: [] };
      byLocation.set(m[0], partition);
    }
    partition.files.push(f);
  }
  return [...byLocation.values()].sort((a, b) => (a.root.prefix < b.root.prefix ? -1 : 1));
}

function projectedValuePattern(params: Record<string, string>, key: string): string {
  const type = params[`projection.${key}.type`]?.toLowerCase();
  const format = params[`projection.${key}.format`];
  if (type === 'date' && format) {
    // Each run of a Joda letter is that many digits (or word characters for text fields).
    return format.replace(/([A-Za-z])\1*|[^A-Za-z]/g, (run) => (/[A-Za-z]/.test(run) ? (/[yMdHhmsS]/.test(run[0]!) ? `\\d{${run.length}}` : '\\w+') : escapeRegExp(run)));
  }
  return '[^/]+';
}

function admits(params: Record<string, string>, key: string, value: string): boolean {
  const type = params[`projection.${key}.type`]?.toLowerCase();
  if (type === 'integer') {
    const range = (params[`projection.${key}.range`] ?? '').split(',').map((s) => Number(s.trim()));
    const n = Number(value);
    if (!/^-?\d+$/.test(value)) return false;
    if (range.length === 2 && Number.isFinite(range[0]) && Number.isFinite(range[1]) && (n < range[0]! || n > range[1]!)) return false;
    const digits = Number(params[`projection.${key}.digits`] ?? 0);
    return !digits || value.replace('-', '').length >= digits;
  }
  if (type === 'enum') {
    return (params[`projection.${key}.values`] ?? '').split(',').map((s) => s.trim()).includes(value);
  }
  return true;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function fingerprintOf(table: TableDef, placed: PlacedPartition[]): string {
  const hash = createHash('sha1');
  hash.update(JSON.stringify([table.location, table.columns, table.partitionKeys, table.parameters]));
  for (const p of placed) {
    hash.update(`\u0001${p.values.join('\u0000')}\u0002${p.root.bucket}/${p.root.prefix}`);
    for (const f of p.files) hash.update(`\u0003${f.key}\u0000${f.size}\u0000${f.lastModified.getTime()}`);
  }
  return hash.digest('hex');
}
