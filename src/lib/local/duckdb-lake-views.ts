/**
 * Glue tables as DuckDB views, the way Athena sees them.
 *
 * A database is a DuckDB schema in the `awsdatacatalog` catalog; a table is one view, one
 * `read_parquet` over the files of its registered partitions (or, with partition
 * projection, of the partitions its template and ranges admit). Files of an unregistered
 * partition are not in the list, so they are invisible, as in Athena. Columns are cast to
 * the catalog's types; a column no file has reads as NULL.
 *
 * Partition values come from the catalog, never from data paths: each partition gets a
 * directory `<lakeDir>/athena/views/<db>/<table>/<key>=<value>/...` holding a symbolic link
 * `@` to the partition's real location (a junction on Windows). DuckDB reads the files
 * through those links with hive partitioning on, so the values it sees are exactly the
 * catalog's (percent-encoded in the path, decoded by DuckDB), typed by `hive_types`, and it
 * prunes files by partition predicates at planning, as Athena prunes partitions. The link
 * tree does not depend on the data's own layout: hive (`year=2024/`) and Firehose's
 * (`2024/05/17/13/`) read the same way.
 *
 * The view's `WHERE file_index <> <marker>` is always true; it names the table's scans in
 * DuckDB's plans, which is how scan-stats.ts bills them.
 *
 * A view is rebuilt only when its fingerprint (table definition, partitions, file keys,
 * sizes and modification times) changes. Footers are read once per file version and kept
 * for later processes (scan-footer-cache.ts). Which objects belong to which partition is
 * decided in lake-view-layout.ts; links, directory stamps and footer reads are in
 * lake-view-files.ts.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseGlueType, toDuckdbType } from '../glue-types.js';
import type { Catalog, ObjectStore, TableDef } from '../ports.js';
import { ParquetFooterError } from '../query/parquet-footer.js';
import { sqlString } from './athena-functions.js';
import { directoriesUnchanged, ensureLink, mapConcurrent, mtimes, readFooter } from './lake-view-files.js';
import {
  defaultLocation,
  fingerprintOf,
  isHidden,
  isPlainRelativePath,
  isProjected,
  type Listed,
  listingRoot,
  parseS3,
  type PartitionSpec,
  type PlacedPartition,
  placeProjected,
  placeRegistered,
} from './lake-view-layout.js';
import { FooterCache } from './scan-footer-cache.js';
import type { FileFooter } from './scan-stats.js';

export const LAKE_CATALOG = 'awsdatacatalog';
/** Markers (see the module comment) are large enough never to equal a real file_index. */
const MARKER_BASE = 1_000_000_000;
const LIST_CONCURRENCY = 16;
/** Directories changed this recently may still change within the same clock tick. */
const LISTING_SETTLE_MS = 2000;
const FOOTER_CONCURRENCY = 32;
const LINK_CONCURRENCY = 32;

export interface ViewFile {
  bucket: string;
  key: string;
  /** The path DuckDB reads (through the partition's link). */
  path: string;
  footer: FileFooter;
}

export interface ViewPartition {
  values: string[];
  files: ViewFile[];
}

export interface TableView {
  database: string;
  name: string;
  marker: number;
  fingerprint: string;
  table: TableDef;
  partitions: ViewPartition[];
  /** Lowercased names of the data columns as files hold them (partition keys excluded). */
  dataColumns: Set<string>;
  /** Partition keys as DuckDB types them (hive_types). */
  keyTypes: { name: string; type: string }[];
  /** Temp table of partition values, for evaluating DuckDB's file filters. */
  partitionTable?: string;
}

