/**
 * Retrying with exponential backoff and full jitter, for calls AWS throttles at scale
 * (Glue batch calls, PutRecordBatch entries). Honours an AbortSignal while waiting.
 */

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  baseMs: number;
  maxMs: number;
  signal?: AbortSignal;
  /** Which errors deserve another attempt; the rest are thrown at once. */
  isRetryable: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'OperationTimeoutException',
  'InternalServiceException',
  'InternalFailure',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
]);

/** Throttling, timeouts and transient service faults; also errors whose code says so. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (THROTTLING.has(err.name) || (typeof code === 'string' && THROTTLING.has(code))) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  const sys = (err as NodeJS.ErrnoException).code;
  return sys === 'ECONNRESET' || sys === 'ETIMEDOUT' || sys === 'EPIPE' || sys === 'ECONNREFUSED' || err.name === 'TimeoutError';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The delay before retry number `attempt` (1-based): full jitter over an exponential cap. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(random() * cap);
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.retries || !options.isRetryable(err) || options.signal?.aborted) throw err;
      const delay = backoffDelay(attempt + 1, options.baseMs, options.maxMs, options.random);
      options.onRetry?.(err, attempt + 1, delay);
      await wait(delay, options.signal);
    }
  }
}

/** Runs `worker` over `items` with at most `concurrency` at once; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await worker(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, run));
  return results;
}
