/**
 * The local S3: `s3://BUCKET/KEY` is the file `<lakeDir>/s3/BUCKET/KEY`.
 *
 * Listing follows ListObjectsV2 (UTF-8 byte order, prefix, delimiter, MaxKeys, StartAfter,
 * continuation tokens) and walks only the directories that can hold a matching key. Every
 * write lands in a `.lake-tmp-*` file beside its target and is renamed into place, so a
 * reader never sees half an object; listing never shows those files.
 *
 * What a folder cannot represent is refused rather than approximated: keys with empty,
 * `.` or `..` segments, a trailing `/`, a segment longer than the file system allows, or
 * both `a` and `a/b` as objects. Symbolic links inside a bucket are not objects: listing
 * skips them and no key may traverse one, so nothing resolves outside the bucket.
 *
 * ETags are derived from size and modification time (md5 of `size:mtimeNs`), not from
 * the content: listing 100,000 objects must not read them.
 *
 * Key validation and path resolution live in fs-keys.ts, the listing walk in fs-listing.ts.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, mkdirSync, renameSync, statSync, type Stats, unlinkSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, open, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { ServiceError } from '../errors.js';
import type { DeleteResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from '../ports.js';
import { checkBucket, errno, keyPath, keyPathSync, s3Error, TEMP_PREFIX } from './fs-keys.js';
import { DirCache, etagOf, listPage } from './fs-listing.js';

export { TEMP_PREFIX } from './fs-keys.js';
export { compareUtf8 } from './fs-listing.js';

const MAX_DELETE_KEYS = 1000;

/**
 * Bodies up to this size are written with synchronous calls: the handful of small system
 * calls costs less than as many trips through libuv's thread pool (a query's result, an
 * error object); bigger ones are written asynchronously.
 */
const SYNC_PUT_BYTES = 4 * 1024 * 1024;

