/**
 * query-local: `lake query` on the local backend against DuckDB run directly on the same
 * Parquet files, in one process (process start excluded). lake's time is the whole query
 * service (workgroup check, start, polling, Athena's statistics from the plan, the result
 * object, typed rows formatted as the JSON document); DuckDB's is the same SQL over
 * `read_parquet(..., hive_partitioning = true)`, its rows turned into JSON text.
 *
 * - warm: one backend (one DuckDB instance) reused, as a long-lived process would;
 * - cold: a new backend / a new DuckDB instance every run, as each `lake query` process is.
 *
 * Method, for a machine shared with other work: per query and mode, warm-up runs of both
 * sides, then --runs rounds; a round runs the two back to back, alternating which goes
 * first, each after a forced GC (run.mjs starts Node with --expose-gc). Reported: each
 * side's median, and as `ratio` the median of the rounds' ratios lake/DuckDB (the two runs
 * of a round see the same load, which moves a lot between rounds); `ratioOfMedians` too,
 * and the median ratio of CPU time (the process's, DuckDB's threads included).
 *
 * Target: lake at most 1.3 times DuckDB.
 *
 *   node bench/run.mjs query-local [--rows-per-day 500000] [--days 8] [--runs 21] [--warmup 3]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultConfig } from '../src/lib/config.js';
import { createLocalBackend } from '../src/lib/local/backend.js';
import { FileCatalog } from '../src/lib/local/file-catalog.js';
import { silentLogger } from '../src/lib/log.js';
import type { Backend } from '../src/lib/ports.js';
import { runQuery } from '../src/lib/query/run.js';
import { tableDefFromConfig } from '../src/lib/table-def.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS_PER_DAY = flag('rows-per-day', 500_000);
const DAYS = flag('days', 8);
const RUNS = flag('runs', 21);
const WARMUP = flag('warmup', 3);

const QUERIES = {
  aggregate: "SELECT source, count(*) AS n, sum(amount) AS total, max(ts) AS last FROM events WHERE day >= '03' GROUP BY source ORDER BY source",
  rows: "SELECT id, source, amount, ts FROM events WHERE day = '05' AND id % 50 = 0 ORDER BY id",
};

const dir = mkdtempSync(join(tmpdir(), 'lake-bench-query-'));
const config = { ...defaultConfig('bench'), lakeDir: dir, bucket: 'bench-data', database: 'bench', table: 'events', bytesScannedCutoff: 10_000_000_000 };
config.columns = [
  { name: 'id', type: 'bigint' },
  { name: 'source', type: 'string' },
  { name: 'amount', type: 'decimal(10,2)' },
  { name: 'payload', type: 'string' },
  { name: 'ts', type: 'timestamp' },
];
config.partitioning = { ...config.partitioning, keys: ['year', 'month', 'day'] };

// ---------------------------------------------------------------- the fixture lake
const setup = await DuckDBInstance.create(':memory:');
const setupConn = await setup.connect();
const catalog = new FileCatalog(dir);
await catalog.createDatabase({ name: config.database });
await catalog.createTable(tableDefFromConfig(config));
const partitions = [];
for (let d = 1; d <= DAYS; d++) {
  const day = String(d).padStart(2, '0');
  const folder = join(dir, 's3', config.bucket, 'data', 'year=2024', 'month=05', `day=${day}`);
  mkdirSync(folder, { recursive: true });
  await setupConn.run(
    `COPY (SELECT (${d} * 10000000 + i)::BIGINT AS id, (['web','app','api','batch'])[1 + i % 4] AS source, ((i * 7) % 100000 / 100.0)::DECIMAL(10,2) AS amount,
       md5(i::VARCHAR) AS payload, TIMESTAMP '2024-05-${day} 00:00:00' + to_seconds(i % 86400) AS ts FROM range(${ROWS_PER_DAY}) t(i))
     TO '${join(folder, 'part-0.parquet')}' (FORMAT parquet)`,
  );
  partitions.push({ values: ['2024', '05', day], location: `s3://${config.bucket}/data/year=2024/month=05/day=${day}/` });
}
await catalog.batchCreatePartition(config.database, config.table, partitions);
setupConn.closeSync();
setup.closeSync();
const files = join(dir, 's3', config.bucket, 'data', '*', '*', '*', '*.parquet');

// ---------------------------------------------------------------- the two contenders
const deps = { config, log: silentLogger, now: () => new Date(), version: 'bench', env: {} };
let bytesOut = 0;
async function lakeRun(backend: Backend, sql: string): Promise<void> {
  const outcome = await runQuery(
    { backend, config, log: silentLogger, write: (t) => (bytesOut += t.length), signal: new AbortController().signal },
    { sql, database: config.database, workgroup: config.workgroup, params: [], estimateOnly: false, guard: { maxBytes: null, maxCostUsd: null, sources: { maxBytes: '', maxCostUsd: '' } }, format: 'json' },
  );
  if (outcome.exit) throw outcome.exit;
}

async function duckdbSession() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`CREATE VIEW events AS SELECT * FROM read_parquet('${files}', hive_partitioning = true)`);
  return { instance, conn };
}
/** The rows as JSON text, as lake prints them: the same work of delivering the result. */
async function duckdbRun(conn: Awaited<ReturnType<typeof duckdbSession>>['conn'], sql: string): Promise<void> {
  const reader = await conn.runAndReadAll(sql);
  bytesOut += JSON.stringify(reader.getRowObjectsJson()).length;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
/** Wall time, and CPU time of the whole process (DuckDB's threads included), of one run. */
const time = async (fn: () => Promise<void>) => {
  collect();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await fn();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - started, cpu: (used.user + used.system) / 1000 };
};
const round2 = (x: number) => Math.round(x * 100) / 100;
const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ name, value: round2(value), unit, ...extra }));

