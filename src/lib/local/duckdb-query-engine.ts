/**
 * Athena, locally: DuckDB over the lake's Parquet files, with Athena's query lifecycle,
 * statistics, errors and result formats.
 *
 * One DuckDB instance and one connection serve every query of the process, one at a time
 * in submission order (QUEUED until their turn, then RUNNING). Per query:
 *
 * 1. the SQL is checked (one statement), parameters are bound, Trino-only syntax rewritten;
 * 2. every lake table it names gets an up-to-date view (duckdb-lake-views.ts);
 * 3. `EXPLAIN (FORMAT json)` gives the plan, and from it the bytes Athena would bill
 *    (scan-stats.ts); a query past the workgroup's cutoff is CANCELLED before it reads;
 * 4. the query runs; rows are rendered as Athena renders them and written as Athena's
 *    result CSV under the results prefix;
 * 5. the execution's state is kept in `<lakeDir>/athena/<queryId>.json` at every change, so
 *    `describe` and `resultPage` work from another process.
 *
 * `estimateScan` runs steps 1-3 only: it is the run's own figure, without running.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ServiceError } from '../errors.js';
import type {
  Catalog,
  ObjectStore,
  PartitionDef,
  QueryEngine,
  QueryExecutionInfo,
  QueryRequest,
  QueryState,
  ResultColumn,
  ResultPage,
  TableDef,
} from '../ports.js';
import { athenaFunctionDependencies, athenaFunctionStatement, ATHENA_SESSION_SETTINGS, sqlString } from './athena-functions.js';
import { athenaColumn, athenaRenderer, parseAthenaCsv, parseAthenaText, toAthenaCsv, toAthenaText } from './athena-results.js';
import {
  AthenaSqlError,
  bindParameters,
  calledFunctions,
  parseStatement,
  rewriteForDuckdb,
  singleStatement,
  statementTypeOf,
  translateDuckdbError,
  type StatementKind,
  type StatementType,
} from './athena-sql.js';
import { LAKE_CATALOG, LakeViews, parseS3, quoteIdent } from './duckdb-lake-views.js';
import { collectScans, columnsRead, fileScanBytes } from './scan-stats.js';

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

/** The persisted execution, `<lakeDir>/athena/<queryId>.json`. */
interface QueryRecord {
  queryId: string;
  query: string;
  database: string;
  state: QueryState;
  stateReason?: string;
  errorCategory?: number;
  statementType: StatementType;
  stats: { scannedBytes: number; engineMs: number; queueMs: number; totalMs: number };
  outputLocation: string;
  submittedAt: string;
  completedAt?: string;
  columns?: ResultColumn[];
  /** Result object format: query results are CSV, DDL and SHOW results text. */
  resultFormat: 'csv' | 'txt';
  pid: number;
}

interface LiveQuery {
  record: QueryRecord;
  request: QueryRequest;
  submitted: number;
  rows?: (string | null)[][];
  cancelRequested: boolean;
  /** What the plan said the query reads; a user cancel bills the share DuckDB got through. */
  plannedBytes?: number;
  progressAtCancel?: number;
  done: Promise<void>;
}

interface Session {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  views: LakeViews;
  database?: string;
  /** Athena functions installed so far (each macro costs its creation: only those used). */
  functions: Set<string>;
}

interface ScanTotals {
  scannedBytes: number;
  partitions: number;
  files: number;
}

interface Outcome {
  columns: ResultColumn[];
  rows: (string | null)[][];
  scannedBytes: number;
}

class QueryCancelled extends Error {
  constructor(
    readonly reason: string,
    readonly scannedBytes: number,
  ) {
    super(reason);
  }
}

