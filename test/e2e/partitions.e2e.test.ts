// End-to-end: the built bin/lake on the local backend. Rows sent into three event hours land
// in three partitions that queries cannot see until `lake partitions sync` registers them;
// the objects of one hour deleted, `sync --prune` drops exactly that one; a stray folder is
// an anomaly (exit 3). Every sync is checked for the writes it made, or did not make.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
/** Rows sent into each hour of 2024-05-17. */
const PER_HOUR: Record<string, number> = { '09': 7, '10': 11, '13': 12 };
const WRITES = ['BatchCreatePartition', 'BatchDeletePartition', 'BatchUpdatePartition'];

let dir: string;

function lake(...args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  const run = spawnSync(process.execPath, [LAKE, ...args], { cwd: dir, env, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface SyncDoc {
  listed: number;
  registered: number;
  added: number;
  dropped: number;
  updated: number;
  unchanged: number;
  anomalies: { path: string; reason: string }[];
  dryRun: boolean;
  plan: { add: string[][]; drop: string[][]; update: unknown[] };
  projection: null | { enabled: boolean; outside: { values: string[]; reason: string }[] };
  apiCalls: Record<string, number>;
}

function sync(...flags: string[]): SyncDoc & { code: number | null; stderr: string } {
  const run = lake('partitions', 'sync', ...flags, '-o', 'json');
  return { ...(JSON.parse(run.stdout) as SyncDoc), code: run.code, stderr: run.stderr };
}

/** Rows per hour as the query engine sees them. */
function countsByHour(): Record<string, number> {
  const run = lake('query', 'SELECT hour, count(*) AS n FROM events GROUP BY hour ORDER BY hour', '-o', 'json');
  expect(run.code, run.stderr).toBe(0);
  return Object.fromEntries((JSON.parse(run.stdout) as { rows: { hour: string; n: number }[] }).rows.map((r) => [r.hour, r.n]));
}

const partitionsFile = () => join(dir, '.lake', 'catalog', 'hrs', 'events', 'partitions.json');
const catalogState = () => (existsSync(partitionsFile()) ? readFileSync(partitionsFile(), 'utf8') : null);
const hourFolder = (hour: string) => join(dir, '.lake', 's3', 'hrs-data', 'data', 'year=2024', 'month=05', 'day=17', `hour=${hour}`);
const writesOf = (doc: SyncDoc) => WRITES.filter((w) => doc.apiCalls[w] !== undefined);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lake-partitions-e2e-'));
  writeFileSync(join(dir, 'schema.json'), JSON.stringify([{ name: 'id', type: 'bigint' }, { name: 'ts', type: 'timestamp' }]));
  const init = lake('init', '--name', 'hrs', '--schema', 'schema.json', '--time-field', 'ts', '--partition-by', 'year,month,day,hour');
  expect(init.code, init.stderr).toBe(0);
  const lines: string[] = [];
  let id = 0;
  for (const [hour, n] of Object.entries(PER_HOUR)) for (let m = 0; m < n; m++) lines.push(JSON.stringify({ id: id++, ts: `2024-05-17 ${hour}:${String(m).padStart(2, '0')}:00` }));
  writeFileSync(join(dir, 'rows.ndjson'), `${lines.join('\n')}\n`);
  const sent = lake('send', 'rows.ndjson');
  expect(sent.code, sent.stderr).toBe(0);
  expect(JSON.parse(sent.stdout)).toMatchObject({ read: 30, accepted: 30, rejected: 0 });
}, 60_000);

describe('lake partitions sync and list (bin/lake, local backend)', () => {
  it('before any sync, the rows sit in three hour folders the query cannot see', () => {
    expect(Object.keys(PER_HOUR).map((h) => readdirSync(hourFolder(h)).filter((f) => f.endsWith('.parquet')).length)).toEqual([1, 1, 1]);
    expect(countsByHour()).toEqual({});
  });

  it('--dry-run prints the plan (3 to add) and writes nothing', () => {
    const before = catalogState();
    const doc = sync('--dry-run');
    expect(doc.code, doc.stderr).toBe(0);
    expect(doc).toMatchObject({ dryRun: true, listed: 3, registered: 0, added: 0, dropped: 0, updated: 0, anomalies: [] });
    expect(doc.plan).toEqual({ add: [['2024', '05', '17', '09'], ['2024', '05', '17', '10'], ['2024', '05', '17', '13']], drop: [], update: [] });
    expect(writesOf(doc)).toEqual([]);
    expect(catalogState()).toBe(before);

    const table = lake('partitions', 'sync', '--dry-run', '-o', 'table');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('plan for hrs.events');
    expect(table.stdout.match(/│ add +│ 2024\/05\/17\/\d\d +│/g)).toEqual(['│ add    │ 2024/05/17/09 │', '│ add    │ 2024/05/17/10 │', '│ add    │ 2024/05/17/13 │']);
    expect(catalogState()).toBe(before);
  });

  it('sync adds exactly the 3 hours, in one BatchCreatePartition; the query then sees exactly the rows sent', () => {
    const doc = sync();
    expect(doc.code, doc.stderr).toBe(0);
    expect(doc).toMatchObject({ dryRun: false, listed: 3, registered: 0, added: 3, dropped: 0, updated: 0, unchanged: 0, anomalies: [] });
    expect(doc.apiCalls.BatchCreatePartition).toBe(1);
    expect(writesOf(doc)).toEqual(['BatchCreatePartition']);
    expect(countsByHour()).toEqual(PER_HOUR);
  });

  it('a second sync right after performs zero writes', () => {
    const before = catalogState();
    const doc = sync();
    expect(doc.code, doc.stderr).toBe(0);
    expect(doc).toMatchObject({ listed: 3, registered: 3, added: 0, dropped: 0, updated: 0, unchanged: 3 });
    expect(writesOf(doc)).toEqual([]);
    expect(catalogState()).toBe(before);
  });

  it('list --with-sizes gives each partition, newest first, with its objects and bytes', () => {
    const run = lake('partitions', 'list', '--with-sizes', '-o', 'json');
    expect(run.code, run.stderr).toBe(0);
    const bytes = (hour: string) => readdirSync(hourFolder(hour)).reduce((sum, f) => sum + statSync(join(hourFolder(hour), f)).size, 0);
    expect(JSON.parse(run.stdout)).toEqual({
      total: 3,
      partitions: ['13', '10', '09'].map((hour) => ({
        values: { year: '2024', month: '05', day: '17', hour },
        location: `s3://hrs-data/data/year=2024/month=05/day=17/hour=${hour}/`,
        objects: 1,
        bytes: bytes(hour),
      })),
    });
    const limited = lake('partitions', 'list', '--limit', '1', '-o', 'json');
    expect(JSON.parse(limited.stdout)).toEqual({ total: 3, partitions: [{ values: { year: '2024', month: '05', day: '17', hour: '13' }, location: 's3://hrs-data/data/year=2024/month=05/day=17/hour=13/' }] });
  });

  it('the objects of one hour deleted: sync without --prune keeps it, --prune --dry-run plans 1 drop, --prune drops exactly 1', () => {
    // The objects only: the empty folder stays behind, as after `rm` of each file.
    for (const f of readdirSync(hourFolder('10'))) rmSync(join(hourFolder('10'), f));
    expect(readdirSync(hourFolder('10'))).toEqual([]);

    const kept = sync();
    expect(kept).toMatchObject({ listed: 2, registered: 3, added: 0, dropped: 0, unchanged: 2, plan: { add: [], drop: [], update: [] } });
    expect(writesOf(kept)).toEqual([]);

    const before = catalogState();
    const plan = sync('--prune', '--dry-run');
    expect(plan).toMatchObject({ dryRun: true, dropped: 0, plan: { add: [], drop: [['2024', '05', '17', '10']], update: [] } });
    expect(writesOf(plan)).toEqual([]);
    expect(catalogState()).toBe(before);

    const pruned = sync('--prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned).toMatchObject({ listed: 2, registered: 3, added: 0, dropped: 1, updated: 0, unchanged: 2 });
    expect(writesOf(pruned)).toEqual(['BatchDeletePartition']);
    expect(pruned.apiCalls.BatchDeletePartition).toBe(1);

    expect(countsByHour()).toEqual({ '09': PER_HOUR['09'], '13': PER_HOUR['13'] });
    const listed = JSON.parse(lake('partitions', 'list', '-o', 'json').stdout) as { total: number; partitions: { values: { hour: string } }[] };
    expect([listed.total, listed.partitions.map((p) => p.values.hour)]).toEqual([2, ['13', '09']]);

    const again = sync('--prune');
    expect(again).toMatchObject({ registered: 2, added: 0, dropped: 0, unchanged: 2 });
    expect(writesOf(again)).toEqual([]);
  });

  it('a folder that does not fit the layout (month=13) is reported, not registered, and exits 3', () => {
    const stray = join(dir, '.lake', 's3', 'hrs-data', 'data', 'year=2024', 'month=13', 'day=01', 'hour=00');
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, 'stray.parquet'), readFileSync(join(hourFolder('09'), readdirSync(hourFolder('09'))[0]!)));
    const before = catalogState();

    const doc = sync();
    expect(doc.code).toBe(3);
    expect(doc).toMatchObject({ listed: 2, registered: 2, added: 0, dropped: 0, unchanged: 2 });
    expect(doc.anomalies).toEqual([{ path: 'data/year=2024/month=13/', reason: "month '13' is out of range (two digits 01-12)" }]);
    expect(writesOf(doc)).toEqual([]);
    expect(catalogState()).toBe(before);
    expect(JSON.parse(doc.stderr.trim().split('\n').at(-1)!)).toEqual({
      error: { code: 'Partial', message: '1 prefix does not fit the partition layout and was not registered', hint: 'move or delete the objects listed under anomalies', exitCode: 3 },
    });

    const table = lake('partitions', 'sync', '-o', 'table');
    expect(table.code).toBe(3);
    expect(table.stdout).toContain('anomalies (not registered)');
    expect(table.stdout).toMatch(/│ data\/year=2024\/month=13\/ +│ month '13' is out of range \(two digits 01-12\) +│/);
    expect(table.stderr).toBe('lake: 1 prefix does not fit the partition layout and was not registered\nhint: move or delete the objects listed under anomalies\n');
    expect(countsByHour()).toEqual({ '09': PER_HOUR['09'], '13': PER_HOUR['13'] });
  });
});

