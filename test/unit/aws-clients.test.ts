import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AwsClients, REDACT_LIMITS, commonClientConfig, redact } from '../../src/lib/aws/clients.js';
import { toLakeError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/log.js';

const SAVED = { ...process.env };
const NO_CREDENTIALS_ENV = {
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
  // Never let the credential chain reach the instance metadata service.
  AWS_EC2_METADATA_DISABLED: 'true',
};

beforeEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
  Object.assign(process.env, NO_CREDENTIALS_ENV);
});
afterEach(() => {
  process.env = { ...SAVED };
});

describe('commonClientConfig', () => {
  it('sets region, profile, endpoint, adaptive retries and the lake user agent', () => {
    const config = commonClientConfig({ region: 'eu-west-1', profile: 'dev', endpointUrl: 'http://127.0.0.1:4566', version: '1.2.3', log: silentLogger });
    expect(config.region).toBe('eu-west-1');
    expect(config.profile).toBe('dev');
    expect(config.endpoint).toBe('http://127.0.0.1:4566');
    expect(config.retryMode).toBe('adaptive');
    expect(config.maxAttempts).toBe(6);
    expect(config.customUserAgent).toEqual([['lake', '1.2.3']]);
  });

  it('leaves profile and endpoint unset when not given, so the SDK chain decides', () => {
    const config = commonClientConfig({ region: 'us-east-1', version: '1', log: silentLogger });
    expect('profile' in config).toBe(false);
    expect('endpoint' in config).toBe(false);
  });
});

describe('redact', () => {
  it('replaces credential fields at any depth', () => {
    expect(redact({ credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' }, input: { Bucket: 'b', SessionToken: 't' } })).toBe(
      '{"credentials":"[redacted]","input":{"Bucket":"b","SessionToken":"[redacted]"}}',
    );
  });

  it('given a GetObject output, summarises the Body stream instead of crashing on its cycles', () => {
    const body = new PassThrough();
    body.end('hello');
    const output = { Body: body, ContentLength: 5, ETag: '"abc"', $metadata: { httpStatusCode: 200, requestId: 'r-1' } };
    expect(redact({ commandName: 'GetObjectCommand', output })).toBe(
      '{"commandName":"GetObjectCommand","output":{"Body":"<stream>","ContentLength":5,"ETag":"\\"abc\\"","$metadata":{"httpStatusCode":200,"requestId":"r-1"}}}',
    );
  });

  it('given a cycle, marks it; a shared (non-cyclic) object is shown each time', () => {
    const node: Record<string, unknown> = { name: 'a' };
    node.self = node;
    const shared = { x: 1 };
    expect(redact({ node, left: shared, right: shared })).toBe('{"node":{"name":"a","self":"[circular]"},"left":{"x":1},"right":{"x":1}}');
  });

  it('given byte arrays, prints their sizes: Buffer, Uint8Array, ArrayBuffer', () => {
    expect(redact({ a: Buffer.from('abc'), b: new Uint8Array(1000), c: new ArrayBuffer(7) })).toBe('{"a":"<3 bytes>","b":"<1000 bytes>","c":"<7 bytes>"}');
  });

  it('given a web ReadableStream, a Map and a bigint, summarises each', () => {
    expect(redact({ s: new ReadableStream(), m: new Map([[1, 2]]), n: 12345678901234567890n })).toBe('{"s":"<stream>","m":"<Map(1)>","n":"12345678901234567890"}');
  });

  it('given a PutRecordBatch of 500 records, shows the first 20 and counts the rest', () => {
    const input = { DeliveryStreamName: 's', Records: Array.from({ length: 500 }, () => ({ Data: new Uint8Array(1000) })) };
    const text = redact({ input });
    const doc = JSON.parse(text) as { input: { Records: unknown[] } };
    expect(doc.input.Records).toHaveLength(21);
    expect(doc.input.Records[0]).toEqual({ Data: '<1000 bytes>' });
    expect(doc.input.Records[20]).toBe('...480 more');
  });

  it('bounds long strings, deep nesting and the whole line', () => {
    expect(redact({ sql: 'x'.repeat(300) })).toBe(`{"sql":"${'x'.repeat(256)}...(300 chars)"}`);
    expect(redact({ a: { b: { c: { d: { e: { f: { g: 1 } } } } } } })).toBe('{"a":{"b":{"c":{"d":{"e":{"f":"[object]"}}}}}}');
    const wide = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`key${i}`, 'y'.repeat(250)]));
    const text = redact(wide);
    expect(text).toHaveLength(REDACT_LIMITS.chars + '...(truncated, 7821 chars)'.length);
    expect(text.endsWith('...(truncated, 7821 chars)')).toBe(true);
  });

  it('given a getter that throws, reports it as unreadable', () => {
    const tricky = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('no'); } });
    expect(redact(tricky)).toBe('{"boom":"[unreadable: no]"}');
  });
});

