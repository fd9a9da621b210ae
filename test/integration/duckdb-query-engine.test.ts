import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CUTOFF_REASON, DuckdbQueryEngine, USER_CANCEL_REASON } from '../../src/lib/local/duckdb-query-engine.js';
import { FileCatalog } from '../../src/lib/local/file-catalog.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import { executeQuery } from '../../src/lib/query/execution.js';
import { openResults } from '../../src/lib/query/results.js';
import type {
  BatchPartitionResult,
  Catalog,
  DatabaseDef,
  GetPartitionsOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PartitionDef,
  PartitionPage,
  QueryExecutionInfo,
  TableDef,
} from '../../src/lib/ports.js';

// ---------------------------------------------------------------- fakes of the two ports

/** Glue in memory: tables and partitions, pages of `maxResults`, Glue's per-item errors. */
class MemoryCatalog implements Catalog {
  readonly tables = new Map<string, TableDef>();
  readonly partitions = new Map<string, PartitionDef[]>();
  getDatabase(name: string): Promise<DatabaseDef | undefined> {
    return Promise.resolve({ name });
  }
  createDatabase(): Promise<void> {
    return Promise.resolve();
  }
  getTable(database: string, name: string): Promise<TableDef | undefined> {
    return Promise.resolve(this.tables.get(`${database}.${name}`));
  }
  createTable(table: TableDef): Promise<void> {
    this.tables.set(`${table.database}.${table.name}`, table);
    this.partitions.set(`${table.database}.${table.name}`, []);
    return Promise.resolve();
  }
  updateTable(table: TableDef): Promise<void> {
    this.tables.set(`${table.database}.${table.name}`, table);
    return Promise.resolve();
  }
  deleteTable(database: string, name: string): Promise<void> {
    this.tables.delete(`${database}.${name}`);
    return Promise.resolve();
  }
  getPartitions(database: string, table: string, options: GetPartitionsOptions = {}): Promise<PartitionPage> {
    const all = this.partitions.get(`${database}.${table}`) ?? [];
    const start = Number(options.nextToken ?? 0);
    const end = start + (options.maxResults ?? 1000);
    return Promise.resolve({ partitions: all.slice(start, end), ...(end < all.length ? { nextToken: String(end) } : {}) });
  }
  batchCreatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult> {
    const list = this.partitions.get(`${database}.${table}`)!;
    const errors = [];
    for (const p of partitions) {
      if (list.some((q) => q.values.join('/') === p.values.join('/'))) errors.push({ values: p.values, code: 'AlreadyExistsException', message: 'Partition already exists.' });
      else list.push(p);
    }
    return Promise.resolve({ errors });
  }
  batchDeletePartition(database: string, table: string, values: string[][]): Promise<BatchPartitionResult> {
    const key = `${database}.${table}`;
    const errors = [];
    for (const v of values) {
      const list = this.partitions.get(key)!;
      const kept = list.filter((p) => p.values.join('/') !== v.join('/'));
      if (kept.length === list.length) errors.push({ values: v, code: 'EntityNotFoundException', message: 'Partition not found.' });
      this.partitions.set(key, kept);
    }
    return Promise.resolve({ errors });
  }
  batchUpdatePartition(): Promise<BatchPartitionResult> {
    return Promise.resolve({ errors: [] });
  }
}

/** S3 over the real `<lakeDir>/s3/<bucket>/<key>` files for listing, results kept in memory. */
class LakeDirStore implements ObjectStore {
  readonly written = new Map<string, string>();
  constructor(private readonly lakeDir: string) {}
  private walk(bucket: string, prefix: string): ObjectInfo[] {
    const root = join(this.lakeDir, 's3', bucket);
    const out: ObjectInfo[] = [];
    const visit = (dir: string) => {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of entries) {
        const path = join(dir, name);
        const st = statSync(path);
        if (st.isDirectory()) visit(path);
        else {
          const key = relative(root, path).split('\\').join('/');
          if (key.startsWith(prefix) && !name.startsWith('.lake-tmp-')) out.push({ key, size: st.size, lastModified: st.mtime });
        }
      }
    };
    visit(root);
    for (const key of this.written.keys()) if (key.startsWith(`${bucket}/${prefix}`)) out.push({ key: key.slice(bucket.length + 1), size: 1, lastModified: new Date(0) });
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    return Promise.resolve({ objects: this.walk(bucket, options.prefix ?? ''), commonPrefixes: [] });
  }
  async *listAll(bucket: string, options: Omit<ListOptions, 'continuationToken'> = {}): AsyncIterable<ObjectInfo> {
    await Promise.resolve();
    yield* this.walk(bucket, options.prefix ?? '');
  }
  head(): Promise<ObjectInfo | undefined> {
    return Promise.resolve(undefined);
  }
  get(bucket: string, key: string, options: { range?: { start: number; end: number } } = {}): Promise<Uint8Array> {
    const text = this.written.get(`${bucket}/${key}`);
    if (text !== undefined) return Promise.resolve(new TextEncoder().encode(text));
    const bytes = readFileSync(join(this.lakeDir, 's3', bucket, ...key.split('/')));
    return Promise.resolve(options.range ? bytes.subarray(options.range.start, options.range.end + 1) : bytes);
  }
  async getStream(bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
    const bytes = await this.get(bucket, key);
    return (async function* () {
      yield bytes;
    })();
  }
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    this.written.set(`${bucket}/${key}`, typeof body === 'string' ? body : new TextDecoder().decode(body));
    return Promise.resolve();
  }
  deleteMany(): Promise<{ deleted: string[]; errors: [] }> {
    return Promise.resolve({ deleted: [], errors: [] });
  }
  copy(): Promise<void> {
    return Promise.resolve();
  }
}

