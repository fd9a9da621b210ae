import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirehoseJournal, hasJournal, readBatches, readLedger, readWatermark } from '../../src/lib/local/firehose-journal.js';
import { DeliveredItems } from '../../src/lib/local/firehose-recovery.js';

const enc = new TextEncoder();
const text = (records: Uint8Array[]) => records.map((r) => Buffer.from(r).toString());
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lake-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('firehose journal', () => {
  it('reads back each batch with its sequence, arrival time and exact records, empty records included', () => {
    const journal = new FirehoseJournal(dir);
    journal.append(0, 1709622489045, [enc.encode('{"id":"a"}'), enc.encode(''), enc.encode('é\n"x"')]);
    journal.append(1, 1709622490000, [enc.encode('b')]);
    journal.close();
    expect(hasJournal(dir)).toBe(true);
    expect([...readBatches(dir, 0)].map((b) => [b.seq, b.arrival, text(b.records)])).toEqual([
      [0, 1709622489045, ['{"id":"a"}', '', 'é\n"x"']],
      [1, 1709622490000, ['b']],
    ]);
    expect([...readBatches(dir, 1)].map((b) => b.seq)).toEqual([1]);
  });

  it('ignores a last entry cut short by a kill (never answered)', () => {
    const journal = new FirehoseJournal(dir);
    journal.append(0, 1, [enc.encode('kept')]);
    journal.append(1, 2, [enc.encode('cut short')]);
    journal.close();
    const [segment] = readdirSync(dir);
    truncateSync(join(dir, segment!), statSync(join(dir, segment!)).size - 3);
    expect([...readBatches(dir, 0)].map((b) => text(b.records))).toEqual([['kept']]);
  });

  it('starts a segment once one holds the limit, and deletes the segments wholly below the watermark', () => {
    const journal = new FirehoseJournal(dir, 100);
    const record = enc.encode('x'.repeat(60)); // 28 + 4 + 60 = 92 bytes an entry
    for (let seq = 0; seq < 5; seq++) journal.append(seq, seq, [record]);
    expect(readdirSync(dir).sort()).toEqual(['journal-000000000000.log', 'journal-000000000002.log', 'journal-000000000004.log']);
    journal.advance(1); // batch 1 is in the first segment: nothing deleted
    expect(readdirSync(dir).filter((n) => n.startsWith('journal-')).length).toBe(3);
    expect(readWatermark(dir)).toBe(1);
    journal.advance(3);
    expect(readdirSync(dir).filter((n) => n.startsWith('journal-'))).toEqual(['journal-000000000002.log', 'journal-000000000004.log']);
    expect([...readBatches(dir, readWatermark(dir))].map((b) => b.seq)).toEqual([3, 4]);
    journal.advance(2); // never backwards
    expect(readWatermark(dir)).toBe(3);
    journal.close();
  });

  it('keeps only the delivery lines with items at or above the watermark when it drops segments', () => {
    const journal = new FirehoseJournal(dir, 1);
    for (let seq = 0; seq < 3; seq++) journal.append(seq, seq, [enc.encode('r')]);
    journal.committing({ key: 'data/a.parquet', spans: { 'h-1': [0, 0, 0, 0] } });
    journal.committing({ key: 'data/b.parquet', spans: { 'h-1': [1, 0, 2, 0], 'error:format-conversion-failed': [1, 0, 1, 0] } });
    expect(readLedger(dir).map((l) => l.key)).toEqual(['data/a.parquet', 'data/b.parquet']);
    journal.advance(1);
    expect(readLedger(dir).map((l) => l.key)).toEqual(['data/b.parquet']);
    journal.committing({ key: 'data/c.parquet', spans: { backup: [2, 0, 2, 0] } });
    journal.close();
    expect(readFileSync(join(dir, 'delivered.log'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('ignores a delivery line cut short by a kill', () => {
    const journal = new FirehoseJournal(dir);
    journal.committing({ key: 'data/a.parquet', spans: { 'h-1': [0, 0, 0, 4] } });
    journal.close();
    appendFileSync(join(dir, 'delivered.log'), '{"key":"data/b.par');
    expect(readLedger(dir)).toEqual([{ key: 'data/a.parquet', spans: { 'h-1': [0, 0, 0, 4] } }]);
  });
});

describe('delivered items', () => {
  it('lists the ranges of a batch not yet delivered, across spans that start and end inside it', () => {
    const items = new DeliveredItems();
    items.add('h-1', [3, 0, 5, 2]); // batches 3..5, up to item 2 of batch 5
    items.add('h-1', [5, 6, 7, 0]);
    items.add('h5', [5, 0, 5, 9]);
    expect(items.undelivered('h-1', 2, 4)).toEqual([[0, 4]]);
    expect(items.undelivered('h-1', 4, 4)).toEqual([]);
    expect(items.undelivered('h-1', 5, 10)).toEqual([[3, 6]]);
    expect(items.undelivered('h-1', 7, 3)).toEqual([[1, 3]]);
    expect(items.undelivered('h5', 5, 10)).toEqual([]);
    expect(items.undelivered('h6', 5, 2)).toEqual([[0, 2]]);
    expect([items.has('h-1', 5, 2), items.has('h-1', 5, 3), items.has('h-1', 6, 99), items.has('backup', 5, 0)]).toEqual([true, false, true, false]);
  });

  it('counts only the lines whose object exists', async () => {
    const journal = new FirehoseJournal(dir);
    journal.committing({ key: 'there', spans: { 'h-1': [0, 0, 0, 1] } });
    journal.committing({ key: 'missing', spans: { 'h-1': [0, 2, 0, 3] } });
    journal.close();
    const items = await DeliveredItems.load(dir, (key) => Promise.resolve(key === 'there'));
    expect(items.undelivered('h-1', 0, 5)).toEqual([[2, 5]]);
  });
});
