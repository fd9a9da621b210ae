import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultConfig, type LakeConfig } from '../../src/lib/config.js';
import { ServiceError } from '../../src/lib/errors.js';
import { parseErrorRecords } from '../../src/lib/error-records.js';
import { LocalDeliveryStream, MAX_BATCH_BYTES, MAX_RECORD_BYTES } from '../../src/lib/local/firehose-emulator.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import { silentLogger } from '../../src/lib/log.js';
import { convertRecord, serdeSchemaFromConfig } from '../../src/lib/serde/index.js';
import { SHOP_COLUMNS } from '../helpers/shop-columns.js';

const T0 = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 45));
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const enc = new TextEncoder();
const json = (value: unknown) => enc.encode(JSON.stringify(value));

let lakeDir: string;
let store: FsObjectStore;
let clock: Date;
const streams: LocalDeliveryStream[] = [];

function makeConfig(overrides: Partial<LakeConfig> = {}, partitioning: Partial<LakeConfig['partitioning']> = {}): LakeConfig {
  const config = defaultConfig('shop');
  config.lakeDir = lakeDir;
  config.columns = [...SHOP_COLUMNS];
  Object.assign(config, overrides);
  config.partitioning = { ...config.partitioning, ...partitioning };
  return config;
}

function open(config: LakeConfig): LocalDeliveryStream {
  const stream = new LocalDeliveryStream({ config, store, now: () => clock, log: silentLogger });
  streams.push(stream);
  return stream;
}

async function keys(prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.listAll('shop-data', { prefix })) out.push(o.key);
  return out;
}

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A JSON record of exactly `size` bytes. */
function recordOfSize(size: number, id = 'x'): Uint8Array {
  const base = JSON.stringify({ id, pad: '' });
  return enc.encode(JSON.stringify({ id, pad: 'p'.repeat(size - base.length) }));
}

beforeEach(async () => {
  lakeDir = mkdtempSync(join(tmpdir(), 'lake-firehose-'));
  store = new FsObjectStore(lakeDir);
  await store.createBucket('shop-data');
  clock = T0;
});

afterEach(async () => {
  vi.useRealTimers();
  for (const s of streams.splice(0)) await s.close().catch(() => undefined);
  rmSync(lakeDir, { recursive: true, force: true });
});

describe('PutRecordBatch limits', () => {
  it('accepts 500 records and answers a record id for each', async () => {
    const stream = open(makeConfig());
    const result = await stream.putRecordBatch(Array.from({ length: 500 }, (_, i) => json({ id: `r${i}` })));
    expect(result.failedPutCount).toBe(0);
    expect(result.responses).toHaveLength(500);
    expect(new Set(result.responses.map((r) => r.recordId)).size).toBe(500);
    expect(result.responses[0]!.recordId).toMatch(/^[A-Za-z0-9+/]{128}$/);
  });

  it('fails the whole call with 501 records, buffering nothing', async () => {
    const stream = open(makeConfig());
    const call = stream.putRecordBatch(Array.from({ length: 501 }, () => json({ id: 'x' })));
    await expect(call).rejects.toThrow(ServiceError);
    await expect(call).rejects.toMatchObject({
      code: 'ValidationException',
      message: "1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to 500 (got 501 records)",
    });
    expect(stream.bufferedRows()).toEqual({});
  });

  it('fails an empty call', async () => {
    await expect(open(makeConfig()).putRecordBatch([])).rejects.toMatchObject({ code: 'ValidationException' });
  });

  it('accepts exactly 4 MiB in a call and refuses one byte more', async () => {
    const stream = open(makeConfig());
    const full = [recordOfSize(MAX_RECORD_BYTES), recordOfSize(MAX_RECORD_BYTES), recordOfSize(MAX_RECORD_BYTES), recordOfSize(MAX_RECORD_BYTES), recordOfSize(MAX_BATCH_BYTES - 4 * MAX_RECORD_BYTES)];
    expect(full.reduce((n, r) => n + r.length, 0)).toBe(4_194_304);
    expect((await stream.putRecordBatch(full)).failedPutCount).toBe(0);
    full[4] = recordOfSize(MAX_BATCH_BYTES - 4 * MAX_RECORD_BYTES + 1);
    await expect(stream.putRecordBatch(full)).rejects.toMatchObject({ code: 'InvalidArgumentException', message: 'Records size exceeds 4 MB limit (4194305 bytes in 5 records)' });
  });

  it('accepts a record of exactly 1,000 KiB and fails the whole call for one byte more', async () => {
    const stream = open(makeConfig());
    expect((await stream.putRecordBatch([recordOfSize(1_024_000)])).responses).toHaveLength(1);
    const call = stream.putRecordBatch([json({ id: 'small' }), recordOfSize(1_024_001)]);
    await expect(call).rejects.toMatchObject({
      code: 'ValidationException',
      message:
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000",
    });
    expect(stream.bufferedRows()).toEqual({ 'data:': 1 });
  });
});

