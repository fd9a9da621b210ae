// partitions-sync: 10,000 new hourly partitions synced through the real S3 and Glue adapters
// against loopback stubs of ListObjectsV2 and the Glue partition calls, each answering after
// 20 ms. Targets: first run at most 10 s with at most 100 BatchCreatePartition calls; a second
// run at most 3 s with zero writes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsClients } from '../src/lib/aws/clients.js';
import { GlueCatalog } from '../src/lib/aws/glue-catalog.js';
import { S3ObjectStore } from '../src/lib/aws/s3-object-store.js';
import { defaultConfig } from '../src/lib/config.js';
import { silentLogger } from '../src/lib/log.js';
import { syncPartitions } from '../src/lib/partition-sync.js';
import { FakeBucket, FakeGlue, hourlyKeys } from '../test/helpers/fake-aws.js';

const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 10_000);
const LATENCY_MS = 20;

const bucket = new FakeBucket('bench-data');
for (const k of hourlyKeys('data/', new Date('2023-01-01T00:00:00Z'), PARTITIONS)) bucket.put(k.key, 1024);
const glue = new FakeGlue({ DatabaseName: 'bench', Name: 'events', Location: 's3://bench-data/data/', keys: ['year', 'month', 'day', 'hour'] });
const requests: Record<string, number> = {};

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function answerS3(url: URL, res: ServerResponse) {
  requests.ListObjectsV2 = (requests.ListObjectsV2 ?? 0) + 1;
  const q = url.searchParams;
  const out = bucket.list({
    Prefix: q.get('prefix') ?? undefined,
    Delimiter: q.get('delimiter') ?? undefined,
    MaxKeys: q.has('max-keys') ? Number(q.get('max-keys')) : undefined,
    ContinuationToken: q.get('continuation-token') ?? undefined,
  });
  const body = [
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Name>${bucket.name}</Name><Prefix>${xml(q.get('prefix') ?? '')}</Prefix><KeyCount>${out.KeyCount}</KeyCount><IsTruncated>${out.IsTruncated}</IsTruncated>`,
    out.NextContinuationToken ? `<NextContinuationToken>${xml(out.NextContinuationToken)}</NextContinuationToken>` : '',
    ...(out.Contents ?? []).map((c) => `<Contents><Key>${xml(c.Key)}</Key><Size>${c.Size}</Size><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>`),
    ...(out.CommonPrefixes ?? []).map((p) => `<CommonPrefixes><Prefix>${xml(p.Prefix)}</Prefix></CommonPrefixes>`),
    '</ListBucketResult>',
  ].join('');
  res.setHeader('content-type', 'application/xml');
  res.end(body);
}

function answerGlue(target: string, input: Record<string, unknown>, res: ServerResponse) {
  const op = target.replace('AWSGlue.', '');
  requests[op] = (requests[op] ?? 0) + 1;
  const handlers: Record<string, () => unknown> = {
    GetTable: () => glue.getTable(),
    GetPartitions: () => glue.getPartitions(input as never),
    BatchCreatePartition: () => glue.batchCreate(input as never),
    BatchDeletePartition: () => glue.batchDelete(input as never),
    BatchUpdatePartition: () => glue.batchUpdate(input as never),
  };
  const handler = handlers[op];
  res.setHeader('content-type', 'application/x-amz-json-1.1');
  if (!handler) {
    res.statusCode = 400;
    res.end(JSON.stringify({ __type: 'InvalidInputException', message: `unsupported ${op}` }));
    return;
  }
  res.end(JSON.stringify(handler() ?? {}));
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    setTimeout(() => {
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') answerGlue(target, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>, res);
      else answerS3(new URL(req.url ?? '/', 'http://127.0.0.1'), res);
    }, LATENCY_MS);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY = 'bench';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

const clients = new AwsClients({ region: 'us-east-1', endpointUrl, version: 'bench', log: silentLogger });
const config = { ...defaultConfig('bench'), bucket: 'bench-data', database: 'bench', table: 'events' };
const deps = { store: new S3ObjectStore(() => clients.s3()), catalog: new GlueCatalog(() => clients.glue()), config, now: () => new Date() };
const options = { dryRun: false, prune: false, concurrency: 8, log: silentLogger };

const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ name, value, unit, ...extra }));

let started = performance.now();
const first = await syncPartitions(deps, options);
const firstMs = performance.now() - started;
const firstRequests = { ...requests };
for (const k of Object.keys(requests)) delete requests[k];
started = performance.now();
const second = await syncPartitions(deps, options);
const secondMs = performance.now() - started;

emit('partitions-sync.first_run_ms', Math.round(firstMs), 'ms', { target: 10_000, partitions: PARTITIONS, added: first.added });
emit('partitions-sync.batch_create_calls', firstRequests.BatchCreatePartition ?? 0, 'calls', { target: 100 });
emit('partitions-sync.first_run_list_calls', firstRequests.ListObjectsV2 ?? 0, 'calls');
emit('partitions-sync.first_run_get_partitions_calls', firstRequests.GetPartitions ?? 0, 'calls');
emit('partitions-sync.second_run_ms', Math.round(secondMs), 'ms', { target: 3_000, unchanged: second.unchanged });
emit('partitions-sync.second_run_writes', (requests.BatchCreatePartition ?? 0) + (requests.BatchDeletePartition ?? 0) + (requests.BatchUpdatePartition ?? 0), 'calls', { target: 0 });
emit('partitions-sync.second_run_list_calls', requests.ListObjectsV2 ?? 0, 'calls');
await clients.destroy();
server.close();
