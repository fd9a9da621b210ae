// Listing and reading error objects: the fixtures of test/fixtures/error-records (AWS's real
// shapes) placed in an in-memory bucket, read through scanErrors as `lake errors` does.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatConversionErrorJson, genericErrorJson } from '../../src/lib/error-records.js';
import { listErrorObjects } from '../../src/lib/error-scan/listing.js';
import { type ScanOptions, scanErrors } from '../../src/lib/error-scan/scan.js';
import { parseWindow } from '../../src/lib/error-scan/window.js';
import { defaultConfig } from '../../src/lib/config.js';
import { MemoryStore } from '../fixtures/errors-cmd/memory-store.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/error-records/${name}`, import.meta.url)));
const CONFIG = { ...defaultConfig('shop'), bucket: 'shop-data' };
const UUID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const name = (time: string, n: number) => `shop-ingest-1-${time}-${UUID(n)}`;
const TABLE = { catalogId: null, databaseName: 'shop', tableName: 'events', region: 'us-east-1', versionId: 'LATEST', roleArn: 'arn:aws:iam::123456789012:role/lake-shop-firehose' };

/** An error object of format-conversion failures, one a arrival time. */
function conversionFailures(arrivals: string[], raw = (i: number) => `{"qty":"bad${i}"}`): string {
  return arrivals
    .map((iso, i) =>
      formatConversionErrorJson({
        arrivalTimestamp: Date.parse(iso),
        code: 'DataFormatConversion.MalformedData',
        message: `Data does not match the schema. For input string: "bad${i}"`,
        attemptEndingTimestamp: Date.parse(iso) + 1000,
        rawData: Buffer.from(raw(i)),
        sequenceNumber: null,
        subSequenceNumber: null,
        dataCatalogTable: TABLE,
      }),
    )
    .join('');
}

const options = (window: ReturnType<typeof parseWindow>, over: Partial<ScanOptions> = {}): ScanOptions => ({ window, concurrency: 4, retry: { retries: 3, baseMs: 1, maxMs: 2 }, ...over });

describe('reading error objects in AWS shapes', () => {
  const store = new MemoryStore('shop-data');
  const fcf = 'errors/format-conversion-failed/2024/03/05/';
  store.putText(`${fcf}${name('2024-03-05-07-08-09', 1)}`, fixture('format-conversion-failed.json'));
  store.putText(`${fcf}${name('2024-03-05-07-08-09', 2)}.gz`, fixture('format-conversion-failed.json.gz'));
  store.putText(`${fcf}${name('2024-03-05-07-09-00', 3)}`, fixture('empty.json'));
  store.putText(`errors/processing-failed/2024/03/05/${name('2024-03-05-07-08-09', 4)}`, fixture('processing-failed.json'));
  // A layout of the user's own: no type folder, so each record's fields tell its type.
  store.putText(`errors/legacy/${name('2024-03-05-07-08-09', 5)}`, fixture('concatenated.json'));
  store.putText(`errors/legacy/${name('2024-03-05-07-08-10', 6)}`, fixture('corrupt.json'));
  const window = parseWindow('2024-03-05', '2024-03-06', new Date('2024-03-06T00:00:00Z'));

  it('groups every type under every spelling, plain, gzip and concatenated, and reports the corrupt object by key', async () => {
    const { report } = await scanErrors(store, CONFIG, options(window));
    expect(report.total).toBe(12);
    expect(report.objects).toBe(6);
    expect(report.groups.map((g) => [g.type, g.code, g.count, g.firstSeen, g.lastSeen])).toEqual([
      ['format-conversion-failed', 'DataFormatConversion.MalformedData', 4, '2024-03-05T07:08:09.046Z', '2024-03-05T07:08:09.400Z'],
      ['format-conversion-failed', 'DataFormatConversion.ParseError', 3, '2024-03-05T07:08:09.045Z', '2024-03-05T07:08:09.045Z'],
      ['partitioning-failed', 'DynamicPartitioning.MetadataExtractionFailed', 2, '2024-03-05T07:08:09.300Z', '2024-03-05T07:08:09.300Z'],
      ['processing-failed', 'Lambda.ProcessingFailedStatus', 2, '2024-03-05T07:08:09.100Z', '2024-03-05T07:08:09.100Z'],
      ['processing-failed', 'Lambda.FunctionError', 1, '2024-03-05T07:08:09.200Z', '2024-03-05T07:08:09.200Z'],
    ]);
    expect(report.groups[0]!.sample).toBe('Data does not match the schema. For input string: "abc"');
    expect(report.groups[3]!.sample).toBe('ProcessingFailed status set for record');
    expect(report.unreadable).toEqual([
      {
        key: `errors/legacy/${name('2024-03-05-07-08-10', 6)}`,
        records: 2,
        problems: [
          { offset: 554, message: expect.stringMatching(/^unreadable error record at byte 554: /) as unknown },
          { offset: 836, message: 'unreadable error record at byte 836: truncated (the file ends inside it)' },
        ],
      },
    ]);
  });

  it('hands every record of the window to --raw as it is read', async () => {
    const seen: string[] = [];
    await scanErrors(store, CONFIG, options(window, { onRecord: (l) => seen.push(`${l.record.type}:${l.record.code}`) }));
    expect(seen).toHaveLength(12);
    expect(seen.filter((s) => s === 'processing-failed:Lambda.FunctionError')).toHaveLength(1);
  });

  it('leaves out records that arrived outside the window and types not asked for', async () => {
    const narrow = parseWindow('2024-03-05T07:08:09.100Z', '2024-03-05T07:08:09.300Z', new Date('2024-03-06T00:00:00Z'));
    const { report } = await scanErrors(store, CONFIG, options(narrow, { types: ['processing-failed'] }));
    expect(report.groups.map((g) => [g.type, g.code, g.count])).toEqual([
      ['processing-failed', 'Lambda.ProcessingFailedStatus', 2],
      ['processing-failed', 'Lambda.FunctionError', 1],
    ]);
  });
});

