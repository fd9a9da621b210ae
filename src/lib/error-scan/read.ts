/**
 * Reading error objects concurrently with the streaming parser of error-records.ts. An
 * object whose body breaks off in transit (connection reset) is read again, and only the
 * records past those already handed on are passed on, so a retry never counts a record
 * twice. What the parser cannot read (truncated, corrupt) is reported with the key and
 * the other objects are still read; an object that vanished since it was listed (redriven
 * by someone else) is skipped.
 */
import { type ErrorRecord, type ErrorRecordProblem, streamErrorRecords } from '../error-records.js';
import type { ObjectStore } from '../ports.js';
import { backoffDelay, isTransient, sleep } from '../retry.js';
import type { ErrorObjectRef } from './listing.js';

export interface ObjectReadResult {
  object: ErrorObjectRef;
  /** Records handed on. */
  records: number;
  problems: ErrorRecordProblem[];
  /** The object was gone when read. */
  missing?: boolean;
}

export interface ReadOptions {
  concurrency: number;
  signal?: AbortSignal;
  retries?: { retries: number; baseMs: number; maxMs: number };
  onRecord(record: ErrorRecord, object: ErrorObjectRef): void;
  onObject?(result: ObjectReadResult): void;
}

export interface ReadStats {
  objects: number;
  records: number;
  bytes: number;
  retried: number;
}

const DEFAULT_RETRIES = { retries: 4, baseMs: 200, maxMs: 5_000 };

/** Reads every object `objects` yields, `concurrency` at a time. */
export async function readErrorObjects(store: ObjectStore, bucket: string, objects: AsyncIterable<ErrorObjectRef>, options: ReadOptions): Promise<ReadStats> {
  const stats: ReadStats = { objects: 0, records: 0, bytes: 0, retried: 0 };
  const iterator = objects[Symbol.asyncIterator]();
  let failed = false;
  const worker = async () => {
    try {
      while (!failed) {
        const next = await iterator.next();
        if (next.done || failed) return;
        const result = await readErrorObject(store, bucket, next.value, { ...options, onRecord: (r, o) => failed || options.onRecord(r, o) }, stats);
        stats.objects++;
        stats.records += result.records;
        stats.bytes += next.value.size;
        options.onObject?.(result);
      }
    } catch (err) {
      // The other workers stop at their next step: nothing is reported after a failure.
      failed = true;
      throw err;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  } catch (err) {
    // Not awaited: it waits for next() calls still pending on the listing, which the
    // caller stops when this rejects.
    iterator.return?.().catch(() => undefined);
    throw err;
  }
  return stats;
}

export async function readErrorObject(store: ObjectStore, bucket: string, object: ErrorObjectRef, options: Omit<ReadOptions, 'concurrency'>, stats?: ReadStats): Promise<ObjectReadResult> {
  const retry = options.retries ?? DEFAULT_RETRIES;
  // Offset of the last record handed on: a retry passes on only what lies beyond it.
  let handedOn = -1;
  let records = 0;
  for (let attempt = 0; ; attempt++) {
    let body: AsyncIterable<Uint8Array>;
    try {
      body = await store.getStream(bucket, object.key, { signal: options.signal });
    } catch (err) {
      if (isMissing(err)) return { object, records, problems: [], missing: true };
      if (attempt < retry.retries && isTransient(err) && !options.signal?.aborted) {
        if (stats) stats.retried++;
        await sleep(backoffDelay(attempt + 1, retry.baseMs, retry.maxMs), options.signal);
        continue;
      }
      throw err;
    }
    const source = new CapturedSource(body);
    const problems: ErrorRecordProblem[] = [];
    for await (const record of streamErrorRecords(source, { type: object.type, onProblem: (p) => problems.push(p) })) {
      if (record.offset <= handedOn) continue;
      handedOn = record.offset;
      records++;
      options.onRecord(record, object);
    }
    if (source.error === undefined) return { object, records, problems };
    // The body broke off: what the parser says about the cut is not about the object.
    if (options.signal?.aborted) throw options.signal.reason;
    if (attempt < retry.retries) {
      if (stats) stats.retried++;
      await sleep(backoffDelay(attempt + 1, retry.baseMs, retry.maxMs), options.signal);
      continue;
    }
    return { object, records, problems: [{ offset: 0, message: `reading failed after ${attempt + 1} attempts: ${(source.error as Error).message ?? String(source.error)}` }] };
  }
}

function isMissing(err: unknown): boolean {
  const name = (err as { name?: string; code?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || (err as { code?: string }).code === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}

/**
 * Ends the body early instead of throwing when the transport fails, and remembers why, so
 * the records read before the cut are kept and the object is read again from the start
 * (`streamErrorRecords` would throw the transport error as it came).
 */
class CapturedSource implements AsyncIterable<Uint8Array> {
  error: unknown;

  constructor(private readonly body: AsyncIterable<Uint8Array>) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for await (const chunk of this.body) yield chunk;
    } catch (err) {
      this.error = err ?? new Error('the object body failed');
    }
  }
}