export interface LakeViewsOptions {
  lakeDir: string;
  catalog: Catalog;
  store: ObjectStore;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A path segment holding a partition value DuckDB decodes back exactly: everything but
 * [A-Za-z0-9_.-] percent-encoded, and DuckDB's NULL spellings escaped.
 */
export function encodeHiveValue(value: string): string {
  const encoded = Array.from(new TextEncoder().encode(value), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_.-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  // DuckDB reads these two spellings as NULL: escape their first letter.
  if (/^(NULL|__HIVE_DEFAULT_PARTITION__)$/i.test(encoded)) return `%${encoded.charCodeAt(0).toString(16).toUpperCase()}${encoded.slice(1)}`;
  return encoded;
}

export class LakeViews {
  private readonly views = new Map<string, TableView>();
  private readonly byMarkerMap = new Map<number, TableView>();
  private readonly footers: FooterCache;
  private readonly schemas = new Set<string>();
  private readonly listings = new Map<string, { objects: Listed[]; dirs: Map<string, number> }>();
  private nextMarker = MARKER_BASE + 1;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly options: LakeViewsOptions,
  ) {
    this.footers = new FooterCache(join(options.lakeDir, 'athena', 'footers.json'));
  }

  byMarker(marker: number): TableView | undefined {
    return this.byMarkerMap.get(marker);
  }

  async ensureSchema(database: string): Promise<void> {
    if (this.schemas.has(database)) return;
    await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${LAKE_CATALOG}.${quoteIdent(database)}`);
    this.schemas.add(database);
  }

  /** The up-to-date view of a table, or undefined (and no view) when the catalog has none. */
  async ensure(database: string, name: string): Promise<TableView | undefined> {
    const id = `${database}.${name}`;
    const table = await this.options.catalog.getTable(database, name);
    const existing = this.views.get(id);
    if (!table) {
      if (existing) await this.drop(existing);
      return undefined;
    }
    const specs = isProjected(table) ? undefined : await this.registeredPartitions(table);
    const files = await this.listFiles(table, specs);
    const placed = isProjected(table) ? placeProjected(table, files) : placeRegistered(table, specs!, files);
    const fingerprint = fingerprintOf(table, placed);
    if (existing && existing.fingerprint === fingerprint) return existing;
    if (existing) await this.drop(existing);
    const view = await this.build(table, placed, fingerprint);
    this.views.set(id, view);
    this.byMarkerMap.set(view.marker, view);
    return view;
  }

  private async drop(view: TableView): Promise<void> {
    this.views.delete(`${view.database}.${view.name}`);
    this.byMarkerMap.delete(view.marker);
    await this.conn.run(`DROP VIEW IF EXISTS ${LAKE_CATALOG}.${quoteIdent(view.database)}.${quoteIdent(view.name)}`);
    if (view.partitionTable) await this.conn.run(`DROP TABLE IF EXISTS ${view.partitionTable}`);
  }

  private async registeredPartitions(table: TableDef): Promise<PartitionSpec[]> {
    const specs: PartitionSpec[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.options.catalog.getPartitions(table.database, table.name, { nextToken, maxResults: 1000 });
      for (const p of page.partitions) specs.push({ values: p.values, location: p.location || defaultLocation(table, p) });
      nextToken = page.nextToken;
    } while (nextToken);
    return specs;
  }

  /**
   * The objects Athena would read: under each registered partition's location (several
   * listed at once), or under the table location (unpartitioned) or the template's fixed
   * prefix (projection). Unregistered partitions are never listed.
   */
  private async listFiles(table: TableDef, specs: PartitionSpec[] | undefined): Promise<Listed[]> {
    const roots = new Map<string, { bucket: string; prefix: string }>();
    if (specs && table.partitionKeys.length > 0) {
      for (const spec of specs) {
        const root = parseS3(spec.location);
        roots.set(`${root.bucket}/${root.prefix}`, root);
      }
    } else {
      const root = parseS3(listingRoot(table));
      roots.set(`${root.bucket}/${root.prefix}`, root);
    }
    const listed = await mapConcurrent([...roots.values()], LIST_CONCURRENCY, (root) => this.listRoot(root));
    const seen = new Set<string>();
    const files: Listed[] = [];
    for (const object of listed.flat()) {
      const id = `${object.bucket}/${object.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      files.push(object);
    }
    return files;
  }

  /**
   * One location's objects. The store's listing is the truth; it is reused, within this
   * process, while none of the directories holding the objects has changed (a write or a
   * rename in the local store always changes its directory's modification time). A
   * listing whose directories changed in the last seconds is not reused: a write in the
   * same clock tick would not show.
   */
  private async listRoot(root: { bucket: string; prefix: string }): Promise<Listed[]> {
    const id = `${root.bucket}/${root.prefix}`;
    const cached = this.listings.get(id);
    if (cached && directoriesUnchanged(cached.dirs)) return cached.objects;
    const started = Date.now();
    const objects: Listed[] = [];
    try {
      for await (const object of this.options.store.listAll(root.bucket, { prefix: root.prefix })) {
        if (!isHidden(object.key.slice(root.prefix.length))) objects.push({ ...object, bucket: root.bucket });
      }
    } catch (err) {
      // A fresh local lake has no bucket folder until data arrives: no objects, not an error.
      if ((err as { code?: unknown }).code !== 'NoSuchBucket') throw err;
      return [];
    }
    const dirs = new Map<string, number>();
    const base = join(this.options.lakeDir, 's3', root.bucket);
    dirs.set(join(base, ...root.prefix.split('/')), 0);
    for (const object of objects) {
      const parts = object.key.split('/').slice(0, -1);
      for (let i = root.prefix.split('/').length - 1; i <= parts.length; i++) dirs.set(join(base, ...parts.slice(0, i)), 0);
    }
    const stamps = mtimes([...dirs.keys()]);
    if (stamps && stamps.every((t) => t < started - LISTING_SETTLE_MS)) {
      [...dirs.keys()].forEach((dir, i) => dirs.set(dir, stamps[i]!));
      this.listings.set(id, { objects, dirs });
    } else {
      this.listings.delete(id);
    }
    return objects;
  }

  private async build(table: TableDef, placed: PlacedPartition[], fingerprint: string): Promise<TableView> {
    const marker = this.nextMarker++;
    const viewDir = join(this.options.lakeDir, 'athena', 'views', table.database, table.name);
    const keys = table.partitionKeys;
    const partitions: ViewPartition[] = [];
    const pending: { partition: ViewPartition; object: Listed; path: string }[] = [];
    const links: { path: string; target: string; kind: 'dir' | 'file' }[] = [];
    for (const p of placed) {
      const partDir = keys.length === 0 ? viewDir : join(viewDir, ...keys.map((k, i) => `${k.name.toLowerCase()}=${encodeHiveValue(p.values[i]!)}`));
      const target = join(this.options.lakeDir, 's3', p.root.bucket, ...p.root.prefix.split('/').filter(Boolean));
      const partition: ViewPartition = { values: p.values, files: [] };
      partitions.push(partition);
      if (p.files.length === 0) continue;
      links.push({ path: join(partDir, '@'), target, kind: 'dir' });
      for (const object of p.files) {
        const rel = object.key.slice(p.root.prefix.length);
        let path = join(partDir, '@', ...rel.split('/'));
        if (!isPlainRelativePath(rel)) {
          // Directories named k=v (or glob characters) below the partition would confuse
          // DuckDB's hive parsing: link such a file on its own, under a neutral name.
          path = join(partDir, `@${createHash('sha1').update(rel).digest('hex').slice(0, 20)}.parquet`);
          links.push({ path, target: join(target, ...rel.split('/')), kind: 'file' });
        }
        pending.push({ partition, object, path });
      }
    }
    await mapConcurrent(links, LINK_CONCURRENCY, (l) => ensureLink(l.path, l.target, l.kind));
    const footers = await this.footersFor(
      pending.map(({ object }) => ({ id: `${object.bucket}/${object.key}`, bucket: object.bucket, key: object.key, size: object.size, version: `${object.size}:${object.lastModified.getTime()}` })),
    );
    for (const { partition, object, path } of pending) {
      const footer = footers.get(`${object.bucket}/${object.key}`);
      if (footer) partition.files.push({ bucket: object.bucket, key: object.key, path, footer });
    }
    const files = partitions.flatMap((p) => p.files);
    const dataColumns = new Set<string>();
    const fileColumnName = new Map<string, string>();
    let schemasDiffer = false;
    let firstSchema: string | undefined;
    for (const f of files) {
      const names = [...f.footer.columns.values()].map((c) => c.name);
      const schema = names.join('\u0000');
      if (firstSchema === undefined) firstSchema = schema;
      else if (schema !== firstSchema) schemasDiffer = true;
      for (const n of names) {
        dataColumns.add(n.toLowerCase());
        if (!fileColumnName.has(n.toLowerCase())) fileColumnName.set(n.toLowerCase(), n);
      }
    }
    for (const k of keys) dataColumns.delete(k.name.toLowerCase());

    await this.ensureSchema(table.database);
    const columnSql = table.columns.map((c) => {
      const type = toDuckdbType(parseGlueType(c.type));
      const inFiles = fileColumnName.get(c.name.toLowerCase());
      return inFiles === undefined ? `CAST(NULL AS ${type}) AS ${quoteIdent(c.name)}` : `CAST(${quoteIdent(inFiles)} AS ${type}) AS ${quoteIdent(c.name)}`;
    });
    const keyTypes = keys.map((k) => ({ name: k.name.toLowerCase(), type: toDuckdbType(parseGlueType(k.type)) }));
    let body: string;
    if (files.length === 0) {
      body = `SELECT ${[...columnSql, ...keyTypes.map((k) => `CAST(NULL AS ${k.type}) AS ${quoteIdent(k.name)}`)].join(', ')} WHERE false`;
    } else {
      const options = [
        `hive_partitioning = ${keys.length > 0}`,
        ...(keys.length > 0 ? [`hive_types = {${keyTypes.map((k) => `${sqlString(k.name)}: ${sqlString(k.type)}`).join(', ')}}`, 'hive_types_autocast = false'] : []),
        ...(schemasDiffer ? ['union_by_name = true'] : []),
      ];
      const list = `[${files.map((f) => sqlString(f.path)).join(', ')}]`;
      body = `SELECT ${[...columnSql, ...keyTypes.map((k) => quoteIdent(k.name))].join(', ')} FROM read_parquet(${list}, ${options.join(', ')}) WHERE file_index <> ${marker}`;
    }
    await this.conn.run(`CREATE OR REPLACE VIEW ${LAKE_CATALOG}.${quoteIdent(table.database)}.${quoteIdent(table.name)} AS ${body}`);

    return { database: table.database, name: table.name, marker, fingerprint, table, partitions, dataColumns, keyTypes };
  }

  /** The view's partition values as a temp table, made on first use (not every query filters). */
  private async partitionTable(view: TableView): Promise<string | undefined> {
    if (view.keyTypes.length === 0 || view.partitions.length === 0) return undefined;
    if (!view.partitionTable) {
      const name = quoteIdent(`__lake_partitions_${view.marker}`);
      const rows = view.partitions.map((p, i) => `(${i}, ${p.values.map((v, j) => `CAST(${sqlString(v)} AS ${view.keyTypes[j]!.type})`).join(', ')})`);
      await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM (VALUES ${rows.join(', ')}) AS t(__lake_partition, ${view.keyTypes.map((k) => quoteIdent(k.name)).join(', ')})`);
      view.partitionTable = name;
    }
    return view.partitionTable;
  }

  /**
   * The partitions DuckDB keeps for a scan whose `File Filters` are `expression`: the
   * filter evaluated over the partition values. Undefined when it cannot be evaluated or
   * disagrees with DuckDB's own count, so the caller can fall back.
   */
  async survivingPartitions(view: TableView, expression: string, expectedFiles?: number): Promise<number[] | undefined> {
    try {
      const table = await this.partitionTable(view);
      if (!table) return undefined;
      const reader = await this.conn.runAndReadAll(`SELECT __lake_partition FROM ${table} WHERE ${expression}`);
      const kept = reader.getRows().map((r) => Number(r[0]));
      const files = kept.reduce((n, i) => n + (view.partitions[i]?.files.length ?? 0), 0);
      if (expectedFiles !== undefined && files !== expectedFiles) return undefined;
      return kept;
    } catch {
      return undefined;
    }
  }

  /**
   * Footers of the files DuckDB will read, from cache or from the files' last bytes (the
   * files DuckDB opens, read directly: the object store's ranged GET costs several times
   * more a file). What is not Parquet is left out.
   */
  private async footersFor(files: { id: string; bucket: string; key: string; size: number; version: string }[]): Promise<Map<string, FileFooter>> {
    const result = new Map<string, FileFooter>();
    const missing: typeof files = [];
    for (const f of files) {
      const cached = await this.footers.get(f.id, f.version);
      if (cached === undefined) missing.push(f);
      else if (cached) result.set(f.id, cached);
    }
    await mapConcurrent(missing, FOOTER_CONCURRENCY, async (f) => {
      let footer: FileFooter | null = null;
      try {
        footer = await readFooter(join(this.options.lakeDir, 's3', f.bucket, ...f.key.split('/')), f.key);
      } catch (err) {
        // Not Parquet: Athena would fail on it; the local lake ignores it. Other errors stand.
        if (!(err instanceof ParquetFooterError)) throw err;
      }
      this.footers.set(f.id, f.version, footer);
      if (footer) result.set(f.id, footer);
    });
    await this.footers.save();
    return result;
  }
}
