import { describe, expect, it } from 'vitest';
import { type ErrorRecord, parseErrorRecords } from '../../src/lib/error-records.js';
import { ErrorGrouper, type LocatedRecord } from '../../src/lib/error-scan/groups.js';
import { AsyncQueue } from '../../src/lib/error-scan/queue.js';
import { decodeRawData, explainRecord, rawLine } from '../../src/lib/error-scan/samples.js';
import { transformInput, transformOutput } from '../../src/lib/error-scan/transform.js';
import { dayPath, inWindow, mayHoldWindow, parseWindow, windowDays } from '../../src/lib/error-scan/window.js';
import { UsageError } from '../../src/lib/errors.js';
import type { SerdeSchema } from '../../src/lib/serde/index.js';

const NOW = new Date('2024-05-17T12:30:00Z');
const SCHEMA: SerdeSchema = {
  columns: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'ts', type: 'timestamp' },
  ],
  options: { convertDotsInJsonKeysToUnderscores: false, caseInsensitive: true, columnToJsonKeyMappings: {} },
};

/** One record as the parser gives it, from AWS's format-conversion shape. */
function record(raw: string, fields: { code?: string; message?: string; arrival?: number; type?: string } = {}): ErrorRecord {
  const json = JSON.stringify({
    attemptsMade: 1,
    arrivalTimestamp: fields.arrival ?? NOW.getTime(),
    lastErrorCode: fields.code ?? 'DataFormatConversion.MalformedData',
    lastErrorMessage: fields.message ?? 'Data does not match the schema.',
    attemptEndingTimestamp: (fields.arrival ?? NOW.getTime()) + 5,
    rawData: Buffer.from(raw).toString('base64'),
  });
  const parsed = parseErrorRecords(Buffer.from(json), { type: (fields.type ?? 'format-conversion-failed') as never });
  return parsed.records[0]!;
}

const at = (r: ErrorRecord, key = 'errors/format-conversion-failed/2024/05/17/a'): LocatedRecord => ({ record: r, key, time: r.arrivalTimestamp! });

describe('the time window', () => {
  it('defaults to the 24 hours before now', () => {
    expect(parseWindow(undefined, undefined, NOW)).toEqual({ since: new Date('2024-05-16T12:30:00Z'), until: NOW });
  });

  it('reads durations, dates, date and hour, and ISO times', () => {
    expect(parseWindow('90m', '30m', NOW)).toEqual({ since: new Date('2024-05-17T11:00:00Z'), until: new Date('2024-05-17T12:00:00Z') });
    expect(parseWindow('2024-05-10', '2024-05-17T06', NOW)).toEqual({ since: new Date('2024-05-10T00:00:00Z'), until: new Date('2024-05-17T06:00:00Z') });
    expect(parseWindow('7d', '2024-05-17T12:00:00.000Z', NOW).since).toEqual(new Date('2024-05-10T12:30:00Z'));
  });

  it('refuses an unreadable time and a window that ends before it starts', () => {
    expect(() => parseWindow('yesterday', undefined, NOW)).toThrow(UsageError);
    expect(() => parseWindow('yesterday', undefined, NOW)).toThrow("--since: cannot read 'yesterday' as a time");
    expect(() => parseWindow('1h', '2h', NOW)).toThrow('--since (2024-05-17T11:30:00.000Z) must be before --until (2024-05-17T10:30:00.000Z)');
  });

  it('includes both ends', () => {
    const w = parseWindow('1h', undefined, NOW);
    expect(inWindow(w.since.getTime(), w)).toBe(true);
    expect(inWindow(w.until.getTime(), w)).toBe(true);
    expect(inWindow(w.since.getTime() - 1, w)).toBe(false);
    expect(inWindow(w.until.getTime() + 1, w)).toBe(false);
  });

  it('keeps objects whose key time is within three hours of the window, for buffering and retries', () => {
    const w = parseWindow('1h', undefined, NOW);
    expect(mayHoldWindow(new Date('2024-05-17T08:30:00Z'), w)).toBe(true);
    expect(mayHoldWindow(new Date('2024-05-17T08:29:59Z'), w)).toBe(false);
    expect(mayHoldWindow(new Date('2024-05-17T15:30:00Z'), w)).toBe(true);
    expect(mayHoldWindow(new Date('2024-05-17T15:30:01Z'), w)).toBe(false);
  });

  it('names the day folders to list, the slack included', () => {
    expect(dayPath(new Date('2024-01-02T23:59:59Z'))).toBe('2024/01/02');
    expect(windowDays(parseWindow(undefined, undefined, NOW))).toEqual({ first: '2024/05/16', last: '2024/05/17' });
    expect(windowDays({ since: new Date('2024-05-17T01:00:00Z'), until: new Date('2024-05-17T22:00:00Z') })).toEqual({ first: '2024/05/16', last: '2024/05/18' });
  });
});

