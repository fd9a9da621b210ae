import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  InvalidRequestException,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine } from '../../src/lib/aws/athena-query-engine.js';

const client = new AthenaClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const athena = mockClient(client);
let engine: AthenaQueryEngine;

const QID = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const SUBMITTED = new Date('2024-05-17T13:00:00.000Z');
const COMPLETED = new Date('2024-05-17T13:00:04.000Z');
const OUTPUT = `s3://weblogs-data/athena-results/${QID}.csv`;

const execution = (status: QueryExecution['Status'], extra: Partial<QueryExecution> = {}): QueryExecution => ({
  QueryExecutionId: QID,
  Query: 'SELECT 1',
  StatementType: 'DML',
  ResultConfiguration: { OutputLocation: OUTPUT },
  Status: status,
  ...extra,
});

const row = (...values: (string | undefined)[]) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });

beforeEach(() => {
  athena.reset();
  engine = new AthenaQueryEngine(() => Promise.resolve(client), { workgroup: 'weblogs', database: 'weblogs' });
});

describe('AthenaQueryEngine.start', () => {
  it('starts in the default database and workgroup, binds parameters, and sends an idempotency token', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QID });

    const id = await engine.start({ sql: 'SELECT * FROM events WHERE source = ?', params: ["'web'"] });

    expect(id).toBe(QID);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input).toStrictEqual({
      QueryString: 'SELECT * FROM events WHERE source = ?',
      QueryExecutionContext: { Database: 'weblogs' },
      WorkGroup: 'weblogs',
      ExecutionParameters: ["'web'"],
      ClientRequestToken: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
  });

  it('uses the request database and workgroup, omits an empty parameter list, and a new token for each start', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QID });

    await engine.start({ sql: 'SHOW TABLES', database: 'other', workgroup: 'primary', params: [] });
    await engine.start({ sql: 'SHOW TABLES' });

    const [first, second] = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({ QueryExecutionContext: { Database: 'other' }, WorkGroup: 'primary', ExecutionParameters: undefined });
    expect(first!.ClientRequestToken).not.toBe(second!.ClientRequestToken);
  });
});

describe('AthenaQueryEngine.describe', () => {
  it('maps QUEUED with zero statistics', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: execution({ State: 'QUEUED', SubmissionDateTime: SUBMITTED }) });

    expect(await engine.describe(QID)).toStrictEqual({
      queryId: QID,
      state: 'QUEUED',
      statementType: 'DML',
      stats: { scannedBytes: 0, engineMs: 0, queueMs: 0, totalMs: 0 },
      outputLocation: OUTPUT,
      submittedAt: SUBMITTED,
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)[0]!.args[0].input).toStrictEqual({ QueryExecutionId: QID });
  });

  it('maps RUNNING with the statistics so far', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: execution({ State: 'RUNNING', SubmissionDateTime: SUBMITTED }, { Statistics: { DataScannedInBytes: 1024, QueryQueueTimeInMillis: 120, EngineExecutionTimeInMillis: 300, TotalExecutionTimeInMillis: 450 } }),
    });

    expect(await engine.describe(QID)).toStrictEqual({
      queryId: QID,
      state: 'RUNNING',
      statementType: 'DML',
      stats: { scannedBytes: 1024, engineMs: 300, queueMs: 120, totalMs: 450 },
      outputLocation: OUTPUT,
      submittedAt: SUBMITTED,
    });
  });

  it('maps SUCCEEDED with all four statistics and both times', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: execution(
        { State: 'SUCCEEDED', SubmissionDateTime: SUBMITTED, CompletionDateTime: COMPLETED },
        { Statistics: { DataScannedInBytes: 52_428_800, EngineExecutionTimeInMillis: 3200, QueryQueueTimeInMillis: 150, TotalExecutionTimeInMillis: 3600, ServiceProcessingTimeInMillis: 40 } },
      ),
    });

    expect(await engine.describe(QID)).toStrictEqual({
      queryId: QID,
      state: 'SUCCEEDED',
      statementType: 'DML',
      stats: { scannedBytes: 52_428_800, engineMs: 3200, queueMs: 150, totalMs: 3600 },
      outputLocation: OUTPUT,
      submittedAt: SUBMITTED,
      completedAt: COMPLETED,
    });
  });

  it("maps FAILED with the reason and Athena's error category and type", async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: execution(
        {
          State: 'FAILED',
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          SubmissionDateTime: SUBMITTED,
          CompletionDateTime: COMPLETED,
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved" },
        },
        { Statistics: { DataScannedInBytes: 0, EngineExecutionTimeInMillis: 210, QueryQueueTimeInMillis: 90, TotalExecutionTimeInMillis: 330 } },
      ),
    });

    expect(await engine.describe(QID)).toStrictEqual({
      queryId: QID,
      state: 'FAILED',
      stateReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
      errorCategory: 2,
      errorType: 1006,
      statementType: 'DML',
      stats: { scannedBytes: 0, engineMs: 210, queueMs: 90, totalMs: 330 },
      outputLocation: OUTPUT,
      submittedAt: SUBMITTED,
      completedAt: COMPLETED,
    });
  });

  it('maps CANCELLED by the workgroup cutoff, keeping the bytes scanned until then', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: execution(
        {
          State: 'CANCELLED',
          StateChangeReason: 'Query cancelled: exceeded the data usage limit of 10485760 bytes',
          SubmissionDateTime: SUBMITTED,
          CompletionDateTime: COMPLETED,
          AthenaError: { ErrorCategory: 2, ErrorType: 1205 },
        },
        { Statistics: { DataScannedInBytes: 10_485_761, EngineExecutionTimeInMillis: 900, QueryQueueTimeInMillis: 60, TotalExecutionTimeInMillis: 1000 } },
      ),
    });

    expect(await engine.describe(QID)).toStrictEqual({
      queryId: QID,
      state: 'CANCELLED',
      stateReason: 'Query cancelled: exceeded the data usage limit of 10485760 bytes',
      errorCategory: 2,
      errorType: 1205,
      statementType: 'DML',
      stats: { scannedBytes: 10_485_761, engineMs: 900, queueMs: 60, totalMs: 1000 },
      outputLocation: OUTPUT,
      submittedAt: SUBMITTED,
      completedAt: COMPLETED,
    });
  });
});