describe('lake partitions sync on a table with partition projection (bin/lake, local backend)', () => {
  it('registers nothing, reports the prefixes outside the projection, exits 0; the query sees the projected rows without a sync', () => {
    dir = mkdtempSync(join(tmpdir(), 'lake-partitions-e2e-projection-'));
    writeFileSync(join(dir, 'schema.json'), JSON.stringify([{ name: 'id', type: 'bigint' }, { name: 'ts', type: 'timestamp' }]));
    const init = lake('init', '--name', 'hrs', '--schema', 'schema.json', '--time-field', 'ts', '--partition-by', 'year,month,day,hour', '--projection');
    expect(init.code, init.stderr).toBe(0);
    // Two rows in 2024 and one in 2019, before the projection's year range (2020-2099).
    writeFileSync(join(dir, 'rows.ndjson'), ['{"id":1,"ts":"2024-05-17 09:00:00"}', '{"id":2,"ts":"2024-05-17 10:00:00"}', '{"id":3,"ts":"2019-03-01 05:00:00"}', ''].join('\n'));
    expect(lake('send', 'rows.ndjson').code).toBe(0);

    expect(countsByHour()).toEqual({ '09': 1, '10': 1 });
    const doc = sync();
    expect(doc.code, doc.stderr).toBe(0);
    expect(doc).toMatchObject({ listed: 3, registered: 0, added: 0, dropped: 0, updated: 0, anomalies: [] });
    expect(doc.projection).toEqual({ enabled: true, outside: [{ values: ['2019', '03', '01', '05'], reason: 'year 2019 is outside projection.year.range 2020,2099' }] });
    expect(writesOf(doc)).toEqual([]);
    expect(doc.stderr).toBe('hrs.events uses partition projection: Athena computes partitions from the table properties, nothing to register\n');
    expect(catalogState()).toBe(null);
  });
});
