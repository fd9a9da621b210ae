/**
 * Delivery of batches: calls run `concurrency` at a time, each batch stays open until every
 * one of its records is accepted or given up on, and only the records that failed are sent
 * again, after exponential backoff with full jitter (longer, and for every call, when the
 * service says to slow down). `--rate` caps records per second.
 *
 * A call either answers per record (PutRecordBatch answers 200 even when records failed),
 * fails as a whole with an answer (nothing was accepted: send again), or gets no answer
 * (a reset, a timeout: any of its records may have been accepted). Records of an
 * unanswered call are sent again and marked as possibly delivered twice; records a call
 * answered as accepted are never sent again.
 *
 * Errors that retrying cannot fix (credentials, a missing stream, a request the API
 * refuses) stop the send: open batches stay unsettled for the checkpoint.
 */
import { CredentialsError, LakeError, ServiceError, toLakeError } from '../errors.js';
import { backoffDelay, sleep as defaultSleep } from '../retry.js';
import type { DeliveryStream } from '../ports.js';
import type { SendItem } from './batching.js';

export interface Batch {
  id: number;
  items: SendItem[];
}

export interface DispatchOptions {
  concurrency: number;
  /** Retry rounds after the first attempt, per record. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A call with no answer after this long is abandoned (its records may have arrived). */
  callTimeoutMs: number;
  /** Records per second, at most (calls wait their turn). */
  rate?: number;
  /** Batches open at once (sent or waiting to be retried); bounds memory and duplicates after a crash. */
  maxOpenBatches?: number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface DispatchHooks {
  /** Before a batch's first call: the checkpoint must name it by then. */
  beforeFirstCall(batch: Batch): void;
  accepted(item: SendItem): void;
  undelivered(item: SendItem, failure: { code: string; message: string; attempts: number }): void;
  /** Every record of the batch accepted or undelivered. */
  settled(batch: Batch): void;
  /** The send stopped before the batch settled, and none of it can have been delivered. */
  released?(batch: Batch): void;
}

/** Error codes that mean "slow down": honoured by pausing every call. */
const THROTTLE_CODES = new Set([
  'ServiceUnavailableException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
]);

/** Per-record codes no retry can fix: the record is given up on at once. */
const PERMANENT_RECORD_CODES = new Set(['KMSAccessDeniedException', 'KMSDisabledException', 'KMSNotFoundException', 'KMSInvalidStateException', 'KMSOptInRequired', 'InvalidKMSResourceException']);

/** Whole-call failures no retry can fix. */
const FATAL_CALL_CODES = new Set([
  'ResourceNotFoundException',
  'InvalidArgumentException',
  'ValidationException',
  'InvalidKMSResourceException',
  'InvalidSourceException',
  'SerializationException',
  'UnknownOperationException',
  'MissingParameter',
]);

const NO_ANSWER_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

class CallTimeout extends Error {
  override readonly name = 'CallTimeout';
}

type Failure = { kind: 'fatal'; error: unknown } | { kind: 'stopped' } | { kind: 'retry'; code: string; message: string; answered: boolean; throttled: boolean };

/** What a failed call means for its records. */
export function classifyCallError(err: unknown): Failure {
  if (err instanceof CallTimeout) return { kind: 'retry', code: 'Timeout', message: err.message, answered: false, throttled: false };
  const lake = toLakeError(err);
  if (lake instanceof CredentialsError) return { kind: 'fatal', error: lake };
  const e = err as Error & { code?: unknown; $metadata?: { httpStatusCode?: number }; $fault?: string };
  const name = e?.name ?? 'Error';
  const code = err instanceof ServiceError ? err.code : typeof e.code === 'string' ? e.code : name;
  const message = e?.message ?? String(err);
  if (THROTTLE_CODES.has(name) || THROTTLE_CODES.has(code)) return { kind: 'retry', code, message, answered: true, throttled: true };
  if (FATAL_CALL_CODES.has(name) || FATAL_CALL_CODES.has(code)) return { kind: 'fatal', error: err };
  if (code === 'MismatchedResponse') return { kind: 'retry', code, message, answered: false, throttled: false };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) {
    if (status === 429 || status >= 500) return { kind: 'retry', code, message, answered: true, throttled: status === 429 };
    return { kind: 'fatal', error: err };
  }
  if (code === 'ECONNREFUSED') return { kind: 'retry', code, message, answered: true, throttled: false };
  if (NO_ANSWER_CODES.has(code) || name === 'TimeoutError' || /socket hang up|network|timed? ?out/i.test(message)) {
    return { kind: 'retry', code, message, answered: false, throttled: false };
  }
  if (err instanceof LakeError) return { kind: 'fatal', error: err };
  // An unknown failure of the transport: the records may or may not have arrived.
  return { kind: 'retry', code, message, answered: false, throttled: false };
}

