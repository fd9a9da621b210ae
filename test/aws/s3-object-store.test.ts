import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeCopySource, S3ObjectStore } from '../../src/lib/aws/s3-object-store.js';
import { CredentialsError, ServiceError } from '../../src/lib/errors.js';
import type { ObjectInfo } from '../../src/lib/ports.js';

const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const s3 = mockClient(client);
const store = new S3ObjectStore(() => Promise.resolve(client));
const T1 = new Date('2024-05-17T13:00:00.000Z');
const T2 = new Date('2024-05-17T14:00:00.000Z');

beforeEach(() => {
  s3.reset();
});

describe('S3ObjectStore.listAll', () => {
  it('walks three pages, passing each continuation token back, and yields every object in order', async () => {
    // given three pages chained by continuation tokens
    const pages: Record<string, { keys: string[]; next?: string }> = {
      '': { keys: ['data/a.parquet', 'data/b.parquet'], next: 'token-2' },
      'token-2': { keys: ['data/c.parquet', 'data/d.parquet'], next: 'token-3' },
      'token-3': { keys: ['data/e.parquet'] },
    };
    s3.on(ListObjectsV2Command).callsFake((input: { ContinuationToken?: string }) => {
      const page = pages[input.ContinuationToken ?? '']!;
      return {
        Contents: page.keys.map((Key, i) => ({ Key, Size: 100 + i, LastModified: T1, ETag: `"etag-${Key}"` })),
        IsTruncated: page.next !== undefined,
        NextContinuationToken: page.next,
        KeyCount: page.keys.length,
      };
    });

    // when every object under the prefix is listed
    const seen: ObjectInfo[] = [];
    for await (const object of store.listAll('lake-bucket', { prefix: 'data/', maxKeys: 2 })) seen.push(object);

    // then all five arrive, mapped, and the three calls carried the right tokens
    expect(seen).toEqual([
      { key: 'data/a.parquet', size: 100, lastModified: T1, etag: 'etag-data/a.parquet' },
      { key: 'data/b.parquet', size: 101, lastModified: T1, etag: 'etag-data/b.parquet' },
      { key: 'data/c.parquet', size: 100, lastModified: T1, etag: 'etag-data/c.parquet' },
      { key: 'data/d.parquet', size: 101, lastModified: T1, etag: 'etag-data/d.parquet' },
      { key: 'data/e.parquet', size: 100, lastModified: T1, etag: 'etag-data/e.parquet' },
    ]);
    const inputs = s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(inputs).toStrictEqual([
      { Bucket: 'lake-bucket', Prefix: 'data/', Delimiter: undefined, MaxKeys: 2, ContinuationToken: undefined, StartAfter: undefined },
      { Bucket: 'lake-bucket', Prefix: 'data/', Delimiter: undefined, MaxKeys: 2, ContinuationToken: 'token-2', StartAfter: undefined },
      { Bucket: 'lake-bucket', Prefix: 'data/', Delimiter: undefined, MaxKeys: 2, ContinuationToken: 'token-3', StartAfter: undefined },
    ]);
  });
});

describe('S3ObjectStore.list', () => {
  it('returns common prefixes with a delimiter, passes StartAfter, and hands back the next token', async () => {
    s3.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'data/_SUCCESS', Size: 0, LastModified: T2 }],
      CommonPrefixes: [{ Prefix: 'data/year=2024/' }, { Prefix: 'data/year=2025/' }],
      IsTruncated: true,
      NextContinuationToken: 'next-page',
    });

    const page = await store.list('lake-bucket', { prefix: 'data/', delimiter: '/', startAfter: 'data/year=2023/' });

    expect(page).toStrictEqual({
      objects: [{ key: 'data/_SUCCESS', size: 0, lastModified: T2 }],
      commonPrefixes: ['data/year=2024/', 'data/year=2025/'],
      nextToken: 'next-page',
    });
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toStrictEqual({
      Bucket: 'lake-bucket',
      Prefix: 'data/',
      Delimiter: '/',
      MaxKeys: undefined,
      ContinuationToken: undefined,
      StartAfter: 'data/year=2023/',
    });
  });

  it('gives no next token on the last page, even if S3 sends a stale one', async () => {
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false, NextContinuationToken: 'stale' });
    expect(await store.list('lake-bucket')).toStrictEqual({ objects: [], commonPrefixes: [] });
  });
});

