import { GlueClient, BatchCreatePartitionCommand, BatchDeletePartitionCommand, BatchUpdatePartitionCommand, GetPartitionsCommand, GetTableCommand } from '@aws-sdk/client-glue';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GlueCatalog } from '../../src/lib/aws/glue-catalog.js';
import { S3ObjectStore } from '../../src/lib/aws/s3-object-store.js';
import { defaultConfig, type LakeConfig } from '../../src/lib/config.js';
import { silentLogger } from '../../src/lib/log.js';
import { type SyncOptions, syncPartitions } from '../../src/lib/partition-sync.js';
import { FakeBucket, FakeGlue, hourlyKeys } from '../helpers/fake-aws.js';

const s3Mock = mockClient(S3Client);
const glueMock = mockClient(GlueClient);
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

let bucket: FakeBucket;
let glue: FakeGlue;
let config: LakeConfig;
let listCalls: { Prefix?: string; Delimiter?: string; ContinuationToken?: string }[];

function wire(s3PageSize = 1000) {
  listCalls = [];
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; Delimiter?: string; MaxKeys?: number; ContinuationToken?: string }) => {
    listCalls.push({ Prefix: input.Prefix, Delimiter: input.Delimiter, ContinuationToken: input.ContinuationToken });
    return bucket.list({ ...input, MaxKeys: Math.min(input.MaxKeys ?? 1000, s3PageSize) });
  });
  glueMock.on(GetTableCommand).callsFake(() => glue.getTable());
  glueMock.on(GetPartitionsCommand).callsFake((input) => glue.getPartitions(input));
  glueMock.on(BatchCreatePartitionCommand).callsFake((input) => glue.batchCreate(input));
  glueMock.on(BatchDeletePartitionCommand).callsFake((input) => glue.batchDelete(input));
  glueMock.on(BatchUpdatePartitionCommand).callsFake((input) => glue.batchUpdate(input));
}

function deps() {
  return {
    store: new S3ObjectStore(async () => new S3Client({ region: 'us-east-1', credentials })),
    catalog: new GlueCatalog(async () => new GlueClient({ region: 'us-east-1', credentials })),
    config,
    now: () => new Date('2024-06-01T00:00:00Z'),
  };
}

const options = (over: Partial<SyncOptions> = {}): SyncOptions => ({ dryRun: false, prune: false, concurrency: 4, log: silentLogger, retry: { retries: 5, baseMs: 1, maxMs: 2 }, ...over });

function seed(hours: number, start = new Date('2024-05-01T00:00:00Z')) {
  const keys = hourlyKeys('data/', start, hours);
  for (const k of keys) bucket.put(k.key);
  return keys;
}

beforeEach(() => {
  s3Mock.reset();
  glueMock.reset();
  config = { ...defaultConfig('shop'), bucket: 'shop-data' };
  bucket = new FakeBucket('shop-data');
  glue = new FakeGlue({ DatabaseName: 'shop', Name: 'events', Location: 's3://shop-data/data/', keys: ['year', 'month', 'day', 'hour'] });
});
afterEach(() => {
  s3Mock.reset();
  glueMock.reset();
});

