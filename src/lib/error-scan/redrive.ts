/**
 * `lake errors --redrive`: the records of the window decoded, optionally transformed,
 * checked with the serde, delivered through `lake send`'s path, and their objects marked.
 *
 * Marking: each object that had a record sent (or left out by the transform) is copied to
 * `<errorPrefix>redriven/<run>/<rest of its key>` and then replaced by what is left of it:
 * the records still failing, not delivered, or outside the window, as Firehose wrote them,
 * so a later `lake errors` still shows them and a later redrive can try them again. An
 * object with nothing left is deleted. A second redrive therefore finds nothing it already
 * sent. Objects that could not be read whole are left alone.
 *
 * Nothing is marked when the delivery stopped early (Ctrl-C, a fatal error): which rows
 * the stream accepted is then unknown, and a record sent twice is better than one lost.
 */
import { gzipSync } from 'node:zlib';
import type { ErrorRecord } from '../error-records.js';
import type { LakeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../ports.js';
import { isTransient, mapConcurrent, withRetry } from '../retry.js';
import { type SerdeSchema, convertRecord } from '../serde/index.js';
import { UNKNOWN } from './groups.js';
import { REDRIVEN_FOLDER } from './listing.js';
import { type ReadObject, locate } from './scan.js';
import { type RecordTransform, transformInput, transformOutput } from './transform.js';
import type { TimeWindow } from './window.js';

export interface NotAccepted {
  code: string;
  message: string;
  /** validation: refused before sending; delivery: sent and not accepted after every retry. */
  stage: 'validation' | 'delivery';
}

export interface DeliveryOutcome {
  /** Payloads (by index) the stream did not accept. */
  notAccepted: Map<number, NotAccepted>;
  /** Payloads the stream accepted. */
  accepted: number;
  deadLetter: string | null;
  batches: number;
  retried: number;
  /** The delivery stopped early: which payloads went is unknown. */
  error?: LakeError;
  interrupted: boolean;
}

export interface RedriveDeps {
  store: ObjectStore;
  bucket: string;
  errorPrefix: string;
  schema: SerdeSchema;
  transform?: RecordTransform;
  /** Sends the payloads the way `lake send` does. */
  deliver(payloads: Uint8Array[]): Promise<DeliveryOutcome>;
  log: Logger;
  signal?: AbortSignal;
  concurrency: number;
}

export interface RedriveOptions {
  window: TimeWindow;
  types?: readonly string[];
  dryRun: boolean;
  /** Names the folder under `redriven/`: `20240517T130501Z`. */
  runId: string;
}

export interface FailingGroup {
  code: string;
  column?: string;
  count: number;
  message: string;
}

export interface RedriveReport {
  dryRun: boolean;
  /** Records of the window considered. */
  records: number;
  /** Records that passed the serde check (with --dry-run: would be sent). */
  toSend: number;
  /** Records the stream accepted. */
  sent: number;
  /** Records the transform left out (null). */
  skipped: number;
  /** Records that still fail the serde (after the transform), or that the transform threw on. */
  stillFailing: number;
  /** Records sent and not accepted after every retry (in the dead-letter file). */
  undelivered: number;
  /** Objects moved under redriven/. */
  objects: number;
  /** Objects left alone because they could not be read whole. */
  unreadableObjects: number;
  deadLetter: string | null;
  batches: number;
  retried: number;
  failing: FailingGroup[];
  /** Objects whose marking failed: their sent records may be sent again by the next redrive. */
  markFailures: { key: string; message: string }[];
  archive: string | null;
}

type Fate = { fate: 'kept' } | { fate: 'skipped' } | { fate: 'failing'; code: string; message: string; column?: string } | { fate: 'send'; payload: number } | { fate: 'undelivered' };

export async function redrive(objects: ReadObject[], deps: RedriveDeps, options: RedriveOptions): Promise<{ report: RedriveReport; error?: LakeError }> {
  const report: RedriveReport = {
    dryRun: options.dryRun,
    records: 0,
    toSend: 0,
    sent: 0,
    skipped: 0,
    stillFailing: 0,
    undelivered: 0,
    objects: 0,
    unreadableObjects: 0,
    deadLetter: null,
    batches: 0,
    retried: 0,
    failing: [],
    markFailures: [],
    archive: null,
  };
  const payloads: Uint8Array[] = [];
  const fates = new Map<ReadObject, Fate[]>();
  for (const object of objects) {
    if (object.problems.length > 0) {
      report.unreadableObjects++;
      deps.log.warn(`${object.ref.key} is not readable whole; it is left out of the redrive`);
      continue;
    }
    const list: Fate[] = [];
    for (const record of object.records) {
      const located = locate(record, object.ref, options);
      if (!located) {
        list.push({ fate: 'kept' });
        continue;
      }
      report.records++;
      const fate = await prepare(record, object.ref.key, located.time, deps);
      if (fate.fate === 'send') {
        list.push({ fate: 'send', payload: payloads.length });
        payloads.push(fate.bytes);
      } else list.push(fate);
    }
    fates.set(object, list);
  }
  report.toSend = payloads.length;
  const anySkipped = [...fates.values()].some((l) => l.some((f) => f.fate === 'skipped'));
  if (options.dryRun || (payloads.length === 0 && !anySkipped)) {
    return { report: finish(report, fates) };
  }

  let outcome: DeliveryOutcome = { notAccepted: new Map(), accepted: 0, deadLetter: null, batches: 0, retried: 0, interrupted: false };
  if (payloads.length > 0) outcome = await deps.deliver(payloads);
  report.deadLetter = outcome.deadLetter;
  report.batches = outcome.batches;
  report.retried = outcome.retried;
  for (const list of fates.values()) {
    list.forEach((fate, i) => {
      if (fate.fate !== 'send') return;
      const refused = outcome.notAccepted.get(fate.payload);
      if (!refused) return;
      list[i] = refused.stage === 'delivery' ? { fate: 'undelivered' } : { fate: 'failing', code: refused.code, message: refused.message };
    });
  }
  if (outcome.error || outcome.interrupted) {
    finish(report, fates);
    // Which payloads went is unknown; how many is not.
    report.sent = outcome.accepted;
    return { report, error: outcome.error };
  }

  const touched = [...fates].filter(([, list]) => list.some((f) => f.fate === 'send' || f.fate === 'skipped'));
  report.archive = `${deps.errorPrefix}${REDRIVEN_FOLDER}/${options.runId}/`;
  await mapConcurrent(touched, deps.concurrency, async ([object, list]) => {
    try {
      await mark(object, list, report.archive!, deps);
      report.objects++;
    } catch (err) {
      if (deps.signal?.aborted) throw err;
      report.markFailures.push({ key: object.ref.key, message: (err as Error).message });
    }
  });
  return { report: finish(report, fates) };
}

async function prepare(record: ErrorRecord, key: string, time: number, deps: RedriveDeps): Promise<Exclude<Fate, { fate: 'send' }> | { fate: 'send'; bytes: Uint8Array }> {
  let bytes: Uint8Array = record.rawData;
  if (deps.transform) {
    const before = convertRecord(record.rawData, deps.schema);
    const info = {
      type: record.type ?? null,
      code: record.code ?? null,
      message: record.message ?? null,
      key,
      arrival: new Date(time).toISOString(),
      ...(!before.ok && before.column !== undefined ? { column: before.column } : {}),
      ...(!before.ok && before.value !== undefined ? { value: before.value } : {}),
    };
    let out: ReturnType<typeof transformOutput>;
    try {
      out = transformOutput(await deps.transform(transformInput(record.rawData), info));
    } catch (err) {
      return { fate: 'failing', code: 'lake.TransformError', message: `the transform threw: ${(err as Error).message ?? String(err)}` };
    }
    if (out === null) return { fate: 'skipped' };
    if (!(out instanceof Uint8Array)) return { fate: 'failing', code: 'lake.TransformError', message: out.problem };
    bytes = out;
  }
  const result = convertRecord(bytes, deps.schema);
  if (!result.ok) return { fate: 'failing', code: result.code, message: result.message, ...(result.column !== undefined ? { column: result.column } : {}) };
  // One record a line for the NDJSON reader of the send path. The serde accepted strict
  // JSON, where a line break can only be whitespace between tokens.
  return { fate: 'send', bytes: oneLine(bytes) };
}

function oneLine(bytes: Uint8Array): Uint8Array {
  if (!bytes.includes(0x0a) && !bytes.includes(0x0d)) return bytes;
  return bytes.map((b) => (b === 0x0a || b === 0x0d ? 0x20 : b));
}

async function mark(object: ReadObject, fates: Fate[], archive: string, deps: RedriveDeps): Promise<void> {
  const key = object.ref.key;
  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, { retries: 4, baseMs: 200, maxMs: 5_000, signal: deps.signal, isRetryable: isTransient });
  await retry(() => deps.store.copy(deps.bucket, key, `${archive}${key.slice(deps.errorPrefix.length)}`, { signal: deps.signal }));
  const left = object.records.filter((_, i) => {
    const fate = fates[i]!.fate;
    return fate === 'kept' || fate === 'failing' || fate === 'undelivered';
  });
  if (left.length > 0) {
    // As Firehose writes them: concatenated, gzip when the object's name says so.
    const text = left.map((r) => JSON.stringify(r.fields)).join('');
    const body = key.endsWith('.gz') ? new Uint8Array(gzipSync(text)) : text;
    await retry(() => deps.store.put(deps.bucket, key, body, { signal: deps.signal }));
    return;
  }
  const result = await retry(() => deps.store.deleteMany(deps.bucket, [key], { signal: deps.signal }));
  if (result.errors.length > 0) throw new Error(`${result.errors[0]!.code}: ${result.errors[0]!.message}`);
}

function finish(report: RedriveReport, fates: Map<ReadObject, Fate[]>): RedriveReport {
  const failing = new Map<string, FailingGroup>();
  report.sent = report.skipped = report.stillFailing = report.undelivered = 0;
  for (const list of fates.values()) {
    for (const fate of list) {
      if (fate.fate === 'send') report.sent++;
      else if (fate.fate === 'skipped') report.skipped++;
      else if (fate.fate === 'undelivered') report.undelivered++;
      else if (fate.fate === 'failing') {
        report.stillFailing++;
        const id = `${fate.code}\u0000${fate.column ?? ''}`;
        const group = failing.get(id);
        if (group) group.count++;
        else failing.set(id, { code: fate.code || UNKNOWN, ...(fate.column !== undefined ? { column: fate.column } : {}), count: 1, message: fate.message });
      }
    }
  }
  if (report.dryRun) report.sent = 0;
  report.failing = [...failing.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code) || (a.column ?? '').localeCompare(b.column ?? ''));
  return report;
}
