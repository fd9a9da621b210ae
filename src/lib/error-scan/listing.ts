/**
 * Finding the error objects of a time window under the error prefix, cheaply.
 *
 * lake's ErrorOutputPrefix is `<errorPrefix>!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`
 * and one without expressions makes Firehose write `<errorPrefix><type>/yyyy/MM/dd/HH/`:
 * both put a type folder first and the arrival day next. A type folder laid out so is
 * listed from the window's first day (StartAfter) and the listing stops past its last day;
 * the type folders are listed side by side. Anything else under the error prefix (other
 * layouts, objects right under it) is listed whole, and each object's time is read from
 * its name (Firehose's `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>`) or, failing
 * that, its last modification. `<errorPrefix>redriven/` holds what `--redrive` has sent
 * again and is never read.
 */
import { errorTypeFromKey, type ErrorRecordType } from '../error-records.js';
import { ERROR_OUTPUT_TYPES, parseObjectName } from '../firehose-prefix.js';
import type { ObjectInfo, ObjectStore } from '../ports.js';
import { AsyncQueue } from './queue.js';
import { type TimeWindow, mayHoldWindow, windowDays } from './window.js';

/** The folder under the error prefix where redriven objects are kept. */
export const REDRIVEN_FOLDER = 'redriven';

export interface ErrorObjectRef {
  key: string;
  size: number;
  lastModified: Date;
  /** The error output type the key names, if it names one. */
  type?: ErrorRecordType;
  /** The time the key tells: the object name's, else the last modification. */
  time: Date;
}

export interface ListingOptions {
  window: TimeWindow;
  /** Only these error output types (default: all): other type folders are not listed. Objects of other layouts are, since only their records tell their type. */
  types?: readonly string[];
  /** Key prefixes that are not error objects even when under the error prefix (data, backup, results). */
  exclude?: readonly string[];
  /** Listings in flight. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface ListingStats {
  listCalls: number;
  /** Objects listed and passed on to be read. */
  objects: number;
  /** Objects listed and left out: outside the window by their key. */
  outside: number;
}

const DATED = /^(\d{4}\/\d{2}\/\d{2})\//;
const YEAR_FOLDER = /^\d{4}\/$/;

export function isErrorOutputType(segment: string): boolean {
  return (ERROR_OUTPUT_TYPES as readonly string[]).includes(segment);
}

/**
 * The objects under `errorPrefix` that can hold records of the window, as the listings
 * find them (not in key order). Stopping the iteration stops the listings.
 */
export async function* listErrorObjects(store: ObjectStore, bucket: string, errorPrefix: string, options: ListingOptions, stats: ListingStats = { listCalls: 0, objects: 0, outside: 0 }): AsyncGenerator<ErrorObjectRef> {
  const queue = new AsyncQueue<ErrorObjectRef>();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const exclude = options.exclude ?? [];
  const redriven = `${errorPrefix}${REDRIVEN_FOLDER}/`;
  const days = windowDays(options.window);

  const list = async function* (listOptions: { prefix: string; delimiter?: string; startAfter?: string }) {
    let continuationToken: string | undefined;
    do {
      stats.listCalls++;
      const page = await store.list(bucket, { ...listOptions, continuationToken, signal });
      yield page;
      continuationToken = page.nextToken;
    } while (continuationToken && !signal.aborted);
  };

  const offer = async (object: ObjectInfo, type: ErrorRecordType | undefined) => {
    if (object.key.endsWith('/') || object.key.startsWith(redriven) || exclude.some((p) => p !== '' && object.key.startsWith(p))) return;
    const time = parseObjectName(object.key)?.date ?? object.lastModified;
    if (!mayHoldWindow(time, options.window)) {
      stats.outside++;
      return;
    }
    stats.objects++;
    await queue.push({ key: object.key, size: object.size, lastModified: object.lastModified, type: type ?? errorTypeFromKey(object.key.slice(errorPrefix.length)), time });
  };

  const flat = async (prefix: string, type?: ErrorRecordType) => {
    for await (const page of list({ prefix })) for (const object of page.objects) await offer(object, type);
  };

  // A type folder holding only year folders is dated: read the window's days, nothing else.
  const typed = async (prefix: string, type: ErrorRecordType) => {
    let dated = true;
    for await (const page of list({ prefix, delimiter: '/' })) {
      if (page.objects.length > 0 || page.commonPrefixes.some((p) => !YEAR_FOLDER.test(p.slice(prefix.length)))) dated = false;
    }
    if (!dated) return flat(prefix, type);
    for await (const page of list({ prefix, startAfter: `${prefix}${days.first}` })) {
      for (const object of page.objects) {
        const day = DATED.exec(object.key.slice(prefix.length))?.[1];
        if (day !== undefined && day > days.last) return;
        await offer(object, type);
      }
    }
  };

  const tasks: (() => Promise<void>)[] = [];
  const producer = (async () => {
    const direct: ObjectInfo[] = [];
    for await (const page of list({ prefix: errorPrefix, delimiter: '/' })) {
      direct.push(...page.objects);
      for (const folder of page.commonPrefixes) {
        const segment = folder.slice(errorPrefix.length, -1);
        if (segment === REDRIVEN_FOLDER || exclude.some((p) => p !== '' && folder.startsWith(p))) continue;
        if (isErrorOutputType(segment)) {
          if (options.types && !options.types.includes(segment)) continue;
          tasks.push(() => typed(folder, segment as ErrorRecordType));
        } else if (errorPrefix !== '') {
          // At the bucket root only type folders are error objects; the rest is the lake.
          tasks.push(() => flat(folder));
        }
      }
    }
    if (errorPrefix !== '') tasks.push(async () => {
      for (const object of direct) await offer(object, undefined);
    });
    let next = 0;
    const worker = async () => {
      while (next < tasks.length && !signal.aborted) await tasks[next++]!();
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, tasks.length)) }, worker));
  })().then(
    () => queue.close(),
    (err: unknown) => queue.fail(err),
  );

  try {
    for (;;) {
      const next = await queue.next();
      if (next.done) break;
      yield next.value;
    }
  } finally {
    controller.abort();
    queue.close();
    options.signal?.removeEventListener('abort', onAbort);
    await producer;
  }
}
