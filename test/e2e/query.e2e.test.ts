// End-to-end: the built bin/lake running `query` on the local backend over a fixture lake
// (Parquet files written by DuckDB under hive partitions, registered in the file catalog).
// Expected values are computed here from the formulas that generated the data.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/lib/config.js';
import { FileCatalog } from '../../src/lib/local/file-catalog.js';
import { tableDefFromConfig } from '../../src/lib/table-def.js';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
const DAYS = [15, 16, 17];
const ROWS_PER_DAY = 150_000;
const SOURCES = ['web', 'app', 'api'];

let dir: string;

function lake(args: string[], input?: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  const run = spawnSync(process.execPath, [LAKE, 'query', ...args], { cwd: dir, env, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface Stats {
  scannedBytes: number;
  billedBytes: number;
  costUsd: number;
}
const json = <T>(text: string) => JSON.parse(text) as T;
const runJson = (sql: string) => {
  const run = lake([sql, '-o', 'json']);
  expect(run.code, run.stderr).toBe(0);
  return json<{ rows: Record<string, unknown>[]; stats: Stats; rowCount: number }>(run.stdout);
};
const estimateJson = (sql: string) => {
  const run = lake([sql, '--estimate', '-o', 'json']);
  expect(run.code, run.stderr).toBe(0);
  return json<{ estimate: Stats & { partitions: number; files: number; method: string } }>(run.stdout).estimate;
};

/** The cents of row i: amount = ((i * 7) % 10000) / 100. */
const cents = (i: number) => (i * 7) % 10_000;
const money = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lake-query-e2e-'));
  const raw = {
    name: 'shop',
    backend: 'local',
    columns: [
      { name: 'id', type: 'bigint' },
      { name: 'source', type: 'string' },
      { name: 'amount', type: 'decimal(10,2)' },
      { name: 'payload', type: 'string' },
      { name: 'ts', type: 'timestamp' },
    ],
    partitioning: { keys: ['year', 'month', 'day'] },
    pricePerTiB: 5,
  };
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify(raw, null, 2));
  const { config } = validateConfig(raw);
  config.lakeDir = join(dir, '.lake');
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const partitions = [];
  for (const day of DAYS) {
    const rel = `data/year=2024/month=05/day=${day}/`;
    const folder = join(config.lakeDir, 's3', config.bucket, ...rel.split('/').filter(Boolean));
    mkdirSync(folder, { recursive: true });
    // Two files a partition, as Firehose writes several objects an hour.
    for (const [part, [from, to]] of [[0, ROWS_PER_DAY / 2], [ROWS_PER_DAY / 2, ROWS_PER_DAY]].entries()) {
      await conn.run(
        `COPY (SELECT (${day} * 1000000 + i)::BIGINT AS id, (['web','app','api'])[1 + i % 3] AS source, ((i * 7) % 10000 / 100.0)::DECIMAL(10,2) AS amount,
           md5(i::VARCHAR || '-${day}') || md5('${day}-' || i::VARCHAR) AS payload, TIMESTAMP '2024-05-${day} 00:00:00' + to_seconds(i) AS ts
         FROM range(${from}, ${to}) t(i)) TO '${join(folder, `shop-ingest-1-2024-05-${day}-00-00-0${part}-f00d.parquet`)}' (FORMAT parquet)`,
      );
    }
    partitions.push({ values: ['2024', '05', String(day)], location: `s3://${config.bucket}/${rel}` });
  }
  conn.closeSync();
  db.closeSync();
  const catalog = new FileCatalog(config.lakeDir);
  await catalog.createDatabase({ name: config.database });
  await catalog.createTable(tableDefFromConfig(config));
  expect((await catalog.batchCreatePartition(config.database, config.table, partitions)).errors).toEqual([]);
}, 120_000);

