// A Parquet object the local Firehose wrote, read by an independent reader: hyparquet, a
// pure-JavaScript Parquet implementation that shares no code with DuckDB (the writer) nor
// with lake. It must see the Glue types in the file's own schema (timestamp as a timestamp,
// bigint as INT64, decimal as a decimal) and the exact values.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/lib/config.js';
import { LocalDeliveryStream } from '../../src/lib/local/firehose-emulator.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import { silentLogger } from '../../src/lib/log.js';
import { SHOP_COLUMNS } from '../helpers/shop-columns.js';

const enc = new TextEncoder();
let lakeDir: string;

beforeEach(() => {
  lakeDir = mkdtempSync(join(tmpdir(), 'lake-hyparquet-'));
});
afterEach(() => rmSync(lakeDir, { recursive: true, force: true }));

describe('a Parquet object of the local lake, read by hyparquet', () => {
  it('has the Glue types in its schema and the exact values, Snappy-compressed', async () => {
    const config = defaultConfig('shop');
    config.lakeDir = lakeDir;
    config.columns = [...SHOP_COLUMNS];
    const store = new FsObjectStore(lakeDir);
    await store.createBucket(config.bucket);
    const stream = new LocalDeliveryStream({ config, store, now: () => new Date(Date.UTC(2024, 2, 5, 7, 8, 9)), log: silentLogger });
    await stream.putRecordBatch([
      enc.encode('{"id":"a","qty":7,"big":9007199254740993,"price":12.3,"ratio":0.1,"ok":true,"ts":"2024-03-05T07:08:09.123456Z","born":"2024-02-29"}'),
      enc.encode('{"id":"b","qty":-2147483648,"big":-9223372036854775808,"price":"-99999999.99","ratio":-1.5e-300,"ok":false,"ts":1709622489,"born":"1970-01-01"}'),
      enc.encode('{"id":"c"}'),
    ]);
    await stream.close();
    const keys: string[] = [];
    for await (const o of store.listAll(config.bucket)) keys.push(o.key);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^data\/year=2024\/month=03\/day=05\/hour=07\/shop-ingest-1-2024-03-05-07-08-09-[0-9a-f-]{36}\.parquet$/);

    const bytes = readFileSync(store.pathFor(config.bucket, keys[0]!));
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const metadata = parquetMetadata(file);
    const columns = parquetSchema(metadata).children.map((c) => {
      const e = c.element;
      return { name: e.name, type: e.type, converted: e.converted_type, logical: e.logical_type, precision: e.precision, scale: e.scale };
    });
    expect(columns).toEqual([
      { name: 'id', type: 'BYTE_ARRAY', converted: 'UTF8', logical: undefined, precision: undefined, scale: undefined },
      { name: 'qty', type: 'INT32', converted: 'INT_32', logical: undefined, precision: undefined, scale: undefined },
      { name: 'big', type: 'INT64', converted: 'INT_64', logical: undefined, precision: undefined, scale: undefined },
      { name: 'price', type: 'INT64', converted: 'DECIMAL', logical: { type: 'DECIMAL', precision: 10, scale: 2 }, precision: 10, scale: 2 },
      { name: 'ratio', type: 'DOUBLE', converted: undefined, logical: undefined, precision: undefined, scale: undefined },
      { name: 'ok', type: 'BOOLEAN', converted: undefined, logical: undefined, precision: undefined, scale: undefined },
      { name: 'ts', type: 'INT64', converted: 'TIMESTAMP_MICROS', logical: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' }, precision: undefined, scale: undefined },
      { name: 'born', type: 'INT32', converted: 'DATE', logical: undefined, precision: undefined, scale: undefined },
    ]);
    expect(new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)))).toEqual(new Set(['SNAPPY']));
    expect(metadata.num_rows).toBe(3n);

    // Raw values: the INT64 and DECIMAL columns as the integers stored, the timestamp as microseconds.
    const raw = await parquetReadObjects({ file, utf8: true, parsers: { timestampFromMicroseconds: (v) => v, dateFromDays: (v) => v } });
    expect(raw).toEqual([
      { id: 'a', qty: 7, big: 9007199254740993n, price: 12.3, ratio: 0.1, ok: true, ts: 1709622489123456n, born: 19782 },
      { id: 'b', qty: -2147483648, big: -9223372036854775808n, price: -99999999.99, ratio: -1.5e-300, ok: false, ts: 1709622489000000n, born: 0 },
      { id: 'c', qty: null, big: null, price: null, ratio: null, ok: null, ts: null, born: null },
    ]);
    // And as the reader's own types: timestamps as instants, dates as days.
    const typed = await parquetReadObjects({ file, columns: ['ts', 'born'] });
    expect(typed).toEqual([
      { ts: new Date('2024-03-05T07:08:09.123Z'), born: new Date('2024-02-29T00:00:00.000Z') },
      { ts: new Date('2024-03-05T07:08:09.000Z'), born: new Date('1970-01-01T00:00:00.000Z') },
      { ts: null, born: null },
    ]);
  });
});
