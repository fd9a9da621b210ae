/**
 * Redriven records go through `lake send`'s own path (src/lib/send): the same delivery
 * target (Firehose, or the Kinesis source stream), validation, batching to PutRecordBatch's
 * limits, retries of the failed entries with backoff, and the dead-letter file. The
 * records are handed to it as an NDJSON input, one a line; the dead-letter entries it
 * writes for this input name the line, which is how a refused record is traced back to
 * its error object.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { LakeConfig } from '../config.js';
import { toLakeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Progress } from '../output/progress.js';
import type { Backend } from '../ports.js';
import type { SerdeSchema } from '../serde/index.js';
import { type DeadLetterEntry, defaultDeadLetterName } from '../send/dead-letter.js';
import { settingsFromFlags } from '../send/flags.js';
import { sendInputs } from '../send/pipeline.js';
import { displayPath } from '../send/session.js';
import { deliveryTarget } from '../send/target.js';
import type { DeliveryOutcome, NotAccepted } from './redrive.js';

/** How the redriven records are named in the dead-letter file. */
export const REDRIVE_INPUT = 'lake-errors-redrive';

export interface SendPathDeps {
  config: LakeConfig;
  backend: Backend;
  schema: SerdeSchema;
  version: string;
  log: Logger;
  signal: AbortSignal;
  now: () => Date;
  cwd: string;
  /** Starts the progress display of the sending; finished here. */
  progress?: () => Progress;
  /** --dead-letter; default: send's `lake-dead-letter-<time>.ndjson`. */
  deadLetter?: string;
}

export async function deliverThroughSend(payloads: Uint8Array[], deps: SendPathDeps): Promise<DeliveryOutcome> {
  // `lake send`'s defaults, read through its own flag parsing.
  const settings = settingsFromFlags({ validate: true, format: 'ndjson', concurrency: '4', maxRetries: '8', timeout: '30', checkpoint: false, retryDelay: '100' }, deps.cwd);
  const deadLetterName = deps.deadLetter ?? defaultDeadLetterName(deps.now());
  const deadLetterPath = resolve(deps.cwd, deadLetterName);
  // The file may exist (a named one is appended to): only what this run adds is ours.
  const sizeBefore = existsSync(deadLetterPath) ? statSync(deadLetterPath).size : 0;

  const target = await deliveryTarget(deps.config, deps.backend, { version: deps.version, log: deps.log });
  const lines = function* () {
    for (const payload of payloads) {
      yield Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      yield Buffer.from('\n');
    }
  };
  let result: Awaited<ReturnType<typeof sendInputs>> | undefined;
  const progress = deps.progress?.();
  try {
    result = await sendInputs(
      [{ name: REDRIVE_INPUT }],
      { stream: target.stream, limits: target.limits, schema: deps.schema, stdin: Readable.from(lines()), log: deps.log, signal: deps.signal, now: deps.now, progress },
      { ...settings, deadLetterPath, deadLetterName },
    );
    // Delivers what the stream buffers (the local emulator writes now), as `lake send` does.
    await target.stream.close().catch((err: unknown) => {
      result!.error ??= toLakeError(err);
    });
  } finally {
    await progress?.finish();
    await target.close();
  }
  const { report } = result;
  const notAccepted = new Map<number, NotAccepted>();
  if (report.rejected + report.undelivered > 0) {
    const added = readFileSync(deadLetterPath).subarray(sizeBefore).toString('utf8');
    for (const line of added.split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line) as DeadLetterEntry;
      if (entry.file === REDRIVE_INPUT) notAccepted.set(entry.line - 1, { code: entry.code, message: entry.message, stage: entry.stage });
    }
  }
  return {
    notAccepted,
    accepted: report.accepted,
    deadLetter: report.deadLetter === null ? null : displayPath(deadLetterPath, deps.cwd),
    batches: report.batches,
    retried: report.retried,
    ...(result.error ? { error: result.error } : {}),
    interrupted: report.interrupted,
  };
}