describe('lake query on the local backend (bin/lake)', () => {
  it('returns exact aggregates, typed, with the stats object', () => {
    const doc = runJson("SELECT source, count(*) AS n, sum(amount) AS total, max(id) AS top FROM events WHERE day = '17' GROUP BY source ORDER BY source");
    const expected = SOURCES.map((source, s) => {
      let n = 0;
      let total = 0n;
      let top = 0;
      for (let i = s; i < ROWS_PER_DAY; i += 3) {
        n++;
        total += BigInt(cents(i));
        top = 17_000_000 + i;
      }
      return { source, n, total: money(total), top };
    }).sort((a, b) => a.source.localeCompare(b.source));
    expect(doc.rows).toEqual(expected);
    expect(doc.rowCount).toBe(3);
    expect(doc.stats.billedBytes).toBe(10_000_000);
    expect(doc.stats.costUsd).toBe(0.000045475);
  });

  it('counts every row of every registered partition', () => {
    const doc = runJson('SELECT count(*) AS n, count(DISTINCT day) AS days, min(ts) AS first FROM events');
    expect(doc.rows).toEqual([{ n: DAYS.length * ROWS_PER_DAY, days: 3, first: '2024-05-15 00:00:00.000' }]);
  });

  it('a partition-filtered query scans strictly less than the full scan', () => {
    const full = runJson('SELECT count(*) AS n, sum(amount) AS total FROM events').stats;
    const oneDay = runJson("SELECT count(*) AS n, sum(amount) AS total FROM events WHERE day = '16'").stats;
    expect(oneDay.scannedBytes).toBeGreaterThan(0);
    expect(oneDay.scannedBytes).toBeLessThan(full.scannedBytes);
    expect(oneDay.scannedBytes * 2).toBeLessThan(full.scannedBytes);
  });

  it.each([
    { what: 'a partition filter', sql: "SELECT * FROM events WHERE day = '16'" },
    { what: 'a column subset over two partitions', sql: "SELECT id, ts FROM events WHERE year = '2024' AND day IN ('15', '17')" },
    { what: 'an aggregate over everything', sql: 'SELECT source, count(*), sum(amount) FROM events GROUP BY source' },
    { what: 'count(*) alone (footers only)', sql: 'SELECT count(*) FROM events' },
    { what: 'a join of the table with itself', sql: "SELECT a.source, count(*) FROM events a JOIN events b ON a.id = b.id WHERE a.day = '15' AND b.day = '15' GROUP BY 1" },
    { what: 'one wide column everywhere', sql: 'SELECT max(payload) FROM events' },
  ])('--estimate is within 10% of the scanned bytes the run then reports: $what', ({ sql }) => {
    const estimate = estimateJson(sql);
    const actual = runJson(sql).stats;
    expect(estimate.method).toBe('duckdb-plan');
    expect(actual.scannedBytes).toBeGreaterThan(0);
    expect(Math.abs(estimate.scannedBytes - actual.scannedBytes)).toBeLessThanOrEqual(actual.scannedBytes * 0.1);
    expect(estimate.billedBytes).toBe(actual.billedBytes);
  });

  it('--max-cost refuses a full scan (exit 4, with the estimate) and lets a partition-filtered query run', () => {
    const full = lake(['SELECT * FROM events', '--max-cost', '0.0001', '-o', 'json']);
    expect(full.code).toBe(4);
    const { estimate } = json<{ estimate: Stats & { partitions: number; files: number } }>(full.stdout);
    expect(estimate.costUsd).toBeGreaterThan(0.0001);
    expect([estimate.partitions, estimate.files]).toEqual([3, 6]);
    expect(json<{ error: { code: string; message: string } }>(full.stderr.trim().split('\n').at(-1)!).error).toMatchObject({
      code: 'Refused',
      message: expect.stringMatching(/^refused: the query would scan about [\d.]+ MB \(billed \d+ MB, \$0\.000\d+ at \$5\/TiB\), over --max-cost \$0\.0001; nothing was run$/),
    });

    const filtered = lake(["SELECT source, sum(amount) AS total FROM events WHERE day = '17' GROUP BY source ORDER BY source", '--max-cost', '0.0001', '-o', 'csv']);
    expect(filtered.code).toBe(0);
    expect(filtered.stdout.split('\r\n')[0]).toBe('source,total');
    expect(filtered.stdout.split('\r\n')).toHaveLength(5);
  });

  it('reads SQL from stdin, binds --param, and prints the cost line on stderr', () => {
    const run = lake(['-', '--param', "'16'", '--param', '3', '-o', 'ndjson'], "SELECT id FROM events WHERE day = ? AND id < 16000000 + ? ORDER BY id\n");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":16000000}\n{"id":16000001}\n{"id":16000002}\n');
    expect(run.stderr).toMatch(/^warning: workgroup 'shop' has no bytes-scanned cutoff: .*\nscanned [\d.]+ (kB|MB) \([\d,]+ bytes\), billed 10 MB \(the 10 MB minimum\), \$0\.0000455 at \$5\/TiB; engine \d+ ms, queue \d+ ms, total \d+ ms; query [0-9a-f-]{36}\n$/);
  });

  it('a failing query exits 1 with the reason; DDL is not billed', () => {
    const failed = lake(['SELECT nope FROM events', '-o', 'table']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/lake: query [0-9a-f-]{36} failed \(user error\): .*nope/);
    const ddl = lake(['SHOW PARTITIONS events', '-o', 'csv']);
    expect(ddl.code).toBe(0);
    expect(ddl.stdout).toBe('partition\r\nyear=2024/month=05/day=15\r\nyear=2024/month=05/day=16\r\nyear=2024/month=05/day=17\r\n');
    expect(ddl.stderr).toMatch(/scanned 0 bytes, not billed \(DDL and utility statements are free\)/);
  });

  it('names unaliased columns as Athena does: _col and their position', () => {
    const doc = runJson("SELECT day, count(*), sum(amount) AS total, max(id) FROM events WHERE day = '15' GROUP BY day");
    expect(doc.rows).toEqual([{ day: '15', _col1: ROWS_PER_DAY, total: money(Array.from({ length: ROWS_PER_DAY }, (_, i) => BigInt(cents(i))).reduce((a, b) => a + b, 0n)), _col3: 15_000_000 + ROWS_PER_DAY - 1 }]);
  });

  it('a first query on a fresh lake (a configuration, no lake folder yet) runs', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lake-query-fresh-'));
    writeFileSync(join(fresh, 'lake.config.json'), JSON.stringify({ name: 'fresh', backend: 'local', columns: [{ name: 'id', type: 'bigint' }] }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_')));
    const run = spawnSync(process.execPath, [LAKE, 'query', 'SELECT 1, 2 AS two', '-o', 'json'], { cwd: fresh, env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(json<{ columns: unknown; rows: unknown }>(run.stdout)).toMatchObject({ columns: [{ name: '_col0', type: 'integer' }, { name: 'two', type: 'integer' }], rows: [{ _col0: 1, two: 2 }] });
  });

  it('Ctrl-C stops the running query, reports it, and exits 130', async () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_')));
    const child = spawn(process.execPath, [LAKE, 'query', 'SELECT count(*) AS n FROM range(40000000000) a', '-o', 'json', '--no-progress'], { cwd: dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Interrupt once the query is under way (the workgroup warning comes just before the start).
      if (stderr.includes('bytes-scanned cutoff')) setTimeout(() => child.kill('SIGINT'), 500);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(JSON.parse(stdout)).toMatchObject({ state: 'CANCELLED', stateReason: 'Query cancelled by user', stats: { billedBytes: 0, costUsd: 0 } });
    expect(stderr).toMatch(/scanned 0 bytes, not billed \(stopped before reading data\); engine \d+ ms, queue \d+ ms, total \d+ ms; query [0-9a-f-]{36}\n/);
    expect(JSON.parse(stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: { code: 'Interrupted', exitCode: 130 } });
  });
});
