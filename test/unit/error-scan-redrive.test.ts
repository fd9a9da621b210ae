// Redrive: decode, transform, check with the serde, deliver, mark. Delivery is a fake here
// (the send path has its own tests; test/aws and test/e2e run the real one).
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/lib/config.js';
import { formatConversionErrorJson } from '../../src/lib/error-records.js';
import { type DeliveryOutcome, type NotAccepted, type RedriveDeps, redrive } from '../../src/lib/error-scan/redrive.js';
import { scanErrors } from '../../src/lib/error-scan/scan.js';
import type { RecordTransform } from '../../src/lib/error-scan/transform.js';
import { parseWindow } from '../../src/lib/error-scan/window.js';
import { ServiceError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/log.js';
import type { SerdeSchema } from '../../src/lib/serde/index.js';
import { MemoryStore } from '../fixtures/errors-cmd/memory-store.js';

const CONFIG = { ...defaultConfig('shop'), bucket: 'shop-data' };
const SCHEMA: SerdeSchema = {
  columns: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'int' },
    { name: 'ts', type: 'timestamp' },
  ],
  options: { convertDotsInJsonKeysToUnderscores: false, caseInsensitive: true, columnToJsonKeyMappings: {} },
};
const TABLE = { catalogId: null, databaseName: 'shop', tableName: 'events', region: 'us-east-1', versionId: 'LATEST', roleArn: 'arn:aws:iam::123456789012:role/lake-shop-firehose' };
const WINDOW = parseWindow('24h', undefined, new Date('2024-05-17T12:30:00Z'));
const DIR = 'errors/format-conversion-failed/2024/05/17/';
const KEY_A = `${DIR}shop-ingest-1-2024-05-17-10-00-00-00000000-0000-4000-8000-00000000000a`;
const KEY_B = `${DIR}shop-ingest-1-2024-05-17-11-00-00-00000000-0000-4000-8000-00000000000b`;
const KEY_C = 'errors/format-conversion-failed/2024/05/16/shop-ingest-1-2024-05-16-12-00-00-00000000-0000-4000-8000-00000000000c';
const RUN = '20240517T123000Z';

function failure(raw: string, arrival: string, code = 'DataFormatConversion.MalformedData', message = 'Data does not match the schema.') {
  return formatConversionErrorJson({ arrivalTimestamp: Date.parse(arrival), code, message, attemptEndingTimestamp: Date.parse(arrival) + 1000, rawData: Buffer.from(raw), sequenceNumber: null, subSequenceNumber: null, dataCatalogTable: TABLE });
}

const QTY = failure('{"id":"q1","qty":"3 units"}', '2024-05-17T10:00:00Z');
const TS = failure('{"id":"t1","ts":"yesterday"}', '2024-05-17T10:00:01Z');
const PARSE = failure('{"id":"p1"', '2024-05-17T10:00:02Z', 'DataFormatConversion.ParseError', 'Encountered malformed JSON.');
const DROP = failure('{"id":"drop-me","qty":"x"}', '2024-05-17T11:00:00Z');
const OLD = failure('{"id":"old","qty":"x"}', '2024-05-16T12:00:00Z');
const NEW = failure('{"id":"n1","qty":"7"}', '2024-05-16T12:40:00Z');

/** Fixes qty and ParseError records, drops drop-me, cannot fix the timestamp. */
const fix: RecordTransform = (record, info) => {
  if (typeof record === 'string') return `${record}}`;
  const r = record as Record<string, unknown>;
  if (r.id === 'drop-me') return null;
  if (info.column === 'qty') return { ...r, qty: Number.parseInt(String(r.qty), 10) };
  return r;
};

let store: MemoryStore;
let sent: string[][];
let refuse: Map<number, NotAccepted>;
let fail: Partial<DeliveryOutcome>;

function deps(transform?: RecordTransform): RedriveDeps {
  return {
    store,
    bucket: 'shop-data',
    errorPrefix: 'errors/',
    schema: SCHEMA,
    transform,
    log: silentLogger,
    concurrency: 2,
    deliver: async (payloads) => {
      sent.push(payloads.map((p) => Buffer.from(p).toString('utf8')));
      return { notAccepted: refuse, accepted: payloads.length - refuse.size, deadLetter: refuse.size > 0 ? 'dead.ndjson' : null, batches: 1, retried: 0, interrupted: false, ...fail };
    },
  };
}

async function run(transform: RecordTransform | undefined, dryRun = false) {
  const scan = await scanErrors(store, CONFIG, { window: WINDOW, concurrency: 2, keepObjects: true });
  return redrive(scan.objects, deps(transform), { window: WINDOW, dryRun, runId: RUN });
}

beforeEach(() => {
  store = new MemoryStore('shop-data');
  store.putText(KEY_A, QTY + TS + PARSE);
  store.putText(KEY_B, DROP);
  store.putText(KEY_C, OLD + NEW);
  sent = [];
  refuse = new Map();
  fail = {};
});

