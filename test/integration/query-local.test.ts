// `lake query` in-process on the local backend (file catalog, folder S3, DuckDB as Athena)
// over a small fixture lake: output formats, --out, --max-rows, guards from the config,
// the result read from the result object, usage errors; and the Athena estimator (EXPLAIN
// IO + footers) checked against what the local engine bills for the same scans.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LakeConfig, validateConfig } from '../../src/lib/config.js';
import { DuckdbQueryEngine } from '../../src/lib/local/duckdb-query-engine.js';
import { FileCatalog } from '../../src/lib/local/file-catalog.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import type { QueryEngine } from '../../src/lib/ports.js';
import { estimateFromExplainIo } from '../../src/lib/query/estimate-athena.js';
import { readParquetFooter } from '../../src/lib/query/parquet-footer.js';
import { tableDefFromConfig } from '../../src/lib/table-def.js';
import { runCli } from '../helpers/cli.js';

const DAYS = ['15', '16', '17'];
const ROWS = 3000;
let dir: string;
let config: LakeConfig;

const lake = (args: string[], extra: { config?: Record<string, unknown> } = {}) => {
  if (extra.config) writeFileSync(join(dir, 'other.config.json'), JSON.stringify({ ...RAW, ...extra.config }));
  return runCli(['query', ...args, '--no-progress', ...(extra.config ? ['-c', 'other.config.json'] : [])], { cwd: dir });
};

const RAW = {
  name: 'shop',
  backend: 'local',
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'source', type: 'string' },
    { name: 'amount', type: 'decimal(10,2)' },
    { name: 'tags', type: 'array<string>' },
  ],
  partitioning: { keys: ['year', 'month', 'day'] },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lake-query-local-'));
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify(RAW));
  config = validateConfig(RAW).config;
  config.lakeDir = join(dir, '.lake');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (const day of DAYS) {
    const folder = join(config.lakeDir, 's3', config.bucket, 'data', 'year=2024', 'month=05', `day=${day}`);
    mkdirSync(folder, { recursive: true });
    await conn.run(
      `COPY (SELECT (${day} * 100000 + i)::BIGINT AS id, (['web','app','api'])[1 + i % 3] AS source, (i % 500 / 4.0)::DECIMAL(10,2) AS amount, ['t' || (i % 5), 'x'] AS tags
       FROM range(${ROWS}) t(i)) TO '${join(folder, 'part-0.parquet')}' (FORMAT parquet)`,
    );
  }
  conn.closeSync();
  db.closeSync();
  const catalog = new FileCatalog(config.lakeDir);
  await catalog.createDatabase({ name: config.database });
  await catalog.createTable(tableDefFromConfig(config));
  await catalog.batchCreatePartition(config.database, config.table, DAYS.map((d) => ({ values: ['2024', '05', d], location: `s3://${config.bucket}/data/year=2024/month=05/day=${d}/` })));
}, 60_000);

