// `lake query` over the real Athena, S3 and Glue adapters, their SDK clients mocked with
// aws-sdk-client-mock: every state path, the result read from the S3 object, throttling,
// Ctrl-C and --timeout stopping the query, and the estimate from EXPLAIN (TYPE IO).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine } from '../../src/lib/aws/athena-query-engine.js';
import { GlueCatalog } from '../../src/lib/aws/glue-catalog.js';
import { S3ObjectStore } from '../../src/lib/aws/s3-object-store.js';
import { InterruptedError } from '../../src/lib/errors.js';
import type { Backend } from '../../src/lib/ports.js';
import { runQuery, type QueryOptions } from '../../src/lib/query/run.js';
import { executeQuery } from '../../src/lib/query/execution.js';
import { runCli } from '../helpers/cli.js';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const athenaClient = new AthenaClient({ region: 'us-east-1', credentials });
const s3Client = new S3Client({ region: 'us-east-1', credentials });
const glueClient = new GlueClient({ region: 'us-east-1', credentials });
const athena = mockClient(athenaClient);
const s3 = mockClient(s3Client);
const glue = mockClient(glueClient);

const RESULTS = 's3://weblogs-data/athena-results/';
let dir: string;

function backend(): Backend {
  return {
    kind: 'aws',
    engine: new AthenaQueryEngine(() => Promise.resolve(athenaClient), { workgroup: 'weblogs', database: 'weblogs' }),
    store: new S3ObjectStore(() => Promise.resolve(s3Client)),
    catalog: new GlueCatalog(() => Promise.resolve(glueClient)),
    stream: undefined as never,
    deployer: undefined as never,
    close: () => Promise.resolve(),
  };
}

const lake = (args: string[]) => runCli(['query', ...args, '--no-progress'], { cwd: dir, main: { backendFactory: () => Promise.resolve(backend()) } });

// ---------------------------------------------------------------- a scripted Athena

interface Scenario {
  /** States GetQueryExecution reports in turn; the last one repeats. */
  states: QueryExecution['Status'][];
  statementType?: QueryExecution['StatementType'];
  stats?: QueryExecution['Statistics'];
  /** States after StopQueryExecution. */
  afterStop?: QueryExecution['Status'][];
  columns?: { Name: string; Type: string; Precision?: number; Scale?: number }[];
  rows?: (string | undefined)[][];
  /** GetQueryResults says more pages follow (the rest is in the CSV object). */
  more?: boolean;
}

const queries = new Map<string, { sql: string; scenario: Scenario; polls: number }>();
let scenarios: ((sql: string) => Scenario | undefined)[];
const throttleNext = { describe: 0 };

function scriptAthena(...byQuery: ((sql: string) => Scenario | undefined)[]) {
  scenarios = byQuery;
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    const scenario = scenarios.map((s) => s(input.QueryString)).find((s) => s !== undefined);
    if (!scenario) throw new Error(`no scenario for ${input.QueryString}`);
    const id = `q-${queries.size + 1}-0000-0000-0000-000000000000`;
    queries.set(id, { sql: input.QueryString, scenario, polls: 0 });
    return { QueryExecutionId: id };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    if (throttleNext.describe > 0) {
      throttleNext.describe--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
    const q = queries.get(input.QueryExecutionId)!;
    const states = q.scenario.states;
    const status = states[Math.min(q.polls, states.length - 1)]!;
    q.polls++;
    return {
      QueryExecution: {
        QueryExecutionId: input.QueryExecutionId,
        Query: q.sql,
        StatementType: q.scenario.statementType ?? 'DML',
        ResultConfiguration: { OutputLocation: `${RESULTS}${input.QueryExecutionId}.csv` },
        Status: status,
        Statistics: status?.State === 'QUEUED' ? { DataScannedInBytes: 0 } : q.scenario.stats,
      },
    };
  });
  athena.on(StopQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    const q = queries.get(input.QueryExecutionId)!;
    q.scenario = { ...q.scenario, states: q.scenario.afterStop ?? [{ State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' }] };
    q.polls = 0;
    return {};
  });
  athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string; NextToken?: string }) => {
    const { scenario } = queries.get(input.QueryExecutionId)!;
    const columns = scenario.columns ?? [];
    const header = scenario.statementType === 'DML' || scenario.statementType === undefined ? [columns.map((c) => c.Name)] : [];
    const rows = [...header, ...(scenario.rows ?? [])].slice(0, 1000);
    return {
      ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) })) },
      NextToken: scenario.more ? 'page-2' : undefined,
    };
  });
}