describe('buffering and delivery', () => {
  it('delivers when the buffer reaches sizeMiB of input, and keeps the rest buffered', async () => {
    const stream = open(makeConfig({ buffering: { sizeMiB: 1, intervalSeconds: 900 } }));
    const record = recordOfSize(100_000);
    await stream.putRecordBatch(Array.from({ length: 10 }, () => record)); // 1,000,000 bytes < 1 MiB
    await stream.drain();
    expect(await keys()).toEqual([]);
    await stream.putRecordBatch([record, record]); // 1,200,000: the 11th record crosses 1,048,576
    await stream.drain();
    const delivered = await keys();
    expect(delivered).toHaveLength(1);
    expect((await query<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet('${store.pathFor('shop-data', delivered[0]!)}', hive_partitioning = false)`))[0]!.n).toBe(11n);
    expect(stream.bufferedRows()).toEqual({ 'data:': 1 });
  });

  it('delivers when intervalSeconds pass, by the timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const stream = open(makeConfig({ buffering: { sizeMiB: 64, intervalSeconds: 60 } }));
    await stream.putRecordBatch([json({ id: 'a' })]);
    await vi.advanceTimersByTimeAsync(59_999);
    await stream.drain();
    expect(await keys()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await stream.drain();
    expect(await keys()).toHaveLength(1);
    expect(stream.bufferedRows()).toEqual({});
  });

  it('delivers when intervalSeconds pass, by the injected clock, before newer records join', async () => {
    const stream = open(makeConfig({ buffering: { sizeMiB: 64, intervalSeconds: 60 } }));
    await stream.putRecordBatch([json({ id: 'a' })]);
    clock = new Date(T0.getTime() + 60_000);
    await stream.putRecordBatch([json({ id: 'b' })]);
    await stream.drain();
    const delivered = await keys();
    expect(delivered).toHaveLength(1);
    expect(await query(`SELECT id FROM read_parquet('${store.pathFor('shop-data', delivered[0]!)}', hive_partitioning = false)`)).toEqual([{ id: 'a' }]);
    expect(stream.bufferedRows()).toEqual({ 'data:': 1 });
  });

  it('delivers everything on close', async () => {
    const stream = open(makeConfig());
    await stream.putRecordBatch([json({ id: 'a' }), json({ id: 'b' })]);
    expect(await keys()).toEqual([]);
    await stream.close();
    expect(await keys()).toHaveLength(1);
    expect(existsSync(join(lakeDir, 'tmp', 'firehose')) && readdirSync(join(lakeDir, 'tmp', 'firehose'))).toEqual([]);
  });

  it('refuses every call with ResourceNotFoundException when the lake is not deployed (no bucket), accepting nothing', async () => {
    const stream = open(makeConfig({ bucket: 'no-such-bucket' }));
    await expect(stream.putRecordBatch([json({ id: 'a' })])).rejects.toMatchObject({
      code: 'ResourceNotFoundException',
      message: 'Firehose shop-ingest under account 000000000000 not found: the local lake is not deployed (no bucket no-such-bucket)',
      hint: 'run `lake deploy` to create the bucket, the table and the stream',
    });
    expect(stream.bufferedRows()).toEqual({});
    expect(existsSync(join(lakeDir, 'tmp', 'firehose')) && readdirSync(join(lakeDir, 'tmp', 'firehose'))).toEqual(false);
  });

  it('describes a stream only when its lake is deployed, as DescribeDeliveryStream does', async () => {
    expect(await open(makeConfig({ bucket: 'no-such-bucket' })).describe()).toBeUndefined();
    expect(await open(makeConfig()).describe()).toEqual({ name: 'shop-ingest', status: 'ACTIVE', sourceType: 'DirectPut', bufferingSizeMiB: 64, bufferingIntervalSeconds: 60 });
  });

  it('reports a delivery that cannot happen when closing, and keeps the journal for the next process', async () => {
    const stream = open(makeConfig());
    await stream.putRecordBatch([json({ id: 'a' })]);
    rmSync(join(lakeDir, 's3', 'shop-data'), { recursive: true });
    await expect(stream.close()).rejects.toMatchObject({ code: 'NoSuchBucket' });
    const folders = readdirSync(join(lakeDir, 'tmp', 'firehose'));
    expect(folders).toEqual([expect.stringMatching(new RegExp(`^shop-ingest-${process.pid}-[0-9a-f]{8}$`)) as unknown]);
    expect(readdirSync(join(lakeDir, 'tmp', 'firehose', folders[0]!)).filter((name) => name.startsWith('journal-'))).toEqual(['journal-000000000000.log']);
  });
});

describe('object keys', () => {
  it('puts arrival-time objects under the hive prefix of the oldest record, named like Firehose', async () => {
    const stream = open(makeConfig({ buffering: { sizeMiB: 64, intervalSeconds: 900 } }));
    clock = new Date(Date.UTC(2024, 2, 5, 7, 59, 30));
    await stream.putRecordBatch([json({ id: 'a' })]);
    clock = new Date(Date.UTC(2024, 2, 5, 8, 0, 10)); // the next hour, same buffer: the object stays in hour 07, as on AWS
    await stream.putRecordBatch([json({ id: 'b' })]);
    await stream.close();
    const delivered = await keys();
    expect(delivered).toEqual([expect.stringMatching(new RegExp(`^data/year=2024/month=03/day=05/hour=07/shop-ingest-1-2024-03-05-07-59-30-${UUID}\\.parquet$`)) as unknown]);
    expect(await query(`SELECT id FROM read_parquet('${store.pathFor('shop-data', delivered[0]!)}', hive_partitioning = false)`)).toEqual([{ id: 'a' }, { id: 'b' }]);
  });

  it('uses the firehose layout and stops at the last configured key', async () => {
    const stream = open(makeConfig({}, { layout: 'firehose', keys: ['year', 'month', 'day'] }));
    await stream.putRecordBatch([json({ id: 'a' })]);
    await stream.close();
    expect(await keys()).toEqual([expect.stringMatching(new RegExp(`^data/2024/03/05/shop-ingest-1-2024-03-05-07-08-09-${UUID}\\.parquet$`)) as unknown]);
  });

  it('routes rows by event time into one object per partition', async () => {
    const stream = open(makeConfig({}, { time: 'ts', keys: ['year', 'month'] }));
    await stream.putRecordBatch([
      json({ id: 'a', ts: '2023-12-31 23:59:59' }),
      json({ id: 'b', ts: '2024-01-01T00:00:00Z' }),
      json({ id: 'c', ts: 1704067200123 }),
      json({ id: 'd', ts: '2023-12-01 00:00:00' }),
    ]);
    await stream.close();
    const delivered = (await keys()).sort();
    expect(delivered.map((k) => k.replace(/shop-ingest-1-.*$/, ''))).toEqual(['data/year=2023/month=12/', 'data/year=2024/month=01/']);
    const ids = async (key: string) => (await query<{ id: string }>(`SELECT id FROM read_parquet('${store.pathFor('shop-data', key)}', hive_partitioning = false) ORDER BY id`)).map((r) => r.id);
    expect(await ids(delivered[0]!)).toEqual(['a', 'd']);
    expect(await ids(delivered[1]!)).toEqual(['b', 'c']);
  });

  it('writes rows without an event time as partitioning-failed error records', async () => {
    const stream = open(makeConfig({}, { time: 'ts' }));
    await stream.putRecordBatch([json({ id: 'no-time' })]);
    await stream.close();
    const delivered = await keys();
    expect(delivered).toEqual([expect.stringMatching(new RegExp(`^errors/partitioning-failed/2024/03/05/shop-ingest-1-2024-03-05-07-08-09-${UUID}$`)) as unknown]);
    const { records, problems } = parseErrorRecords(await store.get('shop-data', delivered[0]!));
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.type, r.code, Buffer.from(r.rawData).toString()])).toEqual([['partitioning-failed', 'DynamicPartitioning.MetadataExtractionFailed', '{"id":"no-time"}']]);
  });
});

describe('Parquet output', () => {
  it('has the Glue types, no partition columns, Snappy, and the exact values', async () => {
    const stream = open(makeConfig());
    await stream.putRecordBatch([
      json({ ID: 'Mixed Case Key', qty: 7, big: 9007199254740993n.toString(), price: 12.3, ratio: 0.1, ok: true, ts: '2024-03-05T07:08:09.123Z', born: '2024-02-29' }),
      enc.encode('{"id":"big","big":9007199254740993,"qty":-2147483648,"price":"99999999.99","ratio":-1.5e-300,"ok":false,"ts":1709622489,"born":"1970-01-01"}'),
      json({ id: 'quote "comma", newline\nand\r', qty: null }),
      json({ id: '' }),
    ]);
    await stream.close();
    const [key] = await keys();
    const path = store.pathFor('shop-data', key!);
    const schema = await query<{ name: string; type: string | null; converted_type: string | null; logical_type: string | null }>(
      `SELECT name, type, converted_type, logical_type::VARCHAR AS logical_type FROM parquet_schema('${path}') WHERE name <> 'duckdb_schema'`,
    );
    expect(schema.map((c) => [c.name, c.type, c.converted_type])).toEqual([
      ['id', 'BYTE_ARRAY', 'UTF8'],
      ['qty', 'INT32', 'INT_32'],
      ['big', 'INT64', 'INT_64'],
      ['price', 'INT64', 'DECIMAL'],
      ['ratio', 'DOUBLE', null],
      ['ok', 'BOOLEAN', null],
      ['ts', 'INT64', 'TIMESTAMP_MICROS'],
      ['born', 'INT32', 'DATE'],
    ]);
    const codecs = await query<{ compression: string }>(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    expect(codecs).toEqual([{ compression: 'SNAPPY' }]);
    const rows = await query(`SELECT id, qty, big, price::VARCHAR AS price, ratio, ok, ts::VARCHAR AS ts, born::VARCHAR AS born FROM read_parquet('${path}', hive_partitioning = false)`);
    expect(rows).toEqual([
      { id: 'Mixed Case Key', qty: 7, big: 9007199254740993n, price: '12.30', ratio: 0.1, ok: true, ts: '2024-03-05 07:08:09.123', born: '2024-02-29' },
      { id: 'big', qty: -2147483648, big: 9007199254740993n, price: '99999999.99', ratio: -1.5e-300, ok: false, ts: '2024-03-05 07:08:09', born: '1970-01-01' },
      { id: 'quote "comma", newline\nand\r', qty: null, big: null, price: null, ratio: null, ok: null, ts: null, born: null },
      { id: '', qty: null, big: null, price: null, ratio: null, ok: null, ts: null, born: null },
    ]);
  });

  it('writes the largest record Firehose takes, even when every character needs escaping', async () => {
    const stream = open(makeConfig());
    const quotes = `${'"'.repeat(Math.floor((MAX_RECORD_BYTES - '{"id":""}'.length) / 2))}x`;
    const record = enc.encode(JSON.stringify({ id: quotes }));
    expect(record.length).toBe(MAX_RECORD_BYTES);
    await stream.putRecordBatch([record, json({ id: 'after' })]);
    await stream.close();
    const [key] = await keys();
    const rows = await query<{ id: string }>(`SELECT id FROM read_parquet('${store.pathFor('shop-data', key!)}', hive_partitioning = false)`);
    expect(rows.map((r) => r.id)).toEqual([quotes, 'after']);
  });

  it('writes nested types', async () => {
    const config = makeConfig();
    config.columns = [
      { name: 'id', type: 'string' },
      { name: 'tags', type: 'array<string>' },
      { name: 'attrs', type: 'map<string,int>' },
      { name: 'geo', type: 'struct<lat:double,lon:double>' },
    ];
    const stream = open(config);
    await stream.putRecordBatch([json({ id: 'n', tags: ['a', 'b,"c"'], attrs: { x: 1, y: 2 }, geo: { lat: 1.5, lon: -2.25 } })]);
    await stream.close();
    expect(await keys('errors/')).toEqual([]);
    const [key] = await keys('data/');
    const path = store.pathFor('shop-data', key!);
    const types = await query<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}', hive_partitioning = false))`);
    expect(types.map((t) => [t.column_name, t.column_type])).toEqual([
      ['id', 'VARCHAR'],
      ['tags', 'VARCHAR[]'],
      ['attrs', 'MAP(VARCHAR, INTEGER)'],
      ['geo', 'STRUCT(lat DOUBLE, lon DOUBLE)'],
    ]);
    const expected = convertRecord(json({ id: 'n', tags: ['a', 'b,"c"'], attrs: { x: 1, y: 2 }, geo: { lat: 1.5, lon: -2.25 } }), serdeSchemaFromConfig(config));
    expect(expected.ok).toBe(true);
    const row = (await query<Record<string, unknown>>(`SELECT id, tags, map_keys(attrs) AS k, map_values(attrs) AS v, geo FROM read_parquet('${path}', hive_partitioning = false)`))[0]!;
    const want = (expected as { rows: Record<string, unknown>[] }).rows[0]!;
    expect(row.tags).toEqual(want.tags);
    expect(row.k).toEqual([...(want.attrs as Map<string, number>).keys()]);
    expect(row.v).toEqual([...(want.attrs as Map<string, number>).values()]);
    expect(row.geo).toEqual(want.geo);
  });
});

describe('error records and backup', () => {
  it('writes conversion failures in AWS shape under the error prefix, readable by the same parser as the fixtures', async () => {
    const stream = open(makeConfig());
    const bad = [enc.encode('{"id":"a",'), enc.encode('{"id":"b","qty":"many"}'), enc.encode('   ')];
    await stream.putRecordBatch([json({ id: 'good' }), ...bad]);
    clock = new Date(T0.getTime() + 5_000);
    await stream.close();
    const errorKeys = await keys('errors/');
    expect(errorKeys).toEqual([expect.stringMatching(new RegExp(`^errors/format-conversion-failed/2024/03/05/shop-ingest-1-2024-03-05-07-08-09-${UUID}$`)) as unknown]);
    const body = await store.get('shop-data', errorKeys[0]!);
    const { records, problems } = parseErrorRecords(body);
    expect(problems).toEqual([]);
    const schema = serdeSchemaFromConfig(makeConfig());
    const expected = bad.map((b) => convertRecord(b, schema) as { code: string; message: string });
    expect(records.map((r) => [r.type, r.code, r.message, r.arrivalTimestamp, r.attemptEndingTimestamp, r.attemptsMade, Buffer.from(r.rawData).toString(), r.subSequenceNumber])).toEqual(
      bad.map((b, i) => ['format-conversion-failed', expected[i]!.code, expected[i]!.message, T0.getTime(), T0.getTime() + 5_000, 1, Buffer.from(b).toString(), null]),
    );
    expect(records[0]!.dataCatalogTable).toEqual({ catalogId: null, databaseName: 'shop', tableName: 'events', region: 'us-east-1', versionId: 'LATEST', roleArn: 'arn:aws:iam::000000000000:role/lake-shop-firehose' });
    expect(records.map((r) => r.sequenceNumber)).toEqual([expect.stringMatching(/^\d{56}$/), expect.stringMatching(/^\d{56}$/), expect.stringMatching(/^\d{56}$/)]);
    // Concatenated with no newline, keys in AWS's order.
    const text = Buffer.from(body).toString();
    expect(text).not.toContain('\n{');
    expect(text.startsWith('{"attemptsMade":1,"arrivalTimestamp":1709622489045,"lastErrorCode":')).toBe(true);
    expect(await keys('data/')).toHaveLength(1);
  });

  it('keeps the raw input gzipped under the backup prefix, concatenated as received', async () => {
    const stream = open(makeConfig({ backupPrefix: 'backup/' }));
    const first = [json({ id: 'a' }), enc.encode('not json')];
    const second = [json({ id: 'b' })];
    await stream.putRecordBatch(first);
    await stream.putRecordBatch(second);
    await stream.close();
    const backups = await keys('backup/');
    expect(backups).toEqual([expect.stringMatching(new RegExp(`^backup/2024/03/05/07/shop-ingest-1-2024-03-05-07-08-09-${UUID}\\.gz$`)) as unknown]);
    expect(gunzipSync(await store.get('shop-data', backups[0]!)).toString()).toBe('{"id":"a"}not json{"id":"b"}');
  });
});

/** Bundles a child script inside node_modules (so it resolves @duckdb/node-api as the CLI does) and returns its path. */
async function bundleChild(name: string, source: string): Promise<string> {
  const cacheDir = join(process.cwd(), 'node_modules', '.cache', 'lake-tests');
  mkdirSync(cacheDir, { recursive: true });
  const entry = join(lakeDir, `${name}-entry.ts`);
  const outfile = join(cacheDir, `${name}-${process.pid}.mjs`);
  const src = (path: string) => JSON.stringify(new URL(`../../src/lib/${path}`, import.meta.url).pathname);
  writeFileSync(
    entry,
    `import { LocalDeliveryStream } from ${src('local/firehose-emulator.ts')};
import { FsObjectStore } from ${src('local/fs-object-store.ts')};
import { defaultConfig } from ${src('config.ts')};
import { isMainThread, Worker } from 'node:worker_threads';
${source}`,
  );
  await build({ entryPoints: [entry], outfile, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'silent', absWorkingDir: process.cwd() });
  return outfile;
}

function runChild(file: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.once('exit', (code) => resolve({ code, stdout }));
  });
}

