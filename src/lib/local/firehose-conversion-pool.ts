/**
 * The worker threads that convert PutRecordBatch records for the local Firehose
 * (firehose-conversion.ts does the converting): batches go to the workers in turn as one
 * transferred buffer each and come back as one; both buffers are given back for reuse. This
 * module is also the workers' entry: it must run as JavaScript (the built CLI, a bundle).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { batchConverter, type BatchOutcome, type ConverterSpec, convertBatch, sizeWithSlack, splitRecords } from './firehose-conversion.js';

/**
 * Whether conversion can run in worker threads: only when this module runs as JavaScript
 * (the built CLI, a bundle), since a worker loads it as its entry; from TypeScript sources it
 * converts in-thread.
 */
export function conversionWorkersAvailable(): boolean {
  return /\.m?js$/.test(new URL(import.meta.url).pathname);
}

/**
 * Buffers kept for reuse, per worker (outputs given back) and on the main thread (inputs given
 * back): without, every batch allocates new ones, freed only when the main thread's GC gets to
 * them, across threads' malloc arenas, which leaves the process tens of MB bigger.
 */
const SPARE_BUFFERS = 4;

/**
 * Young generation of a conversion worker's heap: a batch's garbage is short-lived, and V8's
 * default lets each worker's young space grow to tens of MB that stay resident; capped, a
 * worker scavenges more often for about the same time (memory flatter as input grows).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

interface WorkerReply {
  id: number;
  outcome?: BatchOutcome;
  error?: string;
  /** The batch's input buffer, given back for the next batch. */
  input?: ArrayBuffer;
}

