import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/log.js';
import { resolveInputs } from '../../src/lib/records/input.js';
import type { SerdeSchema } from '../../src/lib/serde/types.js';
import { readCheckpoint } from '../../src/lib/send/checkpoint.js';
import type { DeadLetterEntry } from '../../src/lib/send/dead-letter.js';
import { type SendSettings, sendInputs } from '../../src/lib/send/pipeline.js';
import { FakeStream, type Script } from '../fixtures/send/fake-stream.js';

const KiB = 1024;
const SCHEMA: SerdeSchema = {
  columns: [
    { name: 'id', type: 'bigint' },
    { name: 'qty', type: 'int' },
    { name: 'note', type: 'string' },
  ],
  options: { caseInsensitive: true, convertDotsInJsonKeysToUnderscores: false, columnToJsonKeyMappings: {} },
};

function workdir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'lake-send-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(d, name), body);
  return d;
}

function settings(dir: string, overrides: Partial<SendSettings> = {}): SendSettings {
  return {
    validate: true,
    validateOnly: false,
    pack: false,
    concurrency: 2,
    maxRetries: 3,
    retryBaseMs: 1,
    retryMaxMs: 5,
    callTimeoutMs: 5000,
    graceMs: 1000,
    deadLetterPath: join(dir, 'dead.ndjson'),
    deadLetterName: 'dead.ndjson',
    checkpointPath: join(dir, 'ck.json'),
    ...overrides,
  };
}

async function send(dir: string, files: string[], script?: Script, overrides: Partial<SendSettings> = {}, signal = new AbortController().signal) {
  const stream = new FakeStream(script);
  const result = await sendInputs(resolveInputs(files, dir), { stream, schema: SCHEMA, stdin: Readable.from([]), log: silentLogger, signal, now: () => new Date('2024-05-17T13:00:00Z') }, settings(dir, overrides));
  return { ...result, stream };
}

