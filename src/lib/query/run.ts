/**
 * `lake query`, the service: estimate when asked or guarded, warn about a workgroup with no
 * cutoff, run and poll, report cost, and deliver the rows, typed, to stdout or a file.
 * Rows are streamed (csv, ndjson, json and --out); only the table view keeps rows in
 * memory, at most --max-rows of them.
 */
import type { LakeConfig } from '../config.js';
import { InterruptedError, type LakeError, ServiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Progress, ProgressOptions } from '../output/progress.js';
import { type OutputFormat, toJson, type View } from '../output/render.js';
import type { Backend, QueryExecutionInfo, ResultColumn } from '../ports.js';
import { formatBytes } from './cost.js';
import { checkGuard, estimateQuery, type EstimateReport, type Guard, hasGuard } from './estimate.js';
import { type ExecutionOptions, executeQuery, type ExecutionResult } from './execution.js';
import { type QueryStatsDoc, estimateLine, statsDoc, statsLine } from './report.js';
import { openResults } from './results.js';
import { fileSink, RowFormatter, textSink, type TextRowSink, uniqueNames, rowObject } from './sinks.js';
import { rowConverter, type Value } from './values.js';

export interface QueryDeps {
  backend: Pick<Backend, 'engine' | 'store' | 'catalog'>;
  config: Pick<LakeConfig, 'pricePerTiB'>;
  log: Logger & { progress?(options: ProgressOptions): Progress };
  /** Raw stdout, for streamed rows. */
  write(text: string): void;
  signal: AbortSignal;
}

export interface QueryOptions {
  sql: string;
  database: string;
  workgroup: string;
  params: string[];
  timeoutMs?: number;
  estimateOnly: boolean;
  guard: Guard;
  format: OutputFormat;
  /** Rows printed on stdout at most (the table view defaults to 100). */
  maxRows?: number;
  /** Every row to this file. */
  out?: string;
  execution?: Omit<ExecutionOptions, 'signal' | 'timeoutMs'>;
}

export interface QueryColumn {
  name: string;
  type: string;
  precision?: number;
  scale?: number;
}

export interface QueryDocument {
  queryId: string;
  state: QueryExecutionInfo['state'];
  stateReason?: string;
  errorCategory?: number;
  columns: QueryColumn[];
  rows: Record<string, Value>[];
  rowCount: number;
  out?: string;
  stats: QueryStatsDoc;
}

/** What the command prints: data (JSON or through its view), and a non-zero exit. */
export interface QueryOutcome {
  data?: unknown;
  view?: (data: never) => View;
  exit?: LakeError;
}

export const DEFAULT_TABLE_ROWS = 100;
const PROGRESS_AFTER_MS = 1000;
const CATEGORIES: Record<number, string> = { 1: 'system error', 2: 'user error', 3: 'other error' };

