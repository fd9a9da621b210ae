/**
 * Taking a lake down (`lake destroy`). CloudFormation refuses to delete a bucket that holds
 * objects, so without --keep-data the bucket is emptied first (and once more if Firehose
 * flushed a last buffer while the stack was going). With --keep-data the stack is first
 * updated so the bucket and its key are retained, then deleted: the data stays readable.
 */
import { ServiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ObjectStore, StackDeployer, StackEvent } from '../ports.js';

export interface EmptyResult {
  objects: number;
  bytes: number;
}

/** Deletes every object of `bucket`, a thousand keys a call. A bucket that does not exist is empty. */
export async function emptyBucket(store: ObjectStore, bucket: string, options: { signal?: AbortSignal; onDeleted?: (objects: number) => void } = {}): Promise<EmptyResult> {
  const result: EmptyResult = { objects: 0, bytes: 0 };
  let keys: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (keys.length === 0) return;
    const { errors } = await store.deleteMany(bucket, keys, { signal: options.signal });
    if (errors.length > 0) {
      const first = errors[0]!;
      throw new ServiceError(`could not delete ${errors.length} object${errors.length === 1 ? '' : 's'} of s3://${bucket}, e.g. ${first.key}: ${first.code} ${first.message}`, { service: 's3', code: first.code });
    }
    result.objects += keys.length;
    result.bytes += bytes;
    options.onDeleted?.(result.objects);
    keys = [];
    bytes = 0;
  };
  try {
    for await (const object of store.listAll(bucket, { signal: options.signal })) {
      keys.push(object.key);
      bytes += object.size;
      if (keys.length === 1000) await flush();
    }
  } catch (err) {
    const e = err as { name?: string; code?: string };
    if (e.name === 'NoSuchBucket' || e.code === 'NoSuchBucket') return result;
    throw err;
  }
  await flush();
  return result;
}

export interface TeardownDeps {
  store: ObjectStore;
  deployer: StackDeployer;
  log: Logger;
  signal?: AbortSignal;
  onEvent?: (event: StackEvent) => void;
  onDeleted?: (objects: number) => void;
}

/**
 * Empties the bucket, deletes the stack, and if the deletion failed (an object arrived in
 * between) empties and deletes once more.
 */
export async function deleteWithData(deps: TeardownDeps, stackName: string, bucket: string): Promise<EmptyResult> {
  const total = await emptyBucket(deps.store, bucket, { signal: deps.signal, onDeleted: deps.onDeleted });
  try {
    await deps.deployer.destroy(stackName, { keepData: false, signal: deps.signal, onEvent: deps.onEvent });
  } catch (err) {
    if (!(err instanceof ServiceError) || deps.signal?.aborted) throw err;
    deps.log.info(`stack ${stackName} did not delete (${err.message}); emptying the bucket again and retrying`);
    const again = await emptyBucket(deps.store, bucket, { signal: deps.signal, onDeleted: (n) => deps.onDeleted?.(total.objects + n) });
    total.objects += again.objects;
    total.bytes += again.bytes;
    await deps.deployer.destroy(stackName, { keepData: false, signal: deps.signal, onEvent: deps.onEvent });
  }
  return total;
}