/** Counting semaphore. */
class Slots {
  private free: number;
  private readonly waiters: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

export interface DispatchStats {
  calls: number;
  /** Records sent again after a failure. */
  retried: number;
  throttled: number;
}

export class Dispatcher {
  readonly stats: DispatchStats = { calls: 0, retried: 0, throttled: 0 };
  /** Set when an error stopped the send. */
  fatal: unknown;
  private readonly calls: Slots;
  private readonly open = new Set<Promise<void>>();
  private readonly roomWaiters: (() => void)[] = [];
  private readonly maxOpen: number;
  private readonly stopSleep = new AbortController();
  private readonly abortCalls = new AbortController();
  private stopping = false;
  private pauseUntil = 0;
  private nextRateSlot = 0;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(
    private readonly stream: DeliveryStream,
    private readonly options: DispatchOptions,
    private readonly hooks: DispatchHooks,
  ) {
    this.calls = new Slots(options.concurrency);
    this.maxOpen = options.maxOpenBatches ?? options.concurrency * 2;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Starts a batch once fewer than the maximum are open; resolves when it has started. */
  async submit(batch: Batch): Promise<void> {
    while (this.open.size >= this.maxOpen && !this.stopping) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    if (this.stopping) return;
    const run = this.run(batch).finally(() => {
      this.open.delete(run);
      this.roomWaiters.shift()?.();
    });
    this.open.add(run);
  }

  /** Waits for every open batch to settle (or, once stopped, to stop). */
  async drain(): Promise<void> {
    while (this.open.size > 0) await Promise.all([...this.open]);
  }

  /**
   * Stops: no new calls and no more retries; calls in flight get `graceMs` to answer, then
   * are abandoned. Batches not settled by then stay in the checkpoint.
   */
  stop(graceMs: number): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopSleep.abort();
    for (const wake of this.roomWaiters.splice(0)) wake();
    const timer = setTimeout(() => this.abortCalls.abort(), graceMs);
    timer.unref?.();
  }

  private fail(error: unknown): void {
    this.fatal ??= error;
    this.stop(0);
  }

  private async run(batch: Batch): Promise<void> {
    // Whether any record of the batch may have reached the stream: if not, a batch the
    // send stops leaves nothing that could be delivered twice.
    let reached = false;
    const done = await this.attempt(batch, () => {
      reached = true;
    });
    if (done) this.hooks.settled(batch);
    else if (!reached) this.hooks.released?.(batch);
  }

  /** Sends the batch until settled (true) or the send stops (false). */
  private async attempt(batch: Batch, reached: () => void): Promise<boolean> {
    let pending = batch.items;
    let attempts = 0;
    let last = { code: '', message: '' };
    let first = true;
    while (pending.length > 0) {
      if (attempts > 0) {
        const ok = await this.pause(backoffDelay(attempts, this.options.baseDelayMs, this.options.maxDelayMs, this.random));
        if (!ok) return false;
      }
      if (!(await this.waitTurn(pending.length))) return false;
      await this.calls.acquire();
      if (this.stopping) {
        this.calls.release();
        return false;
      }
      if (first) {
        this.hooks.beforeFirstCall(batch);
        first = false;
      }
      attempts++;
      this.stats.calls++;
      let failed: SendItem[];
      try {
        const result = await this.call(pending);
        failed = [];
        let throttled = false;
        result.responses.forEach((response, k) => {
          const item = pending[k]!;
          if (response.errorCode === undefined) {
            reached();
            this.hooks.accepted(item);
            return;
          }
          last = { code: response.errorCode, message: response.errorMessage };
          if (THROTTLE_CODES.has(response.errorCode)) throttled = true;
          if (PERMANENT_RECORD_CODES.has(response.errorCode)) this.hooks.undelivered(item, { ...last, attempts });
          else failed.push(item);
        });
        if (throttled) this.slowDown(attempts);
      } catch (err) {
        const failure = classifyCallError(err);
        if (this.abortCalls.signal.aborted) {
          // Abandoned while waiting for the answer: it may have arrived.
          reached();
          return false;
        }
        if (failure.kind === 'fatal') {
          this.fail(err);
          return false;
        }
        if (failure.kind === 'stopped') return false;
        last = { code: failure.code, message: failure.message };
        if (!failure.answered) {
          reached();
          for (const item of pending) item.maybeDelivered = true;
        }
        if (failure.throttled) this.slowDown(attempts);
        failed = pending;
      } finally {
        this.calls.release();
      }
      if (failed.length === 0) break;
      if (attempts > this.options.maxRetries) {
        for (const item of failed) this.hooks.undelivered(item, { ...last, attempts });
        break;
      }
      if (this.stopping) return false;
      this.stats.retried += failed.length;
      pending = failed;
    }
    return true;
  }

  private async call(items: SendItem[]) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new CallTimeout(`no answer within ${this.options.callTimeoutMs} ms`)), this.options.callTimeoutMs);
    const signal = AbortSignal.any([timeout.signal, this.abortCalls.signal]);
    // Raced against the signal too, so a stream that ignores it cannot hold the send.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([this.stream.putRecordBatch(
        items.map((i) => i.data),
        signal,
      ), aborted]);
    } catch (err) {
      if (timeout.signal.aborted && !this.abortCalls.signal.aborted) throw timeout.signal.reason as Error;
      throw err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** Sleeps unless stopped; false when stopped. */
  private async pause(ms: number): Promise<boolean> {
    if (this.stopping) return false;
    if (ms <= 0) return true;
    try {
      await this.sleep(ms, this.stopSleep.signal);
      return !this.stopping;
    } catch {
      return false;
    }
  }

  /** Waits out a slow-down and the rate limit; false when stopped meanwhile. */
  private async waitTurn(records: number): Promise<boolean> {
    for (;;) {
      const wait = this.pauseUntil - this.now();
      if (wait <= 0) break;
      if (!(await this.pause(wait))) return false;
    }
    const rate = this.options.rate;
    if (rate !== undefined && rate > 0) {
      const now = this.now();
      const start = Math.max(now, this.nextRateSlot);
      this.nextRateSlot = start + (records * 1000) / rate;
      if (start > now && !(await this.pause(start - now))) return false;
    }
    return !this.stopping;
  }

  /** The service said to slow down: every call waits before the next. */
  private slowDown(attempt: number): void {
    this.stats.throttled++;
    const until = this.now() + backoffDelay(attempt, this.options.baseDelayMs * 2, this.options.maxDelayMs, this.random);
    if (until > this.pauseUntil) this.pauseUntil = until;
  }
}
