import { describe, expect, it } from 'vitest';
import { CredentialsError, ServiceError } from '../../src/lib/errors.js';
import type { SendItem } from '../../src/lib/send/batching.js';
import { type Batch, type DispatchOptions, Dispatcher, classifyCallError } from '../../src/lib/send/dispatcher.js';
import { FakeStream, type Script, resetError, seeded, serviceError } from '../fixtures/send/fake-stream.js';

const items = (n: number, from = 0): SendItem[] => Array.from({ length: n }, (_, i) => ({ data: Buffer.from(`r${from + i}`), rows: [] }));

interface Run {
  stream: FakeStream;
  dispatcher: Dispatcher;
  accepted: string[];
  undelivered: { data: string; code: string; attempts: number; maybe: boolean }[];
  settled: number[];
  firstCalls: number[];
  sleeps: number[];
}

function setup(script: Script, options: Partial<DispatchOptions> = {}): Run {
  const stream = new FakeStream(script);
  const run: Run = { stream, dispatcher: undefined as never, accepted: [], undelivered: [], settled: [], firstCalls: [], sleeps: [] };
  // A clock that moves only when the dispatcher sleeps.
  let clock = 0;
  run.dispatcher = new Dispatcher(
    stream,
    {
      concurrency: 4,
      maxRetries: 3,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      callTimeoutMs: 1000,
      random: () => 0.5,
      now: () => clock,
      sleep: (ms) => {
        run.sleeps.push(ms);
        clock += ms;
        return Promise.resolve();
      },
      ...options,
    },
    {
      beforeFirstCall: (b) => run.firstCalls.push(b.id),
      accepted: (item) => run.accepted.push(item.data.toString()),
      undelivered: (item, f) => run.undelivered.push({ data: item.data.toString(), code: f.code, attempts: f.attempts, maybe: item.maybeDelivered === true }),
      settled: (b) => run.settled.push(b.id),
    },
  );
  return run;
}

async function send(run: Run, batches: Batch[]): Promise<void> {
  for (const b of batches) await run.dispatcher.submit(b);
  await run.dispatcher.drain();
}