export async function runQuery(deps: QueryDeps, options: QueryOptions): Promise<QueryOutcome> {
  const { engine, store, catalog } = deps.backend;
  const price = deps.config.pricePerTiB;
  const request = { sql: options.sql, database: options.database, workgroup: options.workgroup, params: options.params };
  const documentOnStdout = options.format === 'json' || options.format === 'table';

  if (options.estimateOnly || hasGuard(options.guard)) {
    const estimate = await estimateQuery({ engine, store, catalog }, request, price, { signal: deps.signal, execution: options.execution });
    if (options.estimateOnly) return { data: { estimate }, view: estimateView as (data: never) => View };
    deps.log.info(estimateLine(estimate, price));
    const refused = checkGuard(estimate, options.guard, price);
    if (refused) {
      if (!documentOnStdout) throw refused;
      return { data: { estimate }, view: estimateView as (data: never) => View, exit: refused };
    }
  }

  await warnWithoutCutoff(deps, options.workgroup);
  // Progress only for a query still running after a second: a quick one shows nothing.
  let progress: Progress | undefined;
  const started = performance.now();
  let result: ExecutionResult;
  try {
    result = await executeQuery(engine, request, {
      ...options.execution,
      signal: deps.signal,
      timeoutMs: options.timeoutMs,
      onState: (info) => {
        if (!progress && performance.now() - started > PROGRESS_AFTER_MS) progress = deps.log.progress?.({ label: `query ${info.queryId}`, unit: 'bytes scanned' });
        progress?.update(info.stats.scannedBytes, { state: info.state });
      },
    });
  } finally {
    await progress?.finish();
  }
  const { info } = result;
  const stats = statsDoc(info, price);
  const base = { queryId: info.queryId, state: info.state, stats };

  const problem = endingError(result, options.timeoutMs);
  if (problem) {
    deps.log.info(statsLine(info, price, 'engine'));
    const doc = { ...base, ...(info.stateReason ? { stateReason: info.stateReason } : {}), ...(info.errorCategory !== undefined ? { errorCategory: info.errorCategory } : {}) };
    if (options.format !== 'json') throw problem;
    return { data: doc, exit: problem };
  }

  const results = await openResults(engine, store, info, { signal: deps.signal, onFallback: (reason) => deps.log.warn(reason) });
  const columns = results.columns.map(documentColumn);
  const names = uniqueNames(results.columns);
  const convert = rowConverter(results.columns);
  const file = options.out === undefined ? undefined : await fileSink(options.out, results.columns);
  const limit = options.maxRows ?? (file ? 0 : options.format === 'table' ? DEFAULT_TABLE_ROWS : Infinity);
  const kept: Value[][] = [];
  let stdoutSink: TextRowSink | undefined;
  if (options.format === 'csv' || options.format === 'ndjson') stdoutSink = textSink(deps.write, new RowFormatter(options.format, names), '\n', results.columns);
  let jsonRows: RowFormatter | undefined;
  if (options.format === 'json' && limit > 0) {
    // One JSON document, streamed: everything but the rows is known before the first row.
    jsonRows = new RowFormatter('json', names);
    deps.write(`{\n  "queryId": ${toJson(info.queryId)},\n  "state": ${toJson(info.state)},\n  "columns": ${toJson(columns)},\n  "rows": `);
    stdoutSink = textSink(deps.write, jsonRows, ',\n', results.columns);
  }

  let rowCount = 0;
  let shown = 0;
  for await (const batch of results.batches) {
    // Every row to stdout as JSON: straight from the text, without typed values between.
    if (!file && limit === Infinity && stdoutSink?.writeText) {
      rowCount += batch.length;
      stdoutSink.writeText(batch);
      continue;
    }
    const typed = batch.map(convert);
    rowCount += typed.length;
    await file?.write(typed);
    const room = Math.max(0, Math.min(typed.length, limit - shown));
    if (room > 0) {
      const visible = room === typed.length ? typed : typed.slice(0, room);
      shown += visible.length;
      if (stdoutSink) await stdoutSink.write(visible);
      else if (options.format === 'table') kept.push(...visible);
    }
  }
  await file?.end();
  await stdoutSink?.end();
  if (file) deps.log.info(`wrote ${rowCount.toLocaleString('en-US')} rows to ${file.path}`);
  deps.log.info(statsLine(info, price, 'engine'));

  if (jsonRows) {
    deps.write(`  "rowCount": ${rowCount},\n${file ? `  "out": ${toJson(file.path)},\n` : ''}  "stats": ${toJson(stats)}\n}\n`);
    return {};
  }
  if (options.format === 'json') {
    const doc: QueryDocument = { ...base, columns, rows: [], rowCount, ...(file ? { out: file.path } : {}), stats };
    return { data: doc };
  }
  if (options.format !== 'table') return {};
  const doc: QueryDocument = { ...base, columns, rows: kept.map((row) => rowObject(names, row)), rowCount, ...(file ? { out: file.path } : {}), stats };
  return { data: doc, view: tableView as (data: never) => View };
}

