// `lake send` over the real Firehose adapter and AWS SDK, against a loopback PutRecordBatch
// endpoint that drops connections, loses answers and stalls: nothing is lost, and what may
// arrive twice is only what a lost answer could have delivered.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type CallFate, type FirehoseLoopback, startFirehoseLoopback } from '../fixtures/send/firehose-loopback.js';
import { seeded } from '../fixtures/send/fake-stream.js';

const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'] as const;
const saved: Record<string, string | undefined> = {};
let server: FirehoseLoopback | undefined;

beforeAll(() => {
  // The SDK's credential chain reads the process environment.
  for (const k of ENV_KEYS) saved[k] = process.env[k];
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK', AWS_SECRET_ACCESS_KEY: 'loopback', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
  delete process.env.AWS_PROFILE;
});

afterAll(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function project(rows: number): { dir: string; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'lake-send-transport-'));
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'weblogs', backend: 'aws', columns: [{ name: 'id', type: 'bigint' }, { name: 'msg', type: 'string' }] }));
  const lines = Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i, msg: `event ${i}` }));
  writeFileSync(join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);
  return { dir, lines };
}

const counts = (records: string[]) => {
  const out = new Map<string, number>();
  for (const r of records) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
};

describe('lake send over a faulty loopback Firehose', () => {
  it('drops, lost answers, stalls and refused records: every record arrives, duplicates only where an answer was lost', async () => {
    const { dir, lines } = project(6000);
    const fates: Record<number, CallFate> = { 1: 'drop', 2: 'drop-after-accepting', 4: 'stall', 5: 'drop', 7: 'stall-after-accepting', 9: 'drop' };
    const random = seeded(3);
    server = await startFirehoseLoopback({
      keep: true,
      latencyMs: 5,
      fate: (n) => fates[n] ?? 'answer',
      failRecord: () => (random() < 0.1 ? 'ServiceUnavailableException' : undefined),
    });
    const run = await runCli(['send', 'events.ndjson', '-o', 'json', '--endpoint-url', server.url, '--timeout', '0.5', '--retry-delay', '5'], { cwd: dir });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const seen = counts(server.records);
    // Nothing lost.
    expect(lines.filter((l) => !seen.has(l))).toEqual([]);
    // A record arrives more than once only through calls whose answer was lost after the
    // records were accepted: at most once more for each such call it was in.
    const lostAnswerCalls = server.fates.flatMap((f, i) => (f === 'drop-after-accepting' || f === 'stall-after-accepting' ? [i] : []));
    expect(lostAnswerCalls.length).toBe(2);
    const allowed = new Map<string, number>();
    for (const i of lostAnswerCalls) for (const r of server.callRecords[i]!) allowed.set(r, (allowed.get(r) ?? 0) + 1);
    expect([...seen].filter(([record, n]) => n > 1 + (allowed.get(record) ?? 0))).toEqual([]);
    const doc = JSON.parse(run.stdout) as { accepted: number; duplicatesPossible: number; retried: number };
    expect(doc.accepted).toBe(6000);
    // The stalled call was abandoned by lake, which knows its records may have arrived.
    expect(doc.duplicatesPossible).toBeGreaterThanOrEqual(1);
    expect(doc.retried).toBeGreaterThan(0);
  });

  it('a call answered slowly is not sent twice when it answers within the timeout', async () => {
    const { dir, lines } = project(1000);
    server = await startFirehoseLoopback({ keep: true, latencyMs: 200 });
    const run = await runCli(['send', 'events.ndjson', '-o', 'json', '--endpoint-url', server.url, '--timeout', '5'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(server.records.sort()).toEqual([...lines].sort());
    expect(server.calls).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 1000, duplicatesPossible: 0, retried: 0, batches: 2 });
  });
});
