import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore, TEMP_PREFIX } from '../../src/lib/local/fs-object-store.js';
import { describeObjectStoreContract } from './object-store.contract.js';

describeObjectStoreContract('FsObjectStore', async () => {
  const lakeDir = mkdtempSync(join(tmpdir(), 'lake-store-'));
  const store = new FsObjectStore(lakeDir);
  await store.createBucket('contract-bucket');
  return { store, bucket: 'contract-bucket', cleanup: () => Promise.resolve(rmSync(lakeDir, { recursive: true, force: true })) };
});

async function errorOf(promise: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message?: string };
  }
  return undefined;
}

describe('FsObjectStore on disk', () => {
  let lakeDir: string;
  let outside: string;
  let store: FsObjectStore;
  const bucket = 'data-bucket';
  const bucketDir = () => join(lakeDir, 's3', bucket);

  beforeEach(async () => {
    lakeDir = mkdtempSync(join(tmpdir(), 'lake-store-'));
    outside = mkdtempSync(join(tmpdir(), 'lake-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    store = new FsObjectStore(lakeDir);
    await store.createBucket(bucket);
  });
  afterEach(() => {
    rmSync(lakeDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('stores s3://BUCKET/KEY as the file <lakeDir>/s3/BUCKET/KEY', async () => {
    await store.put(bucket, 'events/year=2024/part-0.json', '{"a":1}');
    expect(readFileSync(join(bucketDir(), 'events', 'year=2024', 'part-0.json'), 'utf8')).toBe('{"a":1}');
    expect(store.pathFor(bucket, 'events/year=2024/part-0.json')).toBe(join(bucketDir(), 'events', 'year=2024', 'part-0.json'));
  });

  it('createBucket is idempotent and keeps what the bucket holds', async () => {
    await store.put(bucket, 'a.txt', 'x');
    await store.createBucket(bucket);
    expect((await store.list(bucket)).objects.map((o) => o.key)).toEqual(['a.txt']);
  });

  it('refuses invalid bucket names', async () => {
    expect((await errorOf(store.createBucket('../evil')))?.code).toBe('InvalidBucketName');
    expect((await errorOf(store.list('Upper-Case')))?.code).toBe('InvalidBucketName');
    expect((await errorOf(store.get('a..b', 'k')))?.code).toBe('InvalidBucketName');
    expect(existsSync(join(lakeDir, 'evil'))).toBe(false);
  });

  describe('keys that would escape or that a folder cannot hold', () => {
    it.each([
      ['../escape.txt', 'InvalidArgument'],
      ['a/../../escape.txt', 'InvalidArgument'],
      ['a/./b', 'InvalidArgument'],
      ['/absolute.txt', 'InvalidArgument'],
      ['a//b', 'InvalidArgument'],
      ['trailing/', 'InvalidArgument'],
      ['', 'InvalidArgument'],
      ['nul\0byte', 'InvalidArgument'],
      [`${TEMP_PREFIX}sneaky`, 'InvalidArgument'],
      ['x'.repeat(1025), 'KeyTooLongError'],
      ['é'.repeat(513), 'KeyTooLongError'],
      [`${'s'.repeat(256)}/file`, 'InvalidArgument'],
    ])('refuses key %j with %s on put, get, head, copy and pathFor', async (key, code) => {
      expect((await errorOf(store.put(bucket, key, 'x')))?.code).toBe(code);
      expect((await errorOf(store.get(bucket, key)))?.code).toBe(code);
      expect((await errorOf(store.head(bucket, key)))?.code).toBe(code);
      expect((await errorOf(store.copy(bucket, 'missing', key)))?.code).toBe(code);
      expect(() => store.pathFor(bucket, key)).toThrow(expect.objectContaining({ code }));
      expect(readdirSync(join(lakeDir, 's3'))).toEqual([bucket]);
      expect(readdirSync(bucketDir())).toEqual([]);
    });

    it('accepts a key of exactly 1,024 bytes', async () => {
      const key = `${'k'.repeat(200)}/${'k'.repeat(200)}/${'k'.repeat(200)}/${'k'.repeat(200)}/${'k'.repeat(220)}`;
      expect(Buffer.byteLength(key)).toBe(1024);
      await store.put(bucket, key, 'x');
      expect((await store.head(bucket, key))?.size).toBe(1);
    });

    it('reports invalid keys per key in deleteMany and deletes the rest', async () => {
      await store.put(bucket, 'ok.txt', 'x');
      const result = await store.deleteMany(bucket, ['../../secret.txt', 'ok.txt']);
      expect(result.deleted).toEqual(['ok.txt']);
      expect(result.errors).toEqual([{ key: '../../secret.txt', code: 'InvalidArgument', message: expect.stringContaining('".."') }]);
      expect(existsSync(join(outside, 'secret.txt'))).toBe(true);
    });

    it('does not follow a symbolic link to a directory outside the lake', async () => {
      symlinkSync(outside, join(bucketDir(), 'link'));
      expect((await errorOf(store.get(bucket, 'link/secret.txt')))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.head(bucket, 'link/secret.txt')))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.put(bucket, 'link/planted.txt', 'x')))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.put(bucket, 'link/new/deeper.txt', 'x')))?.code).toBe('InvalidArgument');
      expect(() => store.pathFor(bucket, 'link/secret.txt')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
      expect((await store.deleteMany(bucket, ['link/secret.txt'])).errors.map((e) => e.code)).toEqual(['InvalidArgument']);
      expect(readdirSync(outside)).toEqual(['secret.txt']);
    });

    it('does not follow a symbolic link to a file outside the lake, and does not list links', async () => {
      symlinkSync(join(outside, 'secret.txt'), join(bucketDir(), 'secret.txt'));
      symlinkSync(outside, join(bucketDir(), 'dirlink'));
      await store.put(bucket, 'real.txt', 'x');
      expect((await errorOf(store.get(bucket, 'secret.txt')))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.copy(bucket, 'secret.txt', 'copied.txt')))?.code).toBe('InvalidArgument');
      expect((await store.list(bucket)).objects.map((o) => o.key)).toEqual(['real.txt']);
      expect((await store.list(bucket, { delimiter: '/' })).commonPrefixes).toEqual([]);
    });

    it('refuses an object and a "directory" of the same name, which a folder cannot hold', async () => {
      await store.put(bucket, 'a/b', 'x');
      expect((await errorOf(store.put(bucket, 'a', 'y')))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.put(bucket, 'a/b/c', 'y')))?.code).toBe('InvalidArgument');
      expect((await store.list(bucket)).objects.map((o) => o.key)).toEqual(['a/b']);
    });

    it('writes small bodies (synchronously) and bodies over 4 MiB (asynchronously) alike: content, conflicts, no temporary files', async () => {
      const big = new Uint8Array(4 * 1024 * 1024 + 1).map((_, i) => i % 251);
      await store.put(bucket, 'p/small.bin', big.subarray(0, 4 * 1024 * 1024));
      await store.put(bucket, 'p/big.bin', big);
      expect(Buffer.compare(readFileSync(join(bucketDir(), 'p', 'small.bin')), Buffer.from(big.subarray(0, 4 * 1024 * 1024)))).toBe(0);
      expect(Buffer.compare(readFileSync(join(bucketDir(), 'p', 'big.bin')), Buffer.from(big))).toBe(0);
      expect(readdirSync(join(bucketDir(), 'p')).sort()).toEqual(['big.bin', 'small.bin']);
      expect((await errorOf(store.put(bucket, 'p/small.bin/x', 'y')))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.put(bucket, 'p/big.bin/x', big)))?.code).toBe('InvalidArgument');
      expect((await errorOf(store.put('no-such-bucket', 'k', 'y')))?.code).toBe('NoSuchBucket');
      expect((await errorOf(store.put('no-such-bucket', 'k', big)))?.code).toBe('NoSuchBucket');
      expect((await errorOf(store.put(bucket, '../escape', 'y')))?.code).toBe('InvalidArgument');
    });
  });

  describe('writes in progress', () => {
    it('leaves no temporary file behind after put and copy', async () => {
      await store.put(bucket, 'dir/a.txt', 'x');
      await store.copy(bucket, 'dir/a.txt', 'dir/b.txt');
      expect(readdirSync(join(bucketDir(), 'dir')).sort()).toEqual(['a.txt', 'b.txt']);
    });

    it('never lists temporary files, at any depth or with any delimiter', async () => {
      await store.put(bucket, 'dir/a.txt', 'x');
      writeFileSync(join(bucketDir(), `${TEMP_PREFIX}123-abc`), 'half');
      writeFileSync(join(bucketDir(), 'dir', `${TEMP_PREFIX}456-def.parquet`), 'half');
      mkdirSync(join(bucketDir(), 'only-temp'));
      writeFileSync(join(bucketDir(), 'only-temp', `${TEMP_PREFIX}789`), 'half');
      expect((await store.list(bucket)).objects.map((o) => o.key)).toEqual(['dir/a.txt']);
      expect(await store.list(bucket, { delimiter: '/' })).toEqual({ objects: [], commonPrefixes: ['dir/'] });
      expect((await store.list(bucket, { prefix: TEMP_PREFIX })).objects).toEqual([]);
    });

    it('tempPathFor gives a hidden file beside the key that putFromFile moves into place', async () => {
      const temp = store.tempPathFor(bucket, 'out/year=2024/file.parquet');
      expect(temp.startsWith(join(bucketDir(), 'out', 'year=2024', TEMP_PREFIX))).toBe(true);
      expect(temp.endsWith('.parquet')).toBe(true);
      writeFileSync(temp, 'PAR1 data PAR1');
      expect((await store.list(bucket)).objects).toEqual([]);
      await store.putFromFile(bucket, 'out/year=2024/file.parquet', temp);
      expect(existsSync(temp)).toBe(false);
      expect(Buffer.from(await store.get(bucket, 'out/year=2024/file.parquet')).toString()).toBe('PAR1 data PAR1');
      expect((await store.list(bucket)).objects.map((o) => o.key)).toEqual(['out/year=2024/file.parquet']);
    });

    it('putFromFile also takes a file from elsewhere', async () => {
      const source = join(outside, 'made-elsewhere.csv');
      writeFileSync(source, 'a,b\n1,2\n');
      await store.putFromFile(bucket, 'results/q.csv', source);
      expect(Buffer.from(await store.get(bucket, 'results/q.csv')).toString()).toBe('a,b\n1,2\n');
      expect(existsSync(source)).toBe(false);
    });

    it('tempPathFor and pathFor fail with NoSuchBucket for a missing bucket', () => {
      expect(() => store.tempPathFor('no-such-bucket', 'k')).toThrow(expect.objectContaining({ code: 'NoSuchBucket' }));
      expect(() => store.pathFor('no-such-bucket', 'k')).toThrow(expect.objectContaining({ code: 'NoSuchBucket' }));
    });

    it('a reader racing a writer sees the old or the new object, never a mix', async () => {
      const a = Buffer.alloc(2_000_000, 'a');
      const b = Buffer.alloc(2_000_000, 'b');
      await store.put(bucket, 'race.bin', a);
      const seen = new Set<string>();
      const writer = (async () => {
        for (let i = 0; i < 20; i++) await store.put(bucket, 'race.bin', i % 2 ? a : b);
      })();
      const reader = (async () => {
        for (let i = 0; i < 40; i++) {
          const bytes = Buffer.from(await store.get(bucket, 'race.bin'));
          expect(bytes.length).toBe(2_000_000);
          const first = bytes[0] as number;
          expect(bytes.every((x) => x === first)).toBe(true);
          seen.add(String.fromCharCode(first));
        }
      })();
      await Promise.all([writer, reader]);
      expect(seen.size).toBeGreaterThanOrEqual(1);
    });
  });

  describe('deleteMany', () => {
    it('removes directories left empty, up to but not including the bucket', async () => {
      await store.put(bucket, 'x/y/z/only.txt', '1');
      await store.put(bucket, 'x/keep.txt', '2');
      await store.deleteMany(bucket, ['x/y/z/only.txt']);
      expect(readdirSync(join(bucketDir(), 'x'))).toEqual(['keep.txt']);
      await store.deleteMany(bucket, ['x/keep.txt']);
      expect(existsSync(bucketDir())).toBe(true);
      expect(readdirSync(bucketDir())).toEqual([]);
    });

    it('treats a key naming a directory as missing, and deletes nothing under it', async () => {
      await store.put(bucket, 'dir/inner.txt', '1');
      expect(await store.deleteMany(bucket, ['dir'])).toEqual({ deleted: ['dir'], errors: [] });
      expect((await store.list(bucket)).objects.map((o) => o.key)).toEqual(['dir/inner.txt']);
    });
  });

  describe('listing', () => {
    it('rejects a continuation token it did not make', async () => {
      expect((await errorOf(store.list(bucket, { continuationToken: 'not-a-token' })))?.code).toBe('InvalidArgument');
    });

    it('lists a prefix through invalid segments as empty, without touching the file system outside', async () => {
      expect(await store.list(bucket, { prefix: '../' })).toEqual({ objects: [], commonPrefixes: [] });
      expect(await store.list(bucket, { prefix: 'a//' })).toEqual({ objects: [], commonPrefixes: [] });
    });

    it('skips directories left empty when grouping by delimiter', async () => {
      mkdirSync(join(bucketDir(), 'empty', 'deeper'), { recursive: true });
      await store.put(bucket, 'full/a.txt', 'x');
      expect(await store.list(bucket, { delimiter: '/' })).toEqual({ objects: [], commonPrefixes: ['full/'] });
      expect(await store.list(bucket)).toEqual({ objects: [expect.objectContaining({ key: 'full/a.txt' })], commonPrefixes: [] });
    });

    it('pages a big flat directory correctly, and sees changes made after its listing was cached', async () => {
      const dir = join(bucketDir(), 'flat');
      mkdirSync(dir);
      for (let i = 0; i < 2500; i++) writeFileSync(join(dir, `${String(i).padStart(5, '0')}.json`), 'x');
      // Old enough for the sorted listing to be cached between pages.
      const anHourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(dir, anHourAgo, anHourAgo);
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.list(bucket, { prefix: 'flat/', continuationToken: token });
        keys.push(...page.objects.map((o) => o.key));
        token = page.nextToken;
      } while (token);
      expect(keys.length).toBe(2500);
      expect(keys[0]).toBe('flat/00000.json');
      expect(keys[2499]).toBe('flat/02499.json');

      await store.put(bucket, 'flat/01000.5.json', 'new');
      await store.deleteMany(bucket, ['flat/00000.json']);
      // "01000.5.json" sorts before "01000.json": "5" is 0x35, "j" is 0x6a.
      const page = await store.list(bucket, { prefix: 'flat/', maxKeys: 1000 });
      expect(page.objects[0]?.key).toBe('flat/00001.json');
      expect(page.objects[999]?.key).toBe('flat/01000.5.json');
      const next = await store.list(bucket, { prefix: 'flat/', maxKeys: 2, continuationToken: page.nextToken });
      expect(next.objects.map((o) => o.key)).toEqual(['flat/01000.json', 'flat/01001.json']);
    });

    it('stops at an abort signal', async () => {
      await store.put(bucket, 'a.txt', 'x');
      const controller = new AbortController();
      controller.abort();
      expect((await errorOf(store.list(bucket, { signal: controller.signal })))).toBeInstanceOf(Error);
    });
  });
});
