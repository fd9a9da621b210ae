/** `lake partitions list`: registered partitions, newest first, optionally with sizes. */
import type { LakeConfig } from './config.js';
import { CallCounter, loadTable, parseS3Location, readRegistered } from './partition-sync.js';
import { valuesKey } from './partitions.js';
import type { Catalog, ObjectStore } from './ports.js';
import { mapConcurrent } from './retry.js';

export interface ListedPartition {
  values: Record<string, string>;
  location: string;
  objects?: number;
  bytes?: number;
}

export interface PartitionListing {
  total: number;
  partitions: ListedPartition[];
}

export async function listPartitions(
  deps: { store: ObjectStore; catalog: Catalog; config: LakeConfig },
  options: { limit?: number; withSizes: boolean; concurrency?: number; signal?: AbortSignal },
): Promise<PartitionListing> {
  const table = await loadTable(deps.catalog, deps.config);
  const keys = table.partitionKeys.map((k) => k.name);
  const registered = await readRegistered(deps.catalog, table, { concurrency: options.concurrency ?? 4, signal: options.signal }, new CallCounter());
  registered.sort((a, b) => valuesKey(b.values).localeCompare(valuesKey(a.values)));
  const chosen = options.limit === undefined ? registered : registered.slice(0, options.limit);
  const partitions: ListedPartition[] = chosen.map((p) => ({ values: Object.fromEntries(keys.map((k, i) => [k, p.values[i] ?? ''])), location: p.location }));
  if (options.withSizes) {
    await mapConcurrent(partitions, options.concurrency ?? 8, async (p) => {
      const { bucket, prefix } = parseS3Location(p.location);
      let objects = 0;
      let bytes = 0;
      for await (const obj of deps.store.listAll(bucket, { prefix, signal: options.signal })) {
        if (obj.key.endsWith('/') && obj.size === 0) continue;
        objects++;
        bytes += obj.size;
      }
      p.objects = objects;
      p.bytes = bytes;
    });
  }
  return { total: registered.length, partitions };
}