describe('AthenaQueryEngine.resultPage', () => {
  const columns = {
    ColumnInfo: [
      { Name: 'source', Label: 'source', Type: 'varchar', Precision: 2147483647, Scale: 0 },
      { Name: 'total', Label: 'total', Type: 'decimal', Precision: 10, Scale: 2 },
    ],
  };

  it('drops the header row of a SELECT on the first page only, and keeps NULL as null', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: execution({ State: 'SUCCEEDED' }) });
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({ ResultSet: { ResultSetMetadata: columns, Rows: [row('source', 'total'), row('web', '12.50'), row(undefined, '')] }, NextToken: 'page-2' })
      // A data row that spells the column names must survive on later pages.
      .resolvesOnce({ ResultSet: { ResultSetMetadata: columns, Rows: [row('source', 'total'), row('app', undefined)] } });

    await engine.describe(QID);
    const first = await engine.resultPage(QID, { maxResults: 3 });
    const second = await engine.resultPage(QID, { nextToken: first.nextToken });

    expect(first).toStrictEqual({
      columns: [
        { name: 'source', type: 'varchar', precision: 2147483647, scale: 0 },
        { name: 'total', type: 'decimal', precision: 10, scale: 2 },
      ],
      rows: [
        ['web', '12.50'],
        [null, ''],
      ],
      nextToken: 'page-2',
    });
    expect(second.rows).toStrictEqual([
      ['source', 'total'],
      ['app', null],
    ]);
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input)).toStrictEqual([
      { QueryExecutionId: QID, NextToken: undefined, MaxResults: 3 },
      { QueryExecutionId: QID, NextToken: 'page-2', MaxResults: undefined },
    ]);
    // The statement type came from describe: no second GetQueryExecution.
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(1);
  });

  it('keeps the first row of a UTILITY statement (SHOW TABLES has no header), asking for the type when it is not known', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: execution({ State: 'SUCCEEDED' }, { StatementType: 'UTILITY', Query: 'SHOW TABLES' }) });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'tab_name', Type: 'string' }] }, Rows: [row('events'), row('events_errors')] },
    });

    const page = await engine.resultPage(QID);

    expect(page).toStrictEqual({ columns: [{ name: 'tab_name', type: 'string' }], rows: [['events'], ['events_errors']] });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(1);
  });

  it('drops a first row that spells the column names when the statement is not DML (EXPLAIN-like results)', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: execution({ State: 'SUCCEEDED' }, { StatementType: 'UTILITY', Query: 'EXPLAIN SELECT 1' }) });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'Query Plan', Type: 'varchar' }] }, Rows: [row('Query Plan'), row('Fragment 0 [SINGLE]')] },
    });

    expect((await engine.resultPage(QID)).rows).toStrictEqual([['Fragment 0 [SINGLE]']]);
  });

  it('returns no rows for a SELECT with an empty result (header only)', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: execution({ State: 'SUCCEEDED' }) });
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: columns, Rows: [row('source', 'total')] } });

    expect((await engine.resultPage(QID)).rows).toStrictEqual([]);
  });
});

describe('AthenaQueryEngine.workgroup and stop', () => {
  it('reports the bytes-scanned cutoff and output location', async () => {
    athena.on(GetWorkGroupCommand).resolves({
      WorkGroup: {
        Name: 'weblogs',
        State: 'ENABLED',
        Configuration: { BytesScannedCutoffPerQuery: 10_737_418_240, ResultConfiguration: { OutputLocation: 's3://weblogs-data/athena-results/' }, EnforceWorkGroupConfiguration: true },
      },
    });

    expect(await engine.workgroup('weblogs')).toStrictEqual({ name: 'weblogs', bytesScannedCutoff: 10_737_418_240, outputLocation: 's3://weblogs-data/athena-results/' });
    expect(athena.commandCalls(GetWorkGroupCommand)[0]!.args[0].input).toStrictEqual({ WorkGroup: 'weblogs' });
  });

  it('reports no cutoff when the workgroup has none (primary, by default)', async () => {
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'primary', State: 'ENABLED', Configuration: {} } });
    expect(await engine.workgroup('primary')).toStrictEqual({ name: 'primary' });
  });

  it('answers undefined for a workgroup that does not exist', async () => {
    athena.on(GetWorkGroupCommand).rejects(new InvalidRequestException({ $metadata: { httpStatusCode: 400 }, message: 'WorkGroup nope is not found.' }));
    expect(await engine.workgroup('nope')).toBeUndefined();
  });

  it('stops a query by id', async () => {
    athena.on(StopQueryExecutionCommand).resolves({});
    await engine.stop(QID);
    expect(athena.commandCalls(StopQueryExecutionCommand)[0]!.args[0].input).toStrictEqual({ QueryExecutionId: QID });
  });
});