describe('grouping error records', () => {
  it('groups by type and code with count, first and last arrival and the earliest message', () => {
    const grouper = new ErrorGrouper();
    const t = NOW.getTime();
    grouper.add(at(record('{"qty":"b"}', { arrival: t + 2000, message: 'Data does not match the schema. For input string: "b"' })));
    grouper.add(at(record('{"qty":"a"}', { arrival: t, message: 'Data does not match the schema. For input string: "a"' })));
    grouper.add(at(record('{x', { arrival: t + 1000, code: 'DataFormatConversion.ParseError', message: 'Encountered malformed JSON.' })));
    grouper.add(at(record('FAIL', { arrival: t + 500, code: 'Lambda.FunctionError', message: 'The Lambda function was successfully invoked but it returned an error result.', type: 'processing-failed' })));
    grouper.add(at(record('{"qty":"c"}', { arrival: t + 3000 })));
    expect(grouper.total).toBe(5);
    expect(grouper.result()).toEqual([
      { type: 'format-conversion-failed', code: 'DataFormatConversion.MalformedData', count: 3, firstSeen: '2024-05-17T12:30:00.000Z', lastSeen: '2024-05-17T12:30:03.000Z', sample: 'Data does not match the schema. For input string: "a"' },
      { type: 'format-conversion-failed', code: 'DataFormatConversion.ParseError', count: 1, firstSeen: '2024-05-17T12:30:01.000Z', lastSeen: '2024-05-17T12:30:01.000Z', sample: 'Encountered malformed JSON.' },
      { type: 'processing-failed', code: 'Lambda.FunctionError', count: 1, firstSeen: '2024-05-17T12:30:00.500Z', lastSeen: '2024-05-17T12:30:00.500Z', sample: 'The Lambda function was successfully invoked but it returned an error result.' },
    ]);
  });

  it('gives the same result whatever order the records come in', () => {
    const records = Array.from({ length: 20 }, (_, i) => at(record(`{"qty":"v${i}"}`, { arrival: NOW.getTime() + (i % 5) * 1000, message: `m${i}` }), `errors/k${i}`));
    const forward = new ErrorGrouper(3, SCHEMA);
    const backward = new ErrorGrouper(3, SCHEMA);
    for (const r of records) forward.add(r);
    for (const r of [...records].reverse()) backward.add(r);
    expect(backward.result()).toEqual(forward.result());
    expect(forward.result()[0]!.sample).toBe('m0');
    expect(forward.result()[0]!.samples!.map((s) => s.data)).toEqual(['{"qty":"v0"}', '{"qty":"v10"}', '{"qty":"v15"}']);
  });

  it('groups records with no type or code under unknown', () => {
    const grouper = new ErrorGrouper();
    const parsed = parseErrorRecords(Buffer.from('{"rawData":"YQ==","arrivalTimestamp":1}')).records[0]!;
    grouper.add({ record: parsed, key: 'errors/x', time: 1 });
    expect(grouper.result()).toEqual([{ type: 'unknown', code: 'unknown', count: 1, firstSeen: '1970-01-01T00:00:00.001Z', lastSeen: '1970-01-01T00:00:00.001Z', sample: '' }]);
  });
});