describe('listing a window cheaply', () => {
  const now = new Date('2024-05-17T12:30:00Z');
  const window = parseWindow('24h', undefined, now);

  function lakeLayout() {
    const store = new MemoryStore('shop-data', 2);
    const fcf = 'errors/format-conversion-failed/';
    for (const [day, time, n] of [
      ['2024/05/14', '2024-05-14-10-00-00', 1],
      ['2024/05/15', '2024-05-15-10-00-00', 2],
      ['2024/05/16', '2024-05-16-05-00-00', 3],
      ['2024/05/16', '2024-05-16-11-00-00', 4],
      ['2024/05/17', '2024-05-17-12-00-00', 5],
      ['2024/05/18', '2024-05-18-01-00-00', 6],
      ['2024/05/19', '2024-05-19-01-00-00', 7],
    ] as const) {
      const iso = `${time.slice(0, 10)}T${time.slice(11).replace(/-/g, ':')}Z`;
      store.putText(`${fcf}${day}/${name(time, n)}`, conversionFailures([iso]));
    }
    store.putText(`errors/processing-failed/2024/05/17/${name('2024-05-17-09-00-00', 8)}`, genericErrorJson({ arrivalTimestamp: Date.parse('2024-05-17T09:00:00Z'), code: 'Lambda.FunctionError', message: 'boom', attemptEndingTimestamp: 0, rawData: Buffer.from('x') }));
    return store;
  }

  it('lists each type folder from the first day of the window and stops past the last', async () => {
    const store = lakeLayout();
    const { report } = await scanErrors(store, CONFIG, options(window));
    // 05/16 11:00 is read (within the slack) but its record arrived before the window.
    expect(report.total).toBe(2);
    expect(store.gets.sort()).toEqual([
      `errors/format-conversion-failed/2024/05/16/${name('2024-05-16-11-00-00', 4)}`,
      `errors/format-conversion-failed/2024/05/17/${name('2024-05-17-12-00-00', 5)}`,
      `errors/processing-failed/2024/05/17/${name('2024-05-17-09-00-00', 8)}`,
    ]);
    const dated = store.listCalls.filter((c) => c.prefix === 'errors/format-conversion-failed/' && c.delimiter === undefined);
    expect(dated[0]).toEqual({ prefix: 'errors/format-conversion-failed/', startAfter: 'errors/format-conversion-failed/2024/05/16', delimiter: undefined, continuationToken: undefined });
    // Pages of 2 keys: 05/16 (two objects), then 05/17 and 05/18, where it stops.
    expect(dated).toHaveLength(2);
  });

  it('reads the layout of an error prefix without expressions (type/yyyy/MM/dd/HH/) the same way', async () => {
    const store = new MemoryStore('shop-data');
    store.putText(`errors/format-conversion-failed/2024/05/15/23/${name('2024-05-15-23-00-00', 1)}`, conversionFailures(['2024-05-15T23:00:00Z']));
    store.putText(`errors/format-conversion-failed/2024/05/17/10/${name('2024-05-17-10-00-00', 2)}`, conversionFailures(['2024-05-17T10:00:00Z', '2024-05-17T10:00:01Z']));
    const { report } = await scanErrors(store, CONFIG, options(window));
    expect(report.total).toBe(2);
    expect(store.gets).toEqual([`errors/format-conversion-failed/2024/05/17/10/${name('2024-05-17-10-00-00', 2)}`]);
  });

  it('lists other layouts whole and reads only objects whose name falls near the window', async () => {
    const store = new MemoryStore('shop-data');
    store.putText(`errors/dt=2024-05-10/${name('2024-05-10-10-00-00', 1)}`, conversionFailures(['2024-05-10T10:00:00Z']));
    store.putText(`errors/dt=2024-05-17/${name('2024-05-17-10-00-00', 2)}`, conversionFailures(['2024-05-17T10:00:00Z']));
    store.putText('errors/dt=2024-05-17/no-firehose-name', conversionFailures(['2024-05-17T11:00:00Z']), new Date('2024-05-17T11:05:00Z'));
    store.putText('errors/dt=2024-05-10/old-no-firehose-name', conversionFailures(['2024-05-10T11:00:00Z']), new Date('2024-05-10T11:05:00Z'));
    const { report } = await scanErrors(store, CONFIG, options(window));
    expect(report.total).toBe(2);
    expect(store.gets.sort()).toEqual(['errors/dt=2024-05-17/no-firehose-name', `errors/dt=2024-05-17/${name('2024-05-17-10-00-00', 2)}`]);
  });

  it('never reads redriven objects, nor the lake itself when the error prefix is the bucket root', async () => {
    const store = new MemoryStore('shop-data');
    store.putText(`format-conversion-failed/2024/05/17/${name('2024-05-17-10-00-00', 1)}`, conversionFailures(['2024-05-17T10:00:00Z']));
    store.putText(`redriven/20240517T110000Z/format-conversion-failed/2024/05/17/${name('2024-05-17-09-00-00', 2)}`, conversionFailures(['2024-05-17T09:00:00Z']));
    store.putText(`data/year=2024/month=05/day=17/hour=10/${name('2024-05-17-10-00-00', 3)}.parquet`, 'PAR1');
    store.putText(`raw/2024/05/17/10/${name('2024-05-17-10-00-00', 4)}`, '{"qty":1}');
    const { report } = await scanErrors(store, { ...CONFIG, errorPrefix: '', backupPrefix: 'raw/' }, options(window));
    expect(report.total).toBe(1);
    expect(store.gets).toEqual([`format-conversion-failed/2024/05/17/${name('2024-05-17-10-00-00', 1)}`]);
  });

  it('stops listing when the reader stops', async () => {
    const store = lakeLayout();
    store.listDelayMs = 2;
    const objects = listErrorObjects(store, 'shop-data', 'errors/', { window });
    for await (const _ of objects) break;
    const calls = store.listCalls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(store.listCalls.length).toBe(calls);
    expect(calls).toBeLessThan(6);
  });
});

