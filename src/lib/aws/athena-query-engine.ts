/**
 * QueryEngine over Amazon Athena. Starting, describing, stopping and paging results;
 * polling lives in the query service, since Athena has no waiter.
 */
import { randomUUID } from 'node:crypto';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type QueryExecution,
  type Row,
} from '@aws-sdk/client-athena';
import { ServiceError } from '../errors.js';
import type { QueryEngine, QueryExecutionInfo, QueryRequest, QueryState, ResultColumn, ResultPage } from '../ports.js';

const STATES: ReadonlySet<string> = new Set<QueryState>(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
type StatementType = NonNullable<QueryExecutionInfo['statementType']>;
const STATEMENT_TYPES: ReadonlySet<string> = new Set<StatementType>(['DDL', 'DML', 'UTILITY']);

function toColumn(info: ColumnInfo): ResultColumn {
  const column: ResultColumn = { name: info.Name ?? '', type: info.Type ?? '' };
  if (info.Precision !== undefined) column.precision = info.Precision;
  if (info.Scale !== undefined) column.scale = info.Scale;
  return column;
}

function toValues(row: Row): (string | null)[] {
  // A Datum without VarCharValue is SQL NULL; an empty string is an empty string.
  return (row.Data ?? []).map((datum) => datum.VarCharValue ?? null);
}

/** The first row spells the column names, as the header of a SELECT's first page does. */
function isHeader(row: (string | null)[], columns: ResultColumn[]): boolean {
  return row.length === columns.length && columns.every((column, i) => row[i] === column.name);
}

export function toExecutionInfo(queryId: string, execution: QueryExecution): QueryExecutionInfo {
  const status = execution.Status ?? {};
  const state = status.State ?? 'QUEUED';
  if (!STATES.has(state)) {
    throw new ServiceError(`Athena reported an unknown state '${state}' for query ${queryId}`, { service: 'athena', code: 'UnknownQueryState' });
  }
  const stats = execution.Statistics ?? {};
  const info: QueryExecutionInfo = {
    queryId: execution.QueryExecutionId ?? queryId,
    state: state as QueryState,
    stats: {
      scannedBytes: stats.DataScannedInBytes ?? 0,
      engineMs: stats.EngineExecutionTimeInMillis ?? 0,
      queueMs: stats.QueryQueueTimeInMillis ?? 0,
      totalMs: stats.TotalExecutionTimeInMillis ?? 0,
    },
  };
  const reason = status.StateChangeReason ?? status.AthenaError?.ErrorMessage;
  if (reason !== undefined) info.stateReason = reason;
  if (status.AthenaError?.ErrorCategory !== undefined) info.errorCategory = status.AthenaError.ErrorCategory;
  if (status.AthenaError?.ErrorType !== undefined) info.errorType = status.AthenaError.ErrorType;
  if (execution.StatementType !== undefined && STATEMENT_TYPES.has(execution.StatementType)) info.statementType = execution.StatementType;
  if (execution.ResultConfiguration?.OutputLocation !== undefined) info.outputLocation = execution.ResultConfiguration.OutputLocation;
  if (status.SubmissionDateTime !== undefined) info.submittedAt = status.SubmissionDateTime;
  if (status.CompletionDateTime !== undefined) info.completedAt = status.CompletionDateTime;
  return info;
}

export class AthenaQueryEngine implements QueryEngine {
  /** Statement types seen by describe, so the first result page needs no extra call. */
  private readonly statementTypes = new Map<string, StatementType | undefined>();

  constructor(
    private readonly getClient: () => Promise<AthenaClient>,
    private readonly defaults: { workgroup: string; database: string },
  ) {}

  async start(request: QueryRequest): Promise<string> {
    const client = await this.getClient();
    const out = await client.send(
      new StartQueryExecutionCommand({
        QueryString: request.sql,
        QueryExecutionContext: { Database: request.database ?? this.defaults.database },
        WorkGroup: request.workgroup ?? this.defaults.workgroup,
        // Athena rejects an empty list: send the field only when there is something to bind.
        ExecutionParameters: request.params && request.params.length > 0 ? [...request.params] : undefined,
        // One token per logical start: the SDK's retries of this call reuse it, so a retry
        // after a lost response does not start (and bill) the query twice.
        ClientRequestToken: randomUUID(),
      }),
      { abortSignal: request.signal },
    );
    if (!out.QueryExecutionId) throw new ServiceError('Athena started a query but returned no id', { service: 'athena', code: 'NoQueryId', requestId: out.$metadata?.requestId });
    return out.QueryExecutionId;
  }

  async describe(queryId: string, signal?: AbortSignal): Promise<QueryExecutionInfo> {
    const client = await this.getClient();
    const out = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }), { abortSignal: signal });
    if (!out.QueryExecution) throw new ServiceError(`Athena returned nothing for query ${queryId}`, { service: 'athena', code: 'NoQueryExecution', requestId: out.$metadata?.requestId });
    const info = toExecutionInfo(queryId, out.QueryExecution);
    this.statementTypes.set(queryId, info.statementType);
    return info;
  }

  async stop(queryId: string): Promise<void> {
    const client = await this.getClient();
    await client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
  }

  async resultPage(queryId: string, options: { nextToken?: string; maxResults?: number; signal?: AbortSignal } = {}): Promise<ResultPage> {
    const client = await this.getClient();
    const firstPage = options.nextToken === undefined;
    const out = await client.send(
      new GetQueryResultsCommand({ QueryExecutionId: queryId, NextToken: options.nextToken, MaxResults: options.maxResults }),
      { abortSignal: options.signal },
    );
    const columns = (out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map(toColumn);
    let rows = (out.ResultSet?.Rows ?? []).map(toValues);
    if (firstPage && rows.length > 0 && (await this.firstRowIsHeader(queryId, rows[0]!, columns, options.signal))) rows = rows.slice(1);
    const page: ResultPage = { columns, rows };
    if (out.NextToken) page.nextToken = out.NextToken;
    return page;
  }

  async workgroup(name: string): Promise<{ name: string; bytesScannedCutoff?: number; outputLocation?: string } | undefined> {
    const client = await this.getClient();
    try {
      const { WorkGroup: wg } = await client.send(new GetWorkGroupCommand({ WorkGroup: name }));
      if (!wg) return undefined;
      const out: { name: string; bytesScannedCutoff?: number; outputLocation?: string } = { name: wg.Name ?? name };
      if (wg.Configuration?.BytesScannedCutoffPerQuery !== undefined) out.bytesScannedCutoff = wg.Configuration.BytesScannedCutoffPerQuery;
      if (wg.Configuration?.ResultConfiguration?.OutputLocation !== undefined) out.outputLocation = wg.Configuration.ResultConfiguration.OutputLocation;
      return out;
    } catch (err) {
      // Athena has no not-found error for workgroups: "WorkGroup x is not found." is an InvalidRequestException.
      if ((err as Error).name === 'InvalidRequestException' && /not found/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  close(): Promise<void> {
    this.statementTypes.clear();
    return Promise.resolve();
  }

  /**
   * Athena puts the column names in the first row of the first page only for SELECT-like
   * (DML) statements; DDL and UTILITY results (SHOW TABLES, DESCRIBE, SHOW PARTITIONS)
   * start with data. For those, and when the type is unknown, the row is dropped only if
   * it spells the column names, which covers statements whose classification is not
   * documented (EXPLAIN).
   */
  private async firstRowIsHeader(queryId: string, row: (string | null)[], columns: ResultColumn[], signal?: AbortSignal): Promise<boolean> {
    const type = this.statementTypes.has(queryId) ? this.statementTypes.get(queryId) : (await this.describe(queryId, signal)).statementType;
    this.statementTypes.delete(queryId);
    return type === 'DML' || isHeader(row, columns);
  }
}
