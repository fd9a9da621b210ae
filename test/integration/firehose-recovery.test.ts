// Recovery of what a killed process's local Firehose had accepted: its spool folder (found by
// a pid that no longer runs) is replayed from the journal by the next stream of that name.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type LakeConfig } from '../../src/lib/config.js';
import { parseErrorRecords } from '../../src/lib/error-records.js';
import { LocalDeliveryStream } from '../../src/lib/local/firehose-emulator.js';
import { FirehoseJournal } from '../../src/lib/local/firehose-journal.js';
import { claimStaleSpools } from '../../src/lib/local/firehose-recovery.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import type { Logger } from '../../src/lib/log.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 2, 5, 7, 8, 9);
const enc = new TextEncoder();
let lakeDir: string;
let store: FsObjectStore;
let config: LakeConfig;
let logged: string[];
const log: Logger = { debug() {}, info: (m) => logged.push(`info: ${m}`), warn: (m) => logged.push(`warn: ${m}`) };

/** A pid that ran and exited: no process has it now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

function spoolRoot(): string {
  return join(lakeDir, 'tmp', 'firehose');
}

/** Batch b holds records b<b>-0 .. b<b>-2, arriving b hours after T0; batch 3 also a malformed one. */
function batch(b: number): Uint8Array[] {
  const records = [0, 1, 2].map((i) => enc.encode(JSON.stringify({ id: `b${b}-${i}` })));
  if (b === 3) records.push(enc.encode('{"id":'));
  return records;
}

/** What a killed process leaves: a journal of 5 calls, batch 0 and the first row of batch 1 delivered, batch 2's object never placed. */
async function killedProcessFolder(pid: number): Promise<string> {
  const dir = join(spoolRoot(), `shop-ingest-${pid}-0badc0de`);
  mkdirSync(dir, { recursive: true });
  const journal = new FirehoseJournal(dir);
  for (let b = 0; b < 5; b++) journal.append(b, T0 + b * HOUR, batch(b));
  journal.committing({ key: 'data/delivered-before.parquet', spans: { 'h-1': [0, 0, 1, 0] } });
  journal.committing({ key: 'data/never-placed.parquet', spans: { 'h-1': [2, 0, 2, 2] } });
  journal.advance(1);
  journal.close();
  await store.put(config.bucket, 'data/delivered-before.parquet', 'not read');
  return dir;
}

