import { describe, expect, it } from 'vitest';
import { Batcher, FIREHOSE_LIMITS, Packer, type SendItem, type SendRow, billedKB, maxRecordData } from '../../src/lib/send/batching.js';

const MiB = 1024 * 1024;
const KiB = 1024;

const item = (bytes: number): SendItem => ({ data: Buffer.alloc(bytes, 0x61), rows: [] });
const row = (seq: number, payload: string): SendRow => ({ input: 0, seq, line: seq + 1, end: 0, endLine: 0, raw: Buffer.from(payload), payload: Buffer.from(payload) });

/** Feeds items of the given sizes; returns the batches as lists of sizes. */
function batches(sizes: number[], limits = FIREHOSE_LIMITS): number[][] {
  const b = new Batcher(limits);
  const out: number[][] = [];
  for (const size of sizes) {
    const full = b.add(item(size));
    if (full) out.push(full.map((i) => i.data.length));
  }
  const last = b.flush();
  if (last) out.push(last.map((i) => i.data.length));
  return out;
}

describe('Batcher at PutRecordBatch limits', () => {
  it('puts exactly 500 records in one call, and the 501st in the next', () => {
    expect(batches(Array(500).fill(10)).map((b) => b.length)).toEqual([500]);
    expect(batches(Array(501).fill(10)).map((b) => b.length)).toEqual([500, 1]);
    expect(batches(Array(1000).fill(10)).map((b) => b.length)).toEqual([500, 500]);
  });

  it('puts exactly 4 MiB of records in one call, and one byte more in two', () => {
    const rest = 4 * MiB - 4 * 1000 * KiB;
    expect(batches([1000 * KiB, 1000 * KiB, 1000 * KiB, 1000 * KiB, rest]).map((b) => b.reduce((s, n) => s + n, 0))).toEqual([4 * MiB]);
    expect(batches([1000 * KiB, 1000 * KiB, 1000 * KiB, 1000 * KiB, rest + 1]).map((b) => b.reduce((s, n) => s + n, 0))).toEqual([4000 * KiB, rest + 1]);
  });

  it('takes one record of exactly 1,000 KiB, and refuses one byte more (it must be set aside before)', () => {
    expect(batches([1000 * KiB])).toEqual([[1000 * KiB]]);
    expect(() => batches([1000 * KiB + 1])).toThrow(RangeError);
    expect(maxRecordData(FIREHOSE_LIMITS)).toBe(1000 * KiB);
  });

  it('counts per-record overhead (Kinesis partition keys) against both limits', () => {
    const kinesis = { recordsPerCall: 500, bytesPerCall: 5 * MiB, bytesPerRecord: MiB, overheadPerRecord: 16 };
    expect(maxRecordData(kinesis)).toBe(MiB - 16);
    expect(batches([MiB - 16, MiB - 16, MiB - 16, MiB - 16, MiB - 16], kinesis).map((b) => b.length)).toEqual([5]);
    expect(batches([MiB - 16, MiB - 16, MiB - 16, MiB - 16, MiB - 16, 0], kinesis).map((b) => b.length)).toEqual([5, 1]);
    expect(() => batches([MiB - 15], kinesis)).toThrow(RangeError);
  });
});

describe('Packer (--pack)', () => {
  it('joins rows with newlines up to the size, then starts a new record', () => {
    const p = new Packer(20);
    const out: (SendItem | undefined)[] = [p.add(row(0, '{"a":1}')), p.add(row(1, '{"a":22}')), p.add(row(2, '{"a":333}')), p.flush()];
    const done = out.filter((x): x is SendItem => x !== undefined);
    expect(done.map((i) => [i.data.toString(), i.rows.map((r) => r.seq)])).toEqual([
      ['{"a":1}\n{"a":22}', [0, 1]],
      ['{"a":333}', [2]],
    ]);
  });

  it('fills a record to exactly its size', () => {
    const p = new Packer(15);
    expect(p.add(row(0, '{"a":1}'))).toBeUndefined();
    expect(p.add(row(1, '{"b":2}'))).toBeUndefined();
    expect(p.flush()!.data.length).toBe(15);
  });

  it('sends a row alone when it fills a record by itself', () => {
    const p = new Packer(10);
    expect(p.add(row(0, '0123456789'))).toBeUndefined();
    expect(p.add(row(1, 'x'))!.data.toString()).toBe('0123456789');
    expect(p.flush()!.data.toString()).toBe('x');
  });
});

describe('billing in 5 KB steps', () => {
  it('rounds each record up to the next 5 KB', () => {
    expect([1, 200, 5 * KiB, 5 * KiB + 1, 12 * KiB, 1000 * KiB].map(billedKB)).toEqual([5, 5, 5, 10, 15, 1000]);
  });

  it('packing 10,000 rows of 200 bytes bills 1,965 KB instead of 50,000 KB', () => {
    const p = new Packer(1000 * KiB);
    const items: SendItem[] = [];
    for (let i = 0; i < 10_000; i++) {
      const done = p.add(row(i, `{"n":${String(i).padStart(5, '0')},"pad":"${'x'.repeat(180)}"}`));
      if (done) items.push(done);
    }
    items.push(p.flush()!);
    expect(items.map((i) => [i.rows.length, i.data.length])).toEqual([
      [5094, 1_023_893],
      [4906, 986_105],
    ]);
    expect(items.reduce((s, i) => s + billedKB(i.data.length), 0)).toBe(1000 + 965);
    expect(items.flatMap((i) => i.rows).reduce((s, r) => s + billedKB(r.payload.length), 0)).toBe(50_000);
  });
});
