// `lake errors` on the aws backend, through the real S3, Glue and Firehose adapters over
// aws-sdk-client-mock: windowed listing with StartAfter, gzip objects, the Glue table's
// schema for explanations, a redrive through PutRecordBatch (partial failure retried),
// then CopyObject/PutObject/DeleteObjects marking, and a second redrive that sends nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatConversionErrorJson } from '../../src/lib/error-records.js';
import { runCli } from '../helpers/cli.js';
import { FakeBucket } from '../helpers/fake-aws.js';

const s3 = mockClient(S3Client);
const glue = mockClient(GlueClient);
const firehose = mockClient(FirehoseClient);
const NOW = new Date('2024-05-17T12:30:00Z');
const TABLE = { catalogId: null, databaseName: 'shop', tableName: 'events', region: 'us-east-1', versionId: 'LATEST', roleArn: 'arn:aws:iam::123456789012:role/lake-shop-firehose' };
const name = (time: string, n: number) => `shop-ingest-1-${time}-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

let dir: string;
let listing: FakeBucket;
let bodies: Map<string, Buffer>;
let putBatches: string[][];

function put(key: string, body: Buffer | string) {
  bodies.set(key, Buffer.from(body));
  listing.put(key, Buffer.byteLength(body));
}

function failures(rows: { raw: string; at: string; message?: string }[]): string {
  return rows
    .map((r) =>
      formatConversionErrorJson({ arrivalTimestamp: Date.parse(r.at), code: 'DataFormatConversion.MalformedData', message: r.message ?? 'Data does not match the schema.', attemptEndingTimestamp: Date.parse(r.at) + 2000, rawData: Buffer.from(r.raw), sequenceNumber: null, subSequenceNumber: null, dataCatalogTable: TABLE }),
    )
    .join('');
}

const KEY_OLD = `errors/format-conversion-failed/2024/05/15/${name('2024-05-15-10-00-00', 1)}`;
const KEY_A = `errors/format-conversion-failed/2024/05/16/${name('2024-05-16-20-00-00', 2)}.gz`;
const KEY_B = `errors/format-conversion-failed/2024/05/17/${name('2024-05-17-09-00-00', 3)}`;

beforeEach(() => {
  s3.reset();
  glue.reset();
  firehose.reset();
  dir = mkdtempSync(join(tmpdir(), 'lake-errors-aws-'));
  // The configuration says qty is a string; the Glue table (what Firehose converts with) says int.
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'shop', backend: 'aws', bucket: 'shop-data', columns: [{ name: 'id', type: 'string' }, { name: 'qty', type: 'string' }] }));
  listing = new FakeBucket('shop-data');
  bodies = new Map();
  putBatches = [];
  put(KEY_OLD, failures([{ raw: '{"id":"old","qty":"x"}', at: '2024-05-15T10:00:00Z' }]));
  put(KEY_A, gzipSync(failures([{ raw: '{"id":"a1","qty":"x"}', at: '2024-05-16T20:00:00Z', message: 'Data does not match the schema. For input string: "x"' }, { raw: '{"id":"a2","qty":"12 units"}', at: '2024-05-16T20:00:05Z' }])));
  put(KEY_B, failures([{ raw: '{"id":"b1","qty":"seven"}', at: '2024-05-17T09:00:00Z' }]));

  s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; Delimiter?: string; MaxKeys?: number; ContinuationToken?: string; StartAfter?: string }) => listing.list({ ...input, MaxKeys: Math.min(input.MaxKeys ?? 1000, 1) }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = bodies.get(input.Key);
    if (!body) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    return { Body: Readable.from([body.subarray(0, 100), body.subarray(100)]) };
  });
  s3.on(CopyObjectCommand).callsFake((input: { CopySource: string; Key: string }) => {
    const from = input.CopySource.slice(input.CopySource.indexOf('/') + 1).split('/').map(decodeURIComponent).join('/');
    put(input.Key, bodies.get(from)!);
    return {};
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    put(input.Key, input.Body);
    return {};
  });
  s3.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string }[] } }) => {
    for (const { Key } of input.Delete.Objects) {
      bodies.delete(Key);
      listing.delete(Key);
    }
    return {};
  });
  glue.on(GetTableCommand).resolves({
    Table: { Name: 'events', DatabaseName: 'shop', PartitionKeys: [], StorageDescriptor: { Location: 's3://shop-data/data/', Columns: [{ Name: 'id', Type: 'string' }, { Name: 'qty', Type: 'int' }] } },
  });
  // The first call refuses one record, as Firehose does when it throttles: HTTP 200, FailedPutCount 1.
  let calls = 0;
  firehose.on(PutRecordBatchCommand).callsFake((input: { Records: { Data: Uint8Array }[] }) => {
    putBatches.push(input.Records.map((r) => Buffer.from(r.Data).toString('utf8')));
    const refuse = calls++ === 0 ? 1 : -1;
    return {
      FailedPutCount: refuse >= 0 ? 1 : 0,
      RequestResponses: input.Records.map((_, i) => (i === refuse ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `id-${calls}-${i}` })),
    };
  });
});
afterEach(() => {
  s3.reset();
  glue.reset();
  firehose.reset();
});

const lake = (...argv: string[]) => runCli(argv, { cwd: dir, main: { now: () => NOW } });

describe('lake errors on AWS (mocked)', () => {
  it('lists each type folder from the first day of the window and reads gzip objects', async () => {
    const run = await lake('errors', '-o', 'json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      total: 3,
      objects: 2,
      groups: [{ type: 'format-conversion-failed', code: 'DataFormatConversion.MalformedData', count: 3, firstSeen: '2024-05-16T20:00:00.000Z', lastSeen: '2024-05-17T09:00:00.000Z', sample: 'Data does not match the schema. For input string: "x"' }],
    });
    const dated = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input).filter((i) => i.Prefix === 'errors/format-conversion-failed/' && !i.Delimiter);
    expect(dated[0]).toMatchObject({ Bucket: 'shop-data', StartAfter: 'errors/format-conversion-failed/2024/05/16' });
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key).sort()).toEqual([KEY_A, KEY_B]);
  });

  it('explains samples with the Glue table\'s schema', async () => {
    const run = await lake('errors', '--samples', '3', '-o', 'json');
    const doc = JSON.parse(run.stdout) as { groups: { samples: { data: string; column?: string; value?: string }[] }[] };
    expect(doc.groups[0]!.samples.map((s) => [s.data, s.column, s.value])).toEqual([
      ['{"id":"a1","qty":"x"}', 'qty', '"x"'],
      ['{"id":"a2","qty":"12 units"}', 'qty', '"12 units"'],
      ['{"id":"b1","qty":"seven"}', 'qty', '"seven"'],
    ]);
    expect(glue.commandCalls(GetTableCommand)[0]!.args[0].input).toMatchObject({ DatabaseName: 'shop', Name: 'events' });
  });

  it('redrives through PutRecordBatch, retrying the refused entry, then moves the objects; a second redrive sends nothing', async () => {
    writeFileSync(join(dir, 'fix.mjs'), "const words = { seven: 7 };\nexport default (r) => ({ ...r, qty: words[r.qty] ?? (parseInt(r.qty, 10) || 0) });\n");
    const run = await lake('errors', '--redrive', '--transform', 'fix.mjs', '-o', 'json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).redrive).toMatchObject({ records: 3, toSend: 3, sent: 3, stillFailing: 0, undelivered: 0, objects: 2, retried: 1, batches: 2, archive: 'errors/redriven/20240517T123000Z/' });
    expect(putBatches).toEqual([['{"id":"a1","qty":0}', '{"id":"a2","qty":12}', '{"id":"b1","qty":7}'], ['{"id":"a2","qty":12}']]);
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]!.args[0].input.DeliveryStreamName).toBe('shop-ingest');
    expect(s3.commandCalls(CopyObjectCommand).map((c) => c.args[0].input.Key).sort()).toEqual([
      `errors/redriven/20240517T123000Z/format-conversion-failed/2024/05/16/${name('2024-05-16-20-00-00', 2)}.gz`,
      `errors/redriven/20240517T123000Z/format-conversion-failed/2024/05/17/${name('2024-05-17-09-00-00', 3)}`,
    ]);
    expect([...bodies.keys()].filter((k) => !k.startsWith('errors/redriven/'))).toEqual([KEY_OLD]);

    const second = await lake('errors', '--redrive', '--transform', 'fix.mjs', '-o', 'json');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ total: 0, redrive: { records: 0, sent: 0, objects: 0 } });
    expect(putBatches).toHaveLength(2);
  });

  it('exits 5 when S3 denies the listing', async () => {
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403, requestId: 'REQ123' } }));
    const run = await lake('errors');
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('permission denied: Access Denied');
  });
});
