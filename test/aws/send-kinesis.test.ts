// With `kinesisSource`, `lake send` writes to the Kinesis Data Stream feeding Firehose,
// through PutRecords and its limits.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { KINESIS_LIMITS, KinesisSourceStream } from '../../src/lib/aws/kinesis-source-stream.js';
import { ServiceError } from '../../src/lib/errors.js';
import type { Backend } from '../../src/lib/ports.js';
import { runCli } from '../helpers/cli.js';

// Every KinesisClient, including the one lake builds itself.
const kinesis = mockClient(KinesisClient);
const client = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const stream = new KinesisSourceStream(() => Promise.resolve(client), 'weblogs-ingest-source');
const enc = (s: string) => new TextEncoder().encode(s);

beforeEach(() => kinesis.reset());
afterAll(() => kinesis.restore());

describe('KinesisSourceStream', () => {
  it('sends PutRecords with a partition key per record and maps results in order', async () => {
    kinesis.on(PutRecordsCommand).resolves({
      FailedRecordCount: 1,
      Records: [{ SequenceNumber: '495', ShardId: 'shardId-0' }, { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-0' }, {}],
    });
    const result = await stream.putRecordBatch([enc('{"a":1}'), enc('{"a":2}'), enc('{"a":3}')]);
    expect(result).toStrictEqual({
      failedPutCount: 2,
      responses: [
        { recordId: '495' },
        { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded for shard shardId-0' },
        { errorCode: 'MissingResponse', errorMessage: 'Kinesis returned no result for this record' },
      ],
    });
    const input = kinesis.commandCalls(PutRecordsCommand)[0]!.args[0].input;
    expect(input.StreamName).toBe('weblogs-ingest-source');
    const keys = input.Records!.map((r) => r.PartitionKey!);
    expect(keys.every((k) => /^[0-9a-f]{16}$/.test(k))).toBe(true);
    expect(new Set(keys).size).toBe(3);
  });

  it('refuses what PutRecords would refuse, partition keys counted', async () => {
    await expect(stream.putRecordBatch([new Uint8Array(KINESIS_LIMITS.bytesPerRecord - 15)])).rejects.toThrow(ServiceError);
    await expect(stream.putRecordBatch(Array.from({ length: 501 }, () => enc('{}')))).rejects.toThrow('PutRecords takes at most 500 records a call, got 501');
    expect(kinesis.commandCalls(PutRecordsCommand)).toEqual([]);
  });
});

describe('lake send with kinesisSource', () => {
  it('sends to the data stream, retrying throttled records, in calls of at most 500', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-send-kinesis-'));
    writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'weblogs', backend: 'aws', kinesisSource: true, columns: [{ name: 'id', type: 'bigint' }] }));
    writeFileSync(join(dir, 'in.ndjson'), Array.from({ length: 700 }, (_, i) => `{"id":${i}}`).join('\n'));
    const accepted: string[] = [];
    let calls = 0;
    kinesis.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
      calls++;
      const records = input.Records ?? [];
      return {
        FailedRecordCount: 0,
        Records: records.map((r, i) => {
          if (calls === 1 && i % 2 === 0) return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' };
          accepted.push(Buffer.from(r.Data!).toString());
          return { SequenceNumber: `${calls}-${i}`, ShardId: 'shardId-000000000000' };
        }),
      };
    });
    const backend = { kind: 'aws', get stream(): never { throw new Error('the Firehose stream must not be used with a Kinesis source'); }, close: () => Promise.resolve() } as unknown as Backend;

    const run = await runCli(['send', 'in.ndjson', '-o', 'json', '--retry-delay', '1', '--concurrency', '1'], { cwd: dir, env: { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'x' }, main: { backendFactory: () => Promise.resolve(backend) } });

    expect(run.code).toBe(0);
    expect(accepted.length).toBe(700);
    expect(new Set(accepted).size).toBe(700);
    // The retry of the first call's 250 and the second batch of 200 race for the one call slot.
    expect(kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.Records!.length).sort((a, b) => b - a)).toEqual([500, 250, 200]);
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 700, retried: 250, batches: 3 });
    // The data stream the template creates: the delivery stream's name with -source.
    expect(new Set(kinesis.commandCalls(PutRecordsCommand).map((c) => c.args[0].input.StreamName))).toEqual(new Set(['weblogs-ingest-source']));
  });
});
