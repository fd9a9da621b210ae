// `lake send` through the real Firehose adapter over a mocked FirehoseClient: partial
// failures, throttling and exhausted retries, seen from the command line.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FirehoseDeliveryStream } from '../../src/lib/aws/firehose-delivery-stream.js';
import type { Backend } from '../../src/lib/ports.js';
import { runCli } from '../helpers/cli.js';
import { seeded } from '../fixtures/send/fake-stream.js';

const client = new FirehoseClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const firehose = mockClient(client);
const NOW = new Date('2024-05-17T13:05:01Z');

beforeEach(() => {
  firehose.reset();
});

function project(rows: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-send-aws-'));
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'weblogs', backend: 'aws', columns: [{ name: 'id', type: 'bigint' }, { name: 'msg', type: 'string' }] }));
  writeFileSync(join(dir, 'events.ndjson'), Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i, msg: `event ${i}` })).join('\n'));
  return dir;
}

function lake(dir: string, argv: string[]) {
  const backend = { kind: 'aws', stream: new FirehoseDeliveryStream(() => Promise.resolve(client), 'weblogs-ingest'), close: () => Promise.resolve() } as unknown as Backend;
  return runCli(argv, { cwd: dir, main: { backendFactory: () => Promise.resolve(backend), now: () => NOW } });
}

/** Every record Firehose was asked to take, and the ones it accepted, in call order. */
function answering(decide: (data: string, call: number) => 'ok' | { ErrorCode: string; ErrorMessage: string }) {
  const accepted: string[] = [];
  const sent: string[][] = [];
  firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
    const call = sent.length;
    const records = (input.Records ?? []).map((r) => Buffer.from(r.Data!).toString());
    sent.push(records);
    const RequestResponses = records.map((data, i) => {
      const answer = decide(data, call);
      if (answer === 'ok') {
        accepted.push(data);
        return { RecordId: `rec-${call}-${i}` };
      }
      return answer;
    });
    return { FailedPutCount: RequestResponses.filter((r) => 'ErrorCode' in r).length, RequestResponses };
  });
  return { accepted, sent };
}

const SLOW_DOWN = { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };

describe('lake send against Firehose (aws-sdk-client-mock)', () => {
  it('30% of entries failing at random, round after round: every record accepted exactly once', async () => {
    const dir = project(5000);
    const random = seeded(7);
    const { accepted, sent } = answering(() => (random() < 0.3 ? SLOW_DOWN : 'ok'));

    const run = await lake(dir, ['send', 'events.ndjson', '-o', 'json', '--retry-delay', '1', '--max-retries', '30']);

    expect(run.code).toBe(0);
    expect(accepted.length).toBe(5000);
    expect(new Set(accepted).size).toBe(5000);
    const doc = JSON.parse(run.stdout) as Record<string, number>;
    expect(doc).toMatchObject({ read: 5000, accepted: 5000, rejected: 0, undelivered: 0, deadLetter: null });
    // Only failed entries go again: every retried record was refused the time before.
    const totalSent = sent.reduce((s, c) => s + c.length, 0);
    expect(doc.retried).toBe(totalSent - 5000);
    expect(doc.batches).toBe(sent.length);
    expect(sent.length).toBeGreaterThan(10 * 3);
  });

  it('a whole call throttled, then answered: nothing lost, nothing twice', async () => {
    const dir = project(1200);
    let calls = 0;
    const accepted: string[] = [];
    firehose.on(PutRecordBatchCommand).callsFake((input: PutRecordBatchCommandInput) => {
      calls++;
      if (calls <= 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      const records = input.Records ?? [];
      accepted.push(...records.map((r) => Buffer.from(r.Data!).toString()));
      return { FailedPutCount: 0, RequestResponses: records.map((_, i) => ({ RecordId: `r${calls}-${i}` })) };
    });

    const run = await lake(dir, ['send', 'events.ndjson', '-o', 'json', '--retry-delay', '1', '--concurrency', '1']);

    expect(run.code).toBe(0);
    expect(accepted.length).toBe(1200);
    expect(new Set(accepted).size).toBe(1200);
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 1200, duplicatesPossible: 0, batches: 5, retried: 1000 });
  });

  it('retries exhausted: the records go to the dead-letter file and lake exits 3', async () => {
    const dir = project(10);
    answering((data) => (data.includes('"id":3,') || data.includes('"id":7,') ? SLOW_DOWN : 'ok'));

    const run = await lake(dir, ['send', 'events.ndjson', '-o', 'json', '--retry-delay', '1', '--max-retries', '2']);

    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 10, accepted: 8, undelivered: 2, retried: 4, batches: 3, deadLetter: 'lake-dead-letter-20240517T130501Z.ndjson' });
    expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: 'Partial', message: '2 undelivered of 10 rows: see lake-dead-letter-20240517T130501Z.ndjson', exitCode: 3 } });
    const lines = readFileSync(join(dir, 'lake-dead-letter-20240517T130501Z.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { file: 'events.ndjson', line: 4, code: 'ServiceUnavailableException', message: 'Slow down.', stage: 'delivery', attempts: 3, text: '{"id":3,"msg":"event 3"}' },
      { file: 'events.ndjson', line: 8, code: 'ServiceUnavailableException', message: 'Slow down.', stage: 'delivery', attempts: 3, text: '{"id":7,"msg":"event 7"}' },
    ]);
    expect(existsSync(join(dir, '.lake-send-checkpoint.json'))).toBe(false);
  });

  it('a missing stream stops the send with exit 1 and a checkpoint to resume from', async () => {
    const dir = project(3);
    firehose.on(PutRecordBatchCommand).rejects(Object.assign(new Error('Firehose weblogs-ingest under account 123 not found.'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400, requestId: 'abc-123' } }));

    const run = await lake(dir, ['send', 'events.ndjson']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('lake: ResourceNotFoundException: Firehose weblogs-ingest under account 123 not found.\nrequest id: abc-123\n');
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 0, pending: 3, checkpoint: '.lake-send-checkpoint.json' });
  });
});