export class DuckdbQueryEngine implements QueryEngine {
  private session?: Promise<Session>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly live = new Map<string, LiveQuery>();
  private running?: LiveQuery;
  private closed = false;
  private stateDirReady?: Promise<void>;
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly options: DuckdbQueryEngineOptions) {}

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
    await this.persist(record);
    query.done = this.enqueue(() => this.execute(query));
    return queryId;
  }

  async describe(queryId: string): Promise<QueryExecutionInfo> {
    const record = this.live.get(queryId)?.record ?? (await this.load(queryId));
    return toInfo(record);
  }

  async stop(queryId: string): Promise<void> {
    const query = this.live.get(queryId);
    if (!query) {
      // Started by another process: it owns the DuckDB work; mark the record as Athena would.
      const record = await this.load(queryId);
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
        query.progressAtCancel ??= session.conn.progress.percentage;
        session.conn.interrupt();
      }
      await Promise.race([query.done, sleep(25)]);
    }
  }

  /**
   * Resolves when the query reaches a final state, after `maxWaitMs`, or on abort, whichever
   * comes first: a poller waits exactly as long as the query runs (Athena has no such call;
   * see SettleWaiter in query/execution.ts). A query of another process is just waited for.
   */
  async untilSettled(queryId: string, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    const query = this.live.get(queryId);
    if (signal?.aborted) return;
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    const timer = new AbortController();
    try {
      await Promise.race([query ? query.done.catch(() => undefined) : new Promise<never>(() => undefined), sleep(maxWaitMs, undefined, { signal: timer.signal }).catch(() => undefined), aborted]);
    } finally {
      timer.abort();
    }
  }

  async resultPage(queryId: string, options: { nextToken?: string; maxResults?: number } = {}): Promise<ResultPage> {
    const query = this.live.get(queryId);
    const record = query?.record ?? (await this.load(queryId));
    if (record.state !== 'SUCCEEDED') {
      const what = record.state === 'QUEUED' || record.state === 'RUNNING' ? `Query has not yet finished. Current state: ${record.state}` : `Query did not finish successfully. Final query state: ${record.state}`;
      throw new ServiceError(what, { service: 'athena', code: 'InvalidRequestException' });
    }
    const maxResults = options.maxResults ?? MAX_PAGE;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_PAGE) {
      throw new ServiceError(`maxResults must be between 1 and ${MAX_PAGE}, got ${maxResults}`, { service: 'athena', code: 'InvalidRequestException' });
    }
    const rows = query?.rows ?? (await this.loadRows(record));
    if (query) query.rows = rows;
    const offset = options.nextToken === undefined ? 0 : decodeToken(options.nextToken);
    const end = offset + maxResults;
    return {
      columns: record.columns ?? [],
      rows: rows.slice(offset, end),
      ...(end < rows.length ? { nextToken: encodeToken(end) } : {}),
    };
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
        const totals = await this.plan(session, rewriteForDuckdb(body), database);
        return { ...totals, method: 'duckdb-plan' };
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
    if (this.running) (await this.session)?.conn.interrupt();
    await this.queue.catch(() => undefined);
    await Promise.all([...this.live.values()].map((q) => q.done.catch(() => undefined)));
    await Promise.all([...this.writes.values()].map((w) => w.catch(() => undefined)));
    if (this.session) {
      const session = await this.session;
      session.conn.closeSync();
      session.instance.closeSync();
      this.session = undefined;
    }
  }

  // ---------------------------------------------------------------- execution

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private open(): Promise<Session> {
    this.session ??= (async () => {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const instance = await DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      await conn.run(`ATTACH ':memory:' AS ${LAKE_CATALOG}`);
      await conn.run(`USE ${LAKE_CATALOG}`);
      await conn.run(
        [
          // The scan reads each footer twice (binding, then scanning): keep them once.
          'SET parquet_metadata_cache = true',
          // Late materialization re-reads a table for ORDER BY ... LIMIT through a second
          // scan the plan cannot tie to its table: the bill would miss those columns.
          "SET disabled_optimizers = 'late_materialization'",
          ...ATHENA_SESSION_SETTINGS,
        ].join(';\n'),
      );
      const views = new LakeViews(conn, { lakeDir: this.options.lakeDir, catalog: this.options.catalog, store: this.options.store });
      return { instance, conn, views, functions: new Set<string>() };
    })();
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
    // Not awaited: the final write follows it in order, and the query need not wait for it.
    this.persist(record).catch(() => undefined);
    this.running = query;
    let sqlForErrors = request.sql;
    try {
      const session = await this.open();
      const bound = bindParameters(singleStatement(request.sql), request.params);
      sqlForErrors = bound;
      const outcome = await this.run(session, parseStatement(bound), bound, record.database, query);
      record.columns = outcome.columns;
      query.rows = outcome.rows;
      const body = record.resultFormat === 'csv' ? toAthenaCsv(outcome.columns, outcome.rows) : toAthenaText(outcome.rows);
      const { bucket, key } = s3Object(record.outputLocation);
      await this.options.store.put(bucket, key, body, { contentType: record.resultFormat === 'csv' ? 'text/csv' : 'text/plain' });
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

  private async run(session: Session, statement: StatementKind, sql: string, database: string, query: LiveQuery): Promise<Outcome> {
    switch (statement.kind) {
      case 'query': {
        const duckSql = rewriteForDuckdb(sql);
        const totals = await this.plan(session, duckSql, database);
        this.checkCutoff(totals.scannedBytes);
        query.plannedBytes = totals.scannedBytes;
        return { ...(await this.select(session, duckSql, query)), scannedBytes: totals.scannedBytes };
      }
      case 'explain': {
        const body = rewriteForDuckdb(statement.body);
        const totals = await this.plan(session, body, database);
        if (statement.analyze) this.checkCutoff(totals.scannedBytes);
        const reader = await session.conn.runAndReadAll(`EXPLAIN ${statement.analyze ? 'ANALYZE ' : ''}${body}`);
        const lines = reader
          .getRows()
          .flatMap((r) => String(r[1]).split('\n'))
          .filter((l) => l.trim() !== '');
        return { columns: [{ name: 'Query Plan', type: 'varchar' }], rows: lines.map((l) => [l]), scannedBytes: statement.analyze ? totals.scannedBytes : 0 };
      }
      case 'unsupported':
        throw new AthenaSqlError(`NOT_SUPPORTED: ${statement.what || 'this statement'} is not supported by the local query engine`);
      default:
        return { ...(await this.catalogStatement(statement, database)), scannedBytes: 0 };
    }
  }

  private checkCutoff(scannedBytes: number): void {
    const cutoff = this.options.bytesScannedCutoff;
    // Athena stops the query once it has read past the limit and reports the limit as scanned.
    if (cutoff !== null && scannedBytes > cutoff) throw new QueryCancelled(CUTOFF_REASON, cutoff);
  }

  /** Views for the tables the SQL names, then the plan's bill. */
  private async plan(session: Session, sql: string, database: string): Promise<ScanTotals> {
    await installFunctions(session, sql);
    await session.views.ensureSchema(database);
    for (const ref of await tableReferences(session.conn, sql, database)) await session.views.ensure(ref.database, ref.table);
    if (session.database !== database) {
      await session.conn.run(`USE ${LAKE_CATALOG}.${quoteIdent(database)}`);
      session.database = database;
    }
    const reader = await session.conn.runAndReadAll(`EXPLAIN (FORMAT json) ${sql}`);
    const plan: unknown[] = reader.getRows().map((r) => JSON.parse(String(r[1])) as unknown);
    const totals: ScanTotals = { scannedBytes: 0, partitions: 0, files: 0 };
    for (const scan of collectScans(plan)) {
      const view = session.views.byMarker(scan.marker);
      if (!view) continue;
      const columns = columnsRead(scan, view.dataColumns);
      let kept: number[] | undefined = view.partitions.map((_, i) => i);
      let share = 1;
      if (scan.fileFilters) {
        kept = await session.views.survivingPartitions(view, scan.fileFilters, scan.scanningFiles?.selected);
        if (!kept) {
          // The filter could not be replayed: bill DuckDB's own share of the files.
          kept = view.partitions.map((_, i) => i);
          share = scan.scanningFiles && scan.scanningFiles.total > 0 ? scan.scanningFiles.selected / scan.scanningFiles.total : 1;
        }
      }
      let bytes = 0;
      let partitions = 0;
      let files = 0;
      for (const i of kept) {
        const partition = view.partitions[i]!;
        if (partition.files.length > 0) partitions += 1;
        files += partition.files.length;
        for (const file of partition.files) bytes += fileScanBytes(file.footer, columns);
      }
      totals.scannedBytes += Math.round(bytes * share);
      totals.partitions += Math.round(partitions * share);
      totals.files += Math.round(files * share);
    }
    return totals;
  }

  private async select(session: Session, sql: string, query: LiveQuery): Promise<{ columns: ResultColumn[]; rows: (string | null)[][] }> {
    const result = await session.conn.stream(sql);
    const names = result.columnNames();
    const types = result.columnTypes();
    const columns = names.map((n, i) => athenaColumn(n, types[i]!));
    const renderers = types.map((t) => athenaRenderer(t));
    const rows: (string | null)[][] = [];
    for (;;) {
      if (query.cancelRequested) throw new Error('cancelled');
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const base = rows.length;
      for (let r = 0; r < chunk.rowCount; r++) rows.push(new Array<string | null>(names.length));
      for (let c = 0; c < names.length; c++) {
        const render = renderers[c]!;
        const values = chunk.getColumnValues(c);
        for (let r = 0; r < values.length; r++) rows[base + r]![c] = render(values[r]!);
      }
    }
    return { columns, rows };
  }

  // ---------------------------------------------------------------- DDL and SHOW, on the catalog

  private async catalogStatement(statement: Exclude<StatementKind, { kind: 'query' | 'explain' | 'unsupported' }>, database: string): Promise<{ columns: ResultColumn[]; rows: (string | null)[][] }> {
    const { catalog } = this.options;
    const [db, name] = statement.table.length >= 2 ? statement.table.slice(-2) : [database, statement.table[0]!];
    const table = await catalog.getTable(db!, name!);
    if (!table) throw new AthenaSqlError(`TABLE_NOT_FOUND: Table '${LAKE_CATALOG}.${db}.${name}' does not exist`);
    const varchar = (n: string): ResultColumn => ({ name: n, type: 'varchar' });
    switch (statement.kind) {
      case 'show-partitions': {
        const partitions = await allPartitions(catalog, table);
        return { columns: [varchar('partition')], rows: partitions.map((p) => [partitionName(table, p.values)]) };
      }
      case 'show-columns':
        return { columns: [varchar('field')], rows: [...table.columns, ...table.partitionKeys].map((c) => [c.name]) };
      case 'describe': {
        const rows: string[][] = table.columns.map((c) => [c.name, c.type, c.comment ?? '']);
        for (const k of table.partitionKeys) rows.push([k.name, k.type, k.comment ?? '']);
        if (table.partitionKeys.length > 0) {
          rows.push(['', '', ''], ['# Partition Information', '', ''], ['# col_name', 'data_type', 'comment'], ['', '', '']);
          for (const k of table.partitionKeys) rows.push([k.name, k.type, k.comment ?? '']);
        }
        return { columns: [varchar('col_name'), varchar('data_type'), varchar('comment')], rows };
      }
      case 'show-create-table':
        return { columns: [varchar('createtab_stmt')], rows: showCreateTable(table).map((l) => [l]) };
      case 'add-partitions':
        return { columns: [], rows: await this.addPartitions(table, statement.partitions, statement.ifNotExists) };
      case 'drop-partitions':
        return { columns: [], rows: await this.dropPartitions(table, statement.partitions, statement.ifExists) };
      case 'msck-repair':
        return { columns: [], rows: await this.msckRepair(table) };
    }
  }

  private async addPartitions(table: TableDef, partitions: { values: Record<string, string>; location?: string }[], ifNotExists: boolean): Promise<string[][]> {
    const defs: PartitionDef[] = partitions.map((p) => {
      const values = specValues(table, p.values);
      return { values, location: p.location ?? `${withSlash(table.location)}${table.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/')}/` };
    });
    for (let i = 0; i < defs.length; i += 100) {
      const result = await this.options.catalog.batchCreatePartition(table.database, table.name, defs.slice(i, i + 100));
      const error = result.errors.find((e) => !(ifNotExists && e.code === 'AlreadyExistsException'));
      if (error) throw new AthenaSqlError(`${error.code}: ${error.code === 'AlreadyExistsException' ? 'Partition already exists.' : error.message}`);
    }
    return [];
  }

  private async dropPartitions(table: TableDef, specs: Record<string, string>[], ifExists: boolean): Promise<string[][]> {
    const values = specs.map((s) => specValues(table, s));
    for (let i = 0; i < values.length; i += 25) {
      const result = await this.options.catalog.batchDeletePartition(table.database, table.name, values.slice(i, i + 25));
      const error = result.errors.find((e) => !(ifExists && e.code === 'EntityNotFoundException'));
      if (error) throw new AthenaSqlError(`${error.code}: ${error.code === 'EntityNotFoundException' ? 'Partition not found.' : error.message}`);
    }
    return [];
  }

  /** MSCK REPAIR TABLE: adds the `key=value` partitions found under the location, never drops. */
  private async msckRepair(table: TableDef): Promise<string[][]> {
    const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
    if (keys.length === 0) return [];
    const { bucket, prefix } = parseS3(table.location);
    const registered = new Set((await allPartitions(this.options.catalog, table)).map((p) => p.values.join('\u0000')));
    const found = new Map<string, string[]>();
    for await (const object of this.options.store.listAll(bucket, { prefix })) {
      const dirs = object.key.slice(prefix.length).split('/').slice(0, -1);
      if (dirs.length < keys.length) continue;
      const values: string[] = [];
      for (let i = 0; i < keys.length; i++) {
        const [k, ...v] = dirs[i]!.split('=');
        if (v.length === 0 || k!.toLowerCase() !== keys[i]) break;
        values.push(decodeURIComponent(v.join('=')));
      }
      if (values.length === keys.length && !registered.has(values.join('\u0000'))) found.set(values.join('\u0000'), values);
    }
    const missing = [...found.values()];
    const defs = missing.map((values) => ({ values, location: `s3://${bucket}/${prefix}${keys.map((k, i) => `${k}=${values[i]}`).join('/')}/` }));
    for (let i = 0; i < defs.length; i += 100) await this.options.catalog.batchCreatePartition(table.database, table.name, defs.slice(i, i + 100));
    const names = missing.map((v) => `${table.name}:${partitionName(table, v)}`);
    return names.length === 0 ? [] : [[`Partitions not in metastore:\t${names.join('\t')}`], ...names.map((n) => [`Repair: Added partition to metastore ${n}`])];
  }

  // ---------------------------------------------------------------- records

  private async finish(
    record: QueryRecord,
    state: QueryState,
    details: { reason?: string; category?: number; scannedBytes?: number; queueMs?: number; started?: number },
  ): Promise<void> {
    const end = performance.now();
    const engineMs = details.started === undefined ? 0 : end - details.started;
    const queueMs = details.queueMs ?? record.stats.queueMs;
    const next: QueryRecord = {
      ...record,
      state,
      ...(details.reason !== undefined ? { stateReason: details.reason } : {}),
      ...(details.category !== undefined ? { errorCategory: details.category } : {}),
      // Failed queries are not billed; DDL reads no data.
      stats: {
        scannedBytes: state === 'FAILED' ? 0 : (details.scannedBytes ?? 0),
        engineMs: Math.round(engineMs),
        queueMs: Math.round(queueMs),
        totalMs: Math.round(engineMs) + Math.round(queueMs),
      },
      completedAt: this.options.now().toISOString(),
    };
    if (state !== 'SUCCEEDED') delete next.columns;
    // On disk first: once this process reports the final state, another process reads it too.
    await this.persist(next);
    Object.assign(record, next);
    if (!('columns' in next)) delete record.columns;
  }

  private stateDir(): string {
    return join(this.options.lakeDir, 'athena');
  }

  /** Writes the record as it is now; writes of one query land in call order. */
  private persist(record: QueryRecord): Promise<void> {
    const text = JSON.stringify(record, null, 2);
    const dir = this.stateDir();
    this.stateDirReady ??= mkdir(dir, { recursive: true }).then(() => undefined);
    const previous = this.writes.get(record.queryId) ?? this.stateDirReady;
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        const temp = join(dir, `.lake-tmp-${process.pid}-${record.queryId}.json`);
        await writeFile(temp, text);
        await rename(temp, join(dir, `${record.queryId}.json`));
      });
    this.writes.set(record.queryId, write);
    void write.finally(() => {
      if (this.writes.get(record.queryId) === write) this.writes.delete(record.queryId);
    }).catch(() => undefined);
    return write;
  }

  private async load(queryId: string): Promise<QueryRecord> {
    if (!/^[0-9a-f-]{36}$/i.test(queryId)) throw notFound(queryId);
    let record: QueryRecord;
    try {
      record = JSON.parse(await readFile(join(this.stateDir(), `${queryId}.json`), 'utf8')) as QueryRecord;
    } catch {
      throw notFound(queryId);
    }
    if ((record.state === 'QUEUED' || record.state === 'RUNNING') && record.pid !== process.pid && !isAlive(record.pid)) {
      record.state = 'FAILED';
      record.stateReason = `GENERIC_INTERNAL_ERROR: the lake process that ran this query (pid ${record.pid}) exited before it finished`;
      record.errorCategory = 1;
    }
    return record;
  }

  private async loadRows(record: QueryRecord): Promise<(string | null)[][]> {
    const { bucket, key } = s3Object(record.outputLocation);
    const text = new TextDecoder().decode(await this.options.store.get(bucket, key));
    return record.resultFormat === 'csv' ? parseAthenaCsv(text).slice(1) : parseAthenaText(text);
  }

  private resultsPrefix(): string {
    const p = this.options.resultsPrefix.replace(/^\/+/, '');
    return p === '' || p.endsWith('/') ? p : p + '/';
  }
}

