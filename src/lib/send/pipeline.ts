/**
 * `lake send` from inputs to settled rows: read (streaming, chunk by chunk), prepare and
 * check each row, set aside what cannot be sent, pack and batch the rest, and hand the
 * batches to the dispatcher, which holds reading back when enough are open. Every row
 * read ends accepted, in the dead-letter file, or (interrupted) pending in the checkpoint.
 */
import { existsSync } from 'node:fs';
import { InputError, type LakeError, toLakeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Progress } from '../output/progress.js';
import type { DeliveryStream } from '../ports.js';
import type { InputFile } from '../records/input.js';
import { openReader } from '../records/reader.js';
import type { TimestampFormat } from '../records/timestamp-format.js';
import type { RecordFormat, SourceRecord } from '../records/types.js';
import type { SerdeSchema } from '../serde/index.js';
import { Batcher, type DeliveryLimits, FIREHOSE_LIMITS, Packer, type SendItem, type SendRow, billedKB, maxRecordData } from './batching.js';
import { type CheckpointDoc, InputLedger, removeCheckpoint, writeCheckpoint } from './checkpoint.js';
import { DeadLetterFile } from './dead-letter.js';
import { type Batch, Dispatcher } from './dispatcher.js';
import { type RowProblem, rowPreparer } from './prepare.js';
import { type SendResult, emptyReport } from './report.js';
import { RowChecker } from './row-check.js';

export type { SendReport, SendResult } from './report.js';

export interface SendSettings {
  validate: boolean;
  validateOnly: boolean;
  pack: boolean;
  concurrency: number;
  rate?: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  callTimeoutMs: number;
  /** How long calls in flight may take to answer after Ctrl-C. */
  graceMs: number;
  format?: RecordFormat;
  delimiter?: string;
  timestampFormat?: TimestampFormat;
  /** Absolute path to write; `deadLetterName` is how the report names it. */
  deadLetterPath: string;
  deadLetterName: string;
  /** Absolute path; undefined: no checkpoint. */
  checkpointPath?: string;
  /** The checkpoint being resumed, already matched to the inputs. */
  resume?: CheckpointDoc;
}

