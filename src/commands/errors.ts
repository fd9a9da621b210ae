/** `lake errors`: see, explain and redrive the records Firehose could not deliver. */
import type { Command } from 'commander';
import type { LakeContext } from '../lib/context.js';
import { InterruptedError, type LakeError, PartialError, UsageError } from '../lib/errors.js';
import { deliverThroughSend } from '../lib/error-scan/deliver.js';
import { isErrorOutputType } from '../lib/error-scan/listing.js';
import { redrive } from '../lib/error-scan/redrive.js';
import { rawLine } from '../lib/error-scan/samples.js';
import { scanErrors } from '../lib/error-scan/scan.js';
import { tableSchema } from '../lib/error-scan/schema.js';
import { loadTransform } from '../lib/error-scan/transform.js';
import { type ErrorsDocument, renderErrors } from '../lib/error-scan/view.js';
import { parseWindow } from '../lib/error-scan/window.js';
import { toJson } from '../lib/output/render.js';
import { type CommandApp, type Outcome, examples } from './command.js';

export interface ErrorsFlags {
  since?: string;
  until?: string;
  type?: string[];
  samples?: string;
  raw?: boolean;
  failOnErrors?: boolean;
  redrive?: boolean;
  dryRun?: boolean;
  transform?: string;
  deadLetter?: string;
  concurrency: string;
}

function whole(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

function checkFlags(f: ErrorsFlags): void {
  const unknown = (f.type ?? []).find((t) => !isErrorOutputType(t));
  if (unknown !== undefined) throw new UsageError(`--type: '${unknown}' is not an error output type`, { hint: 'format-conversion-failed, processing-failed, partitioning-failed, decompression-failed, ...' });
  if (f.raw && (f.samples !== undefined || f.redrive)) throw new UsageError('--raw prints every record; it does not go with --samples or --redrive');
  if (!f.redrive && (f.dryRun || f.transform !== undefined || f.deadLetter !== undefined)) throw new UsageError('--dry-run, --transform and --dead-letter go with --redrive');
}

export async function runErrors(ctx: LakeContext, flags: ErrorsFlags): Promise<Outcome<ErrorsDocument> | undefined> {
  checkFlags(flags);
  const window = parseWindow(flags.since, flags.until, ctx.now());
  const samples = flags.samples === undefined ? 0 : whole('--samples', flags.samples, 1, 1000);
  const concurrency = whole('--concurrency', flags.concurrency, 1, 128);
  const types = flags.type?.length ? flags.type : undefined;
  const config = ctx.config;
  const transform = flags.transform === undefined ? undefined : await loadTransform(flags.transform, ctx.cwd);
  const backend = await ctx.backend();
  const schema = samples > 0 || flags.redrive ? await tableSchema(backend.catalog, config, ctx.out) : undefined;

  const progress = ctx.out.progress({ label: 'reading error objects', unit: 'objects' });
  let scan: Awaited<ReturnType<typeof scanErrors>>;
  try {
    scan = await scanErrors(backend.store, config, {
      window, types, concurrency, signal: ctx.signal, samples, schema, progress, keepObjects: flags.redrive,
      onRecord: flags.raw ? (located) => ctx.out.write(`${toJson(rawLine(located))}\n`) : undefined,
    });
  } finally {
    await progress.finish();
  }
  const doc: ErrorsDocument = scan.report;
  for (const u of doc.unreadable) ctx.out.warn(`${u.key}: ${u.problems[0]!.message}${u.problems.length > 1 ? ` (and ${u.problems.length - 1} more problems)` : ''}`);
  const found = doc.total + doc.unreadable.length;
  const gate = flags.failOnErrors && found > 0
    ? new PartialError(`${doc.total} error records${doc.unreadable.length ? ` and ${doc.unreadable.length} unreadable objects` : ''} from ${doc.since} to ${doc.until}`, { hint: '`lake errors --samples 3` shows what failed and why' })
    : undefined;
  if (flags.raw) {
    if (gate) throw gate;
    return undefined;
  }

  let exit: LakeError | undefined = gate;
  if (flags.redrive) {
    const deps = { config, backend, schema: schema!, version: ctx.version, log: ctx.out, signal: ctx.signal, now: ctx.now, cwd: ctx.cwd, deadLetter: flags.deadLetter, progress: () => ctx.out.progress({ label: 'redriving', unit: 'MiB' }) };
    const result = await redrive(
      scan.objects,
      { store: backend.store, bucket: config.bucket, errorPrefix: config.errorPrefix, schema: schema!, transform, log: ctx.out, signal: ctx.signal, concurrency, deliver: (payloads) => deliverThroughSend(payloads, deps) },
      { window, types, dryRun: flags.dryRun ?? false, runId: ctx.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z') },
    );
    const r = (doc.redrive = result.report);
    if (result.error) exit = result.error;
    else if (ctx.signal.aborted) exit = new InterruptedError(`interrupted: ${r.sent} records were accepted; nothing was marked redriven`, { hint: 'a new redrive sends them again: Firehose may get them twice' });
    else if (r.stillFailing + r.undelivered + r.markFailures.length > 0) {
      exit = new PartialError(`redrive incomplete: still failing ${r.stillFailing}, not delivered ${r.undelivered}${r.markFailures.length ? `, objects not marked ${r.markFailures.length}` : ''}`, {
        hint: r.stillFailing > 0 ? '`lake errors --samples 3` names the failing columns; fix them in the --transform module and redrive again' : 'run the redrive again later',
      });
    }
  }
  return { data: doc, view: renderErrors, exit };
}

export function registerErrors(parent: Command, app: CommandApp): void {
  parent
    .command('errors')
    .description('list, group and explain the records Firehose could not deliver; --fail-on-errors for CI; --redrive re-sends them')
    .option('--since <time>', 'start of the window: a duration back (24h, 7d), a date or an ISO time', '24h')
    .option('--until <time>', 'end of the window (default: now)')
    .option('--type <types...>', 'only these error output types (format-conversion-failed, processing-failed, ...)')
    .option('--samples <n>', 'decode n records a group, naming the column and value that failed')
    .option('--raw', 'every record as NDJSON with rawData decoded, for piping')
    .option('--fail-on-errors', 'exit 3 when the window holds any error record (a CI gate)')
    .option('--redrive', 'send the records again through the send path, then move their objects under redriven/')
    .option('--dry-run', 'with --redrive: check and count, send and move nothing')
    .option('--transform <file>', 'with --redrive: an .mjs module exporting a function record -> fixed record, or null to leave it out')
    .option('--dead-letter <file>', 'with --redrive: where records the stream refuses go (default lake-dead-letter-<time>.ndjson)')
    .option('--concurrency <n>', 'objects read at once', '16')
    .addHelpText('after', examples(
      ['lake errors', 'error records of the last 24 hours, grouped by type and code'],
      ['lake errors --fail-on-errors --since 1h', 'CI gate: exit 3 if anything failed in the last hour'],
      ['lake errors --redrive --transform fix.mjs --dry-run', 'how many records the fix repairs, without sending'],
    ) + '\nA transform gets the record (the JSON object, or the text when it is not one object) and\n{ type, code, message, column, value, key, arrival }; it returns the fixed record or null.\n' +
      '\nExit: 0 ok, 3 errors found with --fail-on-errors or records still failing after --redrive, 2 bad flags, 5 credentials.\n')
    .action(app.action<ErrorsFlags>((ctx, flags) => runErrors(ctx, flags)));
}