// ---------------------------------------------------------------- helpers

function toInfo(record: QueryRecord): QueryExecutionInfo {
  return {
    queryId: record.queryId,
    state: record.state,
    ...(record.stateReason !== undefined ? { stateReason: record.stateReason } : {}),
    ...(record.errorCategory !== undefined ? { errorCategory: record.errorCategory } : {}),
    statementType: record.statementType,
    stats: { ...record.stats },
    outputLocation: record.outputLocation,
    submittedAt: new Date(record.submittedAt),
    ...(record.completedAt !== undefined ? { completedAt: new Date(record.completedAt) } : {}),
  };
}

/**
 * The lake tables a query names, qualified with the session database where it has none.
 * Read from DuckDB's parse tree (json_serialize_sql), which, unlike its table-name API,
 * does not look through views. CTE names come along; they match no catalog table.
 */
async function tableReferences(conn: DuckDBConnection, sql: string, database: string): Promise<{ database: string; table: string }[]> {
  const reader = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  const tree = JSON.parse(String(reader.getRows()[0]?.[0] ?? '{}')) as unknown;
  const refs = new Map<string, { database: string; table: string }>();
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['type'] === 'BASE_TABLE' && typeof n['table_name'] === 'string') {
      const catalogName = String(n['catalog_name'] ?? '').toLowerCase();
      if (catalogName === '' || catalogName === LAKE_CATALOG) {
        const db = (String(n['schema_name'] ?? '') || database).toLowerCase();
        const table = n['table_name'].toLowerCase();
        refs.set(`${db}.${table}`, { database: db, table });
      }
    }
    Object.values(n).forEach(visit);
  };
  visit(tree);
  return [...refs.values()];
}