describe('samples', () => {
  it('names the column and value that fail conversion', () => {
    const sample = explainRecord(at(record('{"id":"a1","qty":"12 units","ts":"2024-05-17 10:00:00"}')), SCHEMA);
    expect(sample).toEqual({
      key: 'errors/format-conversion-failed/2024/05/17/a',
      arrival: '2024-05-17T12:30:00.000Z',
      data: '{"id":"a1","qty":"12 units","ts":"2024-05-17 10:00:00"}',
      bytes: 55,
      message: 'Data does not match the schema.',
      column: 'qty',
      value: '"12 units"',
    });
  });

  it('says when a record converts with the schema of today', () => {
    expect(explainRecord(at(record('{"id":"a1","qty":3}')), SCHEMA).convertsNow).toBe(true);
  });

  it('does not run the serde on records that failed for another reason', () => {
    const sample = explainRecord(at(record('{"qty":"x"}', { code: 'Lambda.FunctionError', type: 'processing-failed' })), SCHEMA);
    expect(sample.column).toBeUndefined();
    expect(sample.convertsNow).toBeUndefined();
  });

  it('cuts long records and shows bytes that are not UTF-8 as base64', () => {
    const long = explainRecord(at(record(`{"id":"${'x'.repeat(400)}"}`)), undefined);
    expect(long.data).toHaveLength(300);
    expect(long.data.endsWith('…')).toBe(true);
    expect(long.truncated).toBe(true);
    expect(long.bytes).toBe(409);
    expect(decodeRawData(new Uint8Array([0xff, 0xfe, 0x41]))).toEqual({ text: '//5B', encoding: 'base64' });
  });

  it('prints a --raw line as Firehose wrote the record, with rawData decoded and the key first', () => {
    const line = rawLine(at(record('{"qty":"x"}')));
    expect(line).toEqual({
      key: 'errors/format-conversion-failed/2024/05/17/a',
      type: 'format-conversion-failed',
      attemptsMade: 1,
      arrivalTimestamp: NOW.getTime(),
      lastErrorCode: 'DataFormatConversion.MalformedData',
      lastErrorMessage: 'Data does not match the schema.',
      attemptEndingTimestamp: NOW.getTime() + 5,
      rawData: '{"qty":"x"}',
    });
    expect(Object.keys(line).slice(0, 2)).toEqual(['key', 'type']);
  });
});

describe('transform input and output', () => {
  it('gives one JSON object parsed, anything else as text, and bytes that are not UTF-8 as a Buffer', () => {
    expect(transformInput(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(transformInput(Buffer.from('{"a":1}{"a":2}'))).toBe('{"a":1}{"a":2}');
    expect(transformInput(Buffer.from('[1]'))).toBe('[1]');
    expect(transformInput(Buffer.from('{bad'))).toBe('{bad');
    expect(transformInput(new Uint8Array([0xff]))).toEqual(Buffer.from([0xff]));
  });

  it('sends objects as JSON and strings as they are, leaves null out and refuses the rest', () => {
    expect(Buffer.from(transformOutput({ a: 1, b: 2n }) as Uint8Array).toString()).toBe('{"a":1,"b":"2"}');
    expect(Buffer.from(transformOutput('{"a":1} {"a":2}') as Uint8Array).toString()).toBe('{"a":1} {"a":2}');
    expect(transformOutput(null)).toBeNull();
    expect(transformOutput(undefined)).toBeNull();
    expect(transformOutput(42)).toEqual({ problem: 'the transform returned a number; return an object, a string or null' });
    expect(transformOutput([{}])).toEqual({ problem: 'the transform returned an array; return an object, a string or null' });
  });
});

describe('the listing-to-reading queue', () => {
  it('holds a producer back at the high-water mark until a consumer takes', async () => {
    const queue = new AsyncQueue<number>(2);
    let pushed = 0;
    const producer = (async () => {
      for (let i = 0; i < 5; i++) {
        await queue.push(i);
        pushed++;
      }
      queue.close();
    })();
    await new Promise((r) => setTimeout(r, 10));
    expect(pushed).toBe(1);
    const taken: number[] = [];
    for (;;) {
      const next = await queue.next();
      if (next.done) break;
      taken.push(next.value);
    }
    await producer;
    expect(taken).toEqual([0, 1, 2, 3, 4]);
  });

  it('passes a producer failure to the consumer after what was queued', async () => {
    const queue = new AsyncQueue<number>();
    await queue.push(1);
    queue.fail(new Error('ListObjectsV2 failed'));
    await expect(queue.next()).resolves.toEqual({ done: false, value: 1 });
    await expect(queue.next()).rejects.toThrow('ListObjectsV2 failed');
  });
});
