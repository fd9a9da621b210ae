/**
 * Athena, locally: DuckDB over the lake's Parquet files, with Athena's query lifecycle,
 * statistics, errors and result formats.
 *
 * One DuckDB session (duckdb-session.ts) serves every query of the process, one at a time
 * in submission order (QUEUED until their turn, then RUNNING). Per query:
 *
 * 1. the SQL is checked (one statement), parameters are bound, Trino-only syntax rewritten;
 * 2. every lake table it names gets an up-to-date view (duckdb-lake-views.ts);
 * 3. `EXPLAIN (FORMAT json)` gives the plan, and from it the bytes Athena would bill
 *    (scan-stats.ts); a query past the workgroup's cutoff is CANCELLED before it reads;
 * 4. the query runs; rows are rendered as Athena renders them and written as Athena's
 *    result CSV under the results prefix (athena-result-writer.ts: a big result as it comes;
 *    the results bucket is made if the lake has none yet: `SELECT 1` on a fresh lake works);
 * 5. the execution's state is kept in `<lakeDir>/athena/<queryId>.json` at every change
 *    (query-records.ts), so `describe` and `resultPage` work from another process.
 *
 * `estimateScan` runs steps 1-3 only: it is the run's own figure, without running. In the
 * process that ran a query, `heldRows` hands its rows over without reading the result
 * object back.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '../errors.js';
import type { Catalog, ObjectStore, QueryEngine, QueryExecutionInfo, QueryRequest, QueryState, ResultPage } from '../ports.js';
import { runCatalogStatement } from './athena-catalog-statements.js';
import { decodeToken, encodeToken, getResultRows, putResultObject } from './athena-result-files.js';
import { rewriteForDuckdb } from './athena-rewrite.js';
import { AthenaSqlError, bindParameters, singleStatement } from './athena-sql.js';
import { asServiceError, errorMessage, translateDuckdbError } from './athena-sql-errors.js';
import { parseStatement, type StatementKind, statementTypeOf } from './athena-statements.js';
import { DuckdbSession, type Rows, type RowStream } from './duckdb-session.js';
import { ResultWriter } from './athena-result-writer.js';
import { settledWithin } from './settled-within.js';
import { type FinishDetails, finishedRecord, type QueryRecord, QueryRecords, toInfo } from './query-records.js';

export interface DuckdbQueryEngineOptions {
  lakeDir: string;
  catalog: Catalog;
  /** Where result objects are written. */
  store: ObjectStore;
  bucket: string;
  resultsPrefix: string;
  /** The workgroup's BytesScannedCutoffPerQuery, or null for none. */
  bytesScannedCutoff: number | null;
  now: () => Date;
  /** Values of a result kept in memory before it is written out as it comes (tests set it low). */
  holdCells?: number;
}

/** What a query would scan, from its plan, without running it. */
export interface ScanEstimate {
  scannedBytes: number;
  /** Partitions (or, for an unpartitioned table, tables) whose files are read. */
  partitions: number;
  files: number;
  method: 'duckdb-plan';
}

/** Athena's words for a query stopped by the workgroup's per-query cutoff. */
export const CUTOFF_REASON = 'Bytes scanned limit was exceeded';
export const USER_CANCEL_REASON = 'Query cancelled by user';
const MAX_PAGE = 1000;
const DEFAULT_DATABASE = 'default';
/** Queries whose rows stay in memory (the last: its results are being read); older ones are read back from their result objects. */
const HELD_QUERIES = 1;

interface LiveQuery {
  record: QueryRecord;
  request: QueryRequest;
  submitted: number;
  rows?: (string | null)[][];
  /** A result too big to keep: written out as it came; its first page and size stay here. */
  spilled?: { firstRows: (string | null)[][]; rowCount: number };
  cancelRequested: boolean;
  /** What the plan said the query reads; a user cancel bills the share DuckDB got through. */
  plannedBytes?: number;
  progressAtCancel?: number;
  done: Promise<void>;
}

/** A statement's result: rows at once (small results), or batches as a query renders them. */
type Outcome = (Rows | RowStream) & { scannedBytes: number };

class QueryCancelled extends Error {
  constructor(
    readonly reason: string,
    readonly scannedBytes: number,
  ) {
    super(reason);
  }
}

