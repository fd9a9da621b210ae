/**
 * The local engine's executions as Athena keeps them: one record per query in
 * `<lakeDir>/athena/<queryId>.json`, rewritten atomically at every state change, so that
 * `describe` and `resultPage` work from another lake process too.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceError } from '../errors.js';
import type { QueryExecutionInfo, QueryState, ResultColumn } from '../ports.js';
import type { ResultFormat } from './athena-result-files.js';
import type { StatementType } from './athena-statements.js';

/** The persisted execution. */
export interface QueryRecord {
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
  resultFormat: ResultFormat;
  pid: number;
}

export interface FinishDetails {
  reason?: string;
  category?: number;
  scannedBytes?: number;
  queueMs?: number;
  /** performance.now() when the engine started on it; absent when it never ran. */
  started?: number;
}

/** The record in its final state, with Athena's statistics. */
export function finishedRecord(record: QueryRecord, state: QueryState, details: FinishDetails, completedAt: Date): QueryRecord {
  const engineMs = details.started === undefined ? 0 : performance.now() - details.started;
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
    completedAt: completedAt.toISOString(),
  };
  if (state !== 'SUCCEEDED') delete next.columns;
  return next;
}

export function toInfo(record: QueryRecord): QueryExecutionInfo {
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

export class QueryRecords {
  private dirReady = false;

  constructor(private readonly dir: string) {}

  /**
   * Writes the record as it is now (atomically: a temporary file renamed into place).
   * Synchronous calls: a record is a few hundred bytes, and a query writes three; as trips
   * through libuv's thread pool they cost more than the writes. Writes land in call order.
   */
  persist(record: QueryRecord): Promise<void> {
    try {
      if (!this.dirReady) {
        mkdirSync(this.dir, { recursive: true });
        this.dirReady = true;
      }
      const temp = join(this.dir, `.lake-tmp-${process.pid}-${record.queryId}.json`);
      writeFileSync(temp, JSON.stringify(record, null, 2));
      renameSync(temp, join(this.dir, `${record.queryId}.json`));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * A record from disk. One left QUEUED or RUNNING by a process that has exited reads as
   * FAILED: nobody will finish it.
   */
  async load(queryId: string): Promise<QueryRecord> {
    if (!/^[0-9a-f-]{36}$/i.test(queryId)) throw notFound(queryId);
    let record: QueryRecord;
    try {
      record = JSON.parse(await readFile(join(this.dir, `${queryId}.json`), 'utf8')) as QueryRecord;
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