const deadLetters = (dir: string): DeadLetterEntry[] =>
  existsSync(join(dir, 'dead.ndjson'))
    ? readFileSync(join(dir, 'dead.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as DeadLetterEntry)
    : [];

describe('sendInputs', () => {
  it('sends good CSV rows as typed JSON and dead-letters the others with line, column, value and Firehose code', async () => {
    const dir = workdir({ 'in.csv': 'id,qty,note\n1,2,ok\n2,two,"bad qty"\n3,,"multi\nline"\n4,5\n' });
    const { report, stream, error } = await send(dir, ['in.csv']);
    expect(error).toBeUndefined();
    expect(stream.accepted).toEqual(['{"id":1,"qty":2,"note":"ok"}', '{"id":3,"qty":null,"note":"multi\\nline"}']);
    expect(deadLetters(dir)).toEqual([
      { file: 'in.csv', line: 3, column: 'qty', value: 'two', code: 'DataFormatConversion.MalformedData', message: 'Data does not match the schema. For input string: "two"', stage: 'validation', text: '2,two,"bad qty"' },
      { file: 'in.csv', line: 6, code: 'lake.FieldCount', message: 'expected 3 fields (as the header has), found 2', stage: 'validation', text: '4,5' },
    ]);
    expect(report).toMatchObject({ files: ['in.csv'], read: 4, accepted: 2, rejected: 2, undelivered: 0, retried: 0, batches: 1, records: 2, billedKB: 10, billedKBUnpacked: 10, deadLetter: 'dead.ndjson', pending: 0, checkpoint: null });
    expect(existsSync(join(dir, 'ck.json'))).toBe(false);
  });

  it('creates no dead-letter file when every row is accepted', async () => {
    const dir = workdir({ 'in.ndjson': '{"id":1}\n{"id":2}\n' });
    const { report } = await send(dir, ['in.ndjson']);
    expect(report).toMatchObject({ accepted: 2, rejected: 0, deadLetter: null });
    expect(existsSync(join(dir, 'dead.ndjson'))).toBe(false);
  });

  it('sends a record of exactly 1,000 KiB and dead-letters one a byte larger, naming its line', async () => {
    const line = (bytes: number) => `{"note":"${'x'.repeat(bytes - 11)}"}`;
    const dir = workdir({ 'big.ndjson': `${line(1000 * KiB)}\n${line(1000 * KiB + 1)}\n{"id":3}\n` });
    const { report, stream } = await send(dir, ['big.ndjson']);
    expect(stream.calls.map((c) => c.map((r) => r.length))).toEqual([[1000 * KiB, 8]]);
    expect(deadLetters(dir).map((d) => [d.line, d.code, d.message])).toEqual([[2, 'lake.RecordTooLarge', 'the record is 1,024,001 bytes; a record may hold at most 1,024,000 (1000 KiB)']]);
    expect(report).toMatchObject({ accepted: 2, rejected: 1 });
  });

  it('makes ceil(rows / 500) calls', async () => {
    const dir = workdir({ 'in.ndjson': Array.from({ length: 1001 }, (_, i) => `{"id":${i}}`).join('\n') });
    const { report, stream } = await send(dir, ['in.ndjson']);
    expect(stream.calls.map((c) => c.length)).toEqual([500, 500, 1]);
    expect(report).toMatchObject({ read: 1001, accepted: 1001, batches: 3 });
  });

  it('--pack puts many rows in one record and reports billing with and without packing', async () => {
    const dir = workdir({ 'in.ndjson': Array.from({ length: 300 }, (_, i) => `{"id":${i},"note":"${'n'.repeat(90)}"}`).join('\n') });
    const { report, stream } = await send(dir, ['in.ndjson'], undefined, { pack: true });
    expect(stream.calls.length).toBe(1);
    expect(stream.calls[0]!.length).toBe(1);
    expect(stream.accepted[0]!.split('\n').length).toBe(300);
    expect(report).toMatchObject({ accepted: 300, records: 1, billedKB: 35, billedKBUnpacked: 1500, packed: true });
  });

  it('--no-validate sends what Firehose would reject (it lands under the error prefix)', async () => {
    const dir = workdir({ 'in.ndjson': '{"id":1}\n{"id":"x"}\nnot json\n' });
    const { report, stream } = await send(dir, ['in.ndjson'], undefined, { validate: false });
    expect(stream.accepted).toEqual(['{"id":1}', '{"id":"x"}', 'not json']);
    expect(report).toMatchObject({ accepted: 3, rejected: 0 });
  });

  it('--validate-only checks every row and sends nothing', async () => {
    const dir = workdir({ 'in.ndjson': '{"id":1}\n{"id":"x"}\nnot json\n' });
    const { report, stream } = await send(dir, ['in.ndjson'], undefined, { validateOnly: true });
    expect(stream.calls).toEqual([]);
    expect(report).toMatchObject({ read: 3, valid: 1, rejected: 2, accepted: 0, pending: 0, validateOnly: true });
    expect(deadLetters(dir).map((d) => [d.line, d.code])).toEqual([
      [2, 'DataFormatConversion.MalformedData'],
      [3, 'DataFormatConversion.ParseError'],
    ]);
  });

  it('stops at unreadable input with an InputError, after delivering what came before it', async () => {
    const dir = workdir({ 'in.json': '[{"id":1},{"id":2}\n{"id":3}]' });
    const { report, stream, error } = await send(dir, ['in.json']);
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toBe("in.json:2: expected ',' or ']' after an array element, found '{'");
    expect(stream.accepted).toEqual(['{"id":1}', '{"id":2}']);
    expect(report).toMatchObject({ accepted: 2, pending: 0 });
  });

  it('dead-letters records still failing after the last retry as undelivered', async () => {
    const dir = workdir({ 'in.ndjson': '{"id":1}\n{"id":2}\n' });
    const { report } = await send(dir, ['in.ndjson'], (_call, records) => records.map((r) => (r.toString().includes('2') ? { code: 'ServiceUnavailableException', message: 'Slow down.' } : 'ok')), { maxRetries: 2 });
    expect(report).toMatchObject({ accepted: 1, undelivered: 1, retried: 2, batches: 3 });
    expect(deadLetters(dir)).toEqual([{ file: 'in.ndjson', line: 2, code: 'ServiceUnavailableException', message: 'Slow down.', stage: 'delivery', attempts: 3, text: '{"id":2}' }]);
  });

  it('Ctrl-C: stops reading, checkpoints, and --resume sends the rest without re-sending accepted rows', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `{"id":${i}}`);
    const dir = workdir({ 'in.ndjson': `${rows.join('\n')}\n` });
    const controller = new AbortController();
    // The third call is interrupted (and then gets no answer); the first two were accepted.
    const first = await send(
      dir,
      ['in.ndjson'],
      (call) => {
        if (call === 2) {
          controller.abort();
          return new Promise(() => {});
        }
        return 'all-ok' as never;
      },
      { concurrency: 1, graceMs: 20 },
      controller.signal,
    );
    expect(first.report).toMatchObject({ interrupted: true, accepted: 1000, checkpoint: join(dir, 'ck.json') });
    expect(first.report.pending).toBe(first.report.read - 1000);
    const saved = readCheckpoint(join(dir, 'ck.json'))!;
    expect(saved.inputs[0]).toMatchObject({ settled: [[0, 1000, 10_890, 1001]], inFlight: [[1000, 1500]] });

    const doc = readCheckpoint(join(dir, 'ck.json'))!;
    const second = await send(dir, ['in.ndjson'], undefined, { resume: doc });
    expect(second.report).toMatchObject({ skipped: 1000, read: 4000, accepted: 4000, duplicatesPossible: 500, interrupted: false, checkpoint: null });
    expect([...first.stream.accepted, ...second.stream.accepted].sort()).toEqual([...rows].sort());
    expect(existsSync(join(dir, 'ck.json'))).toBe(false);
  });
});