describe('reading faults', () => {
  const window = parseWindow('24h', undefined, new Date('2024-05-17T12:30:00Z'));
  const key = `errors/format-conversion-failed/2024/05/17/${name('2024-05-17-10-00-00', 1)}`;
  const arrivals = Array.from({ length: 10 }, (_, i) => `2024-05-17T10:00:0${i}Z`);

  it('reads a body that broke off again and counts each record once', async () => {
    const store = new MemoryStore('shop-data');
    store.putText(key, conversionFailures(arrivals));
    store.breakAfter.set(key, 1500);
    const { report } = await scanErrors(store, CONFIG, options(window));
    expect(store.gets).toEqual([key, key]);
    expect(report.total).toBe(10);
    expect(report.unreadable).toEqual([]);
  });

  it('reads a gzip body that broke off again instead of waiting forever', async () => {
    const store = new MemoryStore('shop-data');
    store.putText(`${key}.gz`, gzipSync(conversionFailures(arrivals)));
    store.breakAfter.set(`${key}.gz`, 128);
    const { report } = await scanErrors(store, CONFIG, options(window));
    expect(report.total).toBe(10);
    expect(report.unreadable).toEqual([]);
  });

  it('stops listing and reading at the first object it is not allowed to read', async () => {
    const store = new MemoryStore('shop-data', 1);
    for (let i = 0; i < 50; i++) store.putText(`errors/format-conversion-failed/2024/05/17/${name(`2024-05-17-10-00-${String(i).padStart(2, '0')}`, i)}`, conversionFailures([arrivals[0]!]));
    store.denied.add(`errors/format-conversion-failed/2024/05/17/${name('2024-05-17-10-00-01', 1)}`);
    store.listDelayMs = 2;
    await expect(scanErrors(store, CONFIG, options(window))).rejects.toThrow('Access Denied');
    const calls = store.listCalls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(store.listCalls.length).toBe(calls);
    expect(calls).toBeLessThan(10);
  });

  it('skips an object that vanished between listing and reading', async () => {
    const store = new MemoryStore('shop-data');
    store.putText(key, conversionFailures(arrivals));
    store.vanish.add(key);
    const { report } = await scanErrors(store, CONFIG, options(window));
    expect(report).toMatchObject({ total: 0, objects: 1, unreadable: [] });
  });
});
