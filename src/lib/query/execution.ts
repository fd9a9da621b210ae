/**
 * Running a query to its end: Athena has no waiter, so lake starts the query and polls
 * GetQueryExecution. The interval grows with the time the query has been running (a fifth
 * of it, from 10 ms up to 2 s): a short query is seen finishing within milliseconds, a long
 * one costs one call every 2 s, the wait after the end is at most a fifth of the run, and
 * a 3-second Athena query takes about 30 calls. Throttled polls are retried with backoff.
 *
 * Ctrl-C (the signal) or the timeout stops the query with StopQueryExecution and then keeps
 * polling, without the signal, until Athena reports a final state (CANCELLED, or whatever
 * the query reached first), so the caller can report what was scanned and billed.
 */
import { InterruptedError, ServiceError } from '../errors.js';
import type { QueryEngine, QueryExecutionInfo, QueryRequest, QueryState } from '../ports.js';
import { isTransient, sleep as defaultSleep, withRetry } from '../retry.js';

export type Ending = 'finished' | 'interrupted' | 'timeout';

export interface ExecutionResult {
  info: QueryExecutionInfo;
  /** How the wait ended: the query reached a final state, or lake stopped it. */
  ending: Ending;
  /** GetQueryExecution calls made, retries included. */
  polls: number;
}

export interface PollSchedule {
  /** Smallest and largest wait between polls. */
  minMs: number;
  maxMs: number;
  /** The wait as a share of the time since the query started. */
  ratio: number;
}

export const DEFAULT_SCHEDULE: PollSchedule = { minMs: 10, maxMs: 2000, ratio: 0.2 };

export interface ExecutionOptions {
  /** Ctrl-C: stop the query, wait for it to end, report. */
  signal?: AbortSignal;
  /** Stop the query after this long. */
  timeoutMs?: number;
  schedule?: PollSchedule;
  /** How long to wait for a final state after StopQueryExecution. */
  stopWaitMs?: number;
  onState?: (info: QueryExecutionInfo) => void;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/**
 * An engine that can say when a query settles (proposed as an optional QueryEngine method):
 * resolves when the query reaches a final state or after `maxWaitMs`, whichever is first.
 * With it, the wait between polls ends as soon as the query does; Athena has no such call,
 * so there the wait is a plain sleep.
 */
export interface SettleWaiter {
  untilSettled(queryId: string, maxWaitMs: number, signal?: AbortSignal): Promise<void>;
}

export function canWaitForSettle(engine: QueryEngine): engine is QueryEngine & SettleWaiter {
  return typeof (engine as Partial<SettleWaiter>).untilSettled === 'function';
}

/**
 * One wait on the engine, with a signal of its own linked to the stop signal: whatever the
 * engine hangs on the signal it is given goes away with the wait, instead of piling up on
 * the stop signal over hundreds of polls.
 */
async function settleOrStop(engine: QueryEngine & SettleWaiter, queryId: string, maxWaitMs: number, stop: AbortSignal): Promise<void> {
  const own = new AbortController();
  const forward = () => own.abort(stop.reason);
  stop.addEventListener('abort', forward, { once: true });
  try {
    await engine.untilSettled(queryId, maxWaitMs, own.signal);
  } finally {
    stop.removeEventListener('abort', forward);
  }
  if (stop.aborted) throw stop.reason as Error;
}

const FINAL: ReadonlySet<QueryState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function isFinal(state: QueryState): boolean {
  return FINAL.has(state);
}

/** The wait before the next poll, `elapsedMs` after the start. */
export function nextPollDelay(elapsedMs: number, schedule: PollSchedule = DEFAULT_SCHEDULE): number {
  return Math.round(Math.min(schedule.maxMs, Math.max(schedule.minMs, elapsedMs * schedule.ratio)));
}

/** Starts the query and waits for its end (or stops it). */
export async function executeQuery(engine: QueryEngine, request: Omit<QueryRequest, 'signal'>, options: ExecutionOptions = {}): Promise<ExecutionResult> {
  if (options.signal?.aborted) throw new InterruptedError('interrupted before the query started');
  const queryId = await engine.start({ ...request, signal: options.signal });
  return waitForQuery(engine, queryId, options);
}

export async function waitForQuery(engine: QueryEngine, queryId: string, options: ExecutionOptions = {}): Promise<ExecutionResult> {
  const wait = options.sleep ?? defaultSleep;
  const now = options.now ?? (() => performance.now());
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  const started = now();
  const timeout = new AbortController();
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => timeout.abort(new DOMException('timeout', 'TimeoutError')), options.timeoutMs);
  const stopSignal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  let polls = 0;
  const describe = (signal?: AbortSignal) =>
    withRetry(
      () => {
        polls++;
        return engine.describe(queryId, signal);
      },
      { retries: 8, baseMs: 200, maxMs: 5000, signal, isRetryable: isTransient, sleep: wait, random: options.random },
    );
  try {
    while (!stopSignal.aborted) {
      let info: QueryExecutionInfo;
      try {
        info = await describe(stopSignal);
      } catch (err) {
        if (stopSignal.aborted) break;
        throw err;
      }
      options.onState?.(info);
      if (isFinal(info.state)) return { info, ending: 'finished', polls };
      try {
        const delay = nextPollDelay(now() - started, schedule);
        await (canWaitForSettle(engine) ? settleOrStop(engine, queryId, delay, stopSignal) : wait(delay, stopSignal));
      } catch (err) {
        if (stopSignal.aborted) break;
        throw err;
      }
    }
  } finally {
    if (timer) clearTimeout(timer);
  }

  // Stopped by lake: tell Athena, then wait (without the aborted signal) for the final state.
  const ending: Ending = options.signal?.aborted ? 'interrupted' : 'timeout';
  await withRetry(() => engine.stop(queryId), { retries: 4, baseMs: 200, maxMs: 2000, isRetryable: isTransient, sleep: wait, random: options.random });
  const stopStarted = now();
  const stopWaitMs = options.stopWaitMs ?? 60_000;
  for (let attempt = 0; ; attempt++) {
    const info = await describe();
    options.onState?.(info);
    if (isFinal(info.state)) return { info, ending, polls };
    if (now() - stopStarted > stopWaitMs) {
      throw new ServiceError(`query ${queryId} was asked to stop but is still ${info.state} after ${Math.round(stopWaitMs / 1000)} s`, {
        service: 'athena',
        code: 'StopTimeout',
        hint: `check it with \`aws athena get-query-execution --query-execution-id ${queryId}\``,
      });
    }
    await wait(Math.min(schedule.maxMs, schedule.minMs * 2 ** Math.min(attempt, 6)));
  }
}
