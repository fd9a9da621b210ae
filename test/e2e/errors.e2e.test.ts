// End-to-end: the built bin/lake on the local backend. A file sent with --no-validate holds
// 7 bad rows of 3 kinds; `lake errors` finds them, names the failing columns, gates CI,
// and a redrive with a fixing transform delivers them, once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/lib/config.js';
import { FileCatalog } from '../../src/lib/local/file-catalog.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import { tableDefFromConfig } from '../../src/lib/table-def.js';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
let dir: string;

function lake(...args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  const run = spawnSync(process.execPath, [LAKE, ...args], { cwd: dir, env, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const ROWS = [
  '{"id":"g1","qty":1,"ts":"2024-05-17 10:00:00"}',
  '{"id":"q1","qty":"x","ts":"2024-05-17 10:00:01"}',
  '{"id":"g2","qty":2}',
  '{"id":"q2","qty":"3 units"}',
  '{"id":"t1","qty":4,"ts":"yesterday"}',
  '{"id":"p1","qty":5',
  '{"id":"q3","qty":"many"}',
  '{"id":"t2","ts":"2024-13-45 99:00:00"}',
  '{"id":"g3","qty":3}',
  '{"id":"p2" "qty":6}',
];

// Fixes each kind: a count written in words or with a unit, a time nobody can read, JSON with a missing brace or comma.
const FIX = `export default (record, info) => {
  if (typeof record === 'string') return record.endsWith('}') ? record.replace('" "', '","') : record + '}';
  if (info.column === 'qty') return { ...record, qty: parseInt(record.qty, 10) || 0 };
  if (info.column === 'ts') return { ...record, ts: null };
  return record;
};
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lake-errors-e2e-'));
  const raw = { name: 'shop', backend: 'local', columns: [{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'ts', type: 'timestamp' }] };
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify(raw, null, 2));
  writeFileSync(join(dir, 'events.ndjson'), `${ROWS.join('\n')}\n`);
  writeFileSync(join(dir, 'fix.mjs'), FIX);
  // What `lake init` sets up on the local backend: the bucket folder and the Glue table.
  const { config } = validateConfig(raw);
  config.lakeDir = join(dir, '.lake');
  await new FsObjectStore(config.lakeDir).createBucket(config.bucket);
  const catalog = new FileCatalog(config.lakeDir);
  await catalog.createDatabase({ name: config.database });
  await catalog.createTable(tableDefFromConfig(config));
  const sent = lake('send', '--no-validate', 'events.ndjson');
  expect(sent.code, sent.stderr).toBe(0);
  expect(JSON.parse(sent.stdout)).toMatchObject({ read: 10, accepted: 10, rejected: 0 });
}, 60_000);

interface Doc {
  total: number;
  groups: { type: string; code: string; count: number; samples?: { data: string; column?: string; value?: string }[] }[];
  redrive?: Record<string, unknown>;
}

describe('lake errors (bin/lake, local backend)', () => {
  it('shows the 7 records in their groups, naming the column that failed', () => {
    const run = lake('errors', '--samples', '10');
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as Doc;
    expect(doc.total).toBe(7);
    expect(doc.groups.map((g) => [g.type, g.code, g.count])).toEqual([
      ['format-conversion-failed', 'DataFormatConversion.MalformedData', 5],
      ['format-conversion-failed', 'DataFormatConversion.ParseError', 2],
    ]);
    // Each bad row, by its id, in its group with the column and value that failed.
    const kinds = doc.groups.flatMap((g) => g.samples!.map((s) => `${/"id":"(\w+)"/.exec(s.data)![1]} ${g.code} ${s.column ?? '-'} ${s.value ?? '-'}`)).sort();
    expect(kinds).toEqual([
      'p1 DataFormatConversion.ParseError - -',
      'p2 DataFormatConversion.ParseError - -',
      'q1 DataFormatConversion.MalformedData qty "x"',
      'q2 DataFormatConversion.MalformedData qty "3 units"',
      'q3 DataFormatConversion.MalformedData qty "many"',
      't1 DataFormatConversion.MalformedData ts "yesterday"',
      't2 DataFormatConversion.MalformedData ts "2024-13-45 99:00:00"',
    ]);
    expect(doc.groups.flatMap((g) => g.samples!.map((s) => s.data)).sort()).toEqual(ROWS.filter((r) => !r.includes('"g')).sort());
  });

  it('as a table, --samples names the failing column and value beside each record', () => {
    const run = lake('errors', '--samples', '10', '-o', 'table');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^7 error records from \S+ to \S+, in 1 object\n/);
    const samples = run.stdout.slice(run.stdout.indexOf('samples'));
    const cells = samples
      .split('\n')
      .filter((l) => l.startsWith('│ DataFormatConversion.'))
      .map((l) => l.split('│').slice(1, 4).map((c) => c.trim()).join(' ').trim())
      .sort();
    expect(cells).toEqual([
      'DataFormatConversion.MalformedData qty "3 units"',
      'DataFormatConversion.MalformedData qty "many"',
      'DataFormatConversion.MalformedData qty "x"',
      'DataFormatConversion.MalformedData ts "2024-13-45 99:00:00"',
      'DataFormatConversion.MalformedData ts "yesterday"',
      'DataFormatConversion.ParseError',
      'DataFormatConversion.ParseError',
    ]);
  });

  it('--fail-on-errors exits 3', () => {
    const run = lake('errors', '--fail-on-errors');
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 7 });
    expect(run.stderr).toMatch(/^lake: 7 error records from \S+ to \S+\nhint: `lake errors --samples 3` shows what failed and why\n$/);
  });

  it('a redrive with a transform that fixes them delivers them, and a second sends nothing', () => {
    const dry = lake('errors', '--redrive', '--dry-run', '--transform', 'fix.mjs');
    expect(dry.code, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as Doc).redrive).toMatchObject({ dryRun: true, records: 7, toSend: 7, sent: 0, objects: 0 });

    const first = lake('errors', '--redrive', '--transform', 'fix.mjs');
    expect(first.code, first.stderr).toBe(0);
    expect((JSON.parse(first.stdout) as Doc).redrive).toMatchObject({ dryRun: false, records: 7, toSend: 7, sent: 7, skipped: 0, stillFailing: 0, undelivered: 0, objects: 1, deadLetter: null });

    expect(lake('partitions', 'sync').code).toBe(0);
    const query = lake('query', 'SELECT id, qty, ts IS NULL AS no_ts FROM events ORDER BY id', '-o', 'json');
    expect(query.code, query.stderr).toBe(0);
    expect((JSON.parse(query.stdout) as { rows: unknown[] }).rows).toEqual([
      { id: 'g1', qty: 1, no_ts: false },
      { id: 'g2', qty: 2, no_ts: true },
      { id: 'g3', qty: 3, no_ts: true },
      { id: 'p1', qty: 5, no_ts: true },
      { id: 'p2', qty: 6, no_ts: true },
      { id: 'q1', qty: 0, no_ts: false },
      { id: 'q2', qty: 3, no_ts: true },
      { id: 'q3', qty: 0, no_ts: true },
      { id: 't1', qty: 4, no_ts: true },
      { id: 't2', qty: null, no_ts: true },
    ]);

    const second = lake('errors', '--redrive', '--transform', 'fix.mjs');
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as Doc).redrive).toMatchObject({ records: 0, toSend: 0, sent: 0, objects: 0 });
    expect(lake('errors', '--fail-on-errors').code).toBe(0);
  }, 60_000);
});