// ---------------------------------------------------------------- the fixture lake

const BUCKET = 'lake-bucket';
const ROWS = 400;
let lakeDir: string;
let duck: DuckDBConnection;
let catalog: MemoryCatalog;
let store: LakeDirStore;
const engines: DuckdbQueryEngine[] = [];

/** Row i of a file for month m: every column a pure function of (m, i), so tests can recompute aggregates. */
function row(m: number, i: number) {
  return { source: `src${i % 3}`, status: 200 + (i % 4) * 100, amount: i * 0.5 + m, minute: i, price: (i % 10) * 2.25 };
}

async function writeParquet(key: string, month: number, firstRow: number, rows: number): Promise<string> {
  const path = join(lakeDir, 's3', BUCKET, ...key.split('/'));
  mkdirSync(join(path, '..'), { recursive: true });
  await duck.run(`COPY (
    SELECT 'src' || (i % 3) AS source, CAST(200 + (i % 4) * 100 AS INTEGER) AS status, i * 0.5 + ${month} AS amount,
      TIMESTAMP '2024-${String(month).padStart(2, '0')}-01 00:00:00' + to_minutes(CAST(i AS BIGINT)) AS ts,
      CAST((i % 10) * 2.25 AS DECIMAL(10,2)) AS price, ['a', 'b' || (i % 2)] AS tags, MAP {'k': CAST(i % 7 AS INTEGER)} AS attrs,
      {'x': CAST(i AS INTEGER), 'y': 'y' || (i % 2)} AS info, i % 2 = 0 AS ok
    FROM range(${firstRow}, ${firstRow + rows}) t(i)) TO '${path}' (FORMAT parquet)`);
  return path;
}

const EVENTS: TableDef = {
  database: 'weblogs',
  name: 'events',
  location: `s3://${BUCKET}/data/events/`,
  columns: [
    { name: 'source', type: 'string' },
    { name: 'status', type: 'int' },
    { name: 'amount', type: 'double' },
    { name: 'ts', type: 'timestamp' },
    { name: 'price', type: 'decimal(10,2)' },
    { name: 'tags', type: 'array<string>' },
    { name: 'attrs', type: 'map<string,int>' },
    { name: 'info', type: 'struct<x:int,y:string>' },
    { name: 'ok', type: 'boolean' },
  ],
  partitionKeys: [
    { name: 'year', type: 'string' },
    { name: 'month', type: 'string' },
  ],
  parameters: { classification: 'parquet' },
};

/** Files per registered month: 04 and 06 one file each, 05 two files; 07 exists but is not registered. */
const FILES: Record<string, string[]> = {};

