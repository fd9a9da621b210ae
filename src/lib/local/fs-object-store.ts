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
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, mkdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { copyFile, mkdir, open, readdir, realpath, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { ServiceError } from '../errors.js';
import type { DeleteResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from '../ports.js';

/** Files starting with this are writes in progress: never listed, never valid keys. */
export const TEMP_PREFIX = '.lake-tmp-';

const MAX_KEYS = 1000;
const MAX_DELETE_KEYS = 1000;
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Directories this large keep their sorted entries between pages (see DirCache). */
const CACHED_DIR_MIN_ENTRIES = 1000;

function s3Error(code: string, message: string, hint?: string): ServiceError {
  return new ServiceError(message, { code, service: 's3', hint });
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Compares as UTF-8 bytes (S3's order). UTF-16 code units already sort like code points
 * except surrogates against U+E000..U+FFFF, which this corrects.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw s3Error('InvalidBucketName', `invalid bucket name: ${JSON.stringify(bucket)}`, 'bucket names are 3-63 lowercase letters, digits, dots and hyphens');
  }
}

/** The key's path segments, or an error saying why the local store cannot hold it. */
function keySegments(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw s3Error('InvalidArgument', 'object key must not be empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw s3Error('KeyTooLongError', `object key is longer than ${MAX_KEY_BYTES} bytes: ${key.slice(0, 60)}...`);
  }
  const refuse = (why: string) => s3Error('InvalidArgument', `object key ${JSON.stringify(key)} ${why}`, 'the local backend stores each key as a file under .lake/s3/');
  if (key.includes('\0')) throw refuse('contains a NUL character');
  if (key.startsWith('/')) throw refuse('starts with "/"');
  if (process.platform === 'win32' && key.includes('\\')) throw refuse('contains "\\"');
  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '') throw refuse('has an empty path segment ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') throw refuse(`has a "${segment}" segment`);
    if (segment.startsWith(TEMP_PREFIX)) throw refuse(`has a segment starting with ${TEMP_PREFIX}, reserved for writes in progress`);
    if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) throw refuse(`has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return segments;
}

function etagOf(st: { size: bigint; mtimeNs: bigint }): string {
  return createHash('md5').update(`${st.size}:${st.mtimeNs}`).digest('hex');
}

function tempName(key: string): string {
  // The key's extension survives so tools that infer a format from the name (DuckDB) still can.
  const ext = extname(key);
  return `${TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}${ext.length <= 16 ? ext : ''}`;
}

// ---------------------------------------------------------------- continuation tokens

/** A listing position: everything up to `key` (and, for a prefix, under it) was returned. */
interface Cursor {
  key: string;
  prefix: boolean;
}

function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ k: cursor.key, p: cursor.prefix ? 1 : 0 }), 'utf8').toString('base64url');
}

function decodeToken(token: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (parsed && typeof parsed === 'object') {
      const { k, p } = parsed as { k?: unknown; p?: unknown };
      if (typeof k === 'string' && (p === 0 || p === 1)) return { key: k, prefix: p === 1 };
    }
  } catch {
    // falls through to the error below
  }
  throw s3Error('InvalidArgument', 'The continuation token provided is incorrect');
}

function isPast(key: string, cursor: Cursor): boolean {
  if (cursor.prefix && key.startsWith(cursor.key)) return false;
  return compareUtf8(key, cursor.key) > 0;
}

/** Where the keys starting with `keyPrefix` stand against a cursor. */
function relation(keyPrefix: string, cursor: Cursor): 'before' | 'after' | 'straddles' {
  if (cursor.prefix && keyPrefix.startsWith(cursor.key)) return 'before';
  if (cursor.key.startsWith(keyPrefix)) return 'straddles';
  return compareUtf8(keyPrefix, cursor.key) > 0 ? 'after' : 'before';
}

// ---------------------------------------------------------------- directory reading

/** How many objects of one directory a listing stats concurrently. */
const STAT_AHEAD = 64;

async function statObject(path: string): Promise<{ size: bigint; mtimeNs: bigint; mtimeMs: bigint } | undefined> {
  try {
    const st = await stat(path, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}

interface DirItem {
  name: string;
  isDir: boolean;
}

/**
 * Sorted entries of big directories, kept between pages so that paging through a flat
 * directory of 100,000 objects does not re-sort it a hundred times. An entry is trusted
 * only while the directory's mtime is unchanged and was already two seconds old when read,
 * so a change within the file system's timestamp granularity cannot go unnoticed.
 */
class DirCache {
  private readonly entries = new Map<string, { mtimeNs: bigint; ino: bigint; items: DirItem[] }>();
  constructor(private readonly limit = 64) {}

  async read(dir: string): Promise<DirItem[]> {
    let before: { mtimeNs: bigint; ino: bigint };
    try {
      before = await stat(dir, { bigint: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return [];
      throw err;
    }
    const cached = this.entries.get(dir);
    if (cached && cached.mtimeNs === before.mtimeNs && cached.ino === before.ino) return cached.items;
    let dirents: Dirent[];
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return [];
      throw err;
    }
    const items: DirItem[] = [];
    for (const d of dirents) {
      if (d.name.startsWith(TEMP_PREFIX)) continue;
      if (d.isFile()) items.push({ name: d.name, isDir: false });
      else if (d.isDirectory()) items.push({ name: d.name, isDir: true });
    }
    // A directory's keys all start with "name/", so it sorts as "name/" among its siblings.
    const sortName = (i: DirItem) => (i.isDir ? `${i.name}/` : i.name);
    items.sort((a, b) => compareUtf8(sortName(a), sortName(b)));
    const settled = BigInt(Date.now() - 2000) * 1_000_000n;
    if (items.length >= CACHED_DIR_MIN_ENTRIES && before.mtimeNs < settled) {
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(dir, { mtimeNs: before.mtimeNs, ino: before.ino, items });
    }
    return items;
  }
}

type ListEntry = { kind: 'object'; info: ObjectInfo } | { kind: 'prefix'; prefix: string };

/** One ListObjectsV2 walk: yields objects and common prefixes in key order. */
class Lister {
  private lastPrefix: string | undefined;

  constructor(
    private readonly bucketDir: string,
    private readonly prefix: string,
    private readonly delimiter: string | undefined,
    private readonly cursors: Cursor[],
    private readonly dirs: DirCache,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async *entries(): AsyncGenerator<ListEntry> {
    // Start in the deepest directory the prefix names, filtering its entries by the rest.
    const cut = this.prefix.lastIndexOf('/') + 1;
    const dirKey = this.prefix.slice(0, cut);
    const segments = dirKey === '' ? [] : dirKey.slice(0, -1).split('/');
    // A prefix through a segment no key can have matches nothing.
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith(TEMP_PREFIX) || s.includes('\0'))) return;
    yield* this.walk(join(this.bucketDir, ...segments), dirKey, this.prefix.slice(cut), true);
  }

  private commonPrefix(keyOrPrefix: string): string | undefined {
    if (!this.delimiter) return undefined;
    const at = keyOrPrefix.indexOf(this.delimiter, this.prefix.length);
    return at < 0 ? undefined : keyOrPrefix.slice(0, at + this.delimiter.length);
  }

  private isPast(key: string): boolean {
    return this.cursors.every((c) => isPast(key, c));
  }

  private relation(keyPrefix: string): 'before' | 'after' | 'straddles' {
    let result: 'after' | 'straddles' = 'after';
    for (const c of this.cursors) {
      const r = relation(keyPrefix, c);
      if (r === 'before') return 'before';
      if (r === 'straddles') result = 'straddles';
    }
    return result;
  }

  /** A file listed as an object, not folded into a common prefix nor before the cursor. */
  private isPlainObject(item: DirItem | undefined, keyPrefix: string, namePrefix: string, group: boolean): item is DirItem {
    if (!item || item.isDir || !item.name.startsWith(namePrefix)) return false;
    const key = keyPrefix + item.name;
    return this.isPast(key) && !(group && this.commonPrefix(key) !== undefined);
  }

  private async *walk(dir: string, keyPrefix: string, namePrefix: string, group: boolean): AsyncGenerator<ListEntry> {
    const items = await this.dirs.read(dir);
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as DirItem;
      if (!item.name.startsWith(namePrefix)) continue;
      this.signal?.throwIfAborted();
      const path = join(dir, item.name);
      if (!item.isDir) {
        const key = keyPrefix + item.name;
        if (!this.isPast(key)) continue;
        const common = group ? this.commonPrefix(key) : undefined;
        if (common !== undefined) {
          if (common !== this.lastPrefix) {
            this.lastPrefix = common;
            yield { kind: 'prefix', prefix: common };
          }
          continue;
        }
        // Stat a run of neighbouring objects at once: one at a time, a page spends its time waiting.
        const run = [item];
        while (run.length < STAT_AHEAD && this.isPlainObject(items[i + 1], keyPrefix, namePrefix, group)) run.push(items[++i] as DirItem);
        const stats = await Promise.all(run.map((r) => statObject(join(dir, r.name))));
        for (let r = 0; r < run.length; r++) {
          const st = stats[r];
          if (!st) continue; // deleted while we walked
          const info = { key: keyPrefix + (run[r] as DirItem).name, size: Number(st.size), lastModified: new Date(Number(st.mtimeMs)), etag: etagOf(st) };
          yield { kind: 'object', info };
        }
        continue;
      }
      const subPrefix = `${keyPrefix}${item.name}/`;
      if (this.relation(subPrefix) === 'before') continue;
      const common = group ? this.commonPrefix(subPrefix) : undefined;
      if (common !== undefined) {
        // Every key below shares this common prefix: one existing key is enough to report it.
        if (common === this.lastPrefix) continue;
        const first = await this.walk(path, subPrefix, '', false).next();
        if (first.done) continue;
        this.lastPrefix = common;
        yield { kind: 'prefix', prefix: common };
        continue;
      }
      yield* this.walk(path, subPrefix, '', group);
    }
  }
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
    options.signal?.throwIfAborted();
    const maxKeys = options.maxKeys ?? MAX_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw s3Error('InvalidArgument', `maxKeys must be a non-negative integer, got ${maxKeys}`);
    const pageSize = Math.min(maxKeys, MAX_KEYS);
    const page: ListPage = { objects: [], commonPrefixes: [] };
    if (pageSize === 0) return page;

    const cursors: Cursor[] = [];
    if (options.startAfter) cursors.push({ key: options.startAfter, prefix: false });
    if (options.continuationToken) cursors.push(decodeToken(options.continuationToken));
    const lister = new Lister(bucketDir, options.prefix ?? '', options.delimiter || undefined, cursors, this.dirs, options.signal);

    let last: Cursor | undefined;
    for await (const entry of lister.entries()) {
      if (last && page.objects.length + page.commonPrefixes.length === pageSize) {
        page.nextToken = encodeToken(last);
        break;
      }
      if (entry.kind === 'object') {
        page.objects.push(entry.info);
        last = { key: entry.info.key, prefix: false };
      } else {
        page.commonPrefixes.push(entry.prefix);
        last = { key: entry.prefix, prefix: true };
      }
    }
    return page;
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
    const path = await this.resolveKey(bucket, key);
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await this.placeAtomically(key, path, async (temp) => {
      await writeFile(temp, data, { flag: 'wx' });
    });
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
    const bucketDir = this.bucketDirSync(bucket);
    const path = join(bucketDir, ...keySegments(key));
    assertNoLinks(bucketDir, path, (p) => realpathSync.native(p));
    return path;
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
    const bucketDir = await this.bucketDir(bucket);
    const path = join(bucketDir, ...keySegments(key));
    await assertNoLinksAsync(bucketDir, path);
    return path;
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

/**
 * Checks that the deepest existing part of `path` resolves to itself: no component is a
 * symbolic link, so the path cannot lead outside the bucket.
 */
function assertNoLinks(bucketDir: string, path: string, real: (p: string) => string): void {
  const bucketReal = real(bucketDir);
  for (let p = path; ; p = dirname(p)) {
    let resolved: string;
    try {
      resolved = real(p);
    } catch (err) {
      if ((errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') && p.length > bucketDir.length) continue;
      throw err;
    }
    if (resolved !== bucketReal + p.slice(bucketDir.length)) throw linkError(path);
    return;
  }
}

async function assertNoLinksAsync(bucketDir: string, path: string): Promise<void> {
  const bucketReal = await realpath(bucketDir);
  for (let p = path; ; p = dirname(p)) {
    let resolved: string;
    try {
      resolved = await realpath(p);
    } catch (err) {
      if ((errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') && p.length > bucketDir.length) continue;
      throw err;
    }
    if (resolved !== bucketReal + p.slice(bucketDir.length)) throw linkError(path);
    return;
  }
}

function linkError(path: string): ServiceError {
  return s3Error('InvalidArgument', `refusing to follow a symbolic link inside the local bucket: ${path}`, 'symbolic links under .lake/s3/ are not objects');
}
