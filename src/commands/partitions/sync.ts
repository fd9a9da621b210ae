/** `lake partitions sync`: make the catalog's partitions match what storage holds. */
import type { Command } from 'commander';
import type { LakeContext } from '../../lib/context.js';
import { PartialError, UsageError } from '../../lib/errors.js';
import type { View } from '../../lib/output/render.js';
import { parseSince } from '../../lib/partitions.js';
import { type SyncReport, syncPartitions } from '../../lib/partition-sync.js';
import { type CommandApp, type Outcome, examples } from '../command.js';

export interface SyncFlags {
  dryRun?: boolean;
  prune?: boolean;
  since?: string;
  concurrency: string;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export async function runSync(ctx: LakeContext, flags: SyncFlags): Promise<Outcome<SyncReport>> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency: expected a whole number from 1 to 64, got '${flags.concurrency}'`);
  const since = flags.since === undefined ? undefined : parseSince(flags.since, ctx.now());
  if (flags.since !== undefined && !since) throw new UsageError(`--since: cannot read '${flags.since}'`, { hint: 'use a date (2024-05-17), a date and hour (2024-05-17T13) or a duration (48h, 7d)' });
  const backend = await ctx.backend();
  const report = await syncPartitions(
    { store: backend.store, catalog: backend.catalog, config: ctx.config, now: ctx.now },
    { dryRun: flags.dryRun ?? false, prune: flags.prune ?? false, since, concurrency, signal: ctx.signal, log: ctx.out },
  );
  const problems = report.anomalies.length + report.failures.length;
  let exit: PartialError | undefined;
  if (report.failures.length > 0) exit = new PartialError(`${plural(report.failures.length, 'partition write', 'partition writes')} failed after retries`, { hint: 'run `lake partitions sync` again; --debug shows each call' });
  else if (report.projection === null && problems > 0) exit = new PartialError(`${plural(report.anomalies.length, 'prefix does', 'prefixes do')} not fit the partition layout and ${report.anomalies.length === 1 ? 'was' : 'were'} not registered`, { hint: 'move or delete the objects listed under anomalies' });
  return { data: report, view: renderSync, exit };
}

export function renderSync(r: SyncReport): View {
  const summary: View = {
    kind: 'rows',
    title: `${r.dryRun ? 'plan for' : 'synced'} ${r.table}`,
    columns: ['listed', 'registered', r.dryRun ? 'to add' : 'added', r.dryRun ? 'to drop' : 'dropped', r.dryRun ? 'to update' : 'updated', 'anomalies', 'api calls', 'time'],
    rows: [
      {
        listed: r.listed,
        registered: r.registered,
        [r.dryRun ? 'to add' : 'added']: r.dryRun ? (r.plan?.add.length ?? 0) : r.added,
        [r.dryRun ? 'to drop' : 'dropped']: r.dryRun ? (r.plan?.drop.length ?? 0) : r.dropped,
        [r.dryRun ? 'to update' : 'updated']: r.dryRun ? (r.plan?.update.length ?? 0) : r.updated,
        anomalies: r.anomalies.length,
        'api calls': Object.entries(r.apiCalls).map(([k, v]) => `${k} ${v}`).join(', '),
        time: `${r.durationMs}ms`,
      },
    ],
  };
  const sections: View[] = [summary];
  if (r.projection) sections.push({ kind: 'text', text: `partition projection is on: nothing registered; ${r.projection.outside.length} partitions outside the projection${r.projection.outside.map((o) => `\n  ${o.values.join('/')}: ${o.reason}`).join('')}` });
  if (r.dryRun && r.plan) {
    const rows = [
      ...r.plan.add.map((v) => ({ action: 'add', partition: v.join('/'), detail: '' })),
      ...r.plan.update.map((u) => ({ action: 'update', partition: u.values.join('/'), detail: `${u.from} -> ${u.to}` })),
      ...r.plan.drop.map((v) => ({ action: 'drop', partition: v.join('/'), detail: '' })),
    ];
    if (rows.length > 0) sections.push({ kind: 'rows', columns: ['action', 'partition', 'detail'], rows: rows.slice(0, 50), footer: rows.length > 50 ? [`... and ${rows.length - 50} more (-o json lists all)`] : undefined });
  }
  if (r.anomalies.length > 0) sections.push({ kind: 'rows', title: 'anomalies (not registered)', columns: ['path', 'reason'], rows: r.anomalies.slice(0, 50) as never[], footer: r.anomalies.length > 50 ? [`... and ${r.anomalies.length - 50} more`] : undefined });
  if (r.failures.length > 0) sections.push({ kind: 'rows', title: 'failed writes', columns: ['partition', 'code', 'message'], rows: r.failures.map((f) => ({ partition: f.values.join('/'), code: f.code, message: f.message })) });
  return { kind: 'sections', sections };
}

export function registerSync(parent: Command, app: CommandApp): void {
  parent
    .command('sync')
    .description('register the partitions found in storage, repair moved ones, and with --prune drop the vanished')
    .option('--dry-run', 'print the plan (adds, drops, updates) and write nothing')
    .option('--prune', 'drop registered partitions that have no objects left')
    .option('--since <date>', 'only partitions at or after a date (2024-05-17, 2024-05-17T13) or a duration back (48h, 7d)')
    .option('--concurrency <n>', 'listing and catalog calls in flight', '8')
    .addHelpText(
      'after',
      examples(
        ['lake partitions sync --dry-run', 'show what would be added, updated and dropped'],
        ['lake partitions sync --since 48h', 'cheap incremental run for cron or CI'],
        ['lake partitions sync --prune -o json', 'also drop partitions whose objects are gone; JSON summary'],
      ),
    )
    .action(app.action<SyncFlags>((ctx, flags) => runSync(ctx, flags)));
}
