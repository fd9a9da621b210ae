import { describe, expect, it } from 'vitest';
import { backoffDelay, isTransient, mapConcurrent, withRetry } from '../../src/lib/retry.js';

const named = (name: string) => Object.assign(new Error(name), { name });

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, scaled by the jitter draw', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(200);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0);
  });
});

describe('isTransient', () => {
  it('retries throttling, timeouts and 5xx; not validation or permission errors', () => {
    expect(isTransient(named('ThrottlingException'))).toBe(true);
    expect(isTransient(named('OperationTimeoutException'))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(named('ValidationException'))).toBe(false);
    expect(isTransient(named('AccessDeniedException'))).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries transient failures and returns the first success, waiting the backoff delays', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw named('ThrottlingException');
        return 'ok';
      },
      { retries: 5, baseMs: 100, maxMs: 1000, isRetryable: isTransient, random: () => 1, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([100, 200]);
  });

  it('gives up after the retries and throws the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw named('ThrottlingException');
        },
        { retries: 2, baseMs: 1, maxMs: 1, isRetryable: isTransient, sleep: async () => {} },
      ),
    ).rejects.toThrow('ThrottlingException');
    expect(calls).toBe(3);
  });

  it('throws a non-retryable error at once', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw named('ValidationException');
        },
        { retries: 5, baseMs: 1, maxMs: 1, isRetryable: isTransient, sleep: async () => {} },
      ),
    ).rejects.toThrow('ValidationException');
    expect(calls).toBe(1);
  });
});

describe('mapConcurrent', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
