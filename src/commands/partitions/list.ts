/** `lake partitions list`: the registered partitions, optionally with object counts and bytes. */
import type { Command } from 'commander';
import type { LakeContext } from '../../lib/context.js';
import { UsageError } from '../../lib/errors.js';
import type { View } from '../../lib/output/render.js';
import { type PartitionListing, listPartitions } from '../../lib/partition-list.js';
import { type CommandApp, type Outcome, examples } from '../command.js';

export interface ListFlags {
  limit?: string;
  withSizes?: boolean;
}

export async function runList(ctx: LakeContext, flags: ListFlags): Promise<Outcome<PartitionListing>> {
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit: expected a positive whole number, got '${flags.limit}'`);
  const backend = await ctx.backend();
  const listing = await listPartitions({ store: backend.store, catalog: backend.catalog, config: ctx.config }, { limit, withSizes: flags.withSizes ?? false, signal: ctx.signal });
  return { data: listing, view: renderList };
}

export function renderList(listing: PartitionListing): View {
  const withSizes = listing.partitions.some((p) => p.objects !== undefined);
  const keys = listing.partitions[0] ? Object.keys(listing.partitions[0].values) : [];
  return {
    kind: 'rows',
    columns: [...keys, 'location', ...(withSizes ? ['objects', 'bytes'] : [])],
    rows: listing.partitions.map((p) => ({ ...p.values, location: p.location, objects: p.objects, bytes: p.bytes })),
    footer: [`${listing.partitions.length} of ${listing.total} registered partitions`],
  };
}

export function registerList(parent: Command, app: CommandApp): void {
  parent
    .command('list')
    .description('list the registered partitions and their locations')
    .option('--limit <n>', 'at most this many (newest first)')
    .option('--with-sizes', 'add object count and bytes per partition (lists the objects)')
    .addHelpText(
      'after',
      examples(
        ['lake partitions list --limit 24', 'the newest 24 partitions'],
        ['lake partitions list --with-sizes -o csv > partitions.csv', 'sizes per partition as CSV'],
      ),
    )
    .action(app.action<ListFlags>((ctx, flags) => runList(ctx, flags)));
}