beforeAll(async () => {
  lakeDir = mkdtempSync(join(tmpdir(), 'lake-duckdb-'));
  const instance = await DuckDBInstance.create(':memory:');
  duck = await instance.connect();
  FILES['04'] = [await writeParquet('data/events/year=2024/month=04/events-1.parquet', 4, 0, ROWS)];
  FILES['05'] = [await writeParquet('data/events/year=2024/month=05/events-1.parquet', 5, 0, ROWS), await writeParquet('data/events/year=2024/month=05/events-2.parquet', 5, ROWS, ROWS)];
  FILES['06'] = [await writeParquet('data/events/year=2024/month=06/events-1.parquet', 6, 0, ROWS)];
  FILES['07'] = [await writeParquet('data/events/year=2024/month=07/events-1.parquet', 7, 0, ROWS)];
  // Firehose layout: partition values live only in the catalog.
  await writeParquet('data/fh/2024/05/17/13/fh-1.parquet', 5, 0, 10);
  await writeParquet('data/fh/2024/05/18/01/fh-1.parquet', 5, 10, 10);
  // Partition projection: 1999 is outside the projected range.
  await writeParquet('data/proj/2024/05/p.parquet', 5, 0, 5);
  await writeParquet('data/proj/2024/06/p.parquet', 6, 0, 7);
  await writeParquet('data/proj/1999/01/p.parquet', 1, 0, 11);
  // Not data: a temporary object, Hive's marker, a text file.
  for (const name of ['.lake-tmp-123-abc.parquet', '_SUCCESS', 'notes.txt']) writeFileSync(join(lakeDir, 's3', BUCKET, 'data/events/year=2024/month=06', name), 'not parquet');
  // Schema evolution: the 2024 file predates column `extra`; no file has `added` yet.
  for (const [key, columns] of [
    ['data/evolve/year=2023/old.parquet', "'a' AS source"],
    ['data/evolve/year=2024/new.parquet', "'b' AS source, 42 AS extra"],
  ] as const) {
    const path = join(lakeDir, 's3', BUCKET, ...key.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    await duck.run(`COPY (SELECT ${columns}) TO '${path}' (FORMAT parquet)`);
  }
});

afterAll(() => {
  duck.closeSync();
  rmSync(lakeDir, { recursive: true, force: true });
});

function freshCatalog(): MemoryCatalog {
  const c = new MemoryCatalog();
  void c.createTable(EVENTS);
  void c.batchCreatePartition('weblogs', 'events', ['04', '05', '06'].map((m) => ({ values: ['2024', m], location: `s3://${BUCKET}/data/events/year=2024/month=${m}/` })));
  void c.createTable({
    ...EVENTS,
    name: 'fh',
    location: `s3://${BUCKET}/data/fh/`,
    partitionKeys: ['year', 'month', 'day', 'hour'].map((name) => ({ name, type: 'string' })),
  });
  void c.batchCreatePartition('weblogs', 'fh', [
    { values: ['2024', '05', '17', '13'], location: `s3://${BUCKET}/data/fh/2024/05/17/13/` },
    { values: ['2024', '05', '18', '01'], location: `s3://${BUCKET}/data/fh/2024/05/18/01/` },
  ]);
  void c.createTable({
    ...EVENTS,
    name: 'proj',
    location: `s3://${BUCKET}/data/proj/`,
    parameters: {
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'projection.year.range': '2020,2099',
      'projection.month.type': 'integer',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'storage.location.template': `s3://${BUCKET}/data/proj/\${year}/\${month}/`,
    },
  });
  void c.createTable({
    database: 'weblogs',
    name: 'evolve',
    location: `s3://${BUCKET}/data/evolve/`,
    columns: [
      { name: 'source', type: 'string' },
      { name: 'extra', type: 'bigint' },
      { name: 'added', type: 'double' },
    ],
    partitionKeys: [{ name: 'year', type: 'int' }],
    parameters: {},
  });
  void c.batchCreatePartition('weblogs', 'evolve', [
    { values: ['2023'], location: `s3://${BUCKET}/data/evolve/year=2023/` },
    { values: ['2024'], location: `s3://${BUCKET}/data/evolve/year=2024/` },
  ]);
  return c;
}

function newEngine(options: { cutoff?: number | null } = {}): DuckdbQueryEngine {
  const engine = new DuckdbQueryEngine({
    lakeDir,
    catalog,
    store,
    bucket: BUCKET,
    resultsPrefix: 'athena-results/',
    bytesScannedCutoff: options.cutoff ?? null,
    now: () => new Date('2024-05-17T13:45:00Z'),
  });
  engines.push(engine);
  return engine;
}

beforeAll(() => {
  catalog = freshCatalog();
  store = new LakeDirStore(lakeDir);
});

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  catalog = freshCatalog();
});

