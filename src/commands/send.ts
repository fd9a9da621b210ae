/** `lake send FILE... | -`: replay CSV, JSON or NDJSON into the delivery stream, losing nothing silently. */
import { Option } from 'commander';
import type { LakeContext } from '../lib/context.js';
import { ConfigError, InterruptedError, PartialError, type LakeError, toLakeError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';
import { formatDuration } from '../lib/output/progress.js';
import { serdeSchemaFromConfig } from '../lib/serde/index.js';
import { DEFAULT_CHECKPOINT, type SendFlags, applyCheckpointSettings, settingsFromFlags } from '../lib/send/flags.js';
import { type SendReport, sendInputs } from '../lib/send/pipeline.js';
import { displayPath, openSession } from '../lib/send/session.js';
import { deliveryTarget } from '../lib/send/target.js';
import { type Outcome, type Registrar, examples } from './command.js';

export async function runSend(ctx: LakeContext, flags: SendFlags, args: string[]): Promise<Outcome<SendReport>> {
  const settings = settingsFromFlags(flags, ctx.cwd);
  const config = ctx.config;
  if (config.columns.length === 0) throw new ConfigError('the table has no columns: send needs them to convert and check records', { hint: 'list them under "columns" in lake.config.json' });
  const session = openSession(args, ctx.cwd, settings, { resume: flags.resume ?? false, deadLetter: flags.deadLetter, start: ctx.now() });
  if (session.resume) {
    const changed = applyCheckpointSettings(settings, session.resume);
    if (changed.length > 0) ctx.out.warn(`resuming with the interrupted send's settings: ${changed.join(', ')}`);
  }
  // --validate-only needs no stream (nor credentials).
  const target = settings.validateOnly ? undefined : await deliveryTarget(config, await ctx.backend(), { version: ctx.version, log: ctx.out, kinesisStream: flags.kinesisStream });
  const totalMiB = session.inputs.every((i) => i.size !== undefined) ? Math.round((session.inputs.reduce((s, i) => s + i.size!, 0) / 2 ** 20) * 10) / 10 : undefined;
  const progress = ctx.out.progress({ label: settings.validateOnly ? 'checking' : 'sending', total: totalMiB, unit: 'MiB' });
  let result: Awaited<ReturnType<typeof sendInputs>> | undefined;
  try {
    result = await sendInputs(
      session.inputs,
      {
        stream: target?.stream,
        limits: target?.limits,
        schema: serdeSchemaFromConfig(config),
        stdin: ctx.io.stdin,
        log: ctx.out,
        signal: ctx.signal,
        now: ctx.now,
        progress,
      },
      { ...settings, deadLetterPath: session.deadLetterPath, deadLetterName: session.deadLetterName, resume: session.resume },
    );
    // Delivers what the stream buffers (the local emulator writes Parquet now), so a
    // delivery that fails is reported here rather than after the summary.
    await target?.stream.close().catch((err: unknown) => {
      result!.error ??= toLakeError(err);
    });
  } finally {
    await progress.finish();
    await target?.close();
  }
  const { report } = result;
  if (report.checkpoint) report.checkpoint = displayPath(report.checkpoint, ctx.cwd);
  return { data: report, view: renderSend, exit: exitFor(report, result.error) };
}

function exitFor(r: SendReport, error: LakeError | undefined): LakeError | undefined {
  if (r.interrupted) {
    return new InterruptedError(`interrupted: ${r.pending.toLocaleString('en-US')} rows not sent yet${r.checkpoint ? `; checkpoint saved in ${r.checkpoint}` : ''}`, {
      hint: r.checkpoint ? 'run the same command with --resume to continue' : undefined,
    });
  }
  if (error) return error;
  const failed = r.rejected + r.undelivered;
  if (failed > 0) {
    const what = [r.rejected > 0 ? `${r.rejected.toLocaleString('en-US')} rejected` : '', r.undelivered > 0 ? `${r.undelivered.toLocaleString('en-US')} undelivered` : ''].filter(Boolean).join(', ');
    return new PartialError(`${what} of ${(r.read + r.skipped).toLocaleString('en-US')} rows: see ${r.deadLetter}`, {
      hint: r.rejected > 0 ? 'each line of the dead-letter file names the row, the column and the Firehose error; fix them and send the file again' : 'the stream refused them after every retry; send the dead-letter rows again later',
    });
  }
  return undefined;
}

export function renderSend(r: SendReport): View {
  const row: Record<string, string | number> = r.validateOnly
    ? { read: r.read, valid: r.valid ?? 0, rejected: r.rejected, time: formatDuration(r.durationMs) }
    : { read: r.read, accepted: r.accepted, rejected: r.rejected, undelivered: r.undelivered, retried: r.retried, batches: r.batches, 'billed KB': r.packed ? `${r.billedKB} (unpacked ${r.billedKBUnpacked})` : r.billedKB, time: formatDuration(r.durationMs) };
  const notes: string[] = [];
  if (r.skipped > 0) notes.push(`${r.skipped.toLocaleString('en-US')} rows were settled by the interrupted send and skipped`);
  if (r.duplicatesPossible > 0) notes.push(`${r.duplicatesPossible.toLocaleString('en-US')} rows may have been delivered twice (sent again after a call got no answer, or in flight when a send stopped)`);
  if (r.pending > 0) notes.push(`${r.pending.toLocaleString('en-US')} rows not sent yet`);
  if (r.deadLetter) notes.push(`dead letters: ${r.deadLetter}`);
  return { kind: 'rows', title: `${r.validateOnly ? 'checked' : 'sent'} ${r.files.join(', ')}`, columns: Object.keys(row), rows: [row], footer: notes.length > 0 ? notes : undefined };
}

export const registerSend: Registrar = (parent, app) => {
  parent
    .command('send')
    .description('replay CSV, JSON or NDJSON files (or stdin) into the delivery stream: checked, batched, retried, resumable')
    .argument('[files...]', 'files or patterns ("logs/*.ndjson.gz"); - for stdin')
    .addOption(new Option('--format <format>', 'input format instead of the guess').choices(['csv', 'json', 'ndjson']))
    .option('--delimiter <char>', 'CSV field delimiter (\\t for tab; default , or tab for .tsv)')
    .option('--timestamp-format <pattern>', "how CSV timestamps are written, e.g. 'MM/dd/yyyy hh:mm:ss a' or '%d/%m/%Y %H:%M'")
    .option('--no-validate', 'send every record unchecked, as a producer would; failures land under the error prefix')
    .option('--validate-only', 'check every record against the table and report; send nothing')
    .option('--dead-letter <file>', 'where rows not delivered go (default lake-dead-letter-<time>.ndjson, created only if needed)')
    .option('--pack', 'pack rows into records of up to ~1,000 KiB: fewer records, lower ingestion cost')
    .option('--concurrency <n>', 'calls in flight', '4')
    .option('--rate <n>', 'at most this many records a second')
    .option('--max-retries <n>', 'retry rounds for a failed record before it is dead-lettered', '8')
    .option('--timeout <seconds>', 'a call with no answer after this long is retried', '30')
    .option('--resume', 'continue an interrupted send from its checkpoint')
    .option('--checkpoint <file>', 'checkpoint file', DEFAULT_CHECKPOINT)
    .option('--no-checkpoint', 'keep no checkpoint (an interrupted send cannot be resumed)')
    .option('--kinesis-stream <name>', 'with kinesisSource: the data stream (default <stream>-source)')
    .addOption(new Option('--retry-delay <ms>', 'first backoff delay').default('100').hideHelp())
    .addHelpText(
      'after',
      examples(
        ['lake send events.csv', 'check each row against the table, send the good ones, dead-letter the rest'],
        ['cat events.json | lake send - --validate-only', 'report what Firehose would reject, send nothing'],
        ['lake send --resume', 'continue after Ctrl-C or a crash without re-sending accepted rows'],
      ) + '\nExit: 0 all accepted, 3 some rejected or undelivered (see the dead-letter file), 2 unreadable input, 5 credentials, 130 interrupted.\n',
    )
    .action(app.action<SendFlags>((ctx, flags, args) => runSend(ctx, flags, args)));
};
