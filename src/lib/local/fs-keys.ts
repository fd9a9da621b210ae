/**
 * Which keys and buckets the local S3 can hold, and how a key becomes a file path that
 * stays inside its bucket. What a folder cannot represent is refused rather than
 * approximated: keys with empty, `.` or `..` segments, a trailing `/`, a NUL, a segment
 * longer than the file system allows, or a path through a symbolic link.
 */
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ServiceError } from '../errors.js';

/** Files starting with this are writes in progress: never listed, never valid keys. */
export const TEMP_PREFIX = '.lake-tmp-';

const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The local S3's errors carry S3's own codes. */
export function s3Error(code: string, message: string, hint?: string): ServiceError {
  return new ServiceError(message, { code, service: 's3', hint });
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw s3Error('InvalidBucketName', `invalid bucket name: ${JSON.stringify(bucket)}`, 'bucket names are 3-63 lowercase letters, digits, dots and hyphens');
  }
}

/** The key's path segments, or an error saying why the local store cannot hold it. */
export function keySegments(key: string): string[] {
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

/** Validated absolute path of `key` in the bucket directory `bucketDir`, not traversing any symbolic link. */
export async function keyPath(bucketDir: string, key: string): Promise<string> {
  const path = join(bucketDir, ...keySegments(key));
  await assertNoLinksAsync(bucketDir, path);
  return path;
}

/** `keyPath`, synchronously. */
export function keyPathSync(bucketDir: string, key: string): string {
  const path = join(bucketDir, ...keySegments(key));
  assertNoLinks(bucketDir, path, (p) => realpathSync.native(p));
  return path;
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
