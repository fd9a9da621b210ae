// errors-read: `lake errors` reading 10,000 error objects of 100 format-conversion records
// each (1,000,000 records) through the real S3ObjectStore adapter against a loopback S3 stub
// that serves ListObjectsV2 (with StartAfter and pages of 1,000) and GetObject. Reports
// records per second for the whole scan (listing, reading, parsing, grouping), at 0 ms and
// at 20 ms per request (S3-like first-byte latency, where concurrency matters). The stub
// runs in a child process (this file again, with ERRORS_READ_STUB set) so that serving
// does not take CPU from the reading being measured.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { commonClientConfig } from '../src/lib/aws/clients.js';
import { S3ObjectStore } from '../src/lib/aws/s3-object-store.js';
import { defaultConfig } from '../src/lib/config.js';
import { formatConversionErrorJson } from '../src/lib/error-records.js';
import { scanErrors } from '../src/lib/error-scan/scan.js';
import { parseWindow } from '../src/lib/error-scan/window.js';
import { silentLogger } from '../src/lib/log.js';
import { FakeBucket } from '../test/helpers/fake-aws.js';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 10_000);
const RECORDS = 100;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BUCKET = 'bench-errors';
const START = Date.parse('2024-05-17T00:00:00Z');
const TABLE = { catalogId: null, databaseName: 'bench', tableName: 'events', region: 'us-east-1', versionId: 'LATEST', roleArn: 'arn:aws:iam::123456789012:role/lake-bench-firehose' };

// One body shared by every object: 100 records as Firehose writes them, concatenated.
const body = Buffer.from(
  Array.from({ length: RECORDS }, (_, i) =>
    formatConversionErrorJson({
      arrivalTimestamp: START + 3_600_000 + i,
      code: i % 3 === 0 ? 'DataFormatConversion.ParseError' : 'DataFormatConversion.MalformedData',
      message: i % 3 === 0 ? 'Encountered malformed JSON.' : `Data does not match the schema. For input string: "v${i}"`,
      attemptEndingTimestamp: START + 3_660_000,
      rawData: Buffer.from(JSON.stringify({ id: `r${i}`, qty: `v${i}`, ts: '2024-05-17 01:00:00', payload: 'x'.repeat(120) })),
      sequenceNumber: `4964789123456789012345678901234567890123456789012345${String(i).padStart(4, '0')}`,
      subSequenceNumber: null,
      dataCatalogTable: TABLE,
    }),
  ).join(''),
);

const bucket = new FakeBucket(BUCKET);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
for (let i = 0; i < OBJECTS; i++) {
  const t = new Date(START + Math.floor((i * 86_400_000) / OBJECTS));
  const stamp = `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}-${pad(t.getUTCHours())}-${pad(t.getUTCMinutes())}-${pad(t.getUTCSeconds())}`;
  bucket.put(`errors/format-conversion-failed/2024/05/17/bench-ingest-1-${stamp}-00000000-0000-4000-8000-${pad(i, 12)}`, body.length);
}

const requests: Record<string, number> = {};
let latencyMs = 0;
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function listObjects(q: URLSearchParams, res: ServerResponse) {
  requests.ListObjectsV2 = (requests.ListObjectsV2 ?? 0) + 1;
  const out = bucket.list({
    Prefix: q.get('prefix') ?? undefined,
    Delimiter: q.get('delimiter') ?? undefined,
    MaxKeys: q.has('max-keys') ? Number(q.get('max-keys')) : undefined,
    ContinuationToken: q.get('continuation-token') ?? undefined,
    StartAfter: q.get('start-after') ?? undefined,
  });
  res.setHeader('content-type', 'application/xml');
  res.end(
    [
      '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${BUCKET}</Name><Prefix>${xml(q.get('prefix') ?? '')}</Prefix><KeyCount>${out.KeyCount}</KeyCount><IsTruncated>${out.IsTruncated}</IsTruncated>`,
      out.NextContinuationToken ? `<NextContinuationToken>${xml(out.NextContinuationToken)}</NextContinuationToken>` : '',
      ...(out.Contents ?? []).map((c) => `<Contents><Key>${xml(c.Key)}</Key><Size>${c.Size}</Size><LastModified>2024-05-17T12:00:00.000Z</LastModified></Contents>`),
      ...(out.CommonPrefixes ?? []).map((p) => `<CommonPrefixes><Prefix>${xml(p.Prefix)}</Prefix></CommonPrefixes>`),
      '</ListBucketResult>',
    ].join(''),
  );
}

/** The stub: prints its port, then serves until stdin closes. `POST /_latency/N` sets the latency, `GET /_requests` counts. */
async function serveStub() {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname.startsWith('/_latency/')) {
        latencyMs = Number(url.pathname.slice('/_latency/'.length));
        for (const k of Object.keys(requests)) delete requests[k];
        return res.end('ok');
      }
      if (url.pathname === '/_requests') return res.end(JSON.stringify(requests));
      setTimeout(() => {
        if (url.pathname === `/${BUCKET}` || url.pathname === `/${BUCKET}/`) return listObjects(url.searchParams, res);
        requests.GetObject = (requests.GetObject ?? 0) + 1;
        res.setHeader('content-type', 'application/octet-stream');
        res.setHeader('content-length', body.length);
        res.end(body);
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => server.close());
}

if (process.env.ERRORS_READ_STUB) {
  await serveStub();
} else {
  await measure();
}

async function measure() {
  const stub = spawn(process.execPath, [process.argv[1]!], { env: { ...process.env, ERRORS_READ_STUB: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    stub.stdout.once('data', (d: Buffer) => resolve(Number(d.toString('utf8').trim())));
    stub.once('exit', (code) => reject(new Error(`the S3 stub exited (${code})`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // lake's client settings, without its SDK logger: that logger JSON-encodes every call's
  // output, and GetObject's output holds the body stream, which it cannot encode (reported;
  // AwsClients.s3() fails every GetObject until it is fixed).
  const s3 = new S3Client({ ...commonClientConfig({ region: 'us-east-1', endpointUrl: endpoint, version: 'bench', log: silentLogger }), logger: undefined, forcePathStyle: true });
  const store = new S3ObjectStore(async () => s3);
  const config = { ...defaultConfig('bench'), bucket: BUCKET };
  const window = parseWindow('2024-05-17', '2024-05-18', new Date('2024-05-18T00:00:00Z'));

  const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ name, value, unit, ...extra }));

  async function run(label: string, latency: number) {
    await fetch(`${endpoint}/_latency/${latency}`, { method: 'POST' });
    const started = performance.now();
    const { report } = await scanErrors(store, config, { window, concurrency: CONCURRENCY });
    const seconds = (performance.now() - started) / 1000;
    if (report.total !== OBJECTS * RECORDS) throw new Error(`read ${report.total} records, expected ${OBJECTS * RECORDS}`);
    const requests = (await (await fetch(`${endpoint}/_requests`)).json()) as Record<string, number>;
    emit(`errors-read.records_per_second${label}`, Math.round(report.total / seconds), 'records/s', { objects: OBJECTS, records: report.total, concurrency: CONCURRENCY, latencyMs: latency, seconds: Math.round(seconds * 100) / 100, getObject: requests.GetObject, listObjects: requests.ListObjectsV2 });
  }

  await run('', 0);
  await run('_20ms_latency', 20);
  s3.destroy();
  stub.stdin.end();
}
