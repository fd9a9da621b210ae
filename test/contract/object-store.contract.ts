/**
 * What every ObjectStore must do, as S3 does it. Run against each adapter by its own
 * `*.test.ts`; `makeStore` returns an empty, existing bucket that `cleanup` removes.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectInfo, ObjectStore } from '../../src/lib/ports.js';

export interface ObjectStoreFixture {
  store: ObjectStore;
  bucket: string;
  cleanup(): Promise<void>;
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'no error';
}

async function putAll(store: ObjectStore, bucket: string, keys: string[]): Promise<void> {
  for (const key of keys) await store.put(bucket, key, `body of ${key}`);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

export function describeObjectStoreContract(name: string, makeStore: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let bucket: string;
    let fixture: ObjectStoreFixture;
    const missingBucket = () => `lake-contract-missing-${randomBytes(6).toString('hex')}`;

    beforeEach(async () => {
      fixture = await makeStore();
      ({ store, bucket } = fixture);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('put, get, head', () => {
      it('given a put of bytes, when read back, then get returns exactly those bytes', async () => {
        const body = new Uint8Array([0, 1, 2, 254, 255]);
        await store.put(bucket, 'bin/data.bin', body);
        expect(Array.from(await store.get(bucket, 'bin/data.bin'))).toEqual([0, 1, 2, 254, 255]);
      });

      it('given a put of a string, then it is stored as UTF-8', async () => {
        await store.put(bucket, 'text/hello.txt', 'héllo ☃');
        const bytes = await store.get(bucket, 'text/hello.txt');
        expect(bytes.byteLength).toBe(10);
        expect(text(bytes)).toBe('héllo ☃');
      });

      it('given an existing key, when put again, then the new content replaces the old', async () => {
        await store.put(bucket, 'k.txt', 'first version');
        await store.put(bucket, 'k.txt', 'second');
        expect(text(await store.get(bucket, 'k.txt'))).toBe('second');
        expect((await store.head(bucket, 'k.txt'))?.size).toBe(6);
      });

      it('head returns key, size, a recent lastModified and an etag; undefined when missing', async () => {
        const before = Date.now() - 5_000;
        await store.put(bucket, 'dir/obj.json', '{"a":1}');
        const info = await store.head(bucket, 'dir/obj.json');
        expect(info?.key).toBe('dir/obj.json');
        expect(info?.size).toBe(7);
        expect(info?.lastModified).toBeInstanceOf(Date);
        expect(info!.lastModified.getTime()).toBeGreaterThanOrEqual(before);
        expect(info!.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
        expect(info?.etag).toMatch(/^"?[0-9a-f]{32}"?$/);
        expect(await store.head(bucket, 'dir/missing.json')).toBeUndefined();
        expect(await store.head(bucket, 'dir')).toBeUndefined();
      });

      it('the etag changes when the content changes', async () => {
        await store.put(bucket, 'e.txt', 'one');
        const first = (await store.head(bucket, 'e.txt'))?.etag;
        await new Promise((r) => setTimeout(r, 20));
        await store.put(bucket, 'e.txt', 'three');
        expect((await store.head(bucket, 'e.txt'))?.etag).not.toBe(first);
      });

      it('get of a missing key fails with NoSuchKey', async () => {
        expect(await errorCode(store.get(bucket, 'nope/missing.txt'))).toBe('NoSuchKey');
      });

      it('operations on a bucket that does not exist fail with NoSuchBucket', async () => {
        const other = missingBucket();
        expect(await errorCode(store.get(other, 'a.txt'))).toBe('NoSuchBucket');
        expect(await errorCode(store.put(other, 'a.txt', 'x'))).toBe('NoSuchBucket');
        expect(await errorCode(store.list(other))).toBe('NoSuchBucket');
        expect(await errorCode(store.deleteMany(other, ['a.txt']))).toBe('NoSuchBucket');
      });
    });

    describe('ranges and streams', () => {
      it('get with a range returns the inclusive byte range', async () => {
        await store.put(bucket, 'r.txt', '0123456789');
        expect(text(await store.get(bucket, 'r.txt', { range: { start: 2, end: 5 } }))).toBe('2345');
        expect(text(await store.get(bucket, 'r.txt', { range: { start: 0, end: 0 } }))).toBe('0');
      });

      it('a range ending past the object is cut at its end', async () => {
        await store.put(bucket, 'r.txt', '0123456789');
        expect(text(await store.get(bucket, 'r.txt', { range: { start: 7, end: 100 } }))).toBe('789');
      });

      it('a range starting past the object fails with InvalidRange', async () => {
        await store.put(bucket, 'r.txt', '0123456789');
        expect(await errorCode(store.get(bucket, 'r.txt', { range: { start: 10, end: 20 } }))).toBe('InvalidRange');
      });

      it('getStream yields the whole object', async () => {
        const big = Buffer.alloc(300_000, 'x');
        big.write('head', 0);
        big.write('tail', big.length - 4);
        await store.put(bucket, 'big/object.bin', big);
        const chunks = await collect(await store.getStream(bucket, 'big/object.bin'));
        const joined = Buffer.concat(chunks.map((c) => Buffer.from(c)));
        expect(joined.length).toBe(300_000);
        expect(joined.equals(big)).toBe(true);
      });

      it('getStream of a missing key rejects with NoSuchKey before streaming', async () => {
        expect(await errorCode(store.getStream(bucket, 'missing.bin'))).toBe('NoSuchKey');
      });
    });

    describe('list', () => {
      it('an empty bucket lists nothing and no token', async () => {
        expect(await store.list(bucket)).toEqual({ objects: [], commonPrefixes: [] });
      });

      it('lists keys in UTF-8 byte order, not UTF-16 order', async () => {
        // "a/" sorts between "a-b" and "a0"; U+FF5E sorts before U+1F600 in UTF-8 but after it in UTF-16.
        const keys = ['😀.txt', 'b/c/d.txt', 'a0', 'A', 'a/b', 'é', 'a-b', 'a~', '～'];
        await putAll(store, bucket, keys);
        const page = await store.list(bucket);
        expect(page.objects.map((o) => o.key)).toEqual(['A', 'a-b', 'a/b', 'a0', 'a~', 'b/c/d.txt', 'é', '～', '😀.txt']);
        expect(page.commonPrefixes).toEqual([]);
        expect(page.nextToken).toBeUndefined();
      });

      it('returns sizes, dates and etags that match head', async () => {
        await store.put(bucket, 'one/a.txt', 'abc');
        await store.put(bucket, 'one/b.txt', 'abcdef');
        const page = await store.list(bucket);
        expect(page.objects.map((o) => [o.key, o.size])).toEqual([
          ['one/a.txt', 3],
          ['one/b.txt', 6],
        ]);
        const head = await store.head(bucket, 'one/b.txt');
        const listed = page.objects[1] as ObjectInfo;
        expect(listed.etag).toBe(head?.etag);
        expect(listed.lastModified.getTime()).toBe(head?.lastModified.getTime());
      });

      it('filters by prefix, including a prefix that ends inside a path segment', async () => {
        await putAll(store, bucket, ['logs/2024/01.json', 'logs/2024/02.json', 'logs/2025/01.json', 'logsx/a.json', 'other/logs/1.json']);
        const keys = async (prefix: string) => (await store.list(bucket, { prefix })).objects.map((o) => o.key);
        expect(await keys('logs/')).toEqual(['logs/2024/01.json', 'logs/2024/02.json', 'logs/2025/01.json']);
        expect(await keys('logs')).toEqual(['logs/2024/01.json', 'logs/2024/02.json', 'logs/2025/01.json', 'logsx/a.json']);
        expect(await keys('logs/2024/0')).toEqual(['logs/2024/01.json', 'logs/2024/02.json']);
        expect(await keys('logs/2024/01.json')).toEqual(['logs/2024/01.json']);
        expect(await keys('logs/2026')).toEqual([]);
        expect(await keys('nothing/here/')).toEqual([]);
      });

      it('with a "/" delimiter, groups deeper keys into common prefixes', async () => {
        await putAll(store, bucket, ['logs/2024/01.json', 'logs/2024/02.json', 'logs/2025/01.json', 'logs/readme.txt', 'logsx/a.json', 'top.txt']);
        expect(await store.list(bucket, { delimiter: '/' })).toEqual({
          objects: [expect.objectContaining({ key: 'top.txt' })],
          commonPrefixes: ['logs/', 'logsx/'],
        });
        const page = await store.list(bucket, { prefix: 'logs/', delimiter: '/' });
        expect(page.objects.map((o) => o.key)).toEqual(['logs/readme.txt']);
        expect(page.commonPrefixes).toEqual(['logs/2024/', 'logs/2025/']);
        const partial = await store.list(bucket, { prefix: 'logs/202', delimiter: '/' });
        expect(partial.objects).toEqual([]);
        expect(partial.commonPrefixes).toEqual(['logs/2024/', 'logs/2025/']);
      });

      it('with another delimiter, groups on its first occurrence after the prefix', async () => {
        await putAll(store, bucket, ['year=2024/month=01/a', 'year=2024/month=02/b', 'plain/file']);
        const page = await store.list(bucket, { delimiter: '=' });
        expect(page.objects.map((o) => o.key)).toEqual(['plain/file']);
        expect(page.commonPrefixes).toEqual(['year=']);
        const deeper = await store.list(bucket, { prefix: 'year=2024/', delimiter: '=' });
        expect(deeper.commonPrefixes).toEqual(['year=2024/month=']);
        const multi = await store.list(bucket, { prefix: 'year', delimiter: '/month' });
        expect(multi.commonPrefixes).toEqual(['year=2024/month']);
      });

      it('pages with maxKeys and continuation tokens that round-trip', async () => {
        const keys = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(3, '0')}.json`);
        await putAll(store, bucket, [...keys].reverse());
        const first = await store.list(bucket, { maxKeys: 10 });
        expect(first.objects.map((o) => o.key)).toEqual(keys.slice(0, 10));
        expect(typeof first.nextToken).toBe('string');
        const second = await store.list(bucket, { maxKeys: 10, continuationToken: first.nextToken });
        expect(second.objects.map((o) => o.key)).toEqual(keys.slice(10, 20));
        const third = await store.list(bucket, { maxKeys: 10, continuationToken: second.nextToken });
        expect(third.objects.map((o) => o.key)).toEqual(keys.slice(20));
        expect(third.nextToken).toBeUndefined();
      });

      it('a page that ends exactly at the last key has no token', async () => {
        await putAll(store, bucket, ['x/1', 'x/2', 'x/3']);
        const page = await store.list(bucket, { maxKeys: 3 });
        expect(page.objects.map((o) => o.key)).toEqual(['x/1', 'x/2', 'x/3']);
        expect(page.nextToken).toBeUndefined();
      });

      it('counts common prefixes toward maxKeys and never repeats one across pages', async () => {
        await putAll(store, bucket, ['a/1', 'a/2', 'b/1', 'c.txt', 'd/1', 'd/2', 'e.txt']);
        const pages: { objects: string[]; prefixes: string[] }[] = [];
        let token: string | undefined;
        do {
          const page = await store.list(bucket, { delimiter: '/', maxKeys: 2, continuationToken: token });
          pages.push({ objects: page.objects.map((o) => o.key), prefixes: page.commonPrefixes });
          token = page.nextToken;
        } while (token);
        expect(pages).toEqual([
          { objects: [], prefixes: ['a/', 'b/'] },
          { objects: ['c.txt'], prefixes: ['d/'] },
          { objects: ['e.txt'], prefixes: [] },
        ]);
      });

      it('startAfter skips keys up to and including it, even when it is not a key', async () => {
        await putAll(store, bucket, ['k/1', 'k/2', 'k/3', 'l/1']);
        const keys = async (startAfter: string) => (await store.list(bucket, { startAfter })).objects.map((o) => o.key);
        expect(await keys('k/2')).toEqual(['k/3', 'l/1']);
        expect(await keys('k/25')).toEqual(['k/3', 'l/1']);
        expect(await keys('k/')).toEqual(['k/1', 'k/2', 'k/3', 'l/1']);
        expect(await keys('z')).toEqual([]);
        const grouped = await store.list(bucket, { startAfter: 'k/2', delimiter: '/' });
        expect(grouped.commonPrefixes).toEqual(['k/', 'l/']);
      });

      it('pages at most 1,000 keys, also when asked for more', async () => {
        const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
        await Promise.all(keys.map((k) => store.put(bucket, k, 'x')));
        const first = await store.list(bucket);
        expect(first.objects.length).toBe(1000);
        expect(first.objects[999]?.key).toBe('many/0999');
        const big = await store.list(bucket, { maxKeys: 5000 });
        expect(big.objects.length).toBe(1000);
        const rest = await store.list(bucket, { continuationToken: first.nextToken });
        expect(rest.objects.map((o) => o.key)).toEqual(['many/1000', 'many/1001', 'many/1002', 'many/1003', 'many/1004']);
        expect(rest.nextToken).toBeUndefined();
      });

      it('listAll walks every page in order', async () => {
        const keys = Array.from({ length: 12 }, (_, i) => `all/${String(i).padStart(2, '0')}`);
        await putAll(store, bucket, keys);
        await store.put(bucket, 'skip/me', 'x');
        const listed = await collect(store.listAll(bucket, { prefix: 'all/', maxKeys: 5 }));
        expect(listed.map((o) => o.key)).toEqual(keys);
      });
    });

    describe('deleteMany and copy', () => {
      it('deletes the keys given; missing keys count as deleted, as in S3', async () => {
        await putAll(store, bucket, ['d/1', 'd/2', 'd/sub/3', 'keep/1']);
        const result = await store.deleteMany(bucket, ['d/1', 'd/sub/3', 'd/never']);
        expect(result).toEqual({ deleted: ['d/1', 'd/sub/3', 'd/never'], errors: [] });
        const left = await store.list(bucket);
        expect(left.objects.map((o) => o.key)).toEqual(['d/2', 'keep/1']);
        expect(await store.head(bucket, 'd/sub/3')).toBeUndefined();
      });

      it('refuses more than 1,000 keys in one call', async () => {
        const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`);
        expect(await errorCode(store.deleteMany(bucket, keys))).toBe('MalformedXML');
      });

      it('copies an object, leaving the source in place', async () => {
        await store.put(bucket, 'src/a.txt', 'payload');
        await store.copy(bucket, 'src/a.txt', 'dst/deep/b.txt');
        expect(text(await store.get(bucket, 'dst/deep/b.txt'))).toBe('payload');
        expect(text(await store.get(bucket, 'src/a.txt'))).toBe('payload');
        expect((await store.head(bucket, 'dst/deep/b.txt'))?.size).toBe(7);
      });

      it('copy of a missing key fails with NoSuchKey', async () => {
        expect(await errorCode(store.copy(bucket, 'src/missing.txt', 'dst/x.txt'))).toBe('NoSuchKey');
        expect(await store.head(bucket, 'dst/x.txt')).toBeUndefined();
      });
    });
  });
}
