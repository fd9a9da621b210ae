/**
 * `lake partitions sync`: list the partition prefixes in storage, read the registered
 * partitions, and make the catalog match, in batches at Glue's limits, concurrently, with
 * retries for throttling. Works over the ports, so it is the same on both backends.
 */
import type { LakeConfig, TimeKey } from './config.js';
import { ExitCode, UsageError, toLakeError } from './errors.js';
import type { Logger } from './log.js';
import {
  type Anomaly,
  type FoundPartition,
  type PlacementRules,
  type SyncPlan,
  chunk,
  parseSegments,
  placeKey,
  planSync,
  valuesEnd,
  valuesKey,
} from './partitions.js';
import type { Catalog, ObjectStore, PartitionDef, PartitionError, TableDef } from './ports.js';
import { isTransient, mapConcurrent, withRetry } from './retry.js';

export interface SyncOptions {
  dryRun: boolean;
  prune: boolean;
  since?: Date;
  concurrency: number;
  signal?: AbortSignal;
  log: Logger;
  /** Retry tuning; tests shorten it. */
  retry?: { retries: number; baseMs: number; maxMs: number };
}

export interface SyncReport {
  table: string;
  listed: number;
  registered: number;
  added: number;
  dropped: number;
  updated: number;
  unchanged: number;
  anomalies: Anomaly[];
  failures: PartitionError[];
  dryRun: boolean;
  projection: null | { enabled: true; outside: { values: string[]; reason: string }[] };
  plan?: { add: string[][]; drop: string[][]; update: { values: string[]; from: string; to: string }[] };
  strategy: string;
  apiCalls: Record<string, number>;
  durationMs: number;
}

export interface SyncDeps {
  store: ObjectStore;
  catalog: Catalog;
  config: LakeConfig;
  now: () => Date;
}

/** Counts the calls made through a port, by AWS operation name. */
export class CallCounter {
  readonly counts: Record<string, number> = {};
  add(name: string, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }
}

export function parseS3Location(location: string): { bucket: string; prefix: string } {
  const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!match) throw new UsageError(`table location '${location}' is not an s3:// URL`);
  const prefix = match[2] ?? '';
  return { bucket: match[1]!, prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/` };
}

export async function loadTable(catalog: Catalog, config: LakeConfig): Promise<TableDef> {
  const table = await catalog.getTable(config.database, config.table);
  if (!table) {
    throw new UsageError(`table ${config.database}.${config.table} is not in the catalog`, { hint: 'run `lake init` (local) or `lake deploy` (aws) first' });
  }
  return table;
}

function tableKeys(table: TableDef, config: LakeConfig): TimeKey[] {
  const keys = table.partitionKeys.map((k) => k.name);
  const expected = config.partitioning.keys;
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    throw new UsageError(`table ${table.database}.${table.name} is partitioned by (${keys.join(', ')}) but the configuration says (${expected.join(', ')})`, {
      hint: 'make partitioning.keys match the table, or redeploy the table',
    });
  }
  return expected;
}

interface Listing {
  found: Map<string, FoundPartition>;
  anomalies: Anomaly[];
  strategy: string;
}

/**
 * Walks the upper levels with a delimiter (few calls, and --since prunes whole years or
 * months), then lists the keys under each prefix of the last walked level flat and
 * concurrently: one page returns up to 1,000 objects across many partitions, and seeing the
 * objects lets us skip folder markers and temporary objects and count sizes.
 */
async function listPartitions(store: ObjectStore, bucket: string, rules: PlacementRules, options: SyncOptions, counter: CallCounter): Promise<Listing> {
  const keys = rules.keys;
  const walkDepth = Math.max(0, keys.length - 2);
  const anomalies: Anomaly[] = [];
  const found = new Map<string, FoundPartition>();
  const strategy =
    walkDepth === 0
      ? 'flat listing of the table prefix (at most two partition levels)'
      : `delimiter walk over ${keys.slice(0, walkDepth).join('/')}, then concurrent flat listings under each ${keys[walkDepth - 1]} prefix`;
  options.log.debug(`partitions sync: ${strategy}; concurrency ${options.concurrency}`);

  let level: { prefix: string; segments: string[] }[] = [{ prefix: rules.tablePrefix, segments: [] }];
  for (let depth = 0; depth < walkDepth; depth++) {
    const next = await mapConcurrent(level, options.concurrency, async ({ prefix, segments }) => {
      const children: { prefix: string; segments: string[] }[] = [];
      let token: string | undefined;
      do {
        const page = await store.list(bucket, { prefix, delimiter: '/', continuationToken: token, signal: options.signal });
        counter.add('ListObjectsV2');
        for (const obj of page.objects) {
          const placed = placeKey(obj.key, obj.size, rules);
          if (placed.kind === 'anomaly') anomalies.push(placed.anomaly);
        }
        for (const child of page.commonPrefixes) {
          if (rules.excludedPrefixes.some((p) => p && child.startsWith(p))) continue;
          const segment = child.slice(prefix.length, -1);
          const childSegments = [...segments, segment];
          const parsed = parseSegments(keys.slice(0, depth + 1), rules.layout, childSegments);
          if ('reason' in parsed) anomalies.push({ path: child, reason: parsed.reason });
          else if (!options.since || valuesEnd(keys.slice(0, depth + 1), parsed.values) > options.since) children.push({ prefix: child, segments: childSegments });
        }
        token = page.nextToken;
      } while (token);
      return children;
    });
    level = next.flat();
  }

  await mapConcurrent(level, options.concurrency, async ({ prefix }) => {
    for await (const obj of listCounted(store, bucket, prefix, options.signal, counter)) {
      const placed = placeKey(obj.key, obj.size, rules);
      if (placed.kind === 'anomaly') anomalies.push(placed.anomaly);
      else if (placed.kind === 'partition') {
        if (options.since && valuesEnd(keys, placed.values) <= options.since) continue;
        const k = valuesKey(placed.values);
        const entry = found.get(k) ?? { values: placed.values, location: `s3://${bucket}/${placed.prefix}`, objects: 0, bytes: 0 };
        entry.objects++;
        entry.bytes += obj.size;
        found.set(k, entry);
      }
    }
  });
  return { found, anomalies: dedupeAnomalies(anomalies), strategy };
}

