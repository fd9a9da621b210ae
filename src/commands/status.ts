/** `lake status`: the lake's health at a glance, on either backend. */
import type { LakeContext } from '../lib/context.js';
import { ServiceError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';
import { type LakeStatus, gatherStatus } from '../lib/stack-status.js';
import { type Outcome, type Registrar, examples } from './command.js';

export async function runStatus(ctx: LakeContext): Promise<Outcome<LakeStatus>> {
  const config = ctx.config;
  const backend = await ctx.backend();
  const progress = ctx.out.progress({ label: `listing s3://${config.bucket}`, unit: 'objects' });
  let status: LakeStatus;
  try {
    status = await gatherStatus({ backend, config, now: ctx.now, signal: ctx.signal, onListed: (n) => progress.update(n) });
  } finally {
    await progress.finish();
  }
  if (status.hint) ctx.out.info(`hint: ${status.hint}`);
  const exit = status.problems.length > 0 ? new ServiceError(`could not read all of the lake's state: ${status.problems.join('; ')}`, { hint: 'the parts that were read are printed above; run again with --debug for details' }) : undefined;
  return { data: status, view: renderStatus, exit };
}

export function renderStatus(s: LakeStatus): View {
  const p = s.partitions;
  const rows = [
    { what: 'backend', state: s.backend },
    { what: 'stack', state: s.stack ? `${s.stack.name}: ${s.stack.status}${s.stack.statusReason ? ` (${s.stack.statusReason})` : ''}` : s.deployed === null ? 'unknown' : 'not deployed' },
    { what: 'stream', state: s.stream ? `${s.stream.name}: ${s.stream.status}` : s.deployed === false ? 'none (not deployed)' : 'none' },
    { what: 'newest object', state: s.newestObject ?? 'none yet' },
    { what: 'partitions', state: p.projection ? `${p.found} in storage (projection: no registration needed)` : `${p.registered} registered, ${p.unregistered} unregistered${p.unregistered > 0 ? ' (`lake partitions sync`)' : ''}` },
    { what: 'errors, last 24 h', state: s.errorsLast24h > 0 ? `${s.errorsLast24h} records (\`lake errors\`)` : '0' },
    { what: 'stored', state: `${s.storedBytes} bytes in ${s.storage.data.objects} objects` },
  ];
  return { kind: 'rows', columns: ['what', 'state'], rows, footer: s.problems.map((problem) => `could not read ${problem}`) };
}

export const registerStatus: Registrar = (parent, app) => {
  parent
    .command('status')
    .description('stack, stream, newest delivery, registered vs unregistered partitions, error records in the last 24 h')
    .addHelpText(
      'after',
      examples(
        ['lake status', 'health at a glance'],
        ['lake status -o json | jq .partitions.unregistered', 'for scripts and alerts'],
      ),
    )
    .action(app.action((ctx) => runStatus(ctx)));
};