describe('AwsClients against a loopback endpoint', () => {
  it('addresses S3 by path on a custom endpoint and names lake in the user agent', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    const seen: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      seen.push(req);
      res.setHeader('content-type', 'application/xml');
      res.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>my-bucket</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>data/a.parquet</Key><Size>42</Size></Contents></ListBucketResult>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const clients = new AwsClients({ region: 'us-east-1', endpointUrl: `http://127.0.0.1:${port}`, version: '9.9.9', log: silentLogger });
    try {
      const s3 = await clients.s3();
      const out = await s3.send(new ListObjectsV2Command({ Bucket: 'my-bucket', Prefix: 'data/' }));
      expect(out.Contents?.map((c) => [c.Key, c.Size])).toEqual([['data/a.parquet', 42]]);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.url).toBe("/my-bucket/?list-type=2&prefix=data%2F");
      expect(String(seen[0]!.headers['user-agent'])).toContain('lake/9.9.9');
    } finally {
      await clients.destroy();
      server.close();
    }
  });

  it('with --debug, logs a GetObject call (its Body a live stream) without crashing', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('hello, lake');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const lines: string[] = [];
    const log = { debug: (m: string) => lines.push(m), info: () => {}, warn: () => {} };
    const clients = new AwsClients({ region: 'us-east-1', endpointUrl: `http://127.0.0.1:${port}`, version: '1', log });
    try {
      const s3 = await clients.s3();
      const out = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k.txt' }));
      expect(await out.Body!.transformToString()).toBe('hello, lake');
      const entry = lines.find((l) => l.startsWith('aws: ') && l.includes('"commandName":"GetObjectCommand"'));
      expect(entry).toBeDefined();
      expect(entry).toContain('"output":{"Body":"<stream>"');
      expect(entry).not.toContain('secret');
    } finally {
      await clients.destroy();
      server.close();
    }
  });

  it('maps missing credentials to exit code 5 with a hint', async () => {
    const clients = new AwsClients({ region: 'us-east-1', endpointUrl: 'http://127.0.0.1:9', version: '1', log: silentLogger });
    const s3 = await clients.s3();
    const err = await s3.send(new ListObjectsV2Command({ Bucket: 'b' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await clients.destroy();
    const mapped = toLakeError(err);
    expect(mapped.exitCode).toBe(5);
    expect(mapped.code).toBe('CredentialsError');
    expect(mapped.hint).toBe('set AWS_PROFILE or pass --profile, or run `aws sso login` / `aws configure`');
  });

  it('maps an unknown profile to exit code 5', async () => {
    const clients = new AwsClients({ region: 'us-east-1', profile: 'no-such-profile', endpointUrl: 'http://127.0.0.1:9', version: '1', log: silentLogger });
    const s3 = await clients.s3();
    const err = await s3.send(new ListObjectsV2Command({ Bucket: 'b' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    await clients.destroy();
    expect(toLakeError(err).exitCode).toBe(5);
  });
});
