/**
 * What `lake status` gathers, through the ports only, so it reads the same on both
 * backends: the stack, the delivery stream, one listing of the bucket (stored bytes by
 * area, the newest data object, the partitions present in storage), the registered
 * partitions, and the error records of the last 24 hours (read as `lake errors` reads
 * them). A part that cannot be read is reported as a problem and the rest still is;
 * credential problems and Ctrl-C end the run.
 *
 * The delivery stream is a resource of the stack: without a stack (or with one whose
 * creation failed and left nothing) the lake is not deployed and has no stream, whatever
 * the backend's stream adapter would say (the local emulator accepts records regardless).
 */
import type { LakeConfig } from './config.js';
import { ExitCode, toLakeError } from './errors.js';
import { scanErrors } from './error-scan/index.js';
import { CallCounter, readRegistered } from './partition-sync.js';
import { placeKey, valuesKey } from './partitions.js';
import type { Backend, BackendKind, StreamInfo } from './ports.js';

export interface AreaUsage {
  objects: number;
  bytes: number;
}

export interface LakeStatus {
  backend: BackendKind;
  /** The stack exists and holds the lake's resources; null when the stack could not be read. */
  deployed: boolean | null;
  stack: { name: string; status: string; statusReason?: string; updatedAt?: string; outputs: Record<string, string> } | null;
  stream: StreamInfo | null;
  partitions: {
    /** Partitions with objects in storage. */
    found: number;
    registered: number;
    /** In storage but not in the catalog: invisible to queries until `lake partitions sync` (0 with projection). */
    unregistered: number;
    /** Partition projection: Athena computes partitions and ignores the registered ones. */
    projection: boolean;
  };
  /** Last modification of the newest object under the data prefix. */
  newestObject: string | null;
  errorsLast24h: number;
  /** Bytes under the data prefix. */
  storedBytes: number;
  storage: { data: AreaUsage; errors: AreaUsage; backup: AreaUsage | null; results: AreaUsage; other: AreaUsage };
  /** Parts that could not be read, with the reason. */
  problems: string[];
  /** What to do next when the lake is not deployed; null otherwise. */
  hint: string | null;
}

/** Stack states in which no resource of the lake exists. */
const EMPTY_STACK_STATES = ['REVIEW_IN_PROGRESS', 'ROLLBACK_COMPLETE', 'DELETE_COMPLETE'];

/** Whether the stack holds the lake, and if not, what to do. */
export function deployment(stack: LakeStatus['stack']): { deployed: boolean; hint: string | null } {
  if (!stack) return { deployed: false, hint: 'the lake is not deployed: run `lake deploy` to create it' };
  if (EMPTY_STACK_STATES.includes(stack.status)) {
    return { deployed: false, hint: `stack ${stack.name} is ${stack.status} and holds nothing: run \`lake deploy\` to create it${stack.status === 'ROLLBACK_COMPLETE' ? ' afresh' : ''}` };
  }
  return { deployed: true, hint: null };
}

export interface StatusDeps {
  backend: Backend;
  config: LakeConfig;
  now: () => Date;
  signal?: AbortSignal;
  /** Called as the bucket listing goes, with the objects listed so far. */
  onListed?: (objects: number) => void;
}

const DAY_MS = 24 * 3_600_000;

function isMissingBucket(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e?.name === 'NoSuchBucket' || e?.code === 'NoSuchBucket';
}

export async function gatherStatus(deps: StatusDeps): Promise<LakeStatus> {
  const { backend, config } = deps;
  const problems: string[] = [];
  /** Runs one part; a failure becomes a problem unless it must end the run. */
  const attempt = async <T>(what: string, fallback: T, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      const lake = toLakeError(err);
      if (deps.signal?.aborted || lake.exitCode === ExitCode.credentials || lake.exitCode === ExitCode.interrupted) throw lake;
      problems.push(`${what}: ${lake.message}`);
      return fallback;
    }
  };

  const stack = await attempt('stack', null, async () => {
    const info = await backend.deployer.describe(config.stackName);
    if (!info) return null;
    const out: NonNullable<LakeStatus['stack']> = { name: info.name, status: info.status, outputs: Object.fromEntries(info.outputs.map((o) => [o.key, o.value])) };
    if (info.statusReason) out.statusReason = info.statusReason;
    if (info.updatedAt) out.updatedAt = info.updatedAt.toISOString();
    return out;
  });
  const stackUnread = problems.length > 0;
  const { deployed, hint } = stackUnread ? { deployed: null, hint: null } : deployment(stack);
  const stream = deployed !== false ? await attempt('stream', null, async () => (await backend.stream.describe(deps.signal)) ?? null) : null;

  const usage = () => ({ objects: 0, bytes: 0 });
  const storage: LakeStatus['storage'] = { data: usage(), errors: usage(), backup: config.backupPrefix ? usage() : null, results: usage(), other: usage() };
  const found = new Set<string>();
  let newest: Date | undefined;
  let bucketExists = true;
  const areas: [string, AreaUsage][] = [
    [config.errorPrefix, storage.errors],
    [config.resultsPrefix, storage.results],
    ...(config.backupPrefix && storage.backup ? [[config.backupPrefix, storage.backup] as [string, AreaUsage]] : []),
  ].filter(([prefix]) => prefix !== '') as [string, AreaUsage][];
  const rules = { tablePrefix: config.prefix, keys: config.partitioning.keys, layout: config.partitioning.layout, excludedPrefixes: areas.map(([p]) => p) };
  await attempt('storage', undefined, async () => {
    let listed = 0;
    try {
      for await (const object of backend.store.listAll(config.bucket, { signal: deps.signal })) {
        if (++listed % 1000 === 0) deps.onListed?.(listed);
        const area = areas.find(([prefix]) => object.key.startsWith(prefix))?.[1] ?? (object.key.startsWith(config.prefix) ? storage.data : storage.other);
        area.objects++;
        area.bytes += object.size;
        if (area !== storage.data) continue;
        if (!newest || object.lastModified > newest) newest = object.lastModified;
        const placed = placeKey(object.key, object.size, rules);
        if (placed.kind === 'partition') found.add(valuesKey(placed.values));
      }
    } catch (err) {
      if (!isMissingBucket(err)) throw err;
      bucketExists = false;
      if (stack) problems.push(`storage: the stack exists but bucket ${config.bucket} does not`);
    }
    deps.onListed?.(listed);
  });

  const partitions = await attempt('partitions', { found: found.size, registered: 0, unregistered: found.size, projection: false }, async () => {
    const table = await backend.catalog.getTable(config.database, config.table);
    if (!table) return { found: found.size, registered: 0, unregistered: found.size, projection: false };
    const projection = table.parameters['projection.enabled'] === 'true';
    const registered = await readRegistered(backend.catalog, table, { concurrency: 4, signal: deps.signal }, new CallCounter());
    const known = new Set(registered.map((p) => valuesKey(p.values)));
    const unregistered = projection ? 0 : [...found].filter((k) => !known.has(k)).length;
    return { found: found.size, registered: registered.length, unregistered, projection };
  });

  const now = deps.now();
  const errorsLast24h = !bucketExists
    ? 0
    : await attempt('errors', 0, async () => {
        const { report } = await scanErrors(backend.store, config, { window: { since: new Date(now.getTime() - DAY_MS), until: now }, concurrency: 8, signal: deps.signal });
        return report.total;
      });

  return {
    backend: backend.kind,
    deployed,
    stack,
    stream,
    partitions,
    newestObject: newest ? newest.toISOString() : null,
    errorsLast24h,
    storedBytes: storage.data.bytes,
    storage,
    problems,
    hint,
  };
}
