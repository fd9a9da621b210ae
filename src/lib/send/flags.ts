/**
 * `lake send`'s flags, checked and turned into settings (pure: paths are resolved against
 * the directory given, nothing is read).
 */
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { compileTimestampFormat } from '../records/timestamp-format.js';
import { RECORD_FORMATS, type RecordFormat } from '../records/types.js';
import type { CheckpointDoc } from './checkpoint.js';
import type { SendSettings } from './pipeline.js';

export interface SendFlags {
  format?: string;
  delimiter?: string;
  timestampFormat?: string;
  validate: boolean;
  validateOnly?: boolean;
  deadLetter?: string;
  pack?: boolean;
  concurrency: string;
  rate?: string;
  maxRetries: string;
  timeout: string;
  resume?: boolean;
  checkpoint: string | false;
  kinesisStream?: string;
  retryDelay: string;
}

export const DEFAULT_CHECKPOINT = '.lake-send-checkpoint.json';

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: expected a number above 0, got '${value}'`);
  return n;
}

/** Settings from the flags; the dead-letter and checkpoint paths are filled in by the caller. */
export function settingsFromFlags(flags: SendFlags, cwd: string): Omit<SendSettings, 'deadLetterPath' | 'deadLetterName'> {
  if (flags.validateOnly && !flags.validate) throw new UsageError('--validate-only and --no-validate contradict each other', { hint: '--validate-only checks and sends nothing; --no-validate sends without checking' });
  if (flags.format !== undefined && !RECORD_FORMATS.includes(flags.format as RecordFormat)) {
    throw new UsageError(`--format: expected one of ${RECORD_FORMATS.join(', ')}, got '${flags.format}'`);
  }
  if (flags.delimiter !== undefined && Buffer.byteLength(flags.delimiter === '\\t' ? '\t' : flags.delimiter) !== 1) {
    throw new UsageError(`--delimiter: expected one single-byte character (or \\t), got '${flags.delimiter}'`);
  }
  const settings: Omit<SendSettings, 'deadLetterPath' | 'deadLetterName'> = {
    validate: flags.validate,
    validateOnly: flags.validateOnly ?? false,
    pack: flags.pack ?? false,
    concurrency: wholeNumber('--concurrency', flags.concurrency, 1, 64),
    maxRetries: wholeNumber('--max-retries', flags.maxRetries, 0, 100),
    retryBaseMs: wholeNumber('--retry-delay', flags.retryDelay, 0, 60_000),
    retryMaxMs: 20_000,
    callTimeoutMs: Math.round(positive('--timeout', flags.timeout) * 1000),
    graceMs: 5_000,
  };
  if (flags.rate !== undefined) settings.rate = positive('--rate', flags.rate);
  if (flags.format !== undefined) settings.format = flags.format as RecordFormat;
  if (flags.delimiter !== undefined) settings.delimiter = flags.delimiter === '\\t' ? '\t' : flags.delimiter;
  if (flags.timestampFormat !== undefined) settings.timestampFormat = compileTimestampFormat(flags.timestampFormat);
  if (flags.checkpoint !== false && !settings.validateOnly) settings.checkpointPath = resolve(cwd, flags.checkpoint);
  if (flags.resume && settings.checkpointPath === undefined) throw new UsageError('--resume needs the checkpoint: it cannot go with --no-checkpoint or --validate-only');
  return settings;
}

/**
 * A resumed send sends rows exactly as the interrupted one did: the settings that shape a
 * record come from the checkpoint. Returns what differed from the flags, to say so.
 */
export function applyCheckpointSettings(settings: Omit<SendSettings, 'deadLetterPath' | 'deadLetterName'>, doc: CheckpointDoc): string[] {
  const changed: string[] = [];
  const saved = doc.settings;
  if (settings.pack !== saved.pack) changed.push(saved.pack ? '--pack' : 'no --pack');
  settings.pack = saved.pack;
  if (settings.validate !== saved.validate) changed.push(saved.validate ? 'validation' : '--no-validate');
  settings.validate = saved.validate;
  if (saved.format !== settings.format) changed.push(saved.format ? `--format ${saved.format}` : 'no --format');
  settings.format = saved.format;
  if (saved.delimiter !== settings.delimiter) changed.push(saved.delimiter ? `--delimiter ${JSON.stringify(saved.delimiter)}` : 'no --delimiter');
  settings.delimiter = saved.delimiter;
  if (saved.timestampFormat !== settings.timestampFormat?.pattern) changed.push(saved.timestampFormat ? `--timestamp-format '${saved.timestampFormat}'` : 'no --timestamp-format');
  settings.timestampFormat = saved.timestampFormat ? compileTimestampFormat(saved.timestampFormat) : undefined;
  return changed;
}
