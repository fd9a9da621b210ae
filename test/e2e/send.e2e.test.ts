// End-to-end: the built bin/lake running `send`, as a user would. On the local backend the
// rows land as Parquet in the lake; on the aws backend (a loopback Firehose) a send killed
// with SIGKILL or stopped with Ctrl-C resumes without losing or silently duplicating rows.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.js';
import { type FirehoseLoopback, startFirehoseLoopback } from '../fixtures/send/firehose-loopback.js';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/send/orders-with-5-bad-rows.csv', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && !k.startsWith('AWS_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  return { ...env, AWS_ACCESS_KEY_ID: 'AKIDE2E', AWS_SECRET_ACCESS_KEY: 'e2e', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...extra };
}

/** Spawns bin/lake without blocking this process (the loopback server must keep answering). */
function start(args: string[], cwd: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [LAKE, ...args], { cwd, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const lake = (args: string[], cwd: string, env: Record<string, string> = {}) => start(args, cwd, env).done;

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let server: FirehoseLoopback | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('lake send on the local backend', () => {
  it('a CSV with 5 bad rows: exit 3, the dead-letter file holds exactly those 5 with reasons, the lake exactly the good rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-send-e2e-'));
    writeFileSync(
      join(dir, 'schema.json'),
      JSON.stringify([
        { name: 'order_id', type: 'bigint' },
        { name: 'customer', type: 'string' },
        { name: 'qty', type: 'int' },
        { name: 'price', type: 'decimal(10,2)' },
        { name: 'paid', type: 'boolean' },
        { name: 'ordered_at', type: 'timestamp' },
      ]),
    );
    const init = await lake(['init', '--name', 'shop', '--schema', 'schema.json'], dir);
    expect(init.code, init.stderr).toBe(0);
    const { config } = loadConfig(dir);
    writeFileSync(join(dir, 'orders.csv'), readFileSync(FIXTURE));

    const run = await lake(['send', 'orders.csv', '--timestamp-format', 'MM/dd/yyyy hh:mm:ss a', '--dead-letter', 'rejected.ndjson'], dir);

    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toBe(
      'lake: 5 rejected of 25 rows: see rejected.ndjson\nhint: each line of the dead-letter file names the row, the column and the Firehose error; fix them and send the file again\n',
    );
    expect(JSON.parse(run.stdout)).toMatchObject({ files: ['orders.csv'], read: 25, accepted: 20, rejected: 5, undelivered: 0, batches: 1, deadLetter: 'rejected.ndjson' });
    const dead = readFileSync(join(dir, 'rejected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dead.map(({ file, line, column, value, code }) => ({ file, line, column, value, code }))).toEqual([
      { file: 'orders.csv', line: 5, column: 'qty', value: 'three', code: 'DataFormatConversion.MalformedData' },
      { file: 'orders.csv', line: 10, column: 'ordered_at', value: 'yesterday', code: 'DataFormatConversion.MalformedData' },
      { file: 'orders.csv', line: 14, column: 'qty', value: '99999999999', code: 'DataFormatConversion.MalformedData' },
      { file: 'orders.csv', line: 16, column: undefined, value: undefined, code: 'lake.FieldCount' },
      { file: 'orders.csv', line: 21, column: 'price', value: '12,50', code: 'DataFormatConversion.MalformedData' },
    ]);
    expect(dead.map((d) => d.message)).toEqual([
      'Data does not match the schema. For input string: "three"',
      'Data does not match the schema. For input string: "yesterday"',
      'Data does not match the schema. For input string: "99999999999"',
      'expected 6 fields (as the header has), found 5',
      'Data does not match the schema. For input string: "12,50"',
    ]);
    expect(dead.map((d) => [d.stage, d.text])).toEqual([
      ['validation', '1003,Dee,three,1.00,true,03/18/2015 02:05:00 PM'],
      ['validation', '1007,Gus,1,1.00,true,yesterday'],
      ['validation', '1011,Ivy,99999999999,1.00,true,03/18/2015 02:05:00 PM'],
      ['validation', '1013,Mia,1,4.00,true'],
      ['validation', '1018,Sam,1,"12,50",true,03/18/2015 02:05:00 PM'],
    ]);

    // What the lake's own query sees once the partition is registered: exactly the 20 good rows.
    const sync = await lake(['partitions', 'sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout)).toMatchObject({ listed: 1, added: 1, anomalies: [] });
    const query = await lake(['query', 'SELECT count(*) AS n, count(DISTINCT order_id) AS ids, sum(qty) AS qty, min(order_id) AS first, max(order_id) AS last FROM events'], dir);
    expect(query.code, query.stderr).toBe(0);
    expect((JSON.parse(query.stdout) as { rows: unknown[] }).rows).toEqual([{ n: 20, ids: 20, qty: 44, first: 1000, last: 1024 }]);

    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      `SELECT order_id, customer, qty, CAST(price AS VARCHAR) AS price, paid, CAST(ordered_at AS VARCHAR) AS ordered_at FROM read_parquet('${join(config.lakeDir, 's3', 'shop-data', 'data')}/**/*.parquet') ORDER BY order_id`,
    );
    const rows = reader.getRowObjectsJson();
    connection.closeSync();
    const good = [1000, 1001, 1002, 1004, 1005, 1006, 1008, 1009, 1010, 1012, 1014, 1015, 1016, 1017, 1019, 1020, 1021, 1022, 1023, 1024];
    expect(rows.map((r) => Number(r.order_id))).toEqual(good);
    expect(rows[0]).toEqual({ order_id: '1000', customer: 'Ann', qty: 1, price: '10.50', paid: true, ordered_at: '2015-03-18 13:05:00' });
    expect(rows.find((r) => r.order_id === '1005')).toEqual({ order_id: '1005', customer: 'Eve, "the" second', qty: 2, price: '3.00', paid: false, ordered_at: '2015-03-19 00:30:00' });
    expect(rows.find((r) => r.order_id === '1006')).toEqual({ order_id: '1006', customer: 'line\nbreak', qty: null, price: null, paid: null, ordered_at: '2015-03-18 09:00:00' });
  });
});

