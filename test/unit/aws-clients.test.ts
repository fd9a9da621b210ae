import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AwsClients, commonClientConfig, redact } from '../../src/lib/aws/clients.js';
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
