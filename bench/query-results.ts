/**
 * query-results: a 100,000-row result fetched two ways through the real AWS adapters and SDK
 * clients, against loopback stubs of Athena (GetQueryExecution, GetQueryResults) and S3
 * (GetObject), each answering after 20 ms:
 *
 * - lake's way: the first page from GetQueryResults (for the column types), then the whole
 *   result streamed from the result object `<OutputLocation>/<id>.csv`;
 * - paged: GetQueryResults 1,000 rows at a time, as most Athena clients do.
 *
 * Both convert every row to typed values. Reported: requests and time for each.
 *
 *   node bench/run.mjs query-results [--rows 100000] [--latency 20]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AthenaQueryEngine } from '../src/lib/aws/athena-query-engine.js';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { commonClientConfig } from '../src/lib/aws/clients.js';
import { S3ObjectStore } from '../src/lib/aws/s3-object-store.js';
import { silentLogger } from '../src/lib/log.js';
import { openResults, PAGE_SIZE } from '../src/lib/query/results.js';
import { rowConverter } from '../src/lib/query/values.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = flag('rows', 100_000);
const LATENCY_MS = flag('latency', 20);
const QID = '00000000-bench-0000-0000-000000000000';
const COLUMNS = [
  { Name: 'id', Type: 'bigint' },
  { Name: 'source', Type: 'varchar' },
  { Name: 'amount', Type: 'decimal', Precision: 10, Scale: 2 },
  { Name: 'ts', Type: 'timestamp' },
  { Name: 'ok', Type: 'boolean' },
];

function row(i: number): (string | null)[] {
  const s = String(i % 86_400 % 60).padStart(2, '0');
  return [String(1_000_000 + i), i % 17 === 0 ? null : ['web', 'app', 'api'][i % 3]!, ((i * 7) % 100_000 / 100).toFixed(2), `2024-05-17 13:45:${s}.000`, i % 2 === 0 ? 'true' : 'false'];
}

// The result object, as Athena writes it: header, every value quoted, NULL empty.
const quote = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
const csv = Buffer.from([COLUMNS.map((c) => quote(c.Name)).join(','), ...Array.from({ length: ROWS }, (_, i) => row(i).map(quote).join(','))].join('\n') + '\n');

const requests: Record<string, number> = {};
const count = (op: string) => (requests[op] = (requests[op] ?? 0) + 1);

function athena(op: string, input: { NextToken?: string; MaxResults?: number }): unknown {
  if (op === 'GetQueryExecution') {
    return {
      QueryExecution: {
        QueryExecutionId: QID,
        StatementType: 'DML',
        Status: { State: 'SUCCEEDED' },
        ResultConfiguration: { OutputLocation: `s3://bench-results/athena-results/${QID}.csv` },
        Statistics: { DataScannedInBytes: 123_456_789, EngineExecutionTimeInMillis: 1000, QueryQueueTimeInMillis: 10, TotalExecutionTimeInMillis: 1010 },
      },
    };
  }
  if (op === 'GetQueryResults') {
    // Row 0 of the result set is the header, as Athena's first page starts with it.
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(input.MaxResults ?? 1000, 1000);
    const end = Math.min(ROWS + 1, start + size);
    const rows = [];
    for (let r = start; r < end; r++) rows.push({ Data: (r === 0 ? COLUMNS.map((c) => c.Name) : row(r - 1)).map((v) => (v === null ? {} : { VarCharValue: v })) });
    return { ResultSet: { ResultSetMetadata: { ColumnInfo: COLUMNS }, Rows: rows }, NextToken: end < ROWS + 1 ? String(end) : undefined };
  }
  throw new Error(`unsupported ${op}`);
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    setTimeout(() => {
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') {
        const op = target.replace('AmazonAthena.', '');
        count(op);
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify(athena(op, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { NextToken?: string })));
        return;
      }
      count('GetObject');
      res.setHeader('content-type', 'text/csv');
      res.setHeader('content-length', String(csv.length));
      // Sent in 64 KiB writes, as a network would deliver it.
      for (let i = 0; i < csv.length; i += 65_536) res.write(csv.subarray(i, i + 65_536));
      res.end();
    }, LATENCY_MS);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY = 'bench';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// lake's client settings, without the SDK logger: AwsClients' logger serialises every call's
// output, and GetObject's output holds the response stream (see the note in the report).
const { logger: _logger, ...settings } = commonClientConfig({ region: 'us-east-1', endpointUrl, version: 'bench', log: silentLogger });
const athenaClient = new AthenaClient(settings);
const s3Client = new S3Client({ ...settings, forcePathStyle: true });
const engine = new AthenaQueryEngine(() => Promise.resolve(athenaClient), { workgroup: 'bench', database: 'bench' });
const store = new S3ObjectStore(() => Promise.resolve(s3Client));
const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) => console.log(JSON.stringify({ name, value, unit, ...extra }));
const reset = () => {
  for (const k of Object.keys(requests)) delete requests[k];
};

// Warm the clients (credentials, connections) outside the measurement.
await engine.describe(QID);

async function viaObject() {
  reset();
  const started = performance.now();
  const info = await engine.describe(QID);
  const results = await openResults(engine, store, info);
  const convert = rowConverter(results.columns);
  let rows = 0;
  for await (const batch of results.batches) rows += batch.map(convert).length;
  return { ms: performance.now() - started, rows, requests: { ...requests }, source: results.source };
}

async function viaPages() {
  reset();
  const started = performance.now();
  await engine.describe(QID);
  let rows = 0;
  let nextToken: string | undefined;
  let convert: ReturnType<typeof rowConverter> | undefined;
  do {
    const page = await engine.resultPage(QID, { nextToken, maxResults: PAGE_SIZE });
    convert ??= rowConverter(page.columns);
    rows += page.rows.map(convert).length;
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return { ms: performance.now() - started, rows, requests: { ...requests } };
}

const object = await viaObject();
const paged = await viaPages();
if (object.rows !== ROWS || paged.rows !== ROWS) throw new Error(`row counts: object ${object.rows}, paged ${paged.rows}, expected ${ROWS}`);
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
emit('query-results.object.ms', Math.round(object.ms), 'ms', { rows: ROWS, latencyMs: LATENCY_MS, source: object.source });
emit('query-results.object.requests', total(object.requests), 'requests', { ...object.requests });
emit('query-results.paged.ms', Math.round(paged.ms), 'ms', { rows: ROWS, latencyMs: LATENCY_MS });
emit('query-results.paged.requests', total(paged.requests), 'requests', { ...paged.requests });
emit('query-results.speedup', Math.round((paged.ms / object.ms) * 100) / 100, 'x', { baseline: Math.round(paged.ms) });
athenaClient.destroy();
s3Client.destroy();
server.close();
