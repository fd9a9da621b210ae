import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compilePartitionExpression, FileCatalog } from '../../src/lib/local/file-catalog.js';
import type { PartitionDef, TableDef } from '../../src/lib/ports.js';
import { describeCatalogContract } from './catalog.contract.js';

describeCatalogContract('FileCatalog', () => {
  const lakeDir = mkdtempSync(join(tmpdir(), 'lake-catalog-'));
  return Promise.resolve({ catalog: new FileCatalog(lakeDir), database: 'contract_db', cleanup: () => Promise.resolve(rmSync(lakeDir, { recursive: true, force: true })) });
});

async function errorOf(promise: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message?: string };
  }
  return undefined;
}

const KEYS = [
  { name: 'year', type: 'string' },
  { name: 'hour', type: 'int' },
];

function table(overrides: Partial<TableDef> = {}): TableDef {
  return { database: 'db', name: 't', location: 's3://b/t/', columns: [{ name: 'x', type: 'string' }], partitionKeys: KEYS, parameters: {}, ...overrides };
}

function part(year: string, hour: string): PartitionDef {
  return { values: [year, hour], location: `s3://b/t/year=${year}/hour=${hour}/` };
}

describe('FileCatalog on disk', () => {
  let lakeDir: string;
  let catalog: FileCatalog;
  const clock = new Date('2024-05-06T07:08:09.010Z');

  beforeEach(async () => {
    lakeDir = mkdtempSync(join(tmpdir(), 'lake-catalog-'));
    catalog = new FileCatalog(lakeDir, { now: () => clock });
    await catalog.createDatabase({ name: 'db', description: 'd' });
    await catalog.createTable(table());
  });
  afterEach(() => {
    rmSync(lakeDir, { recursive: true, force: true });
  });

  it("stores Glue's shapes, one file for the database, the table and its partitions", async () => {
    await catalog.batchCreatePartition('db', 't', [{ ...part('2024', '7'), parameters: { a: 'b' } }]);
    expect(JSON.parse(readFileSync(join(lakeDir, 'catalog', 'db', 'database.json'), 'utf8'))).toEqual({ Name: 'db', Description: 'd', CreateTime: '2024-05-06T07:08:09.010Z' });
    expect(JSON.parse(readFileSync(join(lakeDir, 'catalog', 'db', 't', 'table.json'), 'utf8'))).toEqual({
      Name: 't',
      DatabaseName: 'db',
      Parameters: {},
      CreateTime: '2024-05-06T07:08:09.010Z',
      UpdateTime: '2024-05-06T07:08:09.010Z',
      PartitionKeys: [
        { Name: 'year', Type: 'string' },
        { Name: 'hour', Type: 'int' },
      ],
      StorageDescriptor: { Columns: [{ Name: 'x', Type: 'string' }], Location: 's3://b/t/' },
    });
    expect(JSON.parse(readFileSync(join(lakeDir, 'catalog', 'db', 't', 'partitions.json'), 'utf8'))).toEqual({
      Partitions: [{ Values: ['2024', '7'], StorageDescriptor: { Location: 's3://b/t/year=2024/hour=7/' }, Parameters: { a: 'b' }, CreationTime: '2024-05-06T07:08:09.010Z' }],
    });
    expect(readdirSync(join(lakeDir, 'catalog')).sort()).toEqual(['db']);
    expect(readdirSync(join(lakeDir, 'catalog', 'db', 't')).sort()).toEqual(['partitions.json', 'table.json']);
  });

  it('returns stored times as Dates', async () => {
    await catalog.batchCreatePartition('db', 't', [part('2024', '1')]);
    expect((await catalog.getTable('db', 't'))?.createdAt).toEqual(clock);
    expect((await catalog.getPartitions('db', 't')).partitions[0]?.createdAt).toEqual(clock);
  });

  it('lowercases database and table names, as Glue does', async () => {
    await catalog.createDatabase({ name: 'MixedCase' });
    expect(await catalog.getDatabase('mixedcase')).toEqual({ name: 'mixedcase' });
    await catalog.createTable(table({ database: 'MIXEDCASE', name: 'Events' }));
    expect((await catalog.getTable('mixedcase', 'EVENTS'))?.name).toBe('events');
  });

  it.each(['../escape', 'a/b', '', '.hidden', 'x'.repeat(256), 'nul\0'])('refuses the name %j with InvalidInputException, writing nothing', async (name) => {
    expect((await errorOf(catalog.createDatabase({ name })))?.code).toBe('InvalidInputException');
    expect((await errorOf(catalog.createTable(table({ name }))))?.code).toBe('InvalidInputException');
    expect((await errorOf(catalog.getTable(name, 't')))?.code).toBe('InvalidInputException');
    expect(readdirSync(lakeDir)).toEqual(['catalog']);
    expect(readdirSync(join(lakeDir, 'catalog'))).toEqual(['db']);
  });

  it('getTable of a table in a missing database is undefined', async () => {
    expect(await catalog.getTable('nodb', 't')).toBeUndefined();
  });

  it('returns partitions sorted by their values, and tokens resume after the last one returned', async () => {
    await catalog.batchCreatePartition('db', 't', [part('2025', '1'), part('2024', '2'), part('2024', '10'), part('2023', '5')]);
    const first = await catalog.getPartitions('db', 't', { maxResults: 3 });
    expect(first.partitions.map((p) => p.values)).toEqual([
      ['2023', '5'],
      ['2024', '10'],
      ['2024', '2'],
    ]);
    // A partition added behind the token does not shift the next page.
    await catalog.batchCreatePartition('db', 't', [part('2020', '1')]);
    const second = await catalog.getPartitions('db', 't', { maxResults: 3, nextToken: first.nextToken });
    expect(second.partitions.map((p) => p.values)).toEqual([['2025', '1']]);
    expect(second.nextToken).toBeUndefined();
  });

  it('rejects a token it did not make with InvalidInputException', async () => {
    expect((await errorOf(catalog.getPartitions('db', 't', { nextToken: 'garbage' })))?.code).toBe('InvalidInputException');
  });

  it.each([
    [{ number: 0, total: 0 }],
    [{ number: 0, total: 11 }],
    [{ number: 3, total: 3 }],
    [{ number: -1, total: 2 }],
    [{ number: 0.5, total: 2 }],
  ])('refuses segment %j with ValidationException', async (segment) => {
    expect((await errorOf(catalog.getPartitions('db', 't', { segment })))?.code).toBe('ValidationException');
  });

  it('assigns each partition to the same segment every time', async () => {
    const all = Array.from({ length: 40 }, (_, i) => part('2024', String(i)));
    await catalog.batchCreatePartition('db', 't', all);
    const once = await catalog.getPartitions('db', 't', { segment: { number: 1, total: 4 } });
    const again = await new FileCatalog(lakeDir).getPartitions('db', 't', { segment: { number: 1, total: 4 } });
    expect(again.partitions.map((p) => p.values)).toEqual(once.partitions.map((p) => p.values));
  });

  it('compares an integer partition key as a number in expressions', async () => {
    await catalog.batchCreatePartition('db', 't', [part('2024', '2'), part('2024', '9'), part('2024', '10'), part('2024', '23')]);
    const hours = async (expression: string) => (await catalog.getPartitions('db', 't', { expression })).partitions.map((p) => p.values[1]).sort();
    expect(await hours('hour >= 9')).toEqual(['10', '23', '9']);
    expect(await hours('hour BETWEEN 2 AND 10')).toEqual(['10', '2', '9']);
    expect(await hours("year = '2024' AND hour < 10")).toEqual(['2', '9']);
  });

  it('rejects a malformed expression or an unknown key with InvalidInputException', async () => {
    for (const expression of ["year = '2024", "colour = 'red'", "year = '2024' AND", "year ~ '1'", "(year = '1'"]) {
      expect((await errorOf(catalog.getPartitions('db', 't', { expression })))?.code, expression).toBe('InvalidInputException');
    }
  });

  it('deletes a table directory entirely', async () => {
    await catalog.batchCreatePartition('db', 't', [part('2024', '1')]);
    await catalog.deleteTable('db', 't');
    expect(readdirSync(join(lakeDir, 'catalog', 'db'))).toEqual(['database.json']);
  });

  it('another instance sees changes made by this one, also after reading them once', async () => {
    const other = new FileCatalog(lakeDir);
    await catalog.batchCreatePartition('db', 't', [part('2024', '1')]);
    expect((await other.getPartitions('db', 't')).partitions.length).toBe(1);
    await catalog.batchCreatePartition('db', 't', [part('2024', '2')]);
    expect((await other.getPartitions('db', 't')).partitions.length).toBe(2);
    await other.batchDeletePartition('db', 't', [['2024', '1']]);
    expect((await catalog.getPartitions('db', 't')).partitions.map((p) => p.values)).toEqual([['2024', '2']]);
  });

  it('runs concurrent batches from one process without losing any', async () => {
    const batches = Array.from({ length: 10 }, (_, b) => Array.from({ length: 50 }, (_, i) => part(String(b), String(i))));
    const results = await Promise.all(batches.map((batch) => catalog.batchCreatePartition('db', 't', batch)));
    expect(results.every((r) => r.errors.length === 0)).toBe(true);
    expect((await catalog.getPartitions('db', 't')).partitions.length).toBe(500);
  });

  describe('the lock', () => {
    const lockPath = () => join(lakeDir, 'catalog', '.lock');

    it('is released after each write', async () => {
      await catalog.batchCreatePartition('db', 't', [part('2024', '1')]);
      expect(readdirSync(join(lakeDir, 'catalog'))).toEqual(['db']);
    });

    it('breaks a lock left by a process that has exited', async () => {
      const { pid } = await new Promise<{ pid: number }>((resolve) => {
        const child = spawn(process.execPath, ['-e', '0']);
        child.on('exit', () => resolve({ pid: child.pid as number }));
      });
      writeFileSync(lockPath(), JSON.stringify({ pid, host: hostname(), token: 'dead', at: Date.now() }));
      const quick = new FileCatalog(lakeDir, { lockTimeoutMs: 2_000 });
      expect(await quick.batchCreatePartition('db', 't', [part('2024', '1')])).toEqual({ errors: [] });
      expect(existsSync(lockPath())).toBe(false);
    });

    it('breaks a lock older than the stale age even when its owner cannot be checked', async () => {
      writeFileSync(lockPath(), JSON.stringify({ pid: 1, host: 'another-host', token: 'old', at: Date.now() - 120_000 }));
      expect(await catalog.batchCreatePartition('db', 't', [part('2024', '1')])).toEqual({ errors: [] });
    });

    it('judges a lock naming no real process by its age only', async () => {
      writeFileSync(lockPath(), JSON.stringify({ pid: -1, host: hostname(), token: 'odd', at: Date.now() }));
      const quick = new FileCatalog(lakeDir, { lockTimeoutMs: 100 });
      expect((await errorOf(quick.batchCreatePartition('db', 't', [part('2024', '1')])))?.code).toBe('ConcurrentModificationException');
      const patient = new FileCatalog(lakeDir, { staleLockMs: 50 });
      await new Promise((r) => setTimeout(r, 60));
      expect(await patient.batchCreatePartition('db', 't', [part('2024', '1')])).toEqual({ errors: [] });
    });

    it('waits for a live lock and gives up with ConcurrentModificationException', async () => {
      writeFileSync(lockPath(), JSON.stringify({ pid: process.pid, host: hostname(), token: 'mine', at: Date.now() }));
      const quick = new FileCatalog(lakeDir, { lockTimeoutMs: 150 });
      const started = Date.now();
      const err = await errorOf(quick.batchCreatePartition('db', 't', [part('2024', '1')]));
      expect(err?.code).toBe('ConcurrentModificationException');
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(readFileSync(lockPath(), 'utf8')).toContain('"mine"');
      expect((await catalog.getPartitions('db', 't')).partitions).toEqual([]);
    });

    it('proceeds as soon as a live lock is released', async () => {
      writeFileSync(lockPath(), JSON.stringify({ pid: process.pid, host: hostname(), token: 'mine', at: Date.now() }));
      setTimeout(() => rmSync(lockPath()), 100);
      expect(await catalog.batchCreatePartition('db', 't', [part('2024', '1')])).toEqual({ errors: [] });
    });
  });
});