describe('conversion worker threads', () => {
  it('deliver exactly what in-thread conversion delivers', async () => {
    const child = await bundleChild(
      'firehose-workers',
      `// Conversion workers load this bundle too: only the main thread sends.
if (isMainThread) {
  const [lakeDir, workers] = process.argv.slice(2);
  const config = defaultConfig('shop');
  config.lakeDir = lakeDir;
  config.columns = [{ name: 'id', type: 'string' }, { name: 'n', type: 'bigint' }, { name: 'ts', type: 'timestamp' }, { name: 'note', type: 'string' }];
  config.partitioning = { keys: ['year', 'month', 'day'], time: 'ts', layout: 'hive', projection: false };
  config.buffering = { sizeMiB: 1, intervalSeconds: 900 };
  const store = new FsObjectStore(lakeDir);
  await store.createBucket(config.bucket);
  // 'dying': workers that exit on their first batch; the stream must convert in-thread instead.
  const dying = workers === 'dying' ? () => new Worker("require('node:worker_threads').parentPort.on('message', (m) => { if (!m.spare) process.exit(5); })", { eval: true }) : undefined;
  const warnings = [];
  const stream = new LocalDeliveryStream({ config, store, now: () => new Date(Date.UTC(2024, 2, 5, 7, 8, 9)), log: { debug() {}, info() {}, warn(m) { warnings.push(m); } }, workers: dying ? 2 : Number(workers), conversionWorker: dying });
  for (let b = 0; b < 40; b++) {
    const batch = [];
    for (let i = 0; i < 500; i++) {
      const n = b * 500 + i;
      const text = n % 97 === 0 ? '{"id":' : n % 89 === 0 ? JSON.stringify({ id: 'r' + n }) : JSON.stringify({ id: 'r' + n, n, ts: 1704067200 + (n % 10) * 86400 * 3, note: n % 3 ? 'é, "q"' : null });
      batch.push(new TextEncoder().encode(text));
    }
    await stream.putRecordBatch(batch);
  }
  await stream.close();
  process.stdout.write(dying ? JSON.stringify(warnings) : 'ok');
}
`,
    );
    const runs: Record<string, { data: Record<string, unknown[]>; errors: Record<string, string[]> }> = {};
    for (const workers of ['0', '2', 'dying']) {
      const dir = join(lakeDir, `run-${workers}`);
      const warned = JSON.stringify(['delivery stream shop-ingest: conversion worker exited unexpectedly (code 5); converting in the main thread from now on']);
      expect(await runChild(child, [dir, workers])).toEqual({ code: 0, stdout: workers === 'dying' ? warned : 'ok' });
      const runStore = new FsObjectStore(dir);
      const data: Record<string, unknown[]> = {};
      const errors: Record<string, string[]> = {};
      for await (const o of runStore.listAll('shop-data')) {
        const prefix = o.key.slice(0, o.key.lastIndexOf('/') + 1);
        if (o.key.startsWith('data/')) {
          const rows = await query(`SELECT id, n, ts::VARCHAR AS ts, note FROM read_parquet('${runStore.pathFor('shop-data', o.key)}', hive_partitioning = false)`);
          data[prefix] = [...(data[prefix] ?? []), ...rows];
        } else {
          const parsed = parseErrorRecords(await runStore.get('shop-data', o.key));
          expect(parsed.problems).toEqual([]);
          errors[prefix] = [...(errors[prefix] ?? []), ...parsed.records.map((r) => `${r.code} ${Buffer.from(r.rawData).toString()}`)];
        }
      }
      for (const rows of Object.values(data)) rows.sort((a, b) => String((a as { id: string }).id).localeCompare(String((b as { id: string }).id)));
      for (const list of Object.values(errors)) list.sort();
      runs[workers] = { data, errors };
    }
    rmSync(child, { force: true });
    expect(Object.keys(runs['0']!.data).sort()).toEqual([
      'data/year=2024/month=01/day=01/',
      'data/year=2024/month=01/day=04/',
      'data/year=2024/month=01/day=07/',
      'data/year=2024/month=01/day=10/',
      'data/year=2024/month=01/day=13/',
      'data/year=2024/month=01/day=16/',
      'data/year=2024/month=01/day=19/',
      'data/year=2024/month=01/day=22/',
      'data/year=2024/month=01/day=25/',
      'data/year=2024/month=01/day=28/',
    ]);
    const malformed = Array.from({ length: 20_000 }, (_, n) => n).filter((n) => n % 97 === 0).length;
    const timeless = Array.from({ length: 20_000 }, (_, n) => n).filter((n) => n % 97 !== 0 && n % 89 === 0).length;
    expect([malformed, timeless]).toEqual([207, 222]);
    expect(Object.values(runs['0']!.data).reduce((n, rows) => n + rows.length, 0)).toBe(20_000 - malformed - timeless);
    expect(Object.values(runs['0']!.errors).reduce((n, list) => n + list.length, 0)).toBe(malformed + timeless);
    expect(Object.keys(runs['0']!.errors).sort()).toEqual(['errors/format-conversion-failed/2024/03/05/', 'errors/partitioning-failed/2024/03/05/']);
    expect(runs['2']).toEqual(runs['0']);
    expect(runs['dying']).toEqual(runs['0']);
  }, 120_000);
});