export class DuckdbQueryEngine implements QueryEngine {
  private session?: Promise<DuckdbSession>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly live = new Map<string, LiveQuery>();
  /** The queries whose rows are in memory, most recent last. */
  private readonly held: LiveQuery[] = [];
  private running?: LiveQuery;
  private closed = false;
  private readonly records: QueryRecords;

  constructor(private readonly options: DuckdbQueryEngineOptions) {
    this.records = new QueryRecords(join(options.lakeDir, 'athena'));
  }

  // ---------------------------------------------------------------- QueryEngine

  async start(request: QueryRequest): Promise<string> {
    if (this.closed) throw new ServiceError('the query engine is closed', { service: 'athena', code: 'InvalidRequestException' });
    const queryId = randomUUID();
    const statementType = statementTypeOf(request.sql);
    const resultFormat = statementType === 'DML' || /^\s*(\(\s*)*explain\b/i.test(request.sql) ? 'csv' : 'txt';
    const record: QueryRecord = {
      queryId,
      query: request.sql,
      database: request.database ?? DEFAULT_DATABASE,
      state: 'QUEUED',
      statementType,
      stats: { scannedBytes: 0, engineMs: 0, queueMs: 0, totalMs: 0 },
      outputLocation: `s3://${this.options.bucket}/${this.resultsPrefix()}${queryId}.${resultFormat}`,
      submittedAt: this.options.now().toISOString(),
      resultFormat,
      pid: process.pid,
    };
    const query: LiveQuery = { record, request, submitted: performance.now(), cancelRequested: false, done: Promise.resolve() };
    this.live.set(queryId, query);
    try {
      await this.records.persist(record);
    } catch (err) {
      this.live.delete(queryId);
      throw err;
    }
    query.done = this.enqueue(() => this.execute(query));
    return queryId;
  }

  async describe(queryId: string): Promise<QueryExecutionInfo> {
    const record = this.live.get(queryId)?.record ?? (await this.records.load(queryId));
    return toInfo(record);
  }

  async stop(queryId: string): Promise<void> {
    const query = this.live.get(queryId);
    if (!query) {
      // Started by another process: it owns the DuckDB work; mark the record as Athena would.
      const record = await this.records.load(queryId);
      if (record.state === 'QUEUED' || record.state === 'RUNNING') {
        await this.finish(record, 'CANCELLED', { reason: USER_CANCEL_REASON });
      }
      return;
    }
    if (query.record.state !== 'QUEUED' && query.record.state !== 'RUNNING') return;
    query.cancelRequested = true;
    if (query.record.state === 'QUEUED') {
      await this.finish(query.record, 'CANCELLED', { reason: USER_CANCEL_REASON, queueMs: performance.now() - query.submitted });
      return;
    }
    // An interrupt lands only while DuckDB is executing: repeat it until the query ends.
    const session = await this.session;
    let finished = false;
    void query.done.finally(() => (finished = true));
    while (!finished) {
      if (this.running === query && session) {
        query.progressAtCancel ??= session.progress;
        session.interrupt();
      }
      const tick = new AbortController();
      await Promise.race([query.done, sleep(25, undefined, { signal: tick.signal }).catch(() => undefined)]);
      tick.abort();
    }
  }

  /**
   * Resolves when the query reaches a final state, after `maxWaitMs`, or on abort, whichever
   * comes first: a poller waits exactly as long as the query runs (Athena has no such call;
   * see SettleWaiter in query/execution.ts). A query of another process is just waited for.
   * Whatever it hangs on the signal and the timer is taken off when it returns, so a
   * long-lived signal does not collect a listener per poll.
   */
  async untilSettled(queryId: string, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const query = this.live.get(queryId);
    await settledWithin(query ? query.done.catch(() => undefined) : new Promise<void>(() => undefined), maxWaitMs, signal);
  }

  async resultPage(queryId: string, options: { nextToken?: string; maxResults?: number } = {}): Promise<ResultPage> {
    const query = this.live.get(queryId);
    const record = query?.record ?? (await this.records.load(queryId));
    if (record.state !== 'SUCCEEDED') {
      const what = record.state === 'QUEUED' || record.state === 'RUNNING' ? `Query has not yet finished. Current state: ${record.state}` : `Query did not finish successfully. Final query state: ${record.state}`;
      throw new ServiceError(what, { service: 'athena', code: 'InvalidRequestException' });
    }
    const maxResults = options.maxResults ?? MAX_PAGE;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_PAGE) {
      throw new ServiceError(`maxResults must be between 1 and ${MAX_PAGE}, got ${maxResults}`, { service: 'athena', code: 'InvalidRequestException' });
    }
    const offset = options.nextToken === undefined ? 0 : decodeToken(options.nextToken);
    const end = offset + maxResults;
    const spilled = query?.spilled;
    if (spilled && end <= spilled.firstRows.length) {
      return { columns: record.columns ?? [], rows: spilled.firstRows.slice(offset, end), ...(end < spilled.rowCount ? { nextToken: encodeToken(end) } : {}) };
    }
    // A result too big to keep is read back for each later page (readers stream the object instead).
    const rows = query?.rows ?? (await getResultRows(this.options.store, record.outputLocation, record.resultFormat));
    if (query && !spilled) this.hold(query, rows);
    return {
      columns: record.columns ?? [],
      rows: rows.slice(offset, end),
      ...(end < rows.length ? { nextToken: encodeToken(end) } : {}),
    };
  }

