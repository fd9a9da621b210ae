/**
 * The pre-flight check on worker threads. The serde is JavaScript and costs about as much
 * as everything else a row needs on the main thread, which also drives the AWS SDK: on
 * its own thread, a big send checks rows while the calls go out. A chunk of payloads goes
 * over as one transferred buffer; only the failures come back.
 *
 * Loaded with import() (its own chunk in the build), and started only when lake runs as
 * JavaScript: from TypeScript sources (tests) the caller checks in-thread.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { compileSchema, type ConversionFailure, type SerdeSchema } from '../serde/index.js';

/** A failed check: the payload's index in the chunk, and the serde's verdict. */
export type CheckFailure = [index: number, failure: ConversionFailure];

interface Request {
  id: number;
  joined: Uint8Array;
  lengths: Int32Array;
}

interface Reply {
  id: number;
  failures?: CheckFailure[];
  error?: string;
}

export class ValidatorPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (f: CheckFailure[]) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 0;
  private next = 0;

  get size(): number {
    return this.workers.length;
  }

  private constructor(size: number, schema: SerdeSchema) {
    this.workers = Array.from({ length: size }, () => {
      // A small young generation: the serde's garbage is short-lived, and a send's memory
      // stays flat (the heap grows to what the limits allow).
      const worker = new Worker(new URL(import.meta.url), { workerData: { lakeSendValidator: schema }, resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 96 } });
      worker.on('message', (reply: Reply) => {
        const waiting = this.pending.get(reply.id);
        if (!waiting) return;
        this.done(reply.id);
        if (reply.failures) waiting.resolve(reply.failures);
        else waiting.reject(new Error(reply.error ?? 'validation worker failed'));
      });
      worker.on('error', (err) => {
        for (const [id, waiting] of [...this.pending]) {
          if (waiting.worker !== worker) continue;
          this.done(id);
          waiting.reject(err);
        }
      });
      worker.unref();
      return worker;
    });
  }

  /** A pool, or undefined where workers cannot run this module (TypeScript sources). */
  static start(schema: SerdeSchema, size = Math.max(1, Math.min(2, availableParallelism() - 1))): ValidatorPool | undefined {
    if (!/\.m?js$/.test(new URL(import.meta.url).pathname)) return undefined;
    return new ValidatorPool(size, schema);
  }

  /** Checks the payloads; resolves with the failures only. Chunks go to the workers in turn. */
  check(payloads: Uint8Array[]): Promise<CheckFailure[]> {
    const id = this.nextId++;
    const lengths = Int32Array.from(payloads, (p) => p.length);
    const joined = new Uint8Array(lengths.reduce((n, l) => n + l, 0));
    let offset = 0;
    for (const p of payloads) {
      joined.set(p, offset);
      offset += p.length;
    }
    const worker = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      // Referenced only while it owes an answer, so an idle pool never holds the process open.
      if (![...this.pending.values()].some((p) => p.worker === worker)) worker.ref();
      this.pending.set(id, { resolve, reject, worker });
      worker.postMessage({ id, joined, lengths } satisfies Request, [joined.buffer as ArrayBuffer]);
    });
  }

  private done(id: number): void {
    const worker = this.pending.get(id)?.worker;
    this.pending.delete(id);
    if (worker && ![...this.pending.values()].some((p) => p.worker === worker)) worker.unref();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// In a validation worker (this module loaded as the worker's entry): answer chunks.
if (!isMainThread && parentPort && (workerData as { lakeSendValidator?: SerdeSchema } | null)?.lakeSendValidator) {
  const port = parentPort;
  const converter = compileSchema((workerData as { lakeSendValidator: SerdeSchema }).lakeSendValidator);
  port.on('message', ({ id, joined, lengths }: Request) => {
    try {
      const failures: CheckFailure[] = [];
      let offset = 0;
      for (let i = 0; i < lengths.length; i++) {
        const end = offset + lengths[i]!;
        const result = converter.convert(joined.subarray(offset, end));
        if (!result.ok) failures.push([i, result]);
        offset = end;
      }
      port.postMessage({ id, failures } satisfies Reply);
    } catch (err) {
      port.postMessage({ id, error: (err as Error).message } satisfies Reply);
    }
  });
}