describe('lake query, local backend, in process', () => {
  it('a table shows --max-rows rows and says how many it left out', async () => {
    const run = await lake(["SELECT id, source, tags FROM events WHERE day = '15' ORDER BY id", '-o', 'table', '--max-rows', '2']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('2 of 3,000 rows shown; 2,998 left out (raise --max-rows, or use -o csv or --out FILE for all)');
    expect(lines.filter((l) => /1500000|1500001/.test(l))).toHaveLength(2);
    expect(run.stdout).toContain('["t0","x"]');
  });

  it('streams a result past the first page from the result object, every row once, in order', async () => {
    const run = await lake(['SELECT id FROM events ORDER BY id', '-o', 'csv']);
    expect(run.code).toBe(0);
    const ids = run.stdout.trimEnd().split('\r\n');
    expect(ids[0]).toBe('id');
    expect(ids.slice(1).map(Number)).toEqual(DAYS.flatMap((d) => Array.from({ length: ROWS }, (_, i) => Number(d) * 100000 + i)));
  });

  it('--out writes every row to the file; the JSON document then says where and how many', async () => {
    const out = join(dir, 'rows.ndjson');
    const run = await lake(["SELECT id, amount FROM events WHERE day = '16' ORDER BY id", '--out', out, '-o', 'json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ state: 'SUCCEEDED', rows: [], rowCount: ROWS, out, columns: [{ name: 'id', type: 'bigint' }, { name: 'amount', type: 'decimal', precision: 10, scale: 2 }] });
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS);
    expect(JSON.parse(lines[1]!)).toEqual({ id: 1600001, amount: '0.25' });
    expect(run.stderr).toContain(`wrote 3,000 rows to ${out}\n`);
  });

  it('the JSON document streams every row when there is no --out', async () => {
    const run = await lake(["SELECT id FROM events WHERE day = '17' AND id < 1700003 ORDER BY id", '-o', 'json']);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: [{ id: 1700000 }, { id: 1700001 }, { id: 1700002 }], rowCount: 3, stats: { billedBytes: 10_000_000 } });
  });

  it('--estimate prints the prediction and its method and runs nothing', async () => {
    const run = await lake(["SELECT sum(amount) FROM events WHERE day = '15'", '--estimate', '-o', 'table']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/│ scanned +│ billed +│ cost \(USD\) +│ partitions +│ files +│ method +│/);
    expect(run.stdout).toMatch(/│ \d+ +│ 10000000 +│ 0\.000045475 +│ 1 +│ 1 +│ duckdb-plan +│/);
    expect(run.stderr).toBe('');
  });

  it('maxBytes in the configuration refuses a query before it runs (exit 4)', async () => {
    const run = await lake(['SELECT * FROM events', '-o', 'table'], { config: { maxBytes: '1kB' } });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/duckdb-plan/);
    expect(run.stderr).toMatch(/lake: refused: the query would scan about [\d.]+ kB \(billed 10 MB, \$0\.0000455 at \$5\/TiB\), over maxBytes \(lake\.config\.json\) 1 kB; nothing was run\nhint: filter on the partition keys/);
  });

  it('a workgroup with a cutoff draws no warning', async () => {
    const run = await lake(['SELECT 1 AS one', '-o', 'json'], { config: { bytesScannedCutoff: '1GB' } });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('warning');
    expect((JSON.parse(run.stdout) as { rows: unknown }).rows).toEqual([{ one: 1 }]);
  });

  it.each([
    [[], 'lake: no SQL given'],
    [['SELECT 1', '--file', 'q.sql'], 'lake: give the SQL as an argument or with --file, not both'],
    [['--file', 'missing.sql'], 'lake: --file: cannot read missing.sql: ENOENT'],
    [['SELECT 1', '--timeout', '0'], "lake: --timeout: expected a number of seconds above 0, got '0'"],
    [['SELECT 1', '--max-bytes', 'lots'], "lake: --max-bytes: expected a size like 500MB, 2GiB or a number of bytes, got 'lots'"],
    [['SELECT 1', '--max-cost', '-1'], "lake: --max-cost: expected an amount in US dollars, like 0.05, got '-1'"],
    [['   '], 'lake: the SQL is empty'],
  ])('usage errors exit 2: %j', async (args, message) => {
    const run = await lake(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(message);
  });
});