describe('FileCatalog across processes', () => {
  let work: string;
  let lakeDir: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lake-catalog-procs-'));
    await build({
      entryPoints: [join(import.meta.dirname, '../../src/lib/local/file-catalog.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(work, 'file-catalog.mjs'),
      logLevel: 'silent',
    });
    // Waits for the "go" file so both writers start together, then creates its batches.
    writeFileSync(
      join(work, 'writer.mjs'),
      `import { existsSync } from 'node:fs';
import { FileCatalog } from './file-catalog.mjs';
const [lakeDir, tag, batches, size] = process.argv.slice(2);
while (!existsSync(lakeDir + '/go')) await new Promise((r) => setTimeout(r, 2));
const catalog = new FileCatalog(lakeDir);
let errors = 0;
for (let b = 0; b < Number(batches); b++) {
  const partitions = [];
  for (let i = 0; i < Number(size); i++) {
    const n = String(b * Number(size) + i).padStart(6, '0');
    partitions.push({ values: [tag, n], location: 's3://b/t/' + tag + '/' + n + '/' });
  }
  errors += (await catalog.batchCreatePartition('db', 't', partitions)).errors.length;
}
process.stdout.write(JSON.stringify({ errors }));
`,
    );
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    lakeDir = mkdtempSync(join(work, 'lake-'));
    const catalog = new FileCatalog(lakeDir);
    await catalog.createDatabase({ name: 'db' });
    await catalog.createTable({ database: 'db', name: 't', location: 's3://b/t/', columns: [], partitionKeys: [{ name: 'who', type: 'string' }, { name: 'n', type: 'string' }], parameters: {} });
  });

  async function runWriters(tags: string[], batches: number, size: number): Promise<number[]> {
    const run = promisify(execFile);
    const children = tags.map((tag) => run(process.execPath, [join(work, 'writer.mjs'), lakeDir, tag, String(batches), String(size)]));
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(lakeDir, 'go'), '');
    const outputs = await Promise.all(children);
    return outputs.map((o) => (JSON.parse(o.stdout) as { errors: number }).errors);
  }

  async function countPartitions(): Promise<number> {
    const catalog = new FileCatalog(lakeDir);
    let count = 0;
    let nextToken: string | undefined;
    do {
      const page = await catalog.getPartitions('db', 't', { nextToken });
      count += page.partitions.length;
      nextToken = page.nextToken;
    } while (nextToken);
    return count;
  }

  it('two processes creating different partitions at once lose none of them', async () => {
    const errors = await runWriters(['a', 'b'], 30, 50);
    expect(errors).toEqual([0, 0]);
    expect(await countPartitions()).toBe(3000);
    expect(readdirSync(join(lakeDir, 'catalog')).sort()).toEqual(['db']);
  });

  it('two processes creating the same partitions at once create each exactly once', async () => {
    const errors = await runWriters(['same', 'same'], 20, 50);
    expect(errors[0]! + errors[1]!).toBe(1000);
    expect(await countPartitions()).toBe(1000);
  });
});