export interface SendEnv {
  /** Undefined with --validate-only, which sends nothing. */
  stream?: DeliveryStream;
  limits?: DeliveryLimits;
  schema: SerdeSchema;
  stdin: NodeJS.ReadableStream;
  log: Logger;
  /** Ctrl-C. */
  signal: AbortSignal;
  now: () => Date;
  progress?: Progress;
  /** Tests: jitter and waiting. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const PROGRESS_INTERVAL_MS = 200;

/** The stream of a send that sends nothing (--validate-only): never called. */
const NOTHING_SENT: DeliveryStream = {
  describe: () => Promise.resolve(undefined),
  putRecordBatch: () => Promise.reject(new Error('--validate-only sends nothing')),
  close: () => Promise.resolve(),
};
const MiB = 1024 * 1024;

export async function sendInputs(inputs: InputFile[], env: SendEnv, settings: SendSettings): Promise<SendResult> {
  const started = Date.now();
  const report = emptyReport(inputs, settings);

  const ledgers = inputs.map((input, i) => new InputLedger(input, settings.resume?.inputs[i]));
  const deadLetter = new DeadLetterFile(settings.deadLetterPath);
  const startedAt = env.now().toISOString();
  const checkpointing = settings.checkpointPath !== undefined && !settings.validateOnly;
  const saveCheckpoint = () => {
    if (!checkpointing) return;
    const doc: CheckpointDoc = {
      version: 1,
      startedAt: settings.resume?.startedAt ?? startedAt,
      updatedAt: env.now().toISOString(),
      deadLetter: settings.deadLetterPath,
      settings: { pack: settings.pack, validate: settings.validate },
      inputs: ledgers.map((l) => l.toJSON()),
    };
    if (settings.format) doc.settings.format = settings.format;
    if (settings.delimiter) doc.settings.delimiter = settings.delimiter;
    if (settings.timestampFormat) doc.settings.timestampFormat = settings.timestampFormat.pattern;
    writeCheckpoint(settings.checkpointPath!, doc);
  };

  const deadLetterRow = (row: Pick<SendRow, 'input' | 'line' | 'raw'>, p: RowProblem & { stage: 'validation' | 'delivery'; attempts?: number; possiblyDelivered?: boolean }) => {
    deadLetter.write({
      file: inputs[row.input]!.name,
      line: row.line,
      ...(p.column !== undefined ? { column: p.column } : {}),
      ...(p.value !== undefined ? { value: p.value } : {}),
      code: p.code,
      message: p.message,
      stage: p.stage,
      ...(p.attempts !== undefined ? { attempts: p.attempts } : {}),
      ...(p.possiblyDelivered ? { possiblyDelivered: true } : {}),
      text: row.raw.toString('utf8'),
    });
  };

  const settleRows = (batch: Batch) => {
    // Rows of a batch are consecutive per input: settle each input's span at once.
    let current: { input: number; from: number; last: SendRow } | undefined;
    const flush = () => {
      if (current) ledgers[current.input]!.settle(current.from, current.last.seq + 1, current.last.end, current.last.endLine);
    };
    for (const item of batch.items) {
      for (const row of item.rows) {
        if (current && current.input === row.input) current.last = row;
        else {
          flush();
          current = { input: row.input, from: row.seq, last: row };
        }
      }
    }
    flush();
  };

  const spans = (batch: Batch) => {
    const out = new Map<number, [number, number]>();
    for (const item of batch.items) {
      for (const row of item.rows) {
        const span = out.get(row.input);
        if (span) span[1] = row.seq + 1;
        else out.set(row.input, [row.seq, row.seq + 1]);
      }
    }
    return out;
  };

  const limits = env.limits ?? FIREHOSE_LIMITS;
  const dispatcher = new Dispatcher(
    env.stream ?? NOTHING_SENT,
    {
      concurrency: settings.concurrency,
      maxRetries: settings.maxRetries,
      baseDelayMs: settings.retryBaseMs,
      maxDelayMs: settings.retryMaxMs,
      callTimeoutMs: settings.callTimeoutMs,
      rate: settings.rate,
      random: env.random,
      sleep: env.sleep,
    },
    {
      beforeFirstCall(batch) {
        for (const [input, [from, to]] of spans(batch)) ledgers[input]!.startCall(batch.id, from, to);
        saveCheckpoint();
      },
      accepted(item) {
        report.accepted += item.rows.length;
        report.records++;
        report.billedKB += billedKB(item.data.length);
        for (const row of item.rows) report.billedKBUnpacked += billedKB(row.payload.length);
        report.duplicatesPossible += item.maybeDelivered ? item.rows.length : item.rows.filter((r) => r.maybeDelivered).length;
      },
      undelivered(item, failure) {
        report.undelivered += item.rows.length;
        for (const row of item.rows) deadLetterRow(row, { ...failure, stage: 'delivery', possiblyDelivered: item.maybeDelivered || row.maybeDelivered });
      },
      settled(batch) {
        for (const input of spans(batch).keys()) ledgers[input]!.endCall(batch.id);
        settleRows(batch);
      },
      released(batch) {
        for (const input of spans(batch).keys()) ledgers[input]!.endCall(batch.id);
      },
    },
  );

  const checking = settings.validate || settings.validateOnly;
  const checker = checking ? new RowChecker(env.schema, env.log) : undefined;
  const maxBytes = maxRecordData(limits);
  const packer = settings.pack ? new Packer(Math.min(maxBytes, 1000 * 1024)) : undefined;
  const batcher = new Batcher(settings.rate !== undefined && settings.rate < limits.recordsPerCall ? { ...limits, recordsPerCall: Math.max(1, Math.floor(settings.rate)) } : limits);
  let batchIds = 0;
  const submit = async (items: SendItem[] | undefined) => {
    if (items) await dispatcher.submit({ id: batchIds++, items });
  };
  /** The batch the item completes, if any (kept synchronous: rows are many, batches few). */
  const enqueue = (item: SendItem | undefined): SendItem[] | undefined => (item ? batcher.add(item) : undefined);

  const progress = env.progress;
  let doneBytes = 0;
  let lastProgress = 0;
  const showProgress = (bytes: number, force = false) => {
    const t = Date.now();
    if (!progress || (!force && t - lastProgress < PROGRESS_INTERVAL_MS)) return;
    lastProgress = t;
    const seconds = Math.max((t - started) / 1000, 0.001);
    progress.update(Math.round((bytes / MiB) * 10) / 10, {
      records: report.read,
      'records/s': Math.round(report.read / seconds),
      retries: dispatcher.stats.retried,
      rejected: report.rejected + report.undelivered,
    });
  };

  const stopping = () => env.signal.aborted || dispatcher.stopped;
  // Ctrl-C stops the dispatcher at once: no new calls, no more retries.
  const onAbort = () => dispatcher.stop(settings.graceMs);
  env.signal.addEventListener('abort', onAbort, { once: true });
  if (env.signal.aborted) onAbort();
  let error: LakeError | undefined;
  let readAll = true;

  try {
    for (let index = 0; index < inputs.length && !stopping(); index++) {
      const input = inputs[index]!;
      const ledger = ledgers[index]!;
      if (ledger.complete) {
        report.skipped += ledger.rows ?? 0;
        doneBytes += input.size ?? 0;
        continue;
      }
      const from = ledger.watermark();
      const reader = await openReader(input, env.stdin, {
        format: settings.format,
        delimiter: settings.delimiter,
        resume: from.seq > 0 && ledger.format ? { position: from, format: ledger.format, layout: ledger.layout, header: ledger.header } : undefined,
      });
      report.skipped += from.seq;
      ledger.format = reader.format;
      ledger.layout = reader.layout;
      ledger.header = reader.header;
      const preparer = rowPreparer(reader, { schema: env.schema, timestampFormat: settings.timestampFormat, maxBytes });
      let rows = from.seq;
      let finished = false;
      // Chunk k is encoded and sent to be checked while chunk k-1 is batched and sent.
      let previous: Promise<void> = Promise.resolve();
      try {
        for await (const records of reader.records()) {
          if (stopping()) break;
          const last = records.at(-1);
          if (last) rows = last.seq + 1;
          const prepared = new Array<Buffer | RowProblem | undefined>(records.length);
          const checked: number[] = [];
          for (let i = 0; i < records.length; i++) {
            const record = records[i]!;
            if (ledger.isSettled(record.seq)) continue;
            const encoded = preparer.encode(record);
            prepared[i] = encoded;
            if (checking && Buffer.isBuffer(encoded)) checked.push(i);
          }
          const verdicts = checker ? checker.check(checked.map((i) => prepared[i] as Buffer)) : [];
          const prior = previous;
          previous = (async () => {
            await prior;
            for (const [k, failure] of await verdicts) {
              const i = checked[k]!;
              prepared[i] = preparer.explain(records[i]!, failure);
            }
            for (let i = 0; i < records.length; i++) {
              if (stopping()) return;
              const p = prepared[i];
              if (p === undefined) {
                report.skipped++;
                continue;
              }
              report.read++;
              const full = handle(index, ledger, records[i]!, p);
              if (full) await submit(full);
            }
            showProgress(doneBytes + reader.rawBytesRead());
          })();
          await prior;
        }
        await previous;
        finished = !stopping();
      } finally {
        await previous.catch(() => undefined);
        await reader.close().catch(() => undefined);
      }
      for (const note of preparer.notes()) env.log.warn(note);
      if (finished) ledger.rows = rows;
      else readAll = false;
      doneBytes += input.size ?? reader.rawBytesRead();
    }
  } catch (err) {
    // Unreadable input stops reading; what was read is still delivered. Anything else
    // stops the send as well.
    error = toLakeError(err);
    readAll = false;
    if (!(error instanceof InputError)) dispatcher.stop(settings.graceMs);
  }

  /** Settles, or packs and batches, one row; returns a batch ready to go. */
  function handle(index: number, ledger: InputLedger, record: SourceRecord, prepared: Buffer | RowProblem): SendItem[] | undefined {
    if (!Buffer.isBuffer(prepared)) {
      report.rejected++;
      deadLetterRow({ input: index, line: record.line, raw: record.raw }, { ...prepared, stage: 'validation' });
      ledger.settle(record.seq, record.seq + 1, record.end, record.endLine);
      return;
    }
    if (settings.validateOnly) {
      report.valid!++;
      return;
    }
    const row: SendRow = { input: index, seq: record.seq, line: record.line, end: record.end, endLine: record.endLine, raw: record.raw, payload: prepared };
    if (ledger.wasInFlight(record.seq)) row.maybeDelivered = true;
    return enqueue(packer ? packer.add(row) : { data: prepared, rows: [row] });
  }

  // Whatever is still packed or batched goes too, unless the send was stopped.
  if (!stopping()) {
    if (packer) await submit(enqueue(packer.flush()));
    await submit(batcher.flush());
  }
  await dispatcher.drain();
  env.signal.removeEventListener('abort', onAbort);
  await checker?.close();
  showProgress(doneBytes, true);
  deadLetter.close();

  report.retried = dispatcher.stats.retried;
  report.batches = dispatcher.stats.calls;
  report.interrupted = env.signal.aborted;
  report.pending = report.read - report.accepted - report.rejected - report.undelivered - (report.valid ?? 0);
  if (deadLetter.count > 0 || (settings.resume !== undefined && existsSync(settings.deadLetterPath))) report.deadLetter = settings.deadLetterName;
  if (dispatcher.fatal !== undefined) error ??= toLakeError(dispatcher.fatal);

  if (checkpointing) {
    const complete = readAll && !report.interrupted && error === undefined && ledgers.every((l) => l.complete);
    if (complete) removeCheckpoint(settings.checkpointPath!);
    else {
      saveCheckpoint();
      report.checkpoint = settings.checkpointPath!;
    }
  }
  report.durationMs = Date.now() - started;
  return error ? { report, error } : { report };
}