const succeeded = { State: 'SUCCEEDED' as const };
const stats = (scanned: number) => ({ DataScannedInBytes: scanned, EngineExecutionTimeInMillis: 812, QueryQueueTimeInMillis: 40, TotalExecutionTimeInMillis: 870 });

beforeEach(() => {
  athena.reset();
  s3.reset();
  glue.reset();
  queries.clear();
  throttleNext.describe = 0;
  dir = mkdtempSync(join(tmpdir(), 'lake-query-aws-'));
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'weblogs', backend: 'aws', columns: [{ name: 'source', type: 'string' }, { name: 'amount', type: 'decimal(10,2)' }], partitioning: { keys: ['year', 'month', 'day'] } }));
  athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'weblogs', Configuration: { BytesScannedCutoffPerQuery: 10_000_000_000 } } });
});
afterEach(() => {
  athena.reset();
  s3.reset();
  glue.reset();
});

describe('lake query on Athena (mocked)', () => {
  it('QUEUED for a while, then RUNNING, then SUCCEEDED: typed rows, stats and the cost line', async () => {
    scriptAthena(() => ({
      states: [{ State: 'QUEUED' }, { State: 'QUEUED' }, { State: 'QUEUED' }, { State: 'RUNNING' }, succeeded],
      stats: stats(31_457_280),
      columns: [
        { Name: 'source', Type: 'varchar' },
        { Name: 'n', Type: 'bigint' },
        { Name: 'total', Type: 'decimal', Precision: 38, Scale: 2 },
      ],
      rows: [
        ['web', '3', '12.30'],
        [undefined, '9007199254740993', undefined],
      ],
    }));

    const run = await lake(['SELECT source, count(*) AS n, sum(amount) AS total FROM events WHERE day = ? GROUP BY 1', '--param', "'17'", '-o', 'json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      queryId: 'q-1-0000-0000-0000-000000000000',
      state: 'SUCCEEDED',
      columns: [
        { name: 'source', type: 'varchar' },
        { name: 'n', type: 'bigint' },
        { name: 'total', type: 'decimal', precision: 38, scale: 2 },
      ],
      rows: [
        { source: 'web', n: 3, total: '12.30' },
        { source: null, n: '9007199254740993', total: null },
      ],
      rowCount: 2,
      stats: { scannedBytes: 31_457_280, billedBytes: 32_000_000, costUsd: 0.000145519, engineMs: 812, queueMs: 40, totalMs: 870 },
    });
    expect(run.stderr).toBe('scanned 31.5 MB (31,457,280 bytes), billed 32 MB, $0.000146 at $5/TiB; engine 812 ms, queue 40 ms, total 870 ms; query q-1-0000-0000-0000-000000000000\n');
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(5);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toMatchObject({ QueryExecutionContext: { Database: 'weblogs' }, WorkGroup: 'weblogs', ExecutionParameters: ["'17'"] });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  it("FAILED: Athena's reason and error category, exit 1, not billed", async () => {
    scriptAthena(() => ({
      states: [{ State: 'RUNNING' }, { State: 'FAILED', StateChangeReason: "SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved", AthenaError: { ErrorCategory: 2, ErrorType: 1006, ErrorMessage: "SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved" } }],
      stats: stats(0),
    }));

    const run = await lake(['SELECT nope FROM events', '-o', 'json']);

    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      queryId: 'q-1-0000-0000-0000-000000000000',
      state: 'FAILED',
      stats: { scannedBytes: 0, billedBytes: 0, costUsd: 0, engineMs: 812, queueMs: 40, totalMs: 870 },
      stateReason: "SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved",
      errorCategory: 2,
    });
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe('scanned 0 bytes, not billed (failed queries are free); engine 812 ms, queue 40 ms, total 870 ms; query q-1-0000-0000-0000-000000000000');
    expect(JSON.parse(lines[1]!)).toEqual({
      error: {
        code: 'QueryFailed',
        message: "query q-1-0000-0000-0000-000000000000 failed (user error, type 1006): SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved",
        hint: 'fix the SQL (or the table it reads) and run it again',
        exitCode: 1,
      },
    });
  });

  it('CANCELLED by the workgroup cutoff: exit 1, billed for what it scanned', async () => {
    scriptAthena(() => ({ states: [{ State: 'RUNNING' }, { State: 'CANCELLED', StateChangeReason: 'Bytes scanned limit was exceeded' }], stats: stats(10_000_000_000) }));

    const run = await lake(['SELECT * FROM events', '-o', 'csv']);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        'scanned 10 GB (10,000,000,000 bytes), billed 10 GB, $0.0455 at $5/TiB; engine 812 ms, queue 40 ms, total 870 ms; query q-1-0000-0000-0000-000000000000',
        'lake: query q-1-0000-0000-0000-000000000000 was cancelled: Bytes scanned limit was exceeded',
        "hint: the workgroup's bytes-scanned cutoff stopped it after 10 GB; filter on the partition keys or raise the cutoff",
        '',
      ].join('\n'),
    );
  });

  it('reads a multi-page result from the S3 object: no GetQueryResults call after the first page', async () => {
    const total = 2500;
    const csvLines = ['"id","source","amount"', ...Array.from({ length: total }, (_, i) => `"${i}",${i % 10 === 0 ? '' : `"s${i % 3}"`},"${(i / 100).toFixed(2)}"`)];
    const csv = Buffer.from(csvLines.join('\n') + '\n');
    scriptAthena(() => ({
      states: [succeeded],
      stats: stats(1_000),
      columns: [
        { Name: 'id', Type: 'bigint' },
        { Name: 'source', Type: 'varchar' },
        { Name: 'amount', Type: 'decimal', Precision: 10, Scale: 2 },
      ],
      rows: Array.from({ length: 999 }, (_, i) => [String(i), i % 10 === 0 ? undefined : `s${i % 3}`, (i / 100).toFixed(2)]),
      more: true,
    }));
    // The object arrives in uneven chunks, splitting rows and quoted values.
    const chunks = [csv.subarray(0, 7), csv.subarray(7, 20_001), csv.subarray(20_001)];
    s3.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from(chunks) as unknown as GetObjectCommandOutput['Body'] }));

    const run = await lake(['SELECT id, source, amount FROM events', '-o', 'ndjson']);

    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(total);
    expect(rows[0]).toEqual({ id: 0, source: null, amount: '0.00' });
    expect(rows[2499]).toEqual({ id: 2499, source: 's0', amount: '24.99' });
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(1);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: 'weblogs-data', Key: 'athena-results/q-1-0000-0000-0000-000000000000.csv' }]);
  });

  it('pages through GetQueryResults, with a warning, when the result object cannot be read', async () => {
    scriptAthena(() => ({ states: [succeeded], stats: stats(0), columns: [{ Name: 'id', Type: 'integer' }], rows: [['1'], ['2']], more: true }));
    athena.on(GetQueryResultsCommand, { NextToken: 'page-2' }).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'id', Type: 'integer' }] }, Rows: [{ Data: [{ VarCharValue: '3' }] }] } });
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));

    const run = await lake(['SELECT id FROM events', '-o', 'ndjson']);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(run.stderr.split('\n')[0]).toBe(
      'warning: cannot read the result object s3://weblogs-data/athena-results/q-1-0000-0000-0000-000000000000.csv (AccessDenied: Access Denied); paging through GetQueryResults instead, which is slower',
    );
  });

  it('retries a throttled GetQueryExecution', async () => {
    throttleNext.describe = 2;
    scriptAthena(() => ({ states: [succeeded], stats: stats(0), columns: [{ Name: '_col0', Type: 'integer' }], rows: [['1']] }));

    const run = await lake(['SELECT 1', '-o', 'json']);

    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { rows: unknown }).rows).toEqual([{ _col0: 1 }]);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
  });

  it('--timeout stops the query with StopQueryExecution, waits for CANCELLED, and exits 1 with what it billed', async () => {
    scriptAthena(() => ({ states: [{ State: 'RUNNING' }], stats: stats(123_000_000), afterStop: [{ State: 'RUNNING' }, { State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' }] }));

    const run = await lake(['SELECT * FROM events', '--timeout', '0.3', '-o', 'table']);

    expect(run.code).toBe(1);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'q-1-0000-0000-0000-000000000000' }]);
    expect(run.stderr).toBe(
      [
        'scanned 123 MB (123,000,000 bytes), billed 123 MB, $0.000559 at $5/TiB; engine 812 ms, queue 40 ms, total 870 ms; query q-1-0000-0000-0000-000000000000',
        'lake: query q-1-0000-0000-0000-000000000000 did not finish within --timeout 0.3 s and was stopped (CANCELLED)',
        'hint: raise --timeout, or make the query read less',
        '',
      ].join('\n'),
    );
  });

  it('Ctrl-C calls StopQueryExecution, waits for CANCELLED and reports what was scanned and billed (exit 130)', async () => {
    scriptAthena(() => ({ states: [{ State: 'RUNNING' }], stats: stats(2_500_000_000) }));
    const controller = new AbortController();
    const lines: string[] = [];
    const log = { debug: () => {}, info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`warning: ${m}`) };
    athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
      const q = queries.get(input.QueryExecutionId)!;
      q.polls++;
      if (q.polls === 2 && !controller.signal.aborted) controller.abort(new DOMException('interrupted', 'AbortError'));
      const state = q.scenario.states[0]!;
      return { QueryExecution: { QueryExecutionId: input.QueryExecutionId, StatementType: 'DML', Status: state, Statistics: stats(2_500_000_000) } };
    });
    const options: QueryOptions = { sql: 'SELECT * FROM events', database: 'weblogs', workgroup: 'weblogs', params: [], estimateOnly: false, guard: { maxBytes: null, maxCostUsd: null, sources: { maxBytes: '', maxCostUsd: '' } }, format: 'csv' };

    const error = await runQuery({ backend: backend(), config: { pricePerTiB: 5 }, log, write: () => {}, signal: controller.signal }, options).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).message).toBe('interrupted: query q-1-0000-0000-0000-000000000000 was stopped (CANCELLED)');
    expect((error as InterruptedError).exitCode).toBe(130);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([{ QueryExecutionId: 'q-1-0000-0000-0000-000000000000' }]);
    expect(lines).toEqual(['scanned 2.5 GB (2,500,000,000 bytes), billed 2.5 GB, $0.0114 at $5/TiB; engine 812 ms, queue 40 ms, total 870 ms; query q-1-0000-0000-0000-000000000000']);
  });

  it('the stop is sent even when Ctrl-C lands while GetQueryExecution is in flight', async () => {
    scriptAthena(() => ({ states: [{ State: 'RUNNING' }], stats: stats(0) }));
    const controller = new AbortController();
    const engine = backend().engine;
    const wrapped = { ...engine, describe: (id: string, signal?: AbortSignal) => {
      controller.abort(new DOMException('interrupted', 'AbortError'));
      return engine.describe(id, signal);
    } };
    const result = await executeQuery(Object.assign(Object.create(engine) as typeof engine, wrapped), { sql: 'SELECT 1' }, { signal: controller.signal });
    expect(result.ending).toBe('interrupted');
    expect(result.info.state).toBe('CANCELLED');
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it('warns when the workgroup has no bytes-scanned cutoff', async () => {
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'weblogs', Configuration: {} } });
    scriptAthena(() => ({ states: [succeeded], stats: stats(0), statementType: 'DDL', columns: [] }));

    const run = await lake(['MSCK REPAIR TABLE events', '-o', 'table']);

    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      "warning: workgroup 'weblogs' has no bytes-scanned cutoff: nothing stops a query that scans (and bills) more than you meant\n" +
        'scanned 0 bytes, not billed (DDL and utility statements are free); engine 812 ms, queue 40 ms, total 870 ms; query q-1-0000-0000-0000-000000000000\n',
    );
  });
});