describe('compilePartitionExpression', () => {
  const keys = [
    { name: 'Year', type: 'string' },
    { name: 'dt', type: 'date' },
    { name: 'n', type: 'bigint' },
    { name: 'ratio', type: 'double' },
  ];
  const matches = (expression: string, values: string[]) => compilePartitionExpression(expression, keys)(values);
  const row = ['2024', '2024-05-06', '42', '0.5'];

  it.each([
    ["year = '2024'", true],
    ["YEAR = '2024'", true],
    ["`year` = '2024'", true],
    ["year != '2024'", false],
    ["dt >= '2024-05-01' AND dt < '2024-06-01'", true],
    ["dt BETWEEN '2024-05-07' AND '2024-05-31'", false],
    ["dt NOT BETWEEN '2024-05-07' AND '2024-05-31'", true],
    ["year NOT IN ('2023', '2025')", true],
    ['n = 42', true],
    ['n > 5', true],
    ["n > '5'", true],
    ['n IN (1, 2, 42)', true],
    ['ratio < 1', true],
    ['ratio = 0.50', true],
    ["dt LIKE '2024-05-%'", true],
    ["dt LIKE '2024-_5-06'", true],
    ["dt LIKE '2024'", false],
    ["NOT year = '2024'", false],
    ["not (year = '2023' or n = 1)", true],
    ["year = 'it''s'", false],
  ])('%s -> %s', (expression, expected) => {
    expect(matches(expression, row)).toBe(expected);
  });

  it('compares a string key as a string, so "10" < "9"', () => {
    expect(matches("year < '9'", ['10', '2024-01-01', '1', '1'])).toBe(true);
  });

  it('matches nothing when a number key holds something that is not a number', () => {
    expect(matches('n > 1', ['2024', '2024-01-01', 'abc', '1'])).toBe(false);
  });

  it('names the unknown key in its error', () => {
    expect(() => compilePartitionExpression("colour = 'red'", keys)).toThrow(/unknown partition key "colour"/);
  });
});