async function* listCounted(store: ObjectStore, bucket: string, prefix: string, signal: AbortSignal | undefined, counter: CallCounter) {
  let token: string | undefined;
  do {
    const page = await store.list(bucket, { prefix, continuationToken: token, signal });
    counter.add('ListObjectsV2');
    yield* page.objects;
    token = page.nextToken;
  } while (token);
}

/** One anomaly per prefix: a stray folder of 500 objects is one finding, not 500. */
function dedupeAnomalies(anomalies: Anomaly[]): Anomaly[] {
  const seen = new Map<string, Anomaly>();
  for (const a of anomalies) if (!seen.has(a.path)) seen.set(a.path, a);
  return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Every registered partition, read in parallel segments. */
export async function readRegistered(catalog: Catalog, table: TableDef, options: { concurrency: number; signal?: AbortSignal }, counter: CallCounter): Promise<PartitionDef[]> {
  const total = Math.max(1, Math.min(10, options.concurrency));
  const segments = await mapConcurrent(
    Array.from({ length: total }, (_, i) => i),
    total,
    async (number) => {
      const out: PartitionDef[] = [];
      let token: string | undefined;
      do {
        const page = await catalog.getPartitions(table.database, table.name, { segment: total > 1 ? { number, total } : undefined, nextToken: token, signal: options.signal });
        counter.add('GetPartitions');
        out.push(...page.partitions);
        token = page.nextToken;
      } while (token);
      return out;
    },
  );
  return segments.flat();
}

const ALREADY_DONE: Record<string, string> = { create: 'AlreadyExistsException', delete: 'EntityNotFoundException' };

async function applyPlan(catalog: Catalog, table: TableDef, plan: SyncPlan, options: SyncOptions, counter: CallCounter): Promise<PartitionError[]> {
  const failures: PartitionError[] = [];
  const retry = options.retry ?? { retries: 8, baseMs: 100, maxMs: 5_000 };
  const call = async (name: string, kind: 'create' | 'delete' | 'update', fn: () => Promise<{ errors: PartitionError[] }>) => {
    try {
      const result = await withRetry(
        () => {
          counter.add(name);
          return fn();
        },
        { ...retry, signal: options.signal, isRetryable: isTransient, onRetry: (err, attempt, ms) => options.log.debug(`${name}: ${(err as Error).name}, retry ${attempt} in ${ms}ms`) },
      );
      for (const e of result.errors) if (e.code !== ALREADY_DONE[kind]) failures.push(e);
    } catch (err) {
      // Permissions and interruptions end the run; anything else fails this batch only.
      if (!(err instanceof Error) || options.signal?.aborted || toLakeError(err).exitCode === ExitCode.credentials) throw err;
      return err;
    }
    return undefined;
  };
  const record = (values: string[][], err: Error | undefined) => {
    if (err) for (const v of values) failures.push({ values: v, code: err.name, message: err.message });
  };
  await mapConcurrent(chunk(plan.add, 100), options.concurrency, async (batch) =>
    record(batch.map((p) => p.values), await call('BatchCreatePartition', 'create', () => catalog.batchCreatePartition(table.database, table.name, batch))),
  );
  await mapConcurrent(chunk(plan.update.map((u) => u.after), 100), options.concurrency, async (batch) =>
    record(batch.map((p) => p.values), await call('BatchUpdatePartition', 'update', () => catalog.batchUpdatePartition(table.database, table.name, batch))),
  );
  await mapConcurrent(chunk(plan.drop, 25), options.concurrency, async (batch) =>
    record(batch.map((p) => p.values), await call('BatchDeletePartition', 'delete', () => catalog.batchDeletePartition(table.database, table.name, batch.map((p) => p.values)))),
  );
  return failures;
}

function projectionCheck(table: TableDef, keys: TimeKey[], found: FoundPartition[]): { values: string[]; reason: string }[] {
  const outside: { values: string[]; reason: string }[] = [];
  for (const f of found) {
    keys.forEach((key, i) => {
      const range = table.parameters[`projection.${key}.range`];
      const type = table.parameters[`projection.${key}.type`];
      if (type !== 'integer' || !range) return;
      const [min, max] = range.split(',').map((x) => Number(x.trim()));
      const n = Number(f.values[i]);
      if (min !== undefined && max !== undefined && (n < min || n > max)) outside.push({ values: f.values, reason: `${key} ${f.values[i]} is outside projection.${key}.range ${range}` });
      const digits = table.parameters[`projection.${key}.digits`];
      if (digits && f.values[i]!.length !== Number(digits)) outside.push({ values: f.values, reason: `${key} '${f.values[i]}' does not have projection.${key}.digits ${digits}` });
    });
  }
  return outside;
}

export async function syncPartitions(deps: SyncDeps, options: SyncOptions): Promise<SyncReport> {
  const started = Date.now();
  const { config } = deps;
  const counter = new CallCounter();
  const table = await loadTable(deps.catalog, config);
  counter.add('GetTable');
  const keys = tableKeys(table, config);
  const { bucket, prefix } = parseS3Location(table.location);
  const excluded = [config.errorPrefix, config.backupPrefix ?? '', config.resultsPrefix].filter((p) => p !== '' && p !== prefix);
  const rules: PlacementRules = { tablePrefix: prefix, keys, layout: config.partitioning.layout, excludedPrefixes: excluded };

  const listing = await listPartitions(deps.store, bucket, rules, options, counter);
  const found = [...listing.found.values()].sort((a, b) => valuesKey(a.values).localeCompare(valuesKey(b.values)));
  const base = {
    table: `${table.database}.${table.name}`,
    listed: found.length,
    anomalies: listing.anomalies,
    dryRun: options.dryRun,
    strategy: listing.strategy,
  };

  if (table.parameters['projection.enabled'] === 'true') {
    options.log.info(`${base.table} uses partition projection: Athena computes partitions from the table properties, nothing to register`);
    return {
      ...base,
      registered: 0,
      added: 0,
      dropped: 0,
      updated: 0,
      unchanged: 0,
      failures: [],
      projection: { enabled: true, outside: projectionCheck(table, keys, found) },
      apiCalls: counter.counts,
      durationMs: Date.now() - started,
    };
  }

  const registeredAll = await readRegistered(deps.catalog, table, options, counter);
  const inScope = (values: string[]) => !options.since || valuesEnd(keys, values) > options.since;
  const plan = planSync(found, registeredAll, { prune: options.prune, inScope });
  const planDoc = {
    add: plan.add.map((p) => p.values),
    drop: plan.drop.map((p) => p.values),
    update: plan.update.map((u) => ({ values: u.after.values, from: u.before.location, to: u.after.location })),
  };
  const failures = options.dryRun ? [] : await applyPlan(deps.catalog, table, plan, options, counter);
  const failedKeys = new Set(failures.map((f) => valuesKey(f.values)));
  const succeeded = (list: PartitionDef[]) => list.filter((p) => !failedKeys.has(valuesKey(p.values))).length;
  return {
    ...base,
    registered: registeredAll.length,
    added: options.dryRun ? 0 : succeeded(plan.add),
    dropped: options.dryRun ? 0 : succeeded(plan.drop),
    updated: options.dryRun ? 0 : succeeded(plan.update.map((u) => u.after)),
    unchanged: plan.unchanged,
    failures,
    projection: null,
    plan: planDoc,
    apiCalls: counter.counts,
    durationMs: Date.now() - started,
  };
}