describe('crash safety', () => {
  it('never shows a partial object when the process is killed during a big flush', async () => {
    // Bundled inside node_modules so the child resolves @duckdb/node-api like the CLI does.
    const cacheDir = join(process.cwd(), 'node_modules', '.cache', 'lake-tests');
    mkdirSync(cacheDir, { recursive: true });
    const child = join(cacheDir, `firehose-child-${process.pid}.mjs`);
    const entry = join(lakeDir, 'child-entry.ts');
    writeFileSync(
      entry,
      `import { LocalDeliveryStream } from ${JSON.stringify(new URL('../../src/lib/local/firehose-emulator.ts', import.meta.url).pathname)};
import { FsObjectStore } from ${JSON.stringify(new URL('../../src/lib/local/fs-object-store.ts', import.meta.url).pathname)};
import { defaultConfig } from ${JSON.stringify(new URL('../../src/lib/config.ts', import.meta.url).pathname)};
import { isMainThread } from 'node:worker_threads';
// Conversion workers load this bundle too: only the main thread sends.
if (isMainThread) {
  const config = defaultConfig('shop');
  config.lakeDir = process.argv[2];
  config.columns = [{ name: 'id', type: 'string' }, { name: 'n', type: 'bigint' }, { name: 'note', type: 'string' }];
  config.buffering = { sizeMiB: 128, intervalSeconds: 900 };
  const stream = new LocalDeliveryStream({ config, store: new FsObjectStore(config.lakeDir), now: () => new Date(), log: { debug() {}, info() {}, warn() {} } });
  const enc = new TextEncoder();
  for (let b = 0; b < 1200; b++) {
    const batch = [];
    for (let i = 0; i < 500; i++) batch.push(enc.encode(JSON.stringify({ id: 'r' + b + '-' + i, n: b * 500 + i, note: 'x'.repeat(40 + (i % 50)) })));
    await stream.putRecordBatch(batch);
  }
  process.stdout.write('flushing\\n');
  await stream.close();
  process.stdout.write('done\\n');
}
`,
    );
    await build({ entryPoints: [entry], outfile: child, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'silent', absWorkingDir: process.cwd() });
    const proc = spawn(process.execPath, [child, lakeDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => proc.once('exit', r));
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const bucketDir = join(lakeDir, 's3', 'shop-data');
    const tempFiles = () => {
      const found: string[] = [];
      const walk = (dir: string) => {
        if (!existsSync(dir)) return;
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(dir, e.name));
          else if (e.name.startsWith('.lake-tmp-')) found.push(join(dir, e.name));
        }
      };
      walk(bucketDir);
      return found;
    };
    // Wait until DuckDB has written part of the Parquet file, then kill the process mid-write.
    const deadline = Date.now() + 120_000;
    let temp: string[] = [];
    while (Date.now() < deadline) {
      temp = tempFiles();
      if (temp.length > 0 && statSync(temp[0]!).size > 0) break;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    proc.kill('SIGKILL');
    await exited;
    rmSync(child, { force: true });
    expect(output).toBe('flushing\n');
    expect(temp.length).toBe(1);
    expect(tempFiles()).toEqual(temp);
    expect(await keys()).toEqual([]);
  }, 180_000);
});