describe('redriving error records', () => {
  it('sends what the transform fixes, leaves out what it drops, keeps what still fails, and marks the objects', async () => {
    const { report, error } = await run(fix);
    expect(error).toBeUndefined();
    expect(sent).toEqual([['{"id":"n1","qty":"7"}', '{"id":"q1","qty":3}', '{"id":"p1"}']]);
    expect(report).toEqual({
      dryRun: false,
      records: 5,
      toSend: 3,
      sent: 3,
      skipped: 1,
      stillFailing: 1,
      undelivered: 0,
      objects: 3,
      unreadableObjects: 0,
      deadLetter: null,
      batches: 1,
      retried: 0,
      failing: [{ code: 'DataFormatConversion.MalformedData', column: 'ts', count: 1, message: 'Data does not match the schema. For input string: "yesterday"' }],
      markFailures: [],
      archive: 'errors/redriven/20240517T123000Z/',
    });
    // The originals are archived whole; what is left stays where `lake errors` finds it.
    expect(store.text(`errors/redriven/${RUN}/format-conversion-failed/2024/05/17/${KEY_A.split('/').pop()}`)).toBe(QTY + TS + PARSE);
    expect(store.text(`errors/redriven/${RUN}/format-conversion-failed/2024/05/17/${KEY_B.split('/').pop()}`)).toBe(DROP);
    expect(store.text(KEY_A)).toBe(TS);
    expect(store.text(KEY_B)).toBeUndefined();
    expect(store.text(KEY_C)).toBe(OLD);
  });

  it('sends nothing the second time', async () => {
    await run(fix);
    const second = await run(fix);
    expect(sent).toHaveLength(1);
    expect(second.report).toMatchObject({ records: 1, toSend: 0, sent: 0, skipped: 0, stillFailing: 1, objects: 0 });
    expect(store.text(KEY_A)).toBe(TS);
  });

  it('with --dry-run counts, and sends and moves nothing', async () => {
    const { report } = await run(fix, true);
    expect(sent).toEqual([]);
    expect(report).toMatchObject({ dryRun: true, records: 5, toSend: 3, sent: 0, skipped: 1, stillFailing: 1, objects: 0, archive: null });
    expect(store.keys()).toEqual([KEY_C, KEY_A, KEY_B]);
  });

  it('without a transform sends only records the schema now converts', async () => {
    const { report } = await run(undefined);
    expect(sent).toEqual([['{"id":"n1","qty":"7"}']]);
    expect(report).toMatchObject({ records: 5, sent: 1, stillFailing: 4, objects: 1 });
    expect(report.failing.map((f) => [f.code, f.column, f.count])).toEqual([
      ['DataFormatConversion.MalformedData', 'qty', 2],
      ['DataFormatConversion.MalformedData', 'ts', 1],
      ['DataFormatConversion.ParseError', undefined, 1],
    ]);
    expect(store.text(KEY_C)).toBe(OLD);
    expect(store.text(KEY_A)).toBe(QTY + TS + PARSE);
  });

  it('keeps records the stream did not accept, so a later redrive retries them', async () => {
    refuse.set(1, { code: 'ServiceUnavailableException', message: 'Slow down.', stage: 'delivery' });
    const { report } = await run(fix);
    expect(report).toMatchObject({ sent: 2, undelivered: 1, stillFailing: 1, deadLetter: 'dead.ndjson' });
    expect(store.text(KEY_A)).toBe(QTY + TS);
  });

  it('marks nothing when the delivery stopped early', async () => {
    fail = { error: new ServiceError('AccessDeniedException'), accepted: 1 };
    const { report, error } = await run(fix);
    expect(error?.message).toBe('AccessDeniedException');
    expect(report).toMatchObject({ sent: 1, objects: 0, archive: null });
    expect(store.keys()).toEqual([KEY_C, KEY_A, KEY_B]);
  });

  it('records a transform that throws as still failing', async () => {
    const { report } = await run(() => {
      throw new Error('no idea');
    });
    expect(report).toMatchObject({ sent: 0, stillFailing: 5, objects: 0 });
    expect(report.failing).toEqual([{ code: 'lake.TransformError', count: 5, message: 'the transform threw: no idea' }]);
  });

  it('leaves alone an object it could not read whole', async () => {
    store.putText(KEY_A, `${QTY}{"attemptsMade":1,"rawData":`);
    const { report } = await run(fix);
    expect(report.unreadableObjects).toBe(1);
    expect(sent).toEqual([['{"id":"n1","qty":"7"}']]);
    expect(store.text(KEY_A)).toBe(`${QTY}{"attemptsMade":1,"rawData":`);
  });

  it('writes what is left of a gzip object back as gzip', async () => {
    await store.deleteMany('shop-data', [KEY_A]);
    store.putText(`${KEY_A}.gz`, new Uint8Array(gzipSync(QTY + TS)));
    const { report } = await run(fix);
    expect(report).toMatchObject({ sent: 2, stillFailing: 1 });
    expect(gunzipSync(store.bodies.get(`${KEY_A}.gz`)!).toString('utf8')).toBe(TS);
  });

  it('puts a record with line breaks on one line, as the NDJSON input of the send path needs', async () => {
    store.putText(KEY_B, failure('{"id":"m1",\n"qty":\r\n1}', '2024-05-17T11:00:00Z'));
    await run(undefined);
    expect(sent[0]).toContain('{"id":"m1", "qty":  1}');
  });
});