async function waitFor(engine: DuckdbQueryEngine, queryId: string): Promise<QueryExecutionInfo> {
  for (;;) {
    const info = await engine.describe(queryId);
    if (info.state !== 'QUEUED' && info.state !== 'RUNNING') return info;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function query(engine: DuckdbQueryEngine, sql: string, options: { params?: string[]; database?: string } = {}) {
  const queryId = await engine.start({ sql, database: options.database ?? 'weblogs', params: options.params });
  const info = await waitFor(engine, queryId);
  const rows: (string | null)[][] = [];
  let columns: { name: string; type: string }[] = [];
  if (info.state === 'SUCCEEDED') {
    let nextToken: string | undefined;
    do {
      const page = await engine.resultPage(queryId, { nextToken });
      columns = page.columns;
      rows.push(...page.rows);
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return { queryId, info, rows, columns };
}

// ---------------------------------------------------------------- scanned bytes, independently

/** Footer + chunks of `columns` for each file, straight from DuckDB's parquet_metadata. */
async function expectedBytes(files: string[], columns: string[]): Promise<number> {
  let total = 0;
  for (const file of files) {
    const meta = await duck.runAndReadAll(`SELECT footer_size FROM parquet_file_metadata('${file}')`);
    total += Number(meta.getRows()[0]![0]) + 8;
    if (columns.length === 0) continue;
    const chunks = await duck.runAndReadAll(
      `SELECT coalesce(sum(total_compressed_size), 0) FROM parquet_metadata('${file}') WHERE split_part(path_in_schema, ', ', 1) IN (${columns.map((c) => `'${c}'`).join(', ')})`,
    );
    total += Number(chunks.getRows()[0]![0]);
  }
  return total;
}

const registered = () => [...FILES['04']!, ...FILES['05']!, ...FILES['06']!];

// ---------------------------------------------------------------- tests

describe('DuckdbQueryEngine: views over registered partitions', () => {
  it('given three registered months, when aggregating, then the figures are exact and July (unregistered) is invisible', async () => {
    const engine = newEngine();
    const { info, rows, columns } = await query(engine, 'SELECT count(*) AS n, sum(status) AS s, min(ts) AS first, max(month) AS last_month, sum(amount) AS total FROM events');
    expect(info.state).toBe('SUCCEEDED');
    expect(columns).toEqual([
      { name: 'n', type: 'bigint' },
      { name: 's', type: 'bigint' },
      { name: 'first', type: 'timestamp' },
      { name: 'last_month', type: 'varchar' },
      { name: 'total', type: 'double' },
    ]);
    let status = 0;
    let amount = 0;
    for (const [m, count] of [
      [4, ROWS],
      [5, 2 * ROWS],
      [6, ROWS],
    ] as const) {
      for (let i = 0; i < count; i++) {
        status += row(m, i).status;
        amount += row(m, i).amount;
      }
    }
    expect(rows).toEqual([[String(4 * ROWS), String(status), '2024-04-01 00:00:00.000', '06', javaDouble(amount)]]);
  });

  it('given a partition registered after a first query, when querying again, then the view is rebuilt and July counts', async () => {
    const engine = newEngine();
    expect((await query(engine, "SELECT count(*) FROM events WHERE month = '07'")).rows).toEqual([['0']]);
    await catalog.batchCreatePartition('weblogs', 'events', [{ values: ['2024', '07'], location: `s3://${BUCKET}/data/events/year=2024/month=07/` }]);
    expect((await query(engine, "SELECT count(*) FROM events WHERE month = '07'")).rows).toEqual([[String(ROWS)]]);
  });

  it("given Firehose's 2024/05/17/13/ layout, when grouping by partition keys, then values are the catalog's strings ('05' stays '05')", async () => {
    const engine = newEngine();
    const { rows, columns } = await query(engine, 'SELECT year, month, day, hour, count(*) FROM fh GROUP BY 1, 2, 3, 4 ORDER BY 3, 4');
    expect(columns.map((c) => c.type)).toEqual(['varchar', 'varchar', 'varchar', 'varchar', 'bigint']);
    expect(rows).toEqual([
      ['2024', '05', '17', '13', '10'],
      ['2024', '05', '18', '01', '10'],
    ]);
  });

  it('given a temporary object, _SUCCESS and a text file in a partition, then they are not read', async () => {
    const engine = newEngine();
    expect((await query(engine, "SELECT count(*) FROM events WHERE month = '06'")).rows).toEqual([[String(ROWS)]]);
    expect(await engine.estimateScan("SELECT count(*) FROM events WHERE month = '06'", 'weblogs')).toMatchObject({ partitions: 1, files: 1 });
  });

  it('given files older than a column, then it reads NULL there, and a column no file has is NULL everywhere; an int partition key is an integer', async () => {
    const engine = newEngine();
    const { rows, columns } = await query(engine, 'SELECT year, source, extra, added FROM evolve ORDER BY year');
    expect(columns.map((c) => c.type)).toEqual(['integer', 'varchar', 'bigint', 'double']);
    expect(rows).toEqual([
      ['2023', 'a', null, null],
      ['2024', 'b', '42', null],
    ]);
  });

  it('given partition projection, when querying, then files under the template within range are read and 1999 is not', async () => {
    const engine = newEngine();
    const { rows } = await query(engine, 'SELECT year, month, count(*) FROM proj GROUP BY 1, 2 ORDER BY 1, 2');
    expect(rows).toEqual([
      ['2024', '05', '5'],
      ['2024', '06', '7'],
    ]);
  });
});

describe('DuckdbQueryEngine: scanned bytes', () => {
  it('given a partition filter, when it runs, then it scans strictly less than the full scan, both exactly as parquet_metadata says', async () => {
    const engine = newEngine();
    const full = await query(engine, 'SELECT sum(amount) FROM events');
    const pruned = await query(engine, "SELECT sum(amount) FROM events WHERE month = '05'");
    expect(full.info.stats.scannedBytes).toBe(await expectedBytes(registered(), ['amount']));
    expect(pruned.info.stats.scannedBytes).toBe(await expectedBytes(FILES['05']!, ['amount']));
    expect(pruned.info.stats.scannedBytes).toBeLessThan(full.info.stats.scannedBytes);
  });

  it.each([
    ['partition filter', "SELECT source FROM events WHERE year = '2024' AND month IN ('04', '06')", () => [...FILES['04']!, ...FILES['06']!], ['source']],
    ['column subset', 'SELECT source, status FROM events', registered, ['source', 'status']],
    ['aggregate with a filter column', 'SELECT source, avg(amount) FROM events WHERE status = 300 GROUP BY source', registered, ['amount', 'source', 'status']],
    ['count(*): footers only', 'SELECT count(*) FROM events', registered, []],
    ['top-N: every column returned is billed', 'SELECT * FROM events ORDER BY amount DESC LIMIT 3', registered, EVENTS.columns.map((c) => c.name)],
    ['self-join: both sides billed', "SELECT count(*) FROM events a JOIN events b ON a.ts = b.ts WHERE a.month = '04'", () => [...FILES['04']!, ...registered()], ['ts']],
  ])('given a %s, when estimated then run, then both figures are the same exact bill', async (_kind, sql, files, columns) => {
    const engine = newEngine();
    const estimate = await engine.estimateScan(sql, 'weblogs');
    const run = await query(engine, sql);
    expect(run.info.state).toBe('SUCCEEDED');
    const expected = await expectedBytes(files(), columns);
    expect(estimate.scannedBytes).toBe(expected);
    expect(run.info.stats.scannedBytes).toBe(expected);
  });

  it('given a struct field read alone, then only that field is billed', async () => {
    const engine = newEngine();
    const run = await query(engine, "SELECT max(info.y) FROM events WHERE month = '06'");
    const file = FILES['06']![0]!;
    const meta = await duck.runAndReadAll(`SELECT footer_size + 8 + (SELECT sum(total_compressed_size) FROM parquet_metadata('${file}') WHERE path_in_schema = 'info, y') FROM parquet_file_metadata('${file}')`);
    expect(run.info.stats.scannedBytes).toBe(Number(meta.getRows()[0]![0]));
  });

  it('given an estimate, then it counts the partitions and files it would read', async () => {
    const engine = newEngine();
    expect(await engine.estimateScan("SELECT status FROM events WHERE month >= '05'", 'weblogs')).toEqual({
      scannedBytes: await expectedBytes([...FILES['05']!, ...FILES['06']!], ['status']),
      partitions: 2,
      files: 3,
      method: 'duckdb-plan',
    });
  });

  it('given DDL and a failed query, then they scan 0', async () => {
    const engine = newEngine();
    expect((await query(engine, 'SHOW PARTITIONS events')).info.stats.scannedBytes).toBe(0);
    expect((await query(engine, 'SELECT nosuchcolumn FROM events')).info.stats.scannedBytes).toBe(0);
  });
});

describe('DuckdbQueryEngine: lifecycle', () => {
  it('given a workgroup cutoff below a full scan, then the full scan is CANCELLED with Athena reason and a pruned query passes', async () => {
    const cutoff = (await expectedBytes(registered(), ['amount'])) - 1;
    const engine = newEngine({ cutoff });
    const full = await query(engine, 'SELECT sum(amount) FROM events');
    expect(full.info).toMatchObject({ state: 'CANCELLED', stateReason: CUTOFF_REASON, stats: { scannedBytes: cutoff } });
    expect((await query(engine, "SELECT sum(amount) FROM events WHERE month = '04'")).info.state).toBe('SUCCEEDED');
    expect(await engine.workgroup('primary')).toEqual({ name: 'primary', bytesScannedCutoff: cutoff, outputLocation: `s3://${BUCKET}/athena-results/` });
  });

  it('given a table that does not exist, then the query FAILED as Athena words it, a user error', async () => {
    const engine = newEngine();
    const { info } = await query(engine, 'SELECT * FROM nope');
    expect(info).toMatchObject({
      state: 'FAILED',
      stateReason: "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.weblogs.nope' does not exist",
      errorCategory: 2,
      statementType: 'DML',
    });
    await expect(engine.resultPage(info.queryId)).rejects.toThrow('Query did not finish successfully. Final query state: FAILED');
  });

  it('given a long query, when stopped, then it is CANCELLED', async () => {
    const engine = newEngine();
    const queryId = await engine.start({ sql: 'SELECT count(*) FROM range(100000000) a, range(1000000) b WHERE a.range + b.range = 7' });
    for (let info = await engine.describe(queryId); info.state !== 'RUNNING'; info = await engine.describe(queryId)) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    await engine.stop(queryId);
    expect(await engine.describe(queryId)).toMatchObject({ state: 'CANCELLED', stateReason: USER_CANCEL_REASON });
  });

  it('given a query, then its state moves QUEUED -> SUCCEEDED with stats, a UUID and the output location', async () => {
    const engine = newEngine();
    const first = await engine.start({ sql: 'SELECT 1', database: 'weblogs' });
    const second = await engine.start({ sql: 'SELECT 2', database: 'weblogs' });
    expect((await engine.describe(second)).state).toBe('QUEUED');
    const info = await waitFor(engine, second);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(info).toMatchObject({ state: 'SUCCEEDED', statementType: 'DML', outputLocation: `s3://${BUCKET}/athena-results/${second}.csv` });
    expect(info.stats.totalMs).toBe(info.stats.queueMs + info.stats.engineMs);
  });

  it('given a finished query, when another engine (another process) describes it, then state, stats and rows come from disk and the result object', async () => {
    const engine = newEngine();
    const { queryId, info } = await query(engine, "SELECT source, count(*) AS n FROM events WHERE month = '04' GROUP BY source ORDER BY source");
    const other = newEngine();
    expect(await other.describe(queryId)).toEqual(info);
    expect(await other.resultPage(queryId)).toEqual({
      columns: [
        { name: 'source', type: 'varchar' },
        { name: 'n', type: 'bigint' },
      ],
      rows: [
        ['src0', '134'],
        ['src1', '133'],
        ['src2', '133'],
      ],
    });
  });

  it('given ? placeholders, then ExecutionParameters are bound as SQL literals', async () => {
    const engine = newEngine();
    const { rows } = await query(engine, 'SELECT count(*) FROM events WHERE month = ? AND status = ?', { params: ["'05'", '300'] });
    expect(rows).toEqual([[String((2 * ROWS) / 4)]]);
  });
});

describe('DuckdbQueryEngine: results', () => {
  it('given a query, then the result CSV is written as Athena writes it (quoted values, NULL empty)', async () => {
    const engine = newEngine();
    const { queryId } = await query(engine, "SELECT 'a\"b' AS s, CAST(NULL AS VARCHAR) AS n, '' AS e, 1 AS i");
    expect(store.written.get(`${BUCKET}/athena-results/${queryId}.csv`)).toBe('"s","n","e","i"\n"a""b",,"","1"\n');
  });

  it('given every column type, then the page shows Athena type names and renders values as GetQueryResults does', async () => {
    const engine = newEngine();
    const { rows, columns } = await query(engine, "SELECT status, amount, ts, price, tags, attrs, info, ok, source, DATE '2024-05-17' AS d FROM events WHERE month = '05' AND info.x = 3");
    expect(columns).toEqual([
      { name: 'status', type: 'integer' },
      { name: 'amount', type: 'double' },
      { name: 'ts', type: 'timestamp' },
      { name: 'price', type: 'decimal', precision: 10, scale: 2 },
      { name: 'tags', type: 'array' },
      { name: 'attrs', type: 'map' },
      { name: 'info', type: 'row' },
      { name: 'ok', type: 'boolean' },
      { name: 'source', type: 'varchar' },
      { name: 'd', type: 'date' },
    ]);
    expect(rows).toEqual([['500', '6.5', '2024-05-01 00:03:00.000', '6.75', '[a, b1]', '{k=3}', '{x=3, y=y1}', 'false', 'src0', '2024-05-17']]);
  });

  it('given 2,500 rows, then pages hold at most 1,000 rows and chain with nextToken', async () => {
    const engine = newEngine();
    const queryId = await engine.start({ sql: 'SELECT range AS n FROM range(2500)' });
    await waitFor(engine, queryId);
    const first = await engine.resultPage(queryId);
    const second = await engine.resultPage(queryId, { nextToken: first.nextToken });
    const third = await engine.resultPage(queryId, { nextToken: second.nextToken });
    expect([first.rows.length, second.rows.length, third.rows.length, third.nextToken]).toEqual([1000, 1000, 500, undefined]);
    expect([first.rows[0], second.rows[0], third.rows.at(-1)]).toEqual([['0'], ['1000'], ['2499']]);
  });
});

describe('DuckdbQueryEngine: statements on the catalog', () => {
  it('given SHOW PARTITIONS, then a UTILITY statement lists key=value paths in a text result', async () => {
    const engine = newEngine();
    const { info, rows } = await query(engine, 'SHOW PARTITIONS events');
    expect(info).toMatchObject({ state: 'SUCCEEDED', statementType: 'UTILITY', outputLocation: `s3://${BUCKET}/athena-results/${info.queryId}.txt` });
    expect(rows).toEqual([['year=2024/month=04'], ['year=2024/month=05'], ['year=2024/month=06']]);
  });

  it('given ALTER TABLE ADD PARTITION, then a DDL statement registers it and the data becomes visible', async () => {
    const engine = newEngine();
    const add = await query(engine, "ALTER TABLE events ADD IF NOT EXISTS PARTITION (year = '2024', month = '07')");
    expect(add.info).toMatchObject({ state: 'SUCCEEDED', statementType: 'DDL' });
    expect(catalog.partitions.get('weblogs.events')!.at(-1)).toEqual({ values: ['2024', '07'], location: `s3://${BUCKET}/data/events/year=2024/month=07/` });
    expect((await query(engine, "SELECT count(*) FROM events WHERE month = '07'")).rows).toEqual([[String(ROWS)]]);
  });

  it('given MSCK REPAIR TABLE, then the unregistered hive partition is added', async () => {
    const engine = newEngine();
    const { rows } = await query(engine, 'MSCK REPAIR TABLE events');
    expect(rows).toEqual([['Partitions not in metastore:\tevents:year=2024/month=07'], ['Repair: Added partition to metastore events:year=2024/month=07']]);
  });
});

describe('DuckdbQueryEngine: result column names, as Athena gives them', () => {
  it.each([
    ['an unaliased aggregate is _col0', 'SELECT count(*) FROM events', ['_col0']],
    ['unnamed columns are numbered by their position', 'SELECT source, count(*), sum(status) AS Total FROM events GROUP BY source', ['source', '_col1', 'Total']],
    ['a column reference keeps its last part, as spelled', "SELECT e.Source, info.y, status + 1, 'x', CAST(status AS varchar) FROM events e WHERE month = '04' LIMIT 1", ['Source', 'y', '_col2', '_col3', '_col4']],
    ['* over a subquery keeps its unnamed columns unnamed', 'SELECT * FROM (SELECT count(*), max(month) AS m FROM events)', ['_col0', 'm']],
    ['* over a CTE, and a CTE column list names them', 'WITH q AS (SELECT count(*) FROM events), r(n) AS (SELECT count(*) FROM events) SELECT * FROM q, r', ['_col0', 'n']],
    ['a UNION takes the names of its first query', 'SELECT count(*) FROM events UNION ALL SELECT 1', ['_col0']],
    ['VALUES columns have no names', "VALUES (1, 'a')", ['_col0', '_col1']],
    ['a column list on VALUES names them; a window function after * is numbered after them', 'SELECT *, count(*) OVER () FROM (VALUES (1)) AS v(a)', ['a', '_col1']],
    ['* over a table gives its columns, partition keys last', 'SELECT 1 AS one, *, 2 FROM evolve ORDER BY year', ['one', 'source', 'extra', 'added', 'year', '_col5']],
  ])('%s', async (_what, sql, names) => {
    const engine = newEngine();
    const { info, queryId, columns } = await query(engine, sql);
    expect(info.state).toBe('SUCCEEDED');
    expect(columns.map((c) => c.name)).toEqual(names);
    expect(store.written.get(`${BUCKET}/athena-results/${queryId}.csv`)!.split('\n')[0]).toBe(names.map((n) => `"${n}"`).join(','));
  });
});

describe('DuckdbQueryEngine: waiting for a query to settle', () => {
  it('given one long-lived signal and 300 waits, then no abort listener is left on it', async () => {
    const engine = newEngine();
    const signal = new AbortController().signal;
    const queryId = await engine.start({ sql: 'SELECT count(*) FROM range(1000)', database: 'weblogs' });
    for (let i = 0; i < 300; i++) await engine.untilSettled(queryId, 0, signal);
    await engine.untilSettled(queryId, 60_000, signal);
    expect((await engine.describe(queryId)).state).toBe('SUCCEEDED');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('given 30 queries run with the same Ctrl-C signal, then it holds no listener afterwards', async () => {
    const engine = newEngine();
    const signal = new AbortController().signal;
    for (let i = 0; i < 30; i++) {
      const result = await executeQuery(engine, { sql: `SELECT ${i} AS i`, database: 'weblogs' }, { signal });
      expect(result.info.state).toBe('SUCCEEDED');
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('given an aborted signal, then the wait ends at once though the query runs on', async () => {
    const engine = newEngine();
    const controller = new AbortController();
    const queryId = await engine.start({ sql: 'SELECT count(*) FROM range(100000000) a, range(1000000) b WHERE a.range + b.range = 7' });
    const waiting = engine.untilSettled(queryId, 60_000, controller.signal);
    controller.abort();
    await waiting;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(['QUEUED', 'RUNNING']).toContain((await engine.describe(queryId)).state);
    await engine.stop(queryId);
  });
});

describe('DuckdbQueryEngine: a fresh lake', () => {
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-fresh-'));
    const engine = new DuckdbQueryEngine({ lakeDir: dir, catalog: new FileCatalog(dir), store: new FsObjectStore(dir), bucket: 'fresh-data', resultsPrefix: 'athena-results/', bytesScannedCutoff: null, now: () => new Date() });
    engines.push(engine);
    return { dir, engine };
  };

  it('given no bucket folder yet, when running SELECT 1, then it SUCCEEDS and its result object is made', async () => {
    const { dir, engine } = fresh();
    const { info, queryId, rows, columns } = await query(engine, 'SELECT 1');
    expect(info).toMatchObject({ state: 'SUCCEEDED', stats: { scannedBytes: 0 } });
    expect([columns, rows]).toEqual([[{ name: '_col0', type: 'integer' }], [['1']]]);
    expect(readFileSync(join(dir, 's3', 'fresh-data', 'athena-results', `${queryId}.csv`), 'utf8')).toBe('"_col0"\n"1"\n');
    rmSync(dir, { recursive: true, force: true });
  });

  it('given a table registered before any data or bucket, when it is first queried and estimated, then it has no rows and scans 0', async () => {
    const { dir, engine } = fresh();
    const catalog = new FileCatalog(dir);
    await catalog.createDatabase({ name: 'weblogs' });
    await catalog.createTable({ ...EVENTS, location: 's3://fresh-data/data/events/' });
    expect(await engine.estimateScan('SELECT count(*) AS n, max(month) AS m FROM events', 'weblogs')).toEqual({ scannedBytes: 0, partitions: 0, files: 0, method: 'duckdb-plan' });
    const { info, rows } = await query(engine, 'SELECT count(*) AS n, max(month) AS m FROM events');
    expect(info).toMatchObject({ state: 'SUCCEEDED', stats: { scannedBytes: 0 } });
    expect(rows).toEqual([['0', null]]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('DuckdbQueryEngine: rows held by the engine that ran the query', () => {
  it('given 2,500 rows, then the engine that ran it hands them over, and another engine (process) reads the same rows from the result object', async () => {
    const engine = newEngine();
    const { info } = await query(engine, "SELECT range AS n, CASE WHEN range % 7 = 0 THEN NULL ELSE 'r' || range END AS s FROM range(2500) ORDER BY n");
    const collect = async (results: Awaited<ReturnType<typeof openResults>>) => {
      const rows: (string | null)[][] = [];
      for await (const batch of results.batches) rows.push(...batch);
      return { source: results.source, columns: results.columns, rows };
    };
    const held = await collect(await openResults(engine, store, info));
    const fromObject = await collect(await openResults(newEngine(), store, info));
    expect([held.source, fromObject.source]).toEqual(['held', 'object']);
    expect(held.rows).toHaveLength(2500);
    expect(held.rows.slice(0, 2)).toEqual([
      ['0', null],
      ['1', 'r1'],
    ]);
    expect(fromObject).toEqual({ ...held, source: 'object' });
  });

  it('given a later query, then the rows of the first are let go, and its pages are read back from its result object', async () => {
    const engine = newEngine();
    const first = await query(engine, 'SELECT range AS n FROM range(1500)');
    expect(engine.heldRows(first.queryId)).toHaveLength(1500);
    await query(engine, 'SELECT 1 AS i');
    expect(engine.heldRows(first.queryId)).toBeUndefined();
    const page = await engine.resultPage(first.queryId, { maxResults: 3 });
    expect(page.rows).toEqual([['0'], ['1'], ['2']]);
    expect(engine.heldRows(first.queryId)).toHaveLength(1500);
  });
});

/** Java's Double.toString for the values these tests produce. */
function javaDouble(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}