/** Worker threads running `convertBatch`; each batch goes to the next worker in turn. */
export class ConversionPool {
  /** Workers taking batches; a retired worker answers what it was given, then ends. */
  private readonly workers: Worker[];
  /** Batches each worker owes an answer for. */
  private readonly owed = new Map<Worker, number>();
  private readonly retiring = new Set<Worker>();
  private readonly pending = new Map<number, { worker: Worker; resolve: (o: BatchOutcome) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** Input buffers the workers gave back. */
  private readonly spareInputs: ArrayBuffer[] = [];

  /** Set when a worker died: every batch owed and every later one fails with it, none waits forever. */
  private failedWith?: Error;
  /** Workers this pool ended itself, whose exit is expected. */
  private readonly ending = new Set<Worker>();

  /** `createWorker` is for tests (a worker that misbehaves); lake starts this module as the worker. */
  constructor(size: number, spec: ConverterSpec, createWorker: () => Worker = () => conversionWorker(spec)) {
    this.workers = Array.from({ length: size }, () => {
      const worker = createWorker();
      worker.on('message', (reply: WorkerReply) => {
        const waiting = this.pending.get(reply.id);
        if (reply.input && this.spareInputs.length < SPARE_BUFFERS) this.spareInputs.push(reply.input);
        if (!waiting) return;
        this.settle(reply.id);
        if (reply.outcome) waiting.resolve(reply.outcome);
        else waiting.reject(new Error(reply.error ?? 'conversion worker failed'));
      });
      worker.on('error', (err) => this.fail(new Error(`conversion worker failed: ${err.message}`, { cause: err })));
      worker.on('exit', (code) => {
        if (!this.ending.has(worker)) this.fail(new Error(`conversion worker exited unexpectedly (code ${code})`));
      });
      worker.unref();
      this.owed.set(worker, 0);
      return worker;
    });
  }

  /** Why the pool stopped converting (a worker died), if it did. */
  get failure(): Error | undefined {
    return this.failedWith;
  }

  /** Workers taking batches. */
  get size(): number {
    return this.workers.length;
  }

  convert(records: Uint8Array[]): Promise<BatchOutcome> {
    if (this.failedWith) return Promise.reject(this.failedWith);
    const id = this.nextId++;
    // One buffer for the batch, transferred: cloning each record could copy a whole pool slab.
    const lengths = Int32Array.from(records, (r) => r.length);
    const total = lengths.reduce((n, l) => n + l, 0);
    const spare = this.spareInputs.pop();
    const joined = new Uint8Array(spare !== undefined && spare.byteLength >= total ? spare : new ArrayBuffer(sizeWithSlack(total)), 0, total);
    let offset = 0;
    for (const record of records) {
      joined.set(record, offset);
      offset += record.length;
    }
    const worker = this.workers[id % this.workers.length]!;
    return new Promise((resolve, reject) => {
      // A worker is kept referenced only while it owes an answer, so an idle stream never holds the process open.
      if (this.owed.get(worker) === 0) worker.ref();
      this.owed.set(worker, this.owed.get(worker)! + 1);
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, joined, lengths }, [joined.buffer, lengths.buffer]);
    });
  }

  /** The batch is applied: its output buffer goes back to a worker for a later batch. */
  recycle(outcome: BatchOutcome): void {
    const buffer = outcome.groups[0]?.csv.buffer;
    if (buffer === undefined || buffer.byteLength === 0 || this.failedWith) return;
    this.workers[this.nextId % this.workers.length]!.postMessage({ spare: buffer }, [buffer as ArrayBuffer]);
  }

  /**
   * One worker fewer (never below one): it takes no more batches and ends once it has
   * answered those it has, which frees its heap. For when DuckDB's deliveries take a core.
   */
  retireOne(): void {
    if (this.workers.length <= 1) return;
    const worker = this.workers.pop()!;
    this.retiring.add(worker);
    if (this.owed.get(worker) === 0) this.end(worker);
  }

  private settle(id: number): void {
    const { worker } = this.pending.get(id)!;
    this.pending.delete(id);
    const owed = this.owed.get(worker)! - 1;
    this.owed.set(worker, owed);
    if (owed > 0) return;
    worker.unref();
    if (this.retiring.has(worker)) this.end(worker);
  }

  private end(worker: Worker): void {
    this.retiring.delete(worker);
    this.owed.delete(worker);
    this.ending.add(worker);
    void worker.terminate();
  }

  /** A worker died (a crash, out of memory): the batches owed fail, and so does every later one. */
  private fail(err: Error): void {
    if (this.failedWith) return;
    this.failedWith = err;
    for (const [id, waiting] of [...this.pending]) {
      this.pending.delete(id);
      waiting.reject(err);
    }
    for (const worker of [...this.workers, ...this.retiring]) this.end(worker);
  }

  async close(): Promise<void> {
    const all = [...this.workers, ...this.retiring];
    for (const worker of all) this.ending.add(worker);
    await Promise.all(all.map((w) => w.terminate()));
  }
}

function conversionWorker(spec: ConverterSpec): Worker {
  return new Worker(new URL(import.meta.url), { workerData: { lakeFirehoseConverter: spec }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
}

// In a conversion worker (this module loaded as the worker's entry): answer batches.
if (!isMainThread && parentPort && (workerData as { lakeFirehoseConverter?: ConverterSpec } | null)?.lakeFirehoseConverter) {
  const port = parentPort;
  const converter = batchConverter((workerData as { lakeFirehoseConverter: ConverterSpec }).lakeFirehoseConverter);
  const spares: ArrayBuffer[] = [];
  port.on('message', (message: { id: number; joined: Uint8Array; lengths: Int32Array } | { spare: ArrayBuffer }) => {
    if ('spare' in message) {
      if (spares.length < SPARE_BUFFERS) spares.push(message.spare);
      return;
    }
    const { id, joined, lengths } = message;
    const input = joined.buffer as ArrayBuffer;
    try {
      const outcome = convertBatch(converter, splitRecords(joined, lengths), spares.pop());
      // The groups are views of one buffer; the records are no longer needed, so their buffer goes back too.
      const buffers = new Set([input, ...outcome.groups.map((g) => g.csv.buffer as ArrayBuffer)]);
      port.postMessage({ id, outcome, input } satisfies WorkerReply, [...buffers]);
    } catch (err) {
      port.postMessage({ id, error: (err as Error).message, input } satisfies WorkerReply, [input]);
    }
  });
}