describe('lake send --validate-only on a big file (the check runs on worker threads)', () => {
  it('names exactly the bad rows, however far into the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-send-e2e-check-'));
    writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'shop', columns: [{ name: 'id', type: 'bigint' }, { name: 'qty', type: 'int' }] }));
    const bad = new Set([3, 25_000, 49_999]);
    const lines = Array.from({ length: 50_000 }, (_, i) => (bad.has(i) ? `{"id":${i},"qty":"x${i}"}` : `{"id":${i},"qty":${i % 100}}`));
    writeFileSync(join(dir, 'rows.ndjson'), `${lines.join('\n')}\n`);

    const run = await lake(['send', 'rows.ndjson', '--validate-only', '--dead-letter', 'bad.ndjson'], dir);

    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 50_000, valid: 49_997, rejected: 3, accepted: 0 });
    const dead = readFileSync(join(dir, 'bad.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dead).toEqual(
      [...bad].map((i) => ({ file: 'rows.ndjson', line: i + 1, column: 'qty', value: `"x${i}"`, code: 'DataFormatConversion.MalformedData', message: `Data does not match the schema. For input string: "x${i}"`, stage: 'validation', text: `{"id":${i},"qty":"x${i}"}` })),
    );
  });
});

/** An aws-backend project (pointed at the loopback Firehose by LAKE_ENDPOINT_URL), with `rows` rows of about 200 bytes. */
function awsProject(rows: number): { dir: string; ids: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'lake-send-e2e-aws-'));
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'weblogs', backend: 'aws', columns: [{ name: 'id', type: 'bigint' }, { name: 'msg', type: 'string' }] }));
  const ids = Array.from({ length: rows }, (_, i) => String(i));
  writeFileSync(join(dir, 'events.csv'), `id,msg\n${ids.map((id) => `${id},${'m'.repeat(180)}`).join('\n')}\n`);
  return { dir, ids };
}

/** How many times each id arrived. */
function arrivals(records: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of records) {
    const id = /"id":(\d+)/.exec(r)![1]!;
    out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

describe('lake send on the aws backend: interrupted and resumed', () => {
  it('SIGKILL in the middle, then --resume: every row present, duplicates no more than the batches in flight, and reported', async () => {
    server = await startFirehoseLoopback({ keep: true, latencyMs: 20 });
    const { dir, ids } = awsProject(60_000);
    const env = { LAKE_ENDPOINT_URL: server.url };

    const first = start(['send', 'events.csv'], dir, env);
    await waitFor(() => server!.accepted >= 20_000);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    const beforeResume = server.accepted;
    expect(beforeResume).toBeLessThan(60_000);
    expect(existsSync(join(dir, '.lake-send-checkpoint.json'))).toBe(true);

    const resumed = await lake(['send', '--resume'], dir, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = JSON.parse(resumed.stdout) as { skipped: number; read: number; accepted: number; duplicatesPossible: number };

    const seen = arrivals(server.records);
    expect(ids.filter((id) => !seen.has(id))).toEqual([]);
    const duplicates = [...seen.values()].reduce((s, n) => s + n - 1, 0);
    // At most the batches open at the kill: concurrency 4, two open batches per call slot.
    expect(duplicates).toBeLessThanOrEqual(8 * 500);
    expect(doc.duplicatesPossible).toBeGreaterThanOrEqual(duplicates);
    expect(doc.duplicatesPossible).toBeLessThanOrEqual(8 * 500);
    expect(doc.skipped + doc.read).toBe(60_000);
    expect(doc.accepted).toBe(doc.read);
    expect(existsSync(join(dir, '.lake-send-checkpoint.json'))).toBe(false);
  }, 120_000);

  it('Ctrl-C: settles the calls in flight, prints the summary, exits 130; --resume finishes with nothing twice', async () => {
    server = await startFirehoseLoopback({ keep: true, latencyMs: 20 });
    const { dir, ids } = awsProject(30_000);
    const env = { LAKE_ENDPOINT_URL: server.url };

    const first = start(['send', 'events.csv'], dir, env);
    await waitFor(() => server!.accepted >= 5_000);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('lake: stopping (press Ctrl-C again to exit at once)...');
    expect(stopped.stderr).toMatch(/lake: interrupted: [\d,]+ rows not sent yet; checkpoint saved in \.lake-send-checkpoint\.json\nhint: run the same command with --resume to continue\n/);
    const summary = JSON.parse(stopped.stdout) as { interrupted: boolean; accepted: number; pending: number };
    expect(summary.interrupted).toBe(true);
    // Calls in flight were answered before stopping: the summary's count is what arrived.
    expect(summary.accepted).toBe(server.accepted);

    const resumed = await lake(['send', '--resume'], dir, env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const seen = arrivals(server.records);
    expect(ids.filter((id) => !seen.has(id))).toEqual([]);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ duplicatesPossible: 0, skipped: summary.accepted });
  }, 120_000);
});