/** Installs the Athena functions the SQL calls (and those their macros call) not yet installed. */
async function installFunctions(session: Session, sql: string): Promise<void> {
  const statements: string[] = [];
  const install = (name: string) => {
    if (session.functions.has(name)) return;
    const statement = athenaFunctionStatement(name);
    if (!statement) return;
    session.functions.add(name);
    athenaFunctionDependencies(name).forEach(install);
    statements.push(statement);
  };
  calledFunctions(sql).forEach(install);
  if (statements.length > 0) await session.conn.run(statements.join(';\n'));
}

async function allPartitions(catalog: Catalog, table: TableDef): Promise<PartitionDef[]> {
  const partitions: PartitionDef[] = [];
  let nextToken: string | undefined;
  do {
    const page = await catalog.getPartitions(table.database, table.name, { nextToken, maxResults: 1000 });
    partitions.push(...page.partitions);
    nextToken = page.nextToken;
  } while (nextToken);
  return partitions;
}

function partitionName(table: TableDef, values: readonly string[]): string {
  return table.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/');
}

function specValues(table: TableDef, spec: Record<string, string>): string[] {
  const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
  const given = Object.keys(spec);
  if (given.length !== keys.length || !given.every((k) => keys.includes(k))) {
    throw new AthenaSqlError(`SEMANTIC_ERROR: Partition spec (${given.join(', ')}) does not match the partition keys (${keys.join(', ')}) of ${table.database}.${table.name}`);
  }
  return keys.map((k) => spec[k]!);
}