describe('Dispatcher', () => {
  it('re-sends only the records that failed, after backoff, until all are accepted', async () => {
    // given the first call fails records 1 and 3, the second fails record 3 again
    const run = setup((call) => (call === 0 ? ['ok', { code: 'ServiceUnavailableException', message: 'Slow down.' }, 'ok', { code: 'InternalFailure' }] : call === 1 ? ['ok', { code: 'InternalFailure' }] : ['ok']));
    await send(run, [{ id: 7, items: items(4) }]);
    expect(run.stream.calls.map((c) => c.map(String))).toEqual([['r0', 'r1', 'r2', 'r3'], ['r1', 'r3'], ['r3']]);
    expect(run.accepted).toEqual(['r0', 'r2', 'r1', 'r3']);
    expect(run.settled).toEqual([7]);
    expect(run.firstCalls).toEqual([7]);
    expect(run.dispatcher.stats).toEqual({ calls: 3, retried: 3, throttled: 1 });
    // Full jitter at half the cap: backoff 50 then 100; "Slow down." pauses every call for
    // 100 ms (double base), of which the backoff already waited 50.
    expect(run.sleeps).toEqual([50, 50, 100]);
  });

  it('gives up on a record after the last retry and reports every attempt', async () => {
    const run = setup((call, records) => records.map((r) => (r.toString() === 'r1' ? { code: 'InternalFailure', message: 'Internal service failure.' } : 'ok')), { maxRetries: 2 });
    await send(run, [{ id: 0, items: items(3) }]);
    expect(run.stream.calls.length).toBe(3);
    expect(run.undelivered).toEqual([{ data: 'r1', code: 'InternalFailure', attempts: 3, maybe: false }]);
    expect(run.settled).toEqual([0]);
  });

  it('re-sends a whole call that got no answer and marks its records as possibly delivered', async () => {
    const run = setup((call) => (call === 0 ? resetError() : ['ok', 'ok']));
    await send(run, [{ id: 0, items: items(2) }]);
    expect(run.stream.calls.length).toBe(2);
    expect(run.accepted).toEqual(['r0', 'r1']);
    const batchItems = run.stream.calls[1]!;
    expect(batchItems.length).toBe(2);
    expect(run.dispatcher.stats.retried).toBe(2);
  });

  it('does not mark records of a call the service refused with an answer (5xx, throttling)', async () => {
    const marked: boolean[] = [];
    const run = setup((call) => (call === 0 ? serviceError('InternalFailure', 500) : call === 1 ? serviceError('ServiceUnavailableException', 503) : ['ok']));
    const batch = { id: 0, items: items(1) };
    await send(run, [batch]);
    marked.push(batch.items[0]!.maybeDelivered === true);
    expect(run.stream.calls.length).toBe(3);
    expect(marked).toEqual([false]);
    expect(run.dispatcher.stats.throttled).toBe(1);
  });

  it('abandons a call with no answer after the timeout and sends it again', async () => {
    const run = setup((call) => (call === 0 ? new Promise(() => {}) : ['ok']), { callTimeoutMs: 50 });
    const batch = { id: 0, items: items(1) };
    await send(run, [batch]);
    expect(run.stream.calls.length).toBe(2);
    expect(batch.items[0]!.maybeDelivered).toBe(true);
    expect(run.accepted).toEqual(['r0']);
  });

  it('stops everything on an error retrying cannot fix, leaving the batch unsettled', async () => {
    const notFound = Object.assign(new Error('Firehose weblogs not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    const run = setup(() => notFound);
    await send(run, [{ id: 0, items: items(2) }]);
    await run.dispatcher.submit({ id: 1, items: items(1) });
    expect(run.dispatcher.fatal).toBe(notFound);
    expect(run.dispatcher.stopped).toBe(true);
    expect(run.settled).toEqual([]);
    expect(run.stream.calls.length).toBe(1);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    const run = setup(() => new Promise((resolve) => setTimeout(() => resolve(['ok']), 5)), { concurrency: 3 });
    await send(
      run,
      Array.from({ length: 12 }, (_, id) => ({ id, items: items(1, id) })),
    );
    expect(run.stream.maxInFlight).toBe(3);
    expect(run.settled.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('spaces calls to keep under --rate records a second', async () => {
    let clock = 0;
    const run = setup(() => ['ok', 'ok'], {
      rate: 100,
      now: () => clock,
      sleep: (ms) => {
        run.sleeps.push(ms);
        clock += ms;
        return Promise.resolve();
      },
      concurrency: 1,
    });
    await send(run, [
      { id: 0, items: items(2) },
      { id: 1, items: items(2) },
      { id: 2, items: items(2) },
    ]);
    expect(run.sleeps).toEqual([20, 20]);
    expect(clock).toBe(40);
  });

  it('30% of records failing at random for several rounds: each accepted exactly once', async () => {
    const random = seeded(42);
    const run = setup((call, records) => records.map(() => (random() < 0.3 ? { code: 'ServiceUnavailableException', message: 'Slow down.' } : 'ok')), { maxRetries: 20, random });
    const batches = Array.from({ length: 20 }, (_, id) => ({ id, items: items(500, id * 500) }));
    await send(run, batches);
    expect(run.accepted.length).toBe(10_000);
    expect(new Set(run.accepted).size).toBe(10_000);
    expect(run.undelivered).toEqual([]);
    expect(run.stream.calls.length).toBeGreaterThan(20 * 3);
  });
});

describe('classifyCallError', () => {
  it.each([
    ['a reset', resetError(), { kind: 'retry', answered: false, throttled: false }],
    ['a 500', serviceError('InternalFailure', 500), { kind: 'retry', answered: true, throttled: false }],
    ['throttling', serviceError('ThrottlingException', 400), { kind: 'retry', answered: true, throttled: true }],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { kind: 'retry', answered: true }],
    ['an SDK timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), { kind: 'retry', answered: false }],
    ['a mismatched answer', new ServiceError('x', { code: 'MismatchedResponse' }), { kind: 'retry', answered: false }],
  ])('%s is retried', (_what, err, expected) => {
    expect(classifyCallError(err)).toMatchObject(expected);
  });

  it.each([
    ['expired credentials', Object.assign(new Error('expired'), { name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } })],
    ['a missing stream', serviceError('ResourceNotFoundException', 400)],
    ['a request the API refuses', new ServiceError('too big', { code: 'ValidationException' })],
    ['another 4xx', serviceError('SomethingElse', 400)],
  ])('%s stops the send', (_what, err) => {
    expect(classifyCallError(err).kind).toBe('fatal');
  });

  it('turns credential problems into CredentialsError (exit 5)', () => {
    const failure = classifyCallError(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect(failure.kind === 'fatal' && failure.error instanceof CredentialsError).toBe(true);
  });
});
