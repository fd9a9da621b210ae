import { describe, expect, it } from 'vitest';
import type { QueryEngine, QueryExecutionInfo, QueryState } from '../../src/lib/ports.js';
import { executeQuery, nextPollDelay } from '../../src/lib/query/execution.js';

/** An engine whose describe walks through scripted states; stop() switches to CANCELLED. */
function scriptedEngine(states: (QueryState | Error)[], options: { afterStop?: QueryState[] } = {}) {
  const calls: string[] = [];
  let script = [...states];
  const info = (state: QueryState): QueryExecutionInfo => ({ queryId: 'q-1', state, statementType: 'DML', stats: { scannedBytes: state === 'QUEUED' ? 0 : 5_000, engineMs: 1, queueMs: 2, totalMs: 3 } });
  const engine: QueryEngine = {
    start: () => {
      calls.push('start');
      return Promise.resolve('q-1');
    },
    describe: () => {
      calls.push('describe');
      const next = script.length > 1 ? script.shift()! : script[0]!;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(info(next));
    },
    stop: () => {
      calls.push('stop');
      script = [...(options.afterStop ?? ['CANCELLED'])];
      return Promise.resolve();
    },
    resultPage: () => Promise.reject(new Error('unused')),
    workgroup: () => Promise.resolve(undefined),
    close: () => Promise.resolve(),
  };
  return { engine, calls };
}

/** A clock that only moves when the code sleeps. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number, signal?: AbortSignal) => {
      // A macrotask, as a real timer: lets a pending timeout fire.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw signal.reason as Error;
      sleeps.push(ms);
      now += ms;
    },
  };
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

describe('polling schedule', () => {
  it('starts at 10 ms, waits a fifth of the time run so far, and tops out at 2 s', () => {
    expect([0, 40, 100, 250, 500, 1000, 5000, 9000, 10_000, 60_000].map((t) => nextPollDelay(t))).toEqual([10, 10, 20, 50, 100, 200, 1000, 1800, 2000, 2000]);
  });
});

describe('executeQuery', () => {
  it('QUEUED for a while, then RUNNING, then SUCCEEDED: polls with growing waits', async () => {
    const { engine, calls } = scriptedEngine(['QUEUED', 'QUEUED', 'QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    const time = fakeTime();
    const seen: QueryState[] = [];
    const result = await executeQuery(engine, { sql: 'SELECT 1' }, { sleep: time.sleep, now: time.now, onState: (i) => seen.push(i.state) });
    expect(result.ending).toBe('finished');
    expect(result.info.state).toBe('SUCCEEDED');
    expect(result.polls).toBe(6);
    expect(seen).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(calls).toEqual(['start', 'describe', 'describe', 'describe', 'describe', 'describe', 'describe']);
    expect(time.sleeps).toEqual([10, 10, 10, 10, 10]);
  });

  it('retries a throttled GetQueryExecution with backoff', async () => {
    const { engine, calls } = scriptedEngine([throttled(), throttled(), 'SUCCEEDED']);
    const time = fakeTime();
    const result = await executeQuery(engine, { sql: 'SELECT 1' }, { sleep: time.sleep, now: time.now, random: () => 1 });
    expect(result.info.state).toBe('SUCCEEDED');
    expect(calls).toEqual(['start', 'describe', 'describe', 'describe']);
    expect(time.sleeps).toEqual([200, 400]);
  });

  it('Ctrl-C: stops the query, then waits for CANCELLED without the aborted signal', async () => {
    const { engine, calls } = scriptedEngine(['RUNNING'], { afterStop: ['RUNNING', 'CANCELLED'] });
    const controller = new AbortController();
    const time = fakeTime();
    const sleep = (ms: number, signal?: AbortSignal) => {
      if (time.sleeps.length === 2) controller.abort(new DOMException('interrupted', 'AbortError'));
      return time.sleep(ms, signal);
    };
    const result = await executeQuery(engine, { sql: 'SELECT 1' }, { signal: controller.signal, sleep, now: time.now });
    expect(result.ending).toBe('interrupted');
    expect(result.info.state).toBe('CANCELLED');
    expect(result.info.stats.scannedBytes).toBe(5_000);
    expect(calls).toEqual(['start', 'describe', 'describe', 'describe', 'stop', 'describe', 'describe']);
  });

  it('--timeout: stops the query once the time is up', async () => {
    const { engine, calls } = scriptedEngine(['RUNNING']);
    const result = await executeQuery(engine, { sql: 'SELECT 1' }, { timeoutMs: 120 });
    expect(result.ending).toBe('timeout');
    expect(result.info.state).toBe('CANCELLED');
    expect(calls.filter((c) => c === 'stop')).toHaveLength(1);
  });

  it('a query that finishes before the stop lands keeps its final state', async () => {
    const { engine } = scriptedEngine(['RUNNING'], { afterStop: ['SUCCEEDED'] });
    const controller = new AbortController();
    const time = fakeTime();
    const sleep = (ms: number, signal?: AbortSignal) => {
      controller.abort(new DOMException('interrupted', 'AbortError'));
      return time.sleep(ms, signal);
    };
    const result = await executeQuery(engine, { sql: 'SELECT 1' }, { signal: controller.signal, sleep, now: time.now });
    expect([result.ending, result.info.state]).toEqual(['interrupted', 'SUCCEEDED']);
  });

  it('Ctrl-C before the start starts nothing', async () => {
    const { engine, calls } = scriptedEngine(['RUNNING']);
    const controller = new AbortController();
    controller.abort();
    await expect(executeQuery(engine, { sql: 'SELECT 1' }, { signal: controller.signal })).rejects.toThrow('interrupted before the query started');
    expect(calls).toEqual([]);
  });

  it('gives up waiting for the final state after the stop wait, naming the query', async () => {
    const { engine } = scriptedEngine(['RUNNING'], { afterStop: ['RUNNING'] });
    const time = fakeTime();
    await expect(executeQuery(engine, { sql: 'SELECT 1' }, { timeoutMs: 1, stopWaitMs: 1000, sleep: time.sleep, now: time.now })).rejects.toThrow('query q-1 was asked to stop but is still RUNNING after 1 s');
  });

  it('an engine that can say when a query settles ends the wait early instead of sleeping', async () => {
    const { engine, calls } = scriptedEngine(['RUNNING', 'SUCCEEDED']);
    const waits: number[] = [];
    const waiter = Object.assign(engine, {
      untilSettled: (_id: string, maxWaitMs: number) => {
        waits.push(maxWaitMs);
        return Promise.resolve();
      },
    });
    const time = fakeTime();
    const result = await executeQuery(waiter, { sql: 'SELECT 1' }, { sleep: time.sleep, now: time.now });
    expect(result.info.state).toBe('SUCCEEDED');
    expect(waits).toEqual([10]);
    expect(time.sleeps).toEqual([]);
    expect(calls).toEqual(['start', 'describe', 'describe']);
  });
});