describe('partitions sync against S3 and Glue (mocked)', () => {
  it('adds 250 new partitions in BatchCreatePartition calls of exactly 100, 100 and 50', async () => {
    wire();
    seed(250);
    const report = await syncPartitions(deps(), options());
    expect(report.listed).toBe(250);
    expect(report.added).toBe(250);
    const sizes = glueMock.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.PartitionInputList?.length).sort((a, b) => b! - a!);
    expect(sizes).toEqual([100, 100, 50]);
    expect(report.apiCalls.BatchCreatePartition).toBe(3);
    expect(glue.partitions.size).toBe(250);
    const created = glueMock.commandCalls(BatchCreatePartitionCommand)[0]!.args[0].input.PartitionInputList![0]!;
    expect(created.Values).toEqual(['2024', '05', '01', '00']);
    expect(created.StorageDescriptor?.Location).toBe('s3://shop-data/data/year=2024/month=05/day=01/hour=00/');
    expect(created.StorageDescriptor?.InputFormat).toBe('in');
  });

  it('follows ListObjectsV2 continuation tokens across pages', async () => {
    wire(7);
    seed(40);
    const report = await syncPartitions(deps(), options());
    expect(report.listed).toBe(40);
    const flat = listCalls.filter((c) => c.Delimiter === undefined);
    // 40 objects under one month prefix at 7 a page: 6 pages, 5 with a token.
    expect(flat.length).toBe(6);
    expect(flat.filter((c) => c.ContinuationToken !== undefined).length).toBe(5);
    expect(listCalls.filter((c) => c.Delimiter === '/').map((c) => c.Prefix)).toEqual(['data/', 'data/year=2024/']);
  });

  it('reads registered partitions in parallel segments, paging each, with ExcludeColumnSchema', async () => {
    wire();
    glue = new FakeGlue(glue.table, 3);
    wire();
    const keys = seed(24);
    for (const k of keys) glue.register(k.values, `s3://shop-data/${k.key.slice(0, k.key.lastIndexOf('/') + 1)}`);
    const report = await syncPartitions(deps(), options({ concurrency: 4 }));
    expect(report.registered).toBe(24);
    expect(report.added).toBe(0);
    const calls = glueMock.commandCalls(GetPartitionsCommand).map((c) => c.args[0].input);
    expect(new Set(calls.map((c) => c.Segment?.SegmentNumber))).toEqual(new Set([0, 1, 2, 3]));
    expect(calls.every((c) => c.Segment?.TotalSegments === 4 && c.ExcludeColumnSchema === true)).toBe(true);
    // 6 partitions a segment at 3 a page: 2 pages each.
    expect(calls.length).toBe(8);
    expect(calls.filter((c) => c.NextToken === '3').length).toBe(4);
  });

  it('a second sync right after the first performs zero writes', async () => {
    wire();
    seed(100);
    await syncPartitions(deps(), options());
    glueMock.resetHistory();
    const second = await syncPartitions(deps(), options());
    expect(second.added).toBe(0);
    expect(second.unchanged).toBe(100);
    expect(glueMock.commandCalls(BatchCreatePartitionCommand).length).toBe(0);
    expect(glueMock.commandCalls(BatchDeletePartitionCommand).length).toBe(0);
    expect(glueMock.commandCalls(BatchUpdatePartitionCommand).length).toBe(0);
  });

  it('counts AlreadyExistsException as done (another process registered them first)', async () => {
    wire();
    const keys = seed(10);
    // Registered between our read and our write: GetPartitions does not see them, BatchCreate says they exist.
    glueMock.on(GetPartitionsCommand).resolves({ Partitions: [] });
    for (const k of keys.slice(0, 4)) glue.register(k.values, 'x');
    const report = await syncPartitions(deps(), options());
    expect(report.failures).toEqual([]);
    expect(report.added).toBe(10);
    expect(glue.partitions.size).toBe(10);
  });

  it('retries a throttled BatchCreatePartition and then succeeds', async () => {
    wire();
    seed(5);
    glue.throttleNext = 2;
    const report = await syncPartitions(deps(), options());
    expect(report.added).toBe(5);
    expect(report.failures).toEqual([]);
    expect(glueMock.commandCalls(BatchCreatePartitionCommand).length).toBe(3);
    expect(report.apiCalls.BatchCreatePartition).toBe(3);
  });

  it('reports partitions whose writes still fail after the retries', async () => {
    wire();
    seed(3);
    glue.throttleNext = 100;
    const report = await syncPartitions(deps(), options({ retry: { retries: 2, baseMs: 1, maxMs: 1 } }));
    expect(report.added).toBe(0);
    expect(report.failures.map((f) => [f.values.join('/'), f.code])).toEqual([
      ['2024/05/01/00', 'ThrottlingException'],
      ['2024/05/01/01', 'ThrottlingException'],
      ['2024/05/01/02', 'ThrottlingException'],
    ]);
  });

  it('with --prune, drops vanished partitions in BatchDeletePartition calls of exactly 25', async () => {
    wire();
    const keys = seed(60);
    for (const k of keys) glue.register(k.values, `s3://shop-data/${k.key.slice(0, k.key.lastIndexOf('/') + 1)}`);
    for (const k of keys.slice(0, 30)) bucket.delete(k.key);
    const report = await syncPartitions(deps(), options({ prune: true }));
    expect(report.dropped).toBe(30);
    expect(glueMock.commandCalls(BatchDeletePartitionCommand).map((c) => c.args[0].input.PartitionsToDelete?.length).sort()).toEqual([25, 5]);
    expect(glue.partitions.size).toBe(30);
  });

  it('updates a partition registered at another location', async () => {
    wire();
    const [k] = seed(1);
    glue.register(k!.values, 's3://old-bucket/data/2024/05/01/00/');
    const report = await syncPartitions(deps(), options());
    expect(report.updated).toBe(1);
    expect(glue.partitions.get(k!.values.join('\u0000'))?.StorageDescriptor?.Location).toBe('s3://shop-data/data/year=2024/month=05/day=01/hour=00/');
  });

  it('--dry-run makes no write call and returns the plan', async () => {
    wire();
    const keys = seed(3);
    glue.register(['2023', '01', '01', '00'], 's3://shop-data/data/year=2023/month=01/day=01/hour=00/');
    const report = await syncPartitions(deps(), options({ dryRun: true, prune: true }));
    expect(report.plan).toEqual({ add: keys.map((k) => k.values), drop: [['2023', '01', '01', '00']], update: [] });
    expect(report.added).toBe(0);
    expect(glueMock.commandCalls(BatchCreatePartitionCommand).length).toBe(0);
    expect(glueMock.commandCalls(BatchDeletePartitionCommand).length).toBe(0);
    expect(glueMock.commandCalls(BatchUpdatePartitionCommand).length).toBe(0);
  });

  it('reports anomalies and does not register them', async () => {
    wire();
    seed(2);
    bucket.put('data/year=2024/month=13/day=01/hour=00/x.parquet');
    bucket.put('data/tmp/notes.txt');
    bucket.put('data/year=2024/month=05/day=01/hour=00/', 0);
    const report = await syncPartitions(deps(), options());
    expect(report.added).toBe(2);
    expect(report.anomalies).toEqual([
      { path: 'data/tmp/', reason: "'tmp' is not year=VALUE" },
      { path: 'data/year=2024/month=13/', reason: "month '13' is out of range (two digits 01-12)" },
    ]);
  });

  it('--since lists only the prefixes at or after the date', async () => {
    wire();
    seed(24 * 61); // May and June
    const report = await syncPartitions(deps(), options({ since: new Date('2024-06-30T12:00:00Z') }));
    expect(report.listed).toBe(12);
    expect(report.added).toBe(12);
    expect(listCalls.filter((c) => c.Delimiter === undefined).map((c) => c.Prefix)).toEqual(['data/year=2024/month=06/']);
  });

  it('on a projected table, registers nothing and reports prefixes outside the projection', async () => {
    glue = new FakeGlue({ ...glue.table, Parameters: { 'projection.enabled': 'true', 'projection.year.type': 'integer', 'projection.year.range': '2024,2024', 'projection.month.type': 'integer', 'projection.month.range': '1,12' } });
    wire();
    seed(2);
    seed(1, new Date('2019-01-01T00:00:00Z'));
    const report = await syncPartitions(deps(), options());
    expect(report.projection).toEqual({ enabled: true, outside: [{ values: ['2019', '01', '01', '00'], reason: 'year 2019 is outside projection.year.range 2024,2024' }] });
    expect(glueMock.commandCalls(BatchCreatePartitionCommand).length).toBe(0);
    expect(glueMock.commandCalls(GetPartitionsCommand).length).toBe(0);
  });
});