async function dataRows(): Promise<{ prefix: string; id: string }[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const rows: { prefix: string; id: string }[] = [];
  try {
    for await (const o of store.listAll(config.bucket, { prefix: 'data/' })) {
      if (!o.key.includes('/shop-ingest-1-')) continue;
      const read = await connection.runAndReadAll(`SELECT id FROM read_parquet('${store.pathFor(config.bucket, o.key)}', hive_partitioning = false)`);
      for (const row of read.getRowObjectsJS() as { id: string }[]) rows.push({ prefix: o.key.slice(0, o.key.lastIndexOf('/') + 1), id: row.id });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

function open(): LocalDeliveryStream {
  return new LocalDeliveryStream({ config, store, now: () => new Date(T0 + 10 * HOUR), log });
}

beforeEach(async () => {
  lakeDir = mkdtempSync(join(tmpdir(), 'lake-recovery-'));
  config = defaultConfig('shop');
  config.lakeDir = lakeDir;
  config.columns = [{ name: 'id', type: 'string' }];
  config.buffering = { sizeMiB: 64, intervalSeconds: 900 };
  store = new FsObjectStore(lakeDir);
  await store.createBucket(config.bucket);
  logged = [];
});
afterEach(() => rmSync(lakeDir, { recursive: true, force: true }));

describe('recovery of a killed process', () => {
  it('replays exactly the undelivered calls with their arrival times, then removes the folder', async () => {
    const pid = deadPid();
    await killedProcessFolder(pid);
    const stream = open();
    await stream.putRecordBatch([enc.encode('{"id":"new"}')]);
    await stream.close();

    const hour = (h: number) => `data/year=2024/month=03/day=05/hour=${String(7 + h).padStart(2, '0')}/`;
    expect(await dataRows()).toEqual([
      { prefix: hour(1), id: 'b1-1' },
      { prefix: hour(1), id: 'b1-2' },
      { prefix: hour(2), id: 'b2-0' },
      { prefix: hour(2), id: 'b2-1' },
      { prefix: hour(2), id: 'b2-2' },
      { prefix: hour(3), id: 'b3-0' },
      { prefix: hour(3), id: 'b3-1' },
      { prefix: hour(3), id: 'b3-2' },
      { prefix: hour(4), id: 'b4-0' },
      { prefix: hour(4), id: 'b4-1' },
      { prefix: hour(4), id: 'b4-2' },
      { prefix: hour(10), id: 'new' },
    ]);
    const errorKeys: string[] = [];
    for await (const o of store.listAll(config.bucket, { prefix: 'errors/' })) errorKeys.push(o.key);
    expect(errorKeys).toEqual([expect.stringMatching(/^errors\/format-conversion-failed\/2024\/03\/05\/shop-ingest-1-2024-03-05-10-08-09-/) as unknown]);
    const { records } = parseErrorRecords(await store.get(config.bucket, errorKeys[0]!));
    expect(records.map((r) => [r.arrivalTimestamp, Buffer.from(r.rawData).toString()])).toEqual([[T0 + 3 * HOUR, '{"id":']]);
    expect(logged).toEqual([`info: delivery stream shop-ingest: recovered 12 rows in 4 calls accepted by a process that was killed (pid ${pid})`]);
    expect(readdirSync(spoolRoot())).toEqual([]);
  });

  it('leaves the folder of a process that still runs alone', async () => {
    const live = join(spoolRoot(), `shop-ingest-${process.ppid}-0badc0de`);
    mkdirSync(live, { recursive: true });
    const journal = new FirehoseJournal(live);
    journal.append(0, T0, batch(0));
    journal.close();
    const stream = open();
    await stream.putRecordBatch([enc.encode('{"id":"new"}')]);
    await stream.close();
    expect((await dataRows()).map((r) => r.id)).toEqual(['new']);
    expect(readdirSync(live)).toEqual(['journal-000000000000.log']);
    expect(logged).toEqual([]);
  });

  it('removes a dead folder without a journal, and leaves other streams\' folders alone', async () => {
    const pid = deadPid();
    mkdirSync(join(spoolRoot(), `shop-ingest-${pid}-0badc0de`), { recursive: true });
    mkdirSync(join(spoolRoot(), `other-ingest-${pid}-0badc0de`), { recursive: true });
    await open().close();
    expect(readdirSync(spoolRoot())).toEqual([`other-ingest-${pid}-0badc0de`]);
  });

  it('lets one of two racing recoverers claim a folder, so its rows are delivered once', async () => {
    await killedProcessFolder(deadPid());
    const claims = [claimStaleSpools(spoolRoot(), 'shop-ingest'), claimStaleSpools(spoolRoot(), 'shop-ingest')];
    expect(claims.map((c) => c.length)).toEqual([1, 0]);
    // The claimed folder now carries this (live) process's pid: streams leave it alone.
    expect(claims[0]![0]!.dir).toMatch(new RegExp(`shop-ingest-${process.pid}-[0-9a-f]{8}$`));
    expect(existsSync(join(claims[0]![0]!.dir, 'journal-000000000000.log'))).toBe(true);
  });

  it('delivers a folder once when two streams recover at the same time', async () => {
    await killedProcessFolder(deadPid());
    const a = open();
    const b = open();
    await Promise.all([a.close(), b.close()]);
    expect((await dataRows()).map((r) => r.id)).toEqual(['b1-1', 'b1-2', 'b2-0', 'b2-1', 'b2-2', 'b3-0', 'b3-1', 'b3-2', 'b4-0', 'b4-1', 'b4-2']);
    expect(logged.filter((m) => m.includes('recovered'))).toHaveLength(1);
  });
});