describe('the Athena estimator (EXPLAIN IO + footers) against the local engine', () => {
  /** An engine that answers the EXPLAIN (TYPE IO) with a given plan, as Athena would. */
  function explainEngine(plan: unknown): QueryEngine {
    return {
      start: () => Promise.resolve('explain-1'),
      describe: () => Promise.resolve({ queryId: 'explain-1', state: 'SUCCEEDED', statementType: 'UTILITY', stats: { scannedBytes: 0, engineMs: 0, queueMs: 0, totalMs: 0 } }),
      stop: () => Promise.resolve(),
      resultPage: () => Promise.resolve({ columns: [{ name: 'Query Plan', type: 'varchar' }], rows: [[JSON.stringify(plan)]] }),
      workgroup: () => Promise.resolve(undefined),
      close: () => Promise.resolve(),
    };
  }
  const plan = (days: string[]) => ({
    inputTableColumnInfos: [
      {
        table: { catalog: 'awsdatacatalog', schemaTable: { schema: 'shop', table: 'events' } },
        constraint: { none: false, columnConstraints: days.length === 0 ? [] : [{ columnName: 'day', type: 'varchar', domain: { nullsAllowed: false, ranges: days.map((d) => ({ low: { value: d, bound: 'EXACTLY' }, high: { value: d, bound: 'EXACTLY' } })) } }] },
      },
    ],
  });

  it.each([
    ["SELECT source, sum(amount) FROM events WHERE day = '16' GROUP BY 1", ['16']],
    ["SELECT * FROM events WHERE day IN ('15', '17')", ['15', '17']],
    ['SELECT count(*) FROM events', []],
    ['SELECT max(id) FROM events', []],
  ])('%s: the same bytes as the local engine bills', async (sql, days) => {
    const store = new FsObjectStore(config.lakeDir);
    const catalog = new FileCatalog(config.lakeDir);
    const local = new DuckdbQueryEngine({ lakeDir: config.lakeDir, catalog, store, bucket: config.bucket, resultsPrefix: config.resultsPrefix, bytesScannedCutoff: null, now: () => new Date() });
    try {
      const truth = await local.estimateScan(sql, 'shop');
      const athena = await estimateFromExplainIo({ engine: explainEngine(plan(days)), catalog, store }, { sql, database: 'shop' });
      expect(athena).toEqual({ scannedBytes: truth.scannedBytes, partitions: truth.partitions, files: truth.files, method: 'athena-explain-io+parquet-footers' });
    } finally {
      await local.close();
    }
  });

  it('falls back to whole object sizes past the footer limit', async () => {
    const store = new FsObjectStore(config.lakeDir);
    const catalog = new FileCatalog(config.lakeDir);
    const estimate = await estimateFromExplainIo({ engine: explainEngine(plan([])), catalog, store }, { sql: 'SELECT id FROM events', database: 'shop' }, { footerFileLimit: 2 });
    let sizes = 0;
    for await (const o of store.listAll(config.bucket, { prefix: 'data/' })) sizes += o.size;
    expect(estimate).toEqual({ scannedBytes: sizes, partitions: 3, files: 3, method: 'athena-explain-io+object-sizes' });
  });

  it('reads a footer with one ranged GET and agrees with DuckDB on every column chunk', async () => {
    const store = new FsObjectStore(config.lakeDir);
    const key = 'data/year=2024/month=05/day=15/part-0.parquet';
    const size = (await store.head(config.bucket, key))!.size;
    const footer = await readParquetFooter(store, config.bucket, key, size);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const path = join(config.lakeDir, 's3', config.bucket, key);
    const meta = (await conn.runAndReadAll(`SELECT footer_size, num_rows FROM parquet_file_metadata('${path}')`)).getRows()[0]!;
    const chunks = (await conn.runAndReadAll(`SELECT path_in_schema, sum(total_compressed_size)::BIGINT FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`)).getRows();
    conn.closeSync();
    db.closeSync();
    expect(footer.footerBytes).toBe(Number(meta[0]) + 8);
    expect(footer.numRows).toBe(Number(meta[1]));
    expect([...footer.columns.keys()]).toEqual(['id', 'source', 'amount', 'tags']);
    const leaves = [...footer.columns.values()].flatMap((c) => c.leaves.map((l) => [[c.name, ...l.path].join(', '), l.bytes]));
    expect(leaves.sort()).toEqual(chunks.map(([p, b]) => [String(p), Number(b)]).sort());
  });
});