async function warnWithoutCutoff(deps: QueryDeps, workgroup: string): Promise<void> {
  try {
    const wg = await deps.backend.engine.workgroup(workgroup);
    if (wg && wg.bytesScannedCutoff === undefined) {
      deps.log.warn(`workgroup '${wg.name}' has no bytes-scanned cutoff: nothing stops a query that scans (and bills) more than you meant`);
    }
  } catch (err) {
    deps.log.debug(`could not read workgroup ${workgroup}: ${(err as Error).message}`);
  }
}

/** The error a query's end means, or undefined when it succeeded on its own. */
function endingError({ info, ending }: ExecutionResult, timeoutMs?: number): LakeError | undefined {
  const id = info.queryId;
  if (ending === 'interrupted') return new InterruptedError(`interrupted: query ${id} was stopped (${info.state})`, { hint: 'what it scanned before stopping is billed; see the line above' });
  if (ending === 'timeout') {
    return new ServiceError(`query ${id} did not finish within --timeout ${(timeoutMs ?? 0) / 1000} s and was stopped (${info.state})`, { service: 'athena', code: 'QueryTimeout', hint: 'raise --timeout, or make the query read less' });
  }
  if (info.state === 'FAILED') {
    const category = info.errorCategory === undefined ? '' : ` (${CATEGORIES[info.errorCategory] ?? `error category ${info.errorCategory}`}${info.errorType !== undefined ? `, type ${info.errorType}` : ''})`;
    const hint = info.errorCategory === 1 ? `an Athena-side failure: retry; if it persists, give AWS support the query id ${id}` : info.errorCategory === 2 ? 'fix the SQL (or the table it reads) and run it again' : undefined;
    return new ServiceError(`query ${id} failed${category}: ${info.stateReason ?? 'no reason given'}`, { service: 'athena', code: 'QueryFailed', hint });
  }
  if (info.state === 'CANCELLED') {
    const cutoff = /bytes scanned limit/i.test(info.stateReason ?? '');
    return new ServiceError(`query ${id} was cancelled: ${info.stateReason ?? 'no reason given'}`, {
      service: 'athena',
      code: 'QueryCancelled',
      hint: cutoff ? `the workgroup's bytes-scanned cutoff stopped it after ${formatBytes(info.stats.scannedBytes)}; filter on the partition keys or raise the cutoff` : undefined,
    });
  }
  return undefined;
}

function documentColumn(c: ResultColumn): QueryColumn {
  return c.type.toLowerCase() === 'decimal' && c.precision !== undefined ? { name: c.name, type: c.type, precision: c.precision, scale: c.scale ?? 0 } : { name: c.name, type: c.type };
}

export function tableView(doc: QueryDocument): View {
  const names = uniqueNames(doc.columns);
  const footer: string[] = [];
  const left = doc.rowCount - doc.rows.length;
  if (doc.out) footer.push(`${doc.rowCount.toLocaleString('en-US')} rows written to ${doc.out}`);
  if (left > 0) footer.push(`${doc.rows.length.toLocaleString('en-US')} of ${doc.rowCount.toLocaleString('en-US')} rows shown; ${left.toLocaleString('en-US')} left out (raise --max-rows, or use -o csv or --out FILE for all)`);
  else if (!doc.out) footer.push(`${doc.rowCount.toLocaleString('en-US')} ${doc.rowCount === 1 ? 'row' : 'rows'}`);
  if (names.length === 0) return { kind: 'text', text: footer.join('\n') || 'done' };
  return { kind: 'rows', columns: names, rows: doc.rows, footer };
}

export function estimateView(doc: { estimate: EstimateReport }): View {
  const e = doc.estimate;
  return {
    kind: 'rows',
    columns: ['scanned', 'billed', 'cost (USD)', 'partitions', 'files', 'method'],
    rows: [{ scanned: e.scannedBytes, billed: e.billedBytes, 'cost (USD)': e.costUsd, partitions: e.partitions, files: e.files, method: e.method }],
  };
}