function withSlash(location: string): string {
  return location.endsWith('/') ? location : location + '/';
}

/** Athena's SHOW CREATE TABLE, one line a row. */
function showCreateTable(table: TableDef): string[] {
  const cols = (columns: TableDef['columns']) => columns.map((c, i) => `  \`${c.name}\` ${c.type}${c.comment ? ` COMMENT '${c.comment}'` : ''}${i < columns.length - 1 ? ',' : ')'}`);
  const lines = [`CREATE EXTERNAL TABLE \`${table.database}\`.\`${table.name}\`(`, ...cols(table.columns)];
  if (table.partitionKeys.length > 0) lines.push('PARTITIONED BY ( ', ...cols(table.partitionKeys));
  if (table.serializationLibrary) lines.push('ROW FORMAT SERDE ', `  '${table.serializationLibrary}' `);
  if (table.inputFormat) lines.push('STORED AS INPUTFORMAT ', `  '${table.inputFormat}' `);
  if (table.outputFormat) lines.push('OUTPUTFORMAT ', `  '${table.outputFormat}'`);
  lines.push('LOCATION', `  '${table.location}'`);
  const params = Object.entries(table.parameters);
  if (params.length > 0) {
    lines.push('TBLPROPERTIES (');
    params.forEach(([k, v], i) => lines.push(`  '${k}'='${v}'${i < params.length - 1 ? ', ' : ')'}`));
  }
  return lines;
}

/** `s3://bucket/key` -> its parts. */
function s3Object(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new Error(`not an s3:// object URL: ${url}`);
  return { bucket: m[1]!, key: m[2]! };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asServiceError(err: unknown, sql: string, database: string): Error {
  if (err instanceof ServiceError) return err;
  const failure = err instanceof AthenaSqlError ? { reason: err.message } : translateDuckdbError(errorMessage(err), sql, database);
  return new ServiceError(failure.reason, { service: 'athena', code: 'InvalidRequestException', cause: err });
}

function notFound(queryId: string): ServiceError {
  return new ServiceError(`QueryExecution ${queryId} was not found`, { service: 'athena', code: 'InvalidRequestException' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeToken(token: string): number {
  try {
    const { o } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // falls through
  }
  throw new ServiceError('invalid nextToken', { service: 'athena', code: 'InvalidRequestException' });
}