function tempName(key: string): string {
  // The key's extension survives so tools that infer a format from the name (DuckDB) still can.
  const ext = extname(key);
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}${ext.length <= 16 ? ext : ''}`;
}

// ---------------------------------------------------------------- the store

export class FsObjectStore implements ObjectStore {
  /** `<lakeDir>/s3`: one directory per bucket. */
  readonly root: string;
  private readonly dirs = new DirCache();

  constructor(lakeDir: string) {
    this.root = resolve(lakeDir, 's3');
  }

  async createBucket(bucket: string): Promise<void> {
    checkBucket(bucket);
    await mkdir(join(this.root, bucket), { recursive: true });
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    const bucketDir = await this.bucketDir(bucket);
    return listPage(bucketDir, options, this.dirs);
  }

  async *listAll(bucket: string, options: Omit<ListOptions, 'continuationToken'> = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      const page = await this.list(bucket, { ...options, continuationToken: token });
      yield* page.objects;
      token = page.nextToken;
    } while (token);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const path = await this.resolveKey(bucket, key);
    let st: { size: bigint; mtimeNs: bigint; mtimeMs: bigint; isFile(): boolean };
    try {
      st = await stat(path, { bigint: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    if (!st.isFile()) return undefined;
    return { key, size: Number(st.size), lastModified: new Date(Number(st.mtimeMs)), etag: etagOf(st) };
  }

  async get(bucket: string, key: string, options: { signal?: AbortSignal; range?: { start: number; end: number } } = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    const path = await this.resolveKey(bucket, key);
    const handle = await this.openObject(bucket, key, path);
    try {
      const size = (await handle.stat()).size;
      if (!options.range) return new Uint8Array(await handle.readFile({ signal: options.signal }));
      // Inclusive byte range, as HTTP's `Range: bytes=start-end`; the end is clamped to the object.
      const { start, end } = options.range;
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || start >= size) {
        throw s3Error('InvalidRange', `The requested range ${start}-${end} is not satisfiable for ${key} (${size} bytes)`);
      }
      const length = Math.min(end, size - 1) - start + 1;
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return new Uint8Array(buffer.buffer, buffer.byteOffset, read);
    } finally {
      await handle.close();
    }
  }

  async getStream(bucket: string, key: string, options: { signal?: AbortSignal } = {}): Promise<AsyncIterable<Uint8Array>> {
    options.signal?.throwIfAborted();
    const path = await this.resolveKey(bucket, key);
    const handle = await this.openObject(bucket, key, path);
    const stream = handle.createReadStream({ autoClose: true });
    return options.signal ? addAbortSignal(options.signal, stream) : stream;
  }

  async put(bucket: string, key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (data.byteLength <= SYNC_PUT_BYTES) return this.putSync(bucket, key, data);
    const path = await this.resolveKey(bucket, key);
    await this.placeAtomically(key, path, async (temp) => {
      await writeFile(temp, data, { flag: 'wx' });
    });
  }

  /** `put` of a small body: the same steps, as synchronous calls. */
  private putSync(bucket: string, key: string, data: Uint8Array): void {
    const path = keyPathSync(this.bucketDirSync(bucket), key);
    for (let attempt = 0; ; attempt++) {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (err) {
        if (errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR') throw keyConflict(key);
        throw err;
      }
      const temp = join(dirname(path), tempName(key));
      try {
        writeFileSync(temp, data, { flag: 'wx' });
        renameSync(temp, path);
        return;
      } catch (err) {
        try {
          unlinkSync(temp);
        } catch {
          // not written, or already renamed
        }
        if (errno(err) === 'EISDIR') throw keyConflict(key);
        // A delete removed the directory meanwhile: make it again.
        if (errno(err) === 'ENOENT' && attempt < 5) continue;
        throw err;
      }
    }
  }

  async deleteMany(bucket: string, keys: string[], options: { signal?: AbortSignal } = {}): Promise<DeleteResult> {
    if (keys.length > MAX_DELETE_KEYS) {
      throw s3Error('MalformedXML', `DeleteObjects takes at most ${MAX_DELETE_KEYS} keys a call, got ${keys.length}`);
    }
    const bucketDir = await this.bucketDir(bucket);
    const result: DeleteResult = { deleted: [], errors: [] };
    for (const key of keys) {
      options.signal?.throwIfAborted();
      let path: string;
      try {
        path = await this.resolveKey(bucket, key);
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        result.errors.push({ key, code: err.code, message: err.message });
        continue;
      }
      try {
        await unlink(path);
        await this.removeEmptyParents(bucketDir, dirname(path));
      } catch (err) {
        // As in S3, deleting what is not there succeeds: a missing file, or a "directory" key.
        const code = errno(err);
        if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR' && code !== 'EPERM') {
          result.errors.push({ key, code: 'InternalError', message: (err as Error).message });
          continue;
        }
      }
      result.deleted.push(key);
    }
    return result;
  }

  async copy(bucket: string, fromKey: string, toKey: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const from = await this.resolveKey(bucket, fromKey);
    const to = await this.resolveKey(bucket, toKey);
    const source = await this.openObject(bucket, fromKey, from);
    await source.close();
    await this.placeAtomically(toKey, to, async (temp) => {
      try {
        await copyFile(from, temp, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE);
      } catch (err) {
        if (errno(err) === 'ENOENT' && !(await this.head(bucket, fromKey))) throw noSuchKey(fromKey);
        throw err;
      }
    });
  }

  /** The object's file, for engines that read files directly (DuckDB). Does not check it exists. */
  pathFor(bucket: string, key: string): string {
    return keyPathSync(this.bucketDirSync(bucket), key);
  }

  /**
   * A fresh temporary file name beside where `key` will live (its directory is created),
   * for writers that produce a file themselves (DuckDB's COPY, the Firehose emulator).
   * Listing ignores it; hand it to `putFromFile` when complete.
   */
  tempPathFor(bucket: string, key: string): string {
    const path = this.pathFor(bucket, key);
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      if (errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR') throw keyConflict(key);
      throw err;
    }
    return join(dirname(path), tempName(key));
  }

  /** Moves a finished file (from `tempPathFor`) into place as `key`, atomically. */
  async putFromFile(bucket: string, key: string, sourcePath: string): Promise<void> {
    const path = await this.resolveKey(bucket, key);
    try {
      await this.ensureDir(key, dirname(path));
      await rename(sourcePath, path);
      return;
    } catch (err) {
      if (errno(err) === 'EISDIR') throw keyConflict(key);
      if (errno(err) !== 'EXDEV') throw err;
    }
    // Another file system: copy next to the target first so the final step is still a rename.
    await this.placeAtomically(key, path, (temp) => copyFile(sourcePath, temp, fsConstants.COPYFILE_EXCL));
    await unlink(sourcePath);
  }

  // ---------------------------------------------------------------- internals

  private async bucketDir(bucket: string): Promise<string> {
    checkBucket(bucket);
    const dir = join(this.root, bucket);
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err;
    }
    throw noSuchBucket(bucket);
  }

  private bucketDirSync(bucket: string): string {
    checkBucket(bucket);
    const dir = join(this.root, bucket);
    let st: Stats | undefined;
    try {
      st = statSync(dir);
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err;
    }
    if (!st?.isDirectory()) throw noSuchBucket(bucket);
    return dir;
  }

  /** Validated absolute path of `key`, not traversing any symbolic link. */
  private async resolveKey(bucket: string, key: string): Promise<string> {
    return keyPath(await this.bucketDir(bucket), key);
  }

  private async openObject(bucket: string, key: string, path: string) {
    try {
      const handle = await open(path, 'r');
      if ((await handle.stat()).isFile()) return handle;
      await handle.close();
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR' && errno(err) !== 'EISDIR') throw err;
    }
    await this.bucketDir(bucket);
    throw noSuchKey(key);
  }

  private async ensureDir(key: string, dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      if (errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR') throw keyConflict(key);
      throw err;
    }
  }

  /** Writes `path` through a temporary file beside it, retrying if a delete removes the directory meanwhile. */
  private async placeAtomically(key: string, path: string, write: (temp: string) => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await this.ensureDir(key, dirname(path));
      const temp = join(dirname(path), tempName(key));
      try {
        await write(temp);
        await rename(temp, path);
        return;
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        if (errno(err) === 'EISDIR') throw keyConflict(key);
        if (errno(err) === 'ENOENT' && attempt < 5) continue;
        throw err;
      }
    }
  }

  private async removeEmptyParents(bucketDir: string, dir: string): Promise<void> {
    while (dir.length > bucketDir.length && dir.startsWith(bucketDir + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or gone): stop climbing
      }
      dir = dirname(dir);
    }
  }
}

function noSuchBucket(bucket: string): ServiceError {
  return s3Error('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 'run `lake deploy` to create the local bucket');
}

function noSuchKey(key: string): ServiceError {
  return s3Error('NoSuchKey', `The specified key does not exist: ${key}`);
}

function keyConflict(key: string): ServiceError {
  return s3Error(
    'InvalidArgument',
    `object key ${JSON.stringify(key)} conflicts with an existing key: the local backend cannot hold both "a" and "a/b"`,
    'the local backend stores each key as a file under .lake/s3/',
  );
}
