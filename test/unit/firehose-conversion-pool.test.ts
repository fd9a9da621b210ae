import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversionPool } from '../../src/lib/local/firehose-conversion-pool.js';

/**
 * Stand-in workers (the real one is this module run as JavaScript, which the tests do not
 * build): each answers a batch with an empty outcome naming the batch's byte count, and
 * misbehaves on the batch whose first byte is `misbehaveOn`.
 */
function fakeWorker(misbehaviour: 'throw' | 'exit' | 'error-reply', misbehaveOn: number): () => Worker {
  const code = `
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (m) => {
      if (m.spare) return;
      if (m.joined[0] === ${misbehaveOn}) {
        if ('${misbehaviour}' === 'throw') throw new Error('boom');
        if ('${misbehaviour}' === 'exit') process.exit(3);
        parentPort.postMessage({ id: m.id, error: 'bad batch' });
        return;
      }
      parentPort.postMessage({ id: m.id, outcome: { groups: [], failures: [{ index: 0, code: 'bytes', message: String(m.joined.length) }], withoutEventTime: [] } });
    });`;
  return () => new Worker(code, { eval: true });
}

const spec = { columns: [{ name: 'a', type: 'string' }], serde: { caseInsensitive: true, convertDotsInJsonKeysToUnderscores: false, columnToJsonKeyMappings: {} } } as ConstructorParameters<typeof ConversionPool>[1];
const batch = (first: number, length = 3) => [new Uint8Array(length).fill(first)];

let pool: ConversionPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('conversion worker pool', () => {
  it('answers each batch from its worker', async () => {
    pool = new ConversionPool(2, spec, fakeWorker('throw', 99));
    const outcomes = await Promise.all([pool.convert(batch(1, 3)), pool.convert(batch(2, 5)), pool.convert(batch(3, 7))]);
    expect(outcomes.map((o) => o.failures[0]!.message)).toEqual(['3', '5', '7']);
  });

  it('a worker that throws fails the batches it owes (one queued behind) and every later one, without waiting forever', async () => {
    pool = new ConversionPool(1, spec, fakeWorker('throw', 9));
    expect((await pool.convert(batch(1))).failures[0]!.message).toBe('3');
    const owed = [pool.convert(batch(9)), pool.convert(batch(2))];
    const results = await Promise.allSettled(owed);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['conversion worker failed: boom', 'conversion worker failed: boom']);
    await expect(pool.convert(batch(1))).rejects.toThrow('conversion worker failed: boom');
  });

  it('a worker that exits on its own fails the pool with its exit code', async () => {
    pool = new ConversionPool(1, spec, fakeWorker('exit', 7));
    await expect(pool.convert(batch(7))).rejects.toThrow('conversion worker exited unexpectedly (code 3)');
    await expect(pool.convert(batch(1))).rejects.toThrow('conversion worker exited unexpectedly (code 3)');
  });

  it('an error answer fails only its batch', async () => {
    pool = new ConversionPool(1, spec, fakeWorker('error-reply', 5));
    await expect(pool.convert(batch(5))).rejects.toThrow('bad batch');
    expect((await pool.convert(batch(1, 4))).failures[0]!.message).toBe('4');
  });

  it('retiring a worker and closing the pool are not failures', async () => {
    const made: Worker[] = [];
    const make = fakeWorker('throw', 99);
    pool = new ConversionPool(2, spec, () => {
      made.push(make());
      return made.at(-1)!;
    });
    pool.retireOne();
    expect(pool.size).toBe(1);
    // The retired worker has exited before the next batch.
    await once(made[1]!, 'exit');
    expect((await pool.convert(batch(1, 2))).failures[0]!.message).toBe('2');
    await pool.close();
    pool = undefined;
  });
});
