/**
 * Athena's scan, predicted: `EXPLAIN (TYPE IO, FORMAT JSON) <sql>` (free, runs nothing)
 * names each table scan and the constraints on its columns; the partitions whose values
 * satisfy the constraints on the partition keys survive pruning (registered partitions
 * from the catalog, or with partition projection the prefixes found under the template);
 * their objects are listed, and the bytes are:
 *
 * - when there are at most `footerFileLimit` files: per file, the footer plus the
 *   compressed column chunks of the columns the query names (read from the Parquet footer,
 *   one ranged GET a file), as Athena bills Parquet;
 * - otherwise: the objects' whole sizes, an upper bound.
 *
 * The IO plan lists the constraint columns, not every column read, so the columns come
 * from the SQL: the table's columns named anywhere in it (all of them for `*`). That over-
 * counts a column named only as an alias, never under-counts. A table scanned twice with
 * the same constraints (a self-join) appears once in the plan; the FROM/JOIN clauses
 * naming it say how many scans to bill.
 */
import { ServiceError } from '../errors.js';
import { type ColumnRead, fileScanBytes } from '../local/scan-stats.js';
import type { Catalog, ObjectInfo, ObjectStore, QueryEngine, TableDef } from '../ports.js';
import { mapConcurrent } from '../retry.js';
import { isBillable } from './cost.js';
import type { EstimateRequest, ScanEstimate } from './estimate.js';
import { type ExecutionOptions, executeQuery } from './execution.js';
import { type IoTableScan, parseIoPlan, partitionSurvives } from './explain-io.js';
import { readParquetFooter } from './parquet-footer.js';

export const DEFAULT_FOOTER_FILE_LIMIT = 200;
const LIST_CONCURRENCY = 8;
const FOOTER_CONCURRENCY = 16;

interface Partition {
  values: (string | null)[];
  bucket: string;
  prefix: string;
}

interface Placed {
  partition: Partition;
  files: ObjectInfo[];
}

export async function estimateFromExplainIo(
  deps: { engine: QueryEngine; catalog: Catalog; store: ObjectStore },
  request: EstimateRequest,
  options: { signal?: AbortSignal; execution?: ExecutionOptions; footerFileLimit?: number } = {},
): Promise<ScanEstimate> {
  if (!isBillable(request.sql)) return { scannedBytes: 0, partitions: 0, files: 0, method: 'not a query: reads no data' };
  const plan = await explainIo(deps.engine, request, options);
  const scans = parseIoPlan(plan);
  const byTable = new Map<string, IoTableScan[]>();
  for (const scan of scans) byTable.set(`${scan.database}.${scan.table}`, [...(byTable.get(`${scan.database}.${scan.table}`) ?? []), scan]);

  let scannedBytes = 0;
  let footersRead = true;
  const partitionsRead = new Set<string>();
  const filesRead = new Set<string>();
  for (const tableScans of byTable.values()) {
    const { database, table: name } = tableScans[0]!;
    const table = await deps.catalog.getTable(database, name);
    if (!table) continue; // information_schema and other catalogs: metadata, not S3 data
    const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
    const partitions = await partitionsOf(deps, table, options.signal);
    const listed = new Map<Partition, ObjectInfo[]>();
    const perScan: Placed[][] = [];
    for (const scan of tableScans) {
      const kept = partitions.filter((p) => partitionSurvives(scan, keys, p.values));
      await mapConcurrent(kept.filter((p) => !listed.has(p)), LIST_CONCURRENCY, async (p) => listed.set(p, await listData(deps.store, p, options.signal)));
      perScan.push(kept.map((p) => ({ partition: p, files: listed.get(p)! })));
    }
    const files = [...new Set(perScan.flat().flatMap((placed) => placed.files.map((f) => `${placed.partition.bucket}/${f.key}`)))];
    const columns = columnsReferenced(request.sql, table.columns.map((c) => c.name));
    const useFooters = files.length <= (options.footerFileLimit ?? DEFAULT_FOOTER_FILE_LIMIT);
    footersRead &&= useFooters;
    const sizes = useFooters ? await footerSizes(deps.store, perScan.flat(), columns, options.signal) : new Map<string, number>();
    const scanBytes = perScan.map((placedList) =>
      placedList.reduce((sum, placed) => sum + placed.files.reduce((n, f) => n + (sizes.get(`${placed.partition.bucket}/${f.key}`) ?? f.size), 0), 0),
    );
    // Scans the plan folded together (identical table and constraints) are billed again.
    const extra = Math.max(0, scansNamed(request.sql, name) - tableScans.length);
    scannedBytes += scanBytes.reduce((a, b) => a + b, 0) + extra * Math.max(0, ...scanBytes);
    for (const placed of perScan.flat()) {
      if (placed.files.length > 0) partitionsRead.add(`${placed.partition.bucket}/${placed.partition.prefix}`);
      for (const f of placed.files) filesRead.add(`${placed.partition.bucket}/${f.key}`);
    }
  }
  return {
    scannedBytes,
    partitions: partitionsRead.size,
    files: filesRead.size,
    method: footersRead ? 'athena-explain-io+parquet-footers' : 'athena-explain-io+object-sizes',
  };
}

