import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/lib/ports.js';
import { runCli } from '../helpers/cli.js';
import { FakeStream, type Script } from '../fixtures/send/fake-stream.js';

const NOW = new Date('2024-05-17T13:05:01.250Z');
const CONFIG = { name: 'shop', columns: [{ name: 'id', type: 'bigint' }, { name: 'qty', type: 'int' }] };

function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-send-cli-'));
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify(CONFIG));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

function lake(dir: string, argv: string[], script?: Script) {
  const stream = new FakeStream(script);
  let built = 0;
  const backendFactory = () => {
    built++;
    return Promise.resolve({ kind: 'local', stream, close: () => stream.close() } as unknown as Backend);
  };
  return runCli(argv, { cwd: dir, main: { backendFactory, now: () => NOW } }).then((run) => ({ ...run, stream, built }));
}

describe('lake send', () => {
  it('exits 0 and prints the send document when every row is accepted', async () => {
    const dir = project({ 'in.csv': 'id,qty\n1,2\n3,4\n' });
    const run = await lake(dir, ['send', 'in.csv', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect({ ...doc, durationMs: 0 }).toEqual({
      files: ['in.csv'],
      read: 2,
      accepted: 2,
      rejected: 0,
      undelivered: 0,
      retried: 0,
      batches: 1,
      records: 2,
      billedKB: 10,
      billedKBUnpacked: 10,
      deadLetter: null,
      durationMs: 0,
      duplicatesPossible: 0,
      skipped: 0,
      pending: 0,
      validateOnly: false,
      packed: false,
      interrupted: false,
      checkpoint: null,
    });
    expect(run.stream.accepted).toEqual(['{"id":1,"qty":2}', '{"id":3,"qty":4}']);
    expect(run.stream.closed).toBe(true);
  });

  it('exits 3 naming the dead-letter file when rows are rejected', async () => {
    const dir = project({ 'in.csv': 'id,qty\n1,2\n2,x\n' });
    const run = await lake(dir, ['send', 'in.csv', '-o', 'json']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 1, rejected: 1, deadLetter: 'lake-dead-letter-20240517T130501Z.ndjson' });
    expect(run.stderr).toBe(
      `${JSON.stringify({ error: { code: 'Partial', message: '1 rejected of 2 rows: see lake-dead-letter-20240517T130501Z.ndjson', hint: 'each line of the dead-letter file names the row, the column and the Firehose error; fix them and send the file again', exitCode: 3 } })}\n`,
    );
    expect(readFileSync(join(dir, 'lake-dead-letter-20240517T130501Z.ndjson'), 'utf8')).toBe(
      `${JSON.stringify({ file: 'in.csv', line: 3, column: 'qty', value: 'x', code: 'DataFormatConversion.MalformedData', message: 'Data does not match the schema. For input string: "x"', stage: 'validation', text: '2,x' })}\n`,
    );
  });

  it('exits 3 when rows stay undelivered after every retry, with --dead-letter naming the file', async () => {
    const dir = project({ 'in.ndjson': '{"id":1}\n' });
    const run = await lake(dir, ['send', 'in.ndjson', '--dead-letter', 'failed.ndjson', '--max-retries', '1', '--retry-delay', '1'], () => [{ code: 'InternalFailure', message: 'Internal service failure.' }]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('lake: 1 undelivered of 1 rows: see failed.ndjson\n');
    expect(JSON.parse(readFileSync(join(dir, 'failed.ndjson'), 'utf8'))).toEqual({ file: 'in.ndjson', line: 1, code: 'InternalFailure', message: 'Internal service failure.', stage: 'delivery', attempts: 2, text: '{"id":1}' });
  });

  it('exits 2 for unreadable input before sending anything', async () => {
    const dir = project({ 'ok.csv': 'id\n1\n' });
    const run = await lake(dir, ['send', 'ok.csv', 'missing.csv']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toBe('lake: cannot read missing.csv: no such file\nhint: check the path; quote patterns so lake expands them\n');
    expect(run.stream.calls).toEqual([]);
  });

  it('exits 5 when the credentials are refused, keeping a checkpoint', async () => {
    const dir = project({ 'in.ndjson': '{"id":1}\n' });
    const denied = Object.assign(new Error('User is not authorized to perform: firehose:PutRecordBatch'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const run = await lake(dir, ['send', 'in.ndjson', '-o', 'json'], () => denied);
    expect(run.code).toBe(5);
    expect(JSON.parse(run.stdout)).toMatchObject({ accepted: 0, pending: 1, checkpoint: '.lake-send-checkpoint.json' });
    expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: 'CredentialsError', exitCode: 5 } });
    expect(existsSync(join(dir, '.lake-send-checkpoint.json'))).toBe(true);
  });

  it('--validate-only needs no backend and exits 3 when rows would be rejected', async () => {
    const dir = project({ 'in.ndjson': '{"id":1}\n{"id":"one"}\n' });
    const run = await lake(dir, ['send', 'in.ndjson', '--validate-only', '-o', 'json']);
    expect(run.code).toBe(3);
    expect(run.built).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 2, valid: 1, rejected: 1, accepted: 0, validateOnly: true });
  });

  it('refuses contradictory or malformed flags with exit 2', async () => {
    const dir = project({ 'in.csv': 'id\n1\n' });
    expect((await lake(dir, ['send', 'in.csv', '--validate-only', '--no-validate'])).stderr).toBe(
      'lake: --validate-only and --no-validate contradict each other\nhint: --validate-only checks and sends nothing; --no-validate sends without checking\n',
    );
    expect((await lake(dir, ['send', 'in.csv', '--concurrency', '0'])).stderr).toBe("lake: --concurrency: expected a whole number from 1 to 64, got '0'\n");
    expect((await lake(dir, ['send', 'in.csv', '--timestamp-format', 'yyyy-MM-dd qq'])).code).toBe(2);
    expect((await lake(dir, ['send', '--resume'])).stderr).toBe(
      'lake: nothing to resume: no checkpoint at .lake-send-checkpoint.json\nhint: a checkpoint is left by a send that was interrupted; run the send without --resume\n',
    );
  });

  it('will not start over a checkpoint left by an interrupted send; --resume continues it', async () => {
    const dir = project({ 'in.ndjson': '{"id":1}\n{"id":2}\n' });
    const first = await lake(dir, ['send', 'in.ndjson'], () => Object.assign(new Error('expired'), { name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } }));
    expect(first.code).toBe(5);
    const again = await lake(dir, ['send', 'in.ndjson']);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      'lake: an interrupted send left a checkpoint at .lake-send-checkpoint.json\nhint: continue it with `lake send --resume`, or delete .lake-send-checkpoint.json to send everything again\n',
    );
    const resumed = await lake(dir, ['send', '--resume', '-o', 'json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ files: ['in.ndjson'], read: 2, accepted: 2, duplicatesPossible: 0, checkpoint: null });
    expect(existsSync(join(dir, '.lake-send-checkpoint.json'))).toBe(false);
  });

  it('prints a summary table on a terminal', async () => {
    const dir = project({ 'in.csv': 'id,qty\n1,2\n' });
    const run = await lake(dir, ['send', 'in.csv', '-o', 'table', '--no-progress']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('sent in.csv');
    expect(run.stdout).toMatch(/│ read │ accepted │ rejected │ undelivered │ retried │ batches │ billed KB │ time/);
  });
});