/** Warm-up, then rounds of both contenders back to back, alternating which runs first. */
async function compare(lake: () => Promise<void>, duckdb: () => Promise<void>) {
  for (let w = 0; w < WARMUP; w++) {
    await lake();
    await duckdb();
  }
  const t = { lake: [] as number[], duckdb: [] as number[], ratios: [] as number[], cpuRatios: [] as number[] };
  for (let r = 0; r < RUNS; r++) {
    let lakeRun: Awaited<ReturnType<typeof time>>;
    let duckRun: Awaited<ReturnType<typeof time>>;
    if (r % 2 === 0) {
      lakeRun = await time(lake);
      duckRun = await time(duckdb);
    } else {
      duckRun = await time(duckdb);
      lakeRun = await time(lake);
    }
    t.lake.push(lakeRun.wall);
    t.duckdb.push(duckRun.wall);
    t.ratios.push(lakeRun.wall / duckRun.wall);
    t.cpuRatios.push(lakeRun.cpu / duckRun.cpu);
  }
  return t;
}

const warmBackend = await createLocalBackend(deps);
const warmDuck = await duckdbSession();
for (const [name, sql] of Object.entries(QUERIES)) {
  const modes = {
    warm: await compare(
      () => lakeRun(warmBackend, sql),
      () => duckdbRun(warmDuck.conn, sql),
    ),
    cold: await compare(
      async () => {
        const backend = await createLocalBackend(deps);
        try {
          await lakeRun(backend, sql);
        } finally {
          await backend.close();
        }
      },
      async () => {
        const session = await duckdbSession();
        try {
          await duckdbRun(session.conn, sql);
        } finally {
          session.conn.closeSync();
          session.instance.closeSync();
        }
      },
    ),
  };
  for (const [mode, t] of Object.entries(modes)) {
    const lakeMs = median(t.lake);
    const duckMs = median(t.duckdb);
    emit(`query-local.${name}.${mode}.lake_ms`, lakeMs, 'ms', { baseline: round2(duckMs) });
    emit(`query-local.${name}.${mode}.duckdb_ms`, duckMs, 'ms');
    emit(`query-local.${name}.${mode}.ratio`, median(t.ratios), 'x', {
      target: 1.3,
      ratioOfMedians: round2(lakeMs / duckMs),
      ratioRange: [round2(Math.min(...t.ratios)), round2(Math.max(...t.ratios))],
      runs: RUNS,
      rows: DAYS * ROWS_PER_DAY,
    });
    // CPU time is far less sensitive to other work on the machine than wall time.
    emit(`query-local.${name}.${mode}.cpu_ratio`, median(t.cpuRatios), 'x', { target: 1.3 });
  }
}
await warmBackend.close();
warmDuck.conn.closeSync();
warmDuck.instance.closeSync();
rmSync(dir, { recursive: true, force: true });