/** Runs the EXPLAIN and returns its text (the rows of its one column, joined). */
async function explainIo(engine: QueryEngine, request: EstimateRequest, options: { signal?: AbortSignal; execution?: ExecutionOptions }): Promise<string> {
  const { info } = await executeQuery(
    engine,
    { sql: `EXPLAIN (TYPE IO, FORMAT JSON) ${request.sql}`, database: request.database, workgroup: request.workgroup, params: request.params },
    { ...options.execution, signal: options.signal },
  );
  if (info.state !== 'SUCCEEDED') {
    throw new ServiceError(`the estimate's EXPLAIN ${info.state.toLowerCase()}: ${info.stateReason ?? 'no reason given'}`, { service: 'athena', code: 'ExplainFailed', hint: 'the query itself would fail the same way; fix it and retry' });
  }
  const lines: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await engine.resultPage(info.queryId, { nextToken, signal: options.signal });
    for (const row of page.rows) lines.push(row[0] ?? '');
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return lines.join('\n');
}

// ---------------------------------------------------------------- partitions and files

async function partitionsOf(deps: { catalog: Catalog; store: ObjectStore }, table: TableDef, signal?: AbortSignal): Promise<Partition[]> {
  if (table.partitionKeys.length === 0) return [{ values: [], ...splitS3(table.location) }];
  const template = table.parameters['projection.enabled']?.toLowerCase() === 'true' ? table.parameters['storage.location.template'] : undefined;
  if (template) return projectedPartitions(deps.store, table, template, signal);
  const out: Partition[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.catalog.getPartitions(table.database, table.name, { nextToken, maxResults: 1000, signal });
    for (const p of page.partitions) out.push({ values: p.values.map((v) => (v === '__HIVE_DEFAULT_PARTITION__' ? null : v)), ...splitS3(p.location) });
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return out;
}

/** With projection, the partitions are the prefixes under the template that hold objects. */
async function projectedPartitions(store: ObjectStore, table: TableDef, template: string, signal?: AbortSignal): Promise<Partition[]> {
  const { bucket, prefix: templatePrefix } = splitS3(template);
  const fixed = templatePrefix.slice(0, templatePrefix.indexOf('${') < 0 ? templatePrefix.length : templatePrefix.indexOf('${'));
  const root = fixed.slice(0, fixed.lastIndexOf('/') + 1);
  const names: string[] = [];
  const pattern = new RegExp(
    '^' +
      templatePrefix.replace(/\$\{([^}]+)\}|[.*+?^${}()|[\]\\]/g, (m, key: string | undefined) => {
        if (key === undefined) return `\\${m}`;
        names.push(key.toLowerCase());
        return '([^/]+)';
      }),
  );
  const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
  const found = new Map<string, Partition>();
  for await (const object of store.listAll(bucket, { prefix: root, signal })) {
    const m = pattern.exec(object.key);
    if (!m) continue;
    const prefix = m[0];
    if (!found.has(prefix)) found.set(prefix, { values: keys.map((k) => m[names.indexOf(k) + 1] ?? null), bucket, prefix });
  }
  return [...found.values()];
}

async function listData(store: ObjectStore, partition: Partition, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const files: ObjectInfo[] = [];
  for await (const object of store.listAll(partition.bucket, { prefix: partition.prefix, signal })) {
    // Hive's hidden files (_SUCCESS, .crc) and zero-byte folder markers are not data.
    const rest = object.key.slice(partition.prefix.length);
    if (object.size === 0 || rest.split('/').some((s) => s.startsWith('_') || s.startsWith('.'))) continue;
    files.push(object);
  }
  return files;
}

/** Bytes per file (bucket/key) from its footer; files whose footer is unreadable keep their size. */
async function footerSizes(store: ObjectStore, placed: Placed[], columns: ColumnRead[], signal?: AbortSignal): Promise<Map<string, number>> {
  const files = new Map<string, { bucket: string; file: ObjectInfo }>();
  for (const p of placed) for (const file of p.files) files.set(`${p.partition.bucket}/${file.key}`, { bucket: p.partition.bucket, file });
  const sizes = new Map<string, number>();
  await mapConcurrent([...files.entries()], FOOTER_CONCURRENCY, async ([id, { bucket, file }]) => {
    try {
      const footer = await readParquetFooter(store, bucket, file.key, file.size, signal);
      sizes.set(id, Math.min(file.size, fileScanBytes(footer, columns)));
    } catch (err) {
      if (signal?.aborted) throw err;
      // Not Parquet (or unreadable): Athena would read all of it.
    }
  });
  return sizes;
}

function splitS3(location: string): { bucket: string; prefix: string } {
  const m = /^s3a?n?:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!m) throw new ServiceError(`not an s3:// location: ${location}`, { service: 'glue', code: 'BadLocation' });
  const prefix = m[2]!;
  return { bucket: m[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

// ---------------------------------------------------------------- what the SQL reads

/** The SQL without comments and string literals, lowercased; quoted identifiers unquoted. */
function sqlWords(sql: string): string {
  return sql
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"((?:[^"]|"")*)"/g, (_, name: string) => name.replace(/""/g, '"'))
    .toLowerCase();
}

/** The table's columns a query names (all of them for `*` or `t.*`). */
export function columnsReferenced(sql: string, columns: readonly string[]): ColumnRead[] {
  const words = sqlWords(sql);
  const all = /(\bselect(\s+(all|distinct))?|,|\.)\s*\*/.test(words);
  const named = new Set(words.match(/[a-z_][a-z0-9_$]*/g) ?? []);
  return columns.filter((c) => all || named.has(c.toLowerCase())).map((c) => ({ column: c.toLowerCase(), fields: [] }));
}

/** How many FROM/JOIN clauses name the table. */
export function scansNamed(sql: string, table: string): number {
  const words = sqlWords(sql);
  let count = 0;
  for (const m of words.matchAll(/\b(?:from|join)\s+([a-z0-9_$]+(?:\s*\.\s*[a-z0-9_$]+){0,2})/g)) {
    if (m[1]!.split('.').at(-1)!.trim() === table.toLowerCase()) count++;
  }
  return count;
}
