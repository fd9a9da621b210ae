/**
 * ListObjectsV2 over the local S3's directories: UTF-8 byte order, prefix, delimiter,
 * MaxKeys, StartAfter and continuation tokens, walking only the directories that can hold
 * a matching key. Files of writes in progress (TEMP_PREFIX) and symbolic links are never
 * listed.
 *
 * ETags are derived from size and modification time (md5 of `size:mtimeNs`), not from
 * the content: listing 100,000 objects must not read them.
 */
import { createHash } from 'node:crypto';
import { type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListOptions, ListPage, ObjectInfo } from '../ports.js';
import { errno, s3Error, TEMP_PREFIX } from './fs-keys.js';

const MAX_KEYS = 1000;
/** Directories this large keep their sorted entries between pages (see DirCache). */
const CACHED_DIR_MIN_ENTRIES = 1000;

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

export function etagOf(st: { size: bigint; mtimeNs: bigint }): string {
  return createHash('md5').update(`${st.size}:${st.mtimeNs}`).digest('hex');
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
export class DirCache {
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

/** One page of a listing of the bucket in `bucketDir`. */
export async function listPage(bucketDir: string, options: ListOptions, dirs: DirCache): Promise<ListPage> {
  options.signal?.throwIfAborted();
  const maxKeys = options.maxKeys ?? MAX_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw s3Error('InvalidArgument', `maxKeys must be a non-negative integer, got ${maxKeys}`);
  const pageSize = Math.min(maxKeys, MAX_KEYS);
  const page: ListPage = { objects: [], commonPrefixes: [] };
  if (pageSize === 0) return page;

  const cursors: Cursor[] = [];
  if (options.startAfter) cursors.push({ key: options.startAfter, prefix: false });
  if (options.continuationToken) cursors.push(decodeToken(options.continuationToken));
  const lister = new Lister(bucketDir, options.prefix ?? '', options.delimiter || undefined, cursors, dirs, options.signal);

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