describe('S3ObjectStore.deleteMany', () => {
  it('returns the keys S3 deleted and the per-key errors it reported, without throwing', async () => {
    s3.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: 'errors/b.json', Code: 'AccessDenied', Message: 'Access Denied' }],
    });

    const result = await store.deleteMany('lake-bucket', ['errors/a.json', 'errors/b.json', 'errors/c.json']);

    expect(result).toStrictEqual({
      deleted: ['errors/a.json', 'errors/c.json'],
      errors: [{ key: 'errors/b.json', code: 'AccessDenied', message: 'Access Denied' }],
    });
    expect(s3.commandCalls(DeleteObjectsCommand)[0]!.args[0].input).toStrictEqual({
      Bucket: 'lake-bucket',
      Delete: { Objects: [{ Key: 'errors/a.json' }, { Key: 'errors/b.json' }, { Key: 'errors/c.json' }], Quiet: true },
    });
  });

  it('refuses more than 1,000 keys before calling S3', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `k${i}`);
    await expect(store.deleteMany('lake-bucket', keys)).rejects.toMatchObject({
      constructor: ServiceError,
      code: 'MalformedXML',
      service: 's3',
      message: 'DeleteObjects takes at most 1000 keys a call, got 1001',
    });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it('does not call S3 for an empty list', async () => {
    expect(await store.deleteMany('lake-bucket', [])).toStrictEqual({ deleted: [], errors: [] });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});

describe('S3ObjectStore.head', () => {
  it('answers undefined for a missing key (404 NotFound)', async () => {
    s3.on(HeadObjectCommand).rejects(new NotFound({ $metadata: { httpStatusCode: 404 }, message: 'NotFound' }));
    expect(await store.head('lake-bucket', 'data/missing.parquet')).toBeUndefined();
  });

  it('maps an existing object', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 4096, LastModified: T2, ETag: '"abc123"' });
    expect(await store.head('lake-bucket', 'data/a.parquet')).toStrictEqual({ key: 'data/a.parquet', size: 4096, lastModified: T2, etag: 'abc123' });
  });

  it('turns a bodiless 403 into a credentials error with a hint about s3:ListBucket', async () => {
    s3.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'Forbidden', $fault: 'client', $metadata: { httpStatusCode: 403, requestId: 'REQ1' }, message: 'Forbidden' }));
    const err = await store.head('lake-bucket', 'data/a.parquet').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).message).toBe('permission denied reading s3://lake-bucket/data/a.parquet');
    expect((err as CredentialsError).requestId).toBe('REQ1');
  });
});

describe('S3ObjectStore.copy', () => {
  it('URL-encodes the copy source, so a key with spaces and = reaches S3 intact', async () => {
    s3.on(CopyObjectCommand).resolves({});

    await store.copy('lake-bucket', 'errors/year=2024/format conversion failed/part 1.json', 'redrive/part 1.json');

    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toStrictEqual({
      Bucket: 'lake-bucket',
      Key: 'redrive/part 1.json',
      CopySource: 'lake-bucket/errors/year%3D2024/format%20conversion%20failed/part%201.json',
    });
  });

  it('encodes characters encodeURIComponent leaves alone, and keeps / as the separator', () => {
    expect(encodeCopySource('b', "a/it's (1)*!+ü.json")).toBe('b/a/it%27s%20%281%29%2A%21%2B%C3%BC.json');
  });
});

describe('S3ObjectStore.get, getStream and put', () => {
  it('asks for an inclusive byte range and returns the bytes', async () => {
    const body = { transformToByteArray: () => Promise.resolve(new Uint8Array([80, 65, 82, 49])) } as unknown as GetObjectCommandOutput['Body'];
    s3.on(GetObjectCommand).resolves({ Body: body });

    const bytes = await store.get('lake-bucket', 'data/a.parquet', { range: { start: 1020, end: 1023 } });

    expect(Array.from(bytes)).toEqual([80, 65, 82, 49]);
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toStrictEqual({ Bucket: 'lake-bucket', Key: 'data/a.parquet', Range: 'bytes=1020-1023' });
  });

  it('streams the body chunk by chunk', async () => {
    const body = Readable.from([Buffer.from('a,b\n'), Buffer.from('1,2\n')]) as unknown as GetObjectCommandOutput['Body'];
    s3.on(GetObjectCommand).resolves({ Body: body });

    const chunks: string[] = [];
    for await (const chunk of await store.getStream('lake-bucket', 'athena-results/q.csv')) chunks.push(Buffer.from(chunk).toString('utf8'));

    expect(chunks).toEqual(['a,b\n', '1,2\n']);
  });

  it('puts with content type and encoding', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put('lake-bucket', 'raw/x.json.gz', new Uint8Array([1, 2]), { contentType: 'application/json', contentEncoding: 'gzip' });
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toStrictEqual({
      Bucket: 'lake-bucket',
      Key: 'raw/x.json.gz',
      Body: new Uint8Array([1, 2]),
      ContentType: 'application/json',
      ContentEncoding: 'gzip',
    });
  });
});
