/**
 * `lake errors` reading: list the error objects of the window, read them concurrently as
 * the listing finds them, keep the records that arrived in the window, and group them.
 * DESIGN.md's `errors` document is the result; `--raw` gets every record as it is read,
 * and `--redrive` gets the records of each object kept whole.
 */
import type { LakeConfig } from '../config.js';
import type { ErrorRecord, ErrorRecordProblem } from '../error-records.js';
import type { Progress } from '../output/progress.js';
import type { ObjectStore } from '../ports.js';
import type { SerdeSchema } from '../serde/index.js';
import { type ErrorGroup, ErrorGrouper, type LocatedRecord } from './groups.js';
import { type ErrorObjectRef, type ListingStats, listErrorObjects } from './listing.js';
import { readErrorObjects } from './read.js';
import { type TimeWindow, inWindow } from './window.js';

export interface UnreadableObject {
  key: string;
  /** Records read from it all the same. */
  records: number;
  problems: ErrorRecordProblem[];
}

export interface ErrorsReport {
  since: string;
  until: string;
  total: number;
  groups: ErrorGroup[];
  unreadable: UnreadableObject[];
  /** Error objects read. */
  objects: number;
  listCalls: number;
  durationMs: number;
}

/** An object read whole, for --redrive. */
export interface ReadObject {
  ref: ErrorObjectRef;
  records: ErrorRecord[];
  problems: ErrorRecordProblem[];
}

export interface ScanOptions {
  window: TimeWindow;
  types?: readonly string[];
  concurrency: number;
  signal?: AbortSignal;
  /** Records decoded per group (--samples). */
  samples?: number;
  /** The schema that explains samples. */
  schema?: SerdeSchema;
  /** Every record of the window as it is read (--raw). */
  onRecord?: (located: LocatedRecord) => void;
  /** Keep each object's records (all of them, in the window or not), for --redrive. */
  keepObjects?: boolean;
  progress?: Progress;
  /** Re-reading an object whose body broke off (default: 4 retries from 200 ms). */
  retry?: { retries: number; baseMs: number; maxMs: number };
}

export interface ScanResult {
  report: ErrorsReport;
  objects: ReadObject[];
}

export type ScanConfig = Pick<LakeConfig, 'bucket' | 'errorPrefix' | 'prefix' | 'backupPrefix' | 'resultsPrefix'>;

/** The located record if it belongs to the window (and the types asked for). */
export function locate(record: ErrorRecord, ref: ErrorObjectRef, options: Pick<ScanOptions, 'window' | 'types'>): LocatedRecord | undefined {
  const time = record.arrivalTimestamp ?? ref.time.getTime();
  if (!inWindow(time, options.window)) return undefined;
  if (options.types && !options.types.includes(record.type ?? '')) return undefined;
  return { record, key: ref.key, time };
}

export async function scanErrors(store: ObjectStore, config: ScanConfig, options: ScanOptions): Promise<ScanResult> {
  const started = Date.now();
  const grouper = new ErrorGrouper(options.samples ?? 0, options.schema);
  const listing: ListingStats = { listCalls: 0, objects: 0, outside: 0 };
  const unreadable: UnreadableObject[] = [];
  const kept = new Map<string, ReadObject>();
  // Lake folders that may sit under the error prefix (an error prefix of '' is the bucket root).
  const exclude = [config.prefix, config.backupPrefix ?? '', config.resultsPrefix].filter((p) => p !== '' && p !== config.errorPrefix);
  // A failed read stops the listing at once, rather than when its next object is taken.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const objects = listErrorObjects(store, config.bucket, config.errorPrefix, { window: options.window, types: options.types, exclude, concurrency: options.concurrency, signal }, listing);

  let done = 0;
  const reading = readErrorObjects(store, config.bucket, objects, {
    concurrency: options.concurrency,
    signal: options.signal,
    retries: options.retry,
    onRecord(record, ref) {
      if (options.keepObjects) {
        let object = kept.get(ref.key);
        if (!object) kept.set(ref.key, (object = { ref, records: [], problems: [] }));
        object.records.push(record);
      }
      const located = locate(record, ref, options);
      if (!located) return;
      grouper.add(located);
      options.onRecord?.(located);
    },
    onObject(result) {
      done++;
      if (result.problems.length > 0) {
        unreadable.push({ key: result.object.key, records: result.records, problems: result.problems });
        const object = kept.get(result.object.key);
        if (object) object.problems = result.problems;
      }
      options.progress?.update(done, { records: grouper.total, unreadable: unreadable.length });
    },
  });
  const stats = await reading.catch((err: unknown) => {
    stop.abort(err);
    throw err;
  });

  unreadable.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const report: ErrorsReport = {
    since: options.window.since.toISOString(),
    until: options.window.until.toISOString(),
    total: grouper.total,
    groups: grouper.result(),
    unreadable,
    objects: stats.objects,
    listCalls: listing.listCalls,
    durationMs: Date.now() - started,
  };
  return { report, objects: [...kept.values()].sort((a, b) => (a.ref.key < b.ref.key ? -1 : a.ref.key > b.ref.key ? 1 : 0)) };
}
