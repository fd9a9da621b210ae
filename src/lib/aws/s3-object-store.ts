/**
 * ObjectStore over Amazon S3. Pages, 404s, DeleteObjects' per-key errors and CopySource
 * encoding are handled here so callers only see lake's types.
 */
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { CredentialsError, ServiceError } from '../errors.js';
import type { DeleteResult, ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from '../ports.js';

/** DeleteObjects takes at most this many keys a request. */
export const DELETE_OBJECTS_LIMIT = 1000;

/**
 * The value of x-amz-copy-source: `bucket/key`, URL-encoded. The SDK sends it as a header
 * verbatim, and S3 decodes it, so a key with spaces, `=`, `+` or non-ASCII characters must
 * be encoded here or the copy reads the wrong object (or none). `/` stays as the separator;
 * RFC 3986 reserved characters that encodeURIComponent leaves alone are encoded too.
 */
export function encodeCopySource(bucket: string, key: string): string {
  const encode = (segment: string) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${bucket}/${key.split('/').map(encode).join('/')}`;
}

/** S3 quotes ETags (`"abc"`): the quotes belong to HTTP, not to the value. */
function unquote(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"(.*)"$/, '$1');
}

function toObjectInfo(object: _Object): ObjectInfo {
  const info: ObjectInfo = { key: object.Key ?? '', size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
  const etag = unquote(object.ETag);
  if (etag !== undefined) info.etag = etag;
  return info;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly getClient: () => Promise<S3Client>) {}

  async list(bucket: string, options: ListOptions = {}): Promise<ListPage> {
    const client = await this.getClient();
    const out = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: options.prefix,
        Delimiter: options.delimiter,
        MaxKeys: options.maxKeys,
        ContinuationToken: options.continuationToken,
        StartAfter: options.startAfter,
      }),
      { abortSignal: options.signal },
    );
    const page: ListPage = {
      objects: (out.Contents ?? []).map(toObjectInfo),
      commonPrefixes: (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix === undefined ? [] : [p.Prefix])),
    };
    if (out.IsTruncated && out.NextContinuationToken) page.nextToken = out.NextContinuationToken;
    return page;
  }

  async *listAll(bucket: string, options: Omit<ListOptions, 'continuationToken'> = {}): AsyncIterable<ObjectInfo> {
    let continuationToken: string | undefined;
    do {
      const page = await this.list(bucket, { ...options, continuationToken });
      yield* page.objects;
      continuationToken = page.nextToken;
    } while (continuationToken);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const client = await this.getClient();
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const info: ObjectInfo = { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
      const etag = unquote(out.ETag);
      if (etag !== undefined) info.etag = etag;
      return info;
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'NotFound' || name === 'NoSuchKey' || httpStatus(err) === 404) return undefined;
      // A HEAD response has no body, so S3's 403 arrives without an AccessDenied code.
      if (httpStatus(err) === 403) {
        throw new CredentialsError(`permission denied reading s3://${bucket}/${key}`, {
          cause: err,
          requestId: (err as { $metadata?: { requestId?: string } }).$metadata?.requestId,
          hint: 'S3 answers 403 rather than 404 for a missing key when s3:ListBucket is not granted; check s3:GetObject and s3:ListBucket',
        });
      }
      throw err;
    }
  }

  async get(bucket: string, key: string, options: { signal?: AbortSignal; range?: { start: number; end: number } } = {}): Promise<Uint8Array> {
    const client = await this.getClient();
    // The port's range is inclusive at both ends, as HTTP's Range header is.
    const range = options.range ? `bytes=${options.range.start}-${options.range.end}` : undefined;
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }), { abortSignal: options.signal });
    if (!out.Body) return new Uint8Array();
    return out.Body.transformToByteArray();
  }

  async getStream(bucket: string, key: string, options: { signal?: AbortSignal } = {}): Promise<AsyncIterable<Uint8Array>> {
    const client = await this.getClient();
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: options.signal });
    const body = out.Body as unknown as AsyncIterable<Uint8Array> | undefined;
    if (!body || typeof body[Symbol.asyncIterator] !== 'function') {
      throw new ServiceError(`s3://${bucket}/${key}: GetObject returned no readable body`, { service: 's3', code: 'NoBody' });
    }
    return body;
  }

  async put(bucket: string, key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const client = await this.getClient();
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: options.contentType, ContentEncoding: options.contentEncoding }),
      { abortSignal: options.signal },
    );
  }

  async deleteMany(bucket: string, keys: string[], options: { signal?: AbortSignal } = {}): Promise<DeleteResult> {
    if (keys.length > DELETE_OBJECTS_LIMIT) {
      throw new ServiceError(`DeleteObjects takes at most ${DELETE_OBJECTS_LIMIT} keys a call, got ${keys.length}`, { service: 's3', code: 'MalformedXML' });
    }
    // S3 rejects an empty Delete element as MalformedXML; nothing to do is a success.
    if (keys.length === 0) return { deleted: [], errors: [] };
    const client = await this.getClient();
    // Quiet mode: S3 lists only the failures, so the response stays small for 1,000 keys.
    const out = await client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      { abortSignal: options.signal },
    );
    const errors = (out.Errors ?? []).map((e) => ({ key: e.Key ?? '', code: e.Code ?? 'Unknown', message: e.Message ?? '' }));
    const failed = new Set(errors.map((e) => e.key));
    return { deleted: keys.filter((key) => !failed.has(key)), errors };
  }

  async copy(bucket: string, fromKey: string, toKey: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const client = await this.getClient();
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: encodeCopySource(bucket, fromKey) }), { abortSignal: options.signal });
  }
}