// ---------------------------------------------------------------- --estimate on Athena

describe('lake query --estimate on Athena (mocked)', () => {
  const days = ['15', '16', '17'];
  const files = new Map<string, Buffer>();
  const footprint = new Map<string, { footer: number; columns: Record<string, number> }>();

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'lake-query-parquet-'));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    for (const day of days) {
      const path = join(work, `day-${day}.parquet`);
      mkdirSync(work, { recursive: true });
      await conn.run(
        `COPY (SELECT i::BIGINT AS id, (['web','app','api'])[1 + i % 3] AS source, (i % 1000 / 100.0)::DECIMAL(10,2) AS amount, md5(i::VARCHAR || '${day}') AS payload FROM range(${Number(day) * 1000}) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 4000)`,
      );
      const key = `data/year=2024/month=05/day=${day}/weblogs-1-2024-05-${day}-00-00-00-abc.parquet`;
      files.set(key, readFileSync(path));
      // Independently: DuckDB's own view of the footer and the column chunks.
      const meta = await conn.runAndReadAll(`SELECT footer_size FROM parquet_file_metadata('${path}')`);
      const chunks = await conn.runAndReadAll(`SELECT path_in_schema, sum(total_compressed_size)::BIGINT FROM parquet_metadata('${path}') GROUP BY 1`);
      footprint.set(key, { footer: Number(meta.getRows()[0]![0]), columns: Object.fromEntries(chunks.getRows().map(([p, b]) => [String(p), Number(b)])) });
    }
    conn.closeSync();
    db.closeSync();
  });

  function wireLake() {
    glue.on(GetTableCommand).resolves({
      Table: {
        Name: 'events',
        DatabaseName: 'weblogs',
        PartitionKeys: [{ Name: 'year', Type: 'string' }, { Name: 'month', Type: 'string' }, { Name: 'day', Type: 'string' }],
        StorageDescriptor: { Location: 's3://weblogs-data/data/', Columns: [{ Name: 'id', Type: 'bigint' }, { Name: 'source', Type: 'string' }, { Name: 'amount', Type: 'decimal(10,2)' }, { Name: 'payload', Type: 'string' }] },
        Parameters: { classification: 'parquet' },
      },
    });
    glue.on(GetPartitionsCommand).resolves({ Partitions: days.map((d) => ({ Values: ['2024', '05', d], StorageDescriptor: { Location: `s3://weblogs-data/data/year=2024/month=05/day=${d}/` } })) });
    s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
      Contents: [...files.entries()].filter(([k]) => k.startsWith(input.Prefix)).map(([Key, body]) => ({ Key, Size: body.length })),
      IsTruncated: false,
    }));
    s3.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string }) => {
      const body = files.get(input.Key)!;
      const [start, end] = /^bytes=(\d+)-(\d+)$/.exec(input.Range!)!.slice(1).map(Number) as [number, number];
      const bytes = new Uint8Array(body.subarray(start, end + 1));
      return { Body: { transformToByteArray: () => Promise.resolve(bytes) } as unknown as GetObjectCommandOutput['Body'] };
    });
  }

  const ioPlan = (constraint: unknown[]) =>
    JSON.stringify({
      inputTableColumnInfos: [{ table: { catalog: 'awsdatacatalog', schemaTable: { schema: 'weblogs', table: 'events' } }, constraint: { none: false, columnConstraints: constraint }, estimate: { outputRowCount: 0 } }],
      estimate: { outputRowCount: 0 },
    });
  const dayIn = (...values: string[]) => [{ columnName: 'day', type: 'varchar', domain: { nullsAllowed: false, ranges: values.map((v) => ({ low: { value: v, bound: 'EXACTLY' }, high: { value: v, bound: 'EXACTLY' } })) } }];
  const explain = (plan: string) => (sql: string) =>
    sql.startsWith('EXPLAIN (TYPE IO, FORMAT JSON) ') ? { states: [succeeded], statementType: 'UTILITY' as const, stats: stats(0), columns: [{ Name: 'Query Plan', Type: 'varchar' }], rows: [['Query Plan'], [plan]] } : undefined;
  const expectedBytes = (fileDays: string[], columns: string[]) =>
    [...footprint.entries()].filter(([k]) => fileDays.some((d) => k.includes(`day=${d}/`))).reduce((sum, [, f]) => sum + f.footer + 8 + columns.reduce((n, c) => n + (f.columns[c] ?? 0), 0), 0);

  it('predicts from the partitions that survive pruning and the column chunks read, without running the query', async () => {
    wireLake();
    scriptAthena(explain(ioPlan(dayIn('16', '17'))));

    const run = await lake(['SELECT source, sum(amount) FROM events WHERE day IN (\'16\', \'17\') GROUP BY 1', '--estimate', '-o', 'json']);

    expect(run.code).toBe(0);
    const scannedBytes = expectedBytes(['16', '17'], ['source', 'amount']);
    expect(JSON.parse(run.stdout)).toEqual({
      estimate: { scannedBytes, billedBytes: 10_000_000, costUsd: 0.000045475, partitions: 2, files: 2, method: 'athena-explain-io+parquet-footers' },
    });
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString)).toEqual(["EXPLAIN (TYPE IO, FORMAT JSON) SELECT source, sum(amount) FROM events WHERE day IN ('16', '17') GROUP BY 1"]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('a self-join the plan folds into one entry is billed for both scans', async () => {
    wireLake();
    scriptAthena(explain(ioPlan([])));

    const run = await lake(['SELECT a.id FROM events a JOIN events b ON a.id = b.id', '--estimate', '-o', 'json']);

    expect((JSON.parse(run.stdout) as { estimate: { scannedBytes: number } }).estimate.scannedBytes).toBe(2 * expectedBytes(days, ['id']));
  });

  it('--max-cost refuses before running: exit 4 with the estimate, only the EXPLAIN started', async () => {
    wireLake();
    scriptAthena(explain(ioPlan([])));

    const run = await lake(['SELECT * FROM events', '--max-bytes', '100kB', '-o', 'json']);

    expect(run.code).toBe(4);
    const scannedBytes = expectedBytes(days, ['id', 'source', 'amount', 'payload']);
    expect(JSON.parse(run.stdout)).toEqual({ estimate: { scannedBytes, billedBytes: 10_000_000, costUsd: 0.000045475, partitions: 3, files: 3, method: 'athena-explain-io+parquet-footers' } });
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
    expect(JSON.parse(run.stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: { code: 'Refused', exitCode: 4 } });
  });
});