  /**
   * Every row of a query this engine ran and that SUCCEEDED, as its result object holds
   * them (the same strings), straight from memory; undefined for any other query, whose
   * rows are read from the result object.
   */
  heldRows(queryId: string): readonly (string | null)[][] | undefined {
    const query = this.live.get(queryId);
    return query?.record.state === 'SUCCEEDED' ? query.rows : undefined;
  }

  workgroup(name: string): Promise<{ name: string; bytesScannedCutoff?: number; outputLocation?: string }> {
    return Promise.resolve({
      name,
      ...(this.options.bytesScannedCutoff === null ? {} : { bytesScannedCutoff: this.options.bytesScannedCutoff }),
      outputLocation: `s3://${this.options.bucket}/${this.resultsPrefix()}`,
    });
  }

  /**
   * What the query would scan, computed exactly as its run computes it (same views, same
   * plan), without running it. DDL and statements that read no table scan 0.
   */
  async estimateScan(sql: string, database: string = DEFAULT_DATABASE, params?: string[]): Promise<ScanEstimate> {
    return this.enqueue(async () => {
      const session = await this.open();
      const bound = bindParameters(singleStatement(sql), params);
      const statement = parseStatement(bound);
      const body = statement.kind === 'query' ? bound : statement.kind === 'explain' && statement.analyze ? statement.body : undefined;
      if (body === undefined) return { scannedBytes: 0, partitions: 0, files: 0, method: 'duckdb-plan' };
      try {
        const { scannedBytes, partitions, files } = await session.plan(rewriteForDuckdb(body), database);
        return { scannedBytes, partitions, files, method: 'duckdb-plan' };
      } catch (err) {
        throw asServiceError(err, body, database);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const query of this.live.values()) {
      if (query.record.state === 'QUEUED' || query.record.state === 'RUNNING') query.cancelRequested = true;
    }
    if (this.running) (await this.session)?.interrupt();
    await this.queue.catch(() => undefined);
    await Promise.all([...this.live.values()].map((q) => q.done.catch(() => undefined)));
    if (this.session) {
      const session = await this.session;
      session.close();
      this.session = undefined;
    }
  }

  // ---------------------------------------------------------------- execution

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private open(): Promise<DuckdbSession> {
    this.session ??= DuckdbSession.open({ lakeDir: this.options.lakeDir, catalog: this.options.catalog, store: this.options.store });
    return this.session;
  }

  private async execute(query: LiveQuery): Promise<void> {
    const { record, request } = query;
    if (record.state !== 'QUEUED') return;
    const started = performance.now();
    const queueMs = started - query.submitted;
    if (query.cancelRequested || this.closed) {
      await this.finish(record, 'CANCELLED', { reason: USER_CANCEL_REASON, queueMs });
      return;
    }
    record.state = 'RUNNING';
    record.stats.queueMs = Math.round(queueMs);
    // A failed write of this intermediate state is not the query's failure: the final one follows.
    this.records.persist(record).catch(() => undefined);
    this.running = query;
    let sqlForErrors = request.sql;
    try {
      const session = await this.open();
      const bound = bindParameters(singleStatement(request.sql), request.params);
      sqlForErrors = bound;
      const outcome = await this.run(session, parseStatement(bound), bound, record.database, query);
      record.columns = outcome.columns;
      await this.writeResult(query, outcome);
      await this.finish(record, 'SUCCEEDED', { scannedBytes: outcome.scannedBytes, queueMs, started });
    } catch (err) {
      if (err instanceof QueryCancelled) {
        await this.finish(record, 'CANCELLED', { reason: err.reason, scannedBytes: err.scannedBytes, queueMs, started });
      } else if (query.cancelRequested) {
        const progress = Math.min(Math.max(query.progressAtCancel ?? 0, 0), 100) / 100;
        await this.finish(record, 'CANCELLED', { reason: USER_CANCEL_REASON, scannedBytes: Math.round((query.plannedBytes ?? 0) * progress), queueMs, started });
      } else {
        const failure = err instanceof AthenaSqlError ? { reason: err.message, category: err.category } : translateDuckdbError(errorMessage(err), sqlForErrors, record.database);
        await this.finish(record, 'FAILED', { reason: failure.reason, category: failure.category, queueMs, started });
      }
    } finally {
      this.running = undefined;
    }
  }

  private async run(session: DuckdbSession, statement: StatementKind, sql: string, database: string, query: LiveQuery): Promise<Outcome> {
    switch (statement.kind) {
      case 'query': {
        const duckSql = rewriteForDuckdb(sql);
        const planned = await session.plan(duckSql, database);
        this.checkCutoff(planned.scannedBytes);
        query.plannedBytes = planned.scannedBytes;
        return { ...(await session.select(duckSql, planned.tree, () => query.cancelRequested)), scannedBytes: planned.scannedBytes };
      }
      case 'explain': {
        const body = rewriteForDuckdb(statement.body);
        const planned = await session.plan(body, database);
        if (statement.analyze) this.checkCutoff(planned.scannedBytes);
        const lines = await session.explain(body, statement.analyze);
        return { columns: [{ name: 'Query Plan', type: 'varchar' }], rows: lines.map((l) => [l]), scannedBytes: statement.analyze ? planned.scannedBytes : 0 };
      }
      case 'unsupported':
        throw new AthenaSqlError(`NOT_SUPPORTED: ${statement.what || 'this statement'} is not supported by the local query engine`);
      default:
        return { ...(await runCatalogStatement(this.options, statement, database)), scannedBytes: 0 };
    }
  }

  /** The result object, from rows at once or from batches (kept in memory while small enough). */
  private async writeResult(query: LiveQuery, outcome: Outcome): Promise<void> {
    const { record } = query;
    if ('rows' in outcome || record.resultFormat !== 'csv') {
      let rows: (string | null)[][] = [];
      if ('rows' in outcome) rows = outcome.rows;
      else for await (const batch of outcome.batches) rows = rows.concat(batch);
      this.hold(query, rows);
      await putResultObject(this.options.store, record.outputLocation, record.resultFormat, outcome.columns, rows);
      return;
    }
    const writer = new ResultWriter(this.options.store, record.outputLocation, outcome.columns, { holdCells: this.options.holdCells, firstPage: MAX_PAGE });
    try {
      for await (const rows of outcome.batches) await writer.add(rows);
      const written = await writer.finish();
      if (written.rows) this.hold(query, written.rows);
      else query.spilled = { firstRows: written.firstRows, rowCount: written.rowCount };
    } catch (err) {
      writer.discard();
      throw err;
    }
  }

  /** Keeps a query's rows in memory, letting go of those of older queries. */
  private hold(query: LiveQuery, rows: (string | null)[][]): void {
    query.rows = rows;
    const at = this.held.indexOf(query);
    if (at >= 0) this.held.splice(at, 1);
    this.held.push(query);
    for (const old of this.held.splice(0, Math.max(0, this.held.length - HELD_QUERIES))) delete old.rows;
  }

  private checkCutoff(scannedBytes: number): void {
    const cutoff = this.options.bytesScannedCutoff;
    // Athena stops the query once it has read past the limit and reports the limit as scanned.
    if (cutoff !== null && scannedBytes > cutoff) throw new QueryCancelled(CUTOFF_REASON, cutoff);
  }

  private async finish(record: QueryRecord, state: QueryState, details: FinishDetails): Promise<void> {
    const next = finishedRecord(record, state, details, this.options.now());
    // On disk first: once this process reports the final state, another process reads it too.
    await this.records.persist(next);
    Object.assign(record, next);
    if (!('columns' in next)) delete record.columns;
  }

  private resultsPrefix(): string {
    const p = this.options.resultsPrefix.replace(/^\/+/, '');
    return p === '' || p.endsWith('/') ? p : p + '/';
  }
}
