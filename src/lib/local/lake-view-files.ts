/** File-system work behind the lake's views: links, directory stamps, Parquet footers. */
import { statSync } from 'node:fs';
import { link, mkdir, open, readlink, rename, rm, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeFooter, ParquetFooterError } from '../query/parquet-footer.js';
import type { FileFooter } from './scan-stats.js';

/**
 * A symbolic link at `path` to `target`, replaced atomically when it points elsewhere.
 * Windows gets a junction for directories (no privilege needed) and a hard link for files
 * (remade at every view build, since a replaced file leaves a hard link on the old one).
 */
export async function ensureLink(path: string, target: string, kind: 'dir' | 'file'): Promise<void> {
  try {
    if ((await readlink(path)) === target) return;
  } catch {
    // absent, or not a link: (re)create below
  }
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.lake-tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  if (process.platform === 'win32') {
    if (kind === 'dir') await symlink(target, temp, 'junction');
    else await link(target, temp);
  } else {
    await symlink(target, temp, kind);
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Modification times of directories, or undefined when one is gone. */
/** The directories' modification times (undefined if one is gone), by synchronous stats: one each is cheaper than a trip through the thread pool. */
export function mtimes(dirs: string[]): number[] | undefined {
  try {
    return dirs.map((dir) => statSync(dir).mtimeMs);
  } catch {
    return undefined;
  }
}

export function directoriesUnchanged(dirs: Map<string, number>): boolean {
  const now = mtimes([...dirs.keys()]);
  return now !== undefined && [...dirs.values()].every((t, i) => now[i] === t);
}

const FOOTER_TAIL_BYTES = 64 * 1024;

/** A Parquet file's footer: `<FileMetaData><length: u32 LE>PAR1` at its end. */
export async function readFooter(path: string, key: string): Promise<FileFooter> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size < 12) throw new ParquetFooterError(`${key}: ${size} bytes is too small for Parquet`);
    let length = Math.min(FOOTER_TAIL_BYTES, size);
    let tail = Buffer.allocUnsafe(length);
    await file.read(tail, 0, length, size - length);
    if (tail.toString('latin1', length - 4) !== 'PAR1') throw new ParquetFooterError(`${key}: not a Parquet file (no PAR1 at its end)`);
    const metadataLength = tail.readUInt32LE(length - 8);
    if (metadataLength + 8 > size) throw new ParquetFooterError(`${key}: footer length ${metadataLength} exceeds the file`);
    if (metadataLength + 8 > length) {
      length = metadataLength + 8;
      tail = Buffer.allocUnsafe(length);
      await file.read(tail, 0, length, size - length);
    }
    return decodeFooter(tail.subarray(length - 8 - metadataLength, length - 8));
  } finally {
    await file.close();
  }
}

/** `work` over `items`, at most `limit` at a time, results in order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
