import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckpointDoc, InputLedger, matchCheckpoint, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../../src/lib/send/checkpoint.js';

const input = { name: 'a.csv', path: '/data/a.csv', size: 100, mtimeMs: 5 };

describe('InputLedger', () => {
  it('merges settled ranges in any order and resumes after the first', () => {
    const l = new InputLedger(input);
    l.settle(10, 20, 200, 21);
    l.settle(3, 4, 40, 5);
    expect(l.settled).toEqual([
      [3, 4, 40, 5],
      [10, 20, 200, 21],
    ]);
    expect(l.watermark()).toEqual({ seq: 0, offset: 0, line: 1 });
    l.settle(0, 3, 30, 4);
    expect(l.watermark()).toEqual({ seq: 4, offset: 40, line: 5 });
    l.settle(4, 10, 100, 11);
    expect(l.settled).toEqual([[0, 20, 200, 21]]);
    expect([l.isSettled(0), l.isSettled(19), l.isSettled(20)]).toEqual([true, true, false]);
  });

  it('is complete once every row of an input read to its end is settled', () => {
    const l = new InputLedger(input);
    l.settle(0, 5, 50, 6);
    expect(l.complete).toBe(false);
    l.rows = 6;
    expect(l.complete).toBe(false);
    l.settle(5, 6, 60, 7);
    expect(l.complete).toBe(true);
  });

  it('saves calls in flight, and remembers them across a resume until settled', () => {
    const l = new InputLedger(input);
    l.settle(0, 2, 20, 3);
    l.startCall(1, 2, 7);
    l.startCall(2, 7, 9);
    l.endCall(2);
    l.settle(7, 9, 90, 10);
    const saved = l.toJSON();
    expect(saved).toEqual({ name: 'a.csv', path: '/data/a.csv', size: 100, mtimeMs: 5, settled: [[0, 2, 20, 3], [7, 9, 90, 10]], inFlight: [[2, 7]] });
    const resumed = new InputLedger(input, saved);
    expect([resumed.wasInFlight(1), resumed.wasInFlight(2), resumed.wasInFlight(6), resumed.wasInFlight(7)]).toEqual([false, true, true, false]);
    expect(resumed.toJSON().inFlight).toEqual([[2, 7]]);
    resumed.settle(2, 7, 70, 8);
    expect(resumed.toJSON()).toMatchObject({ settled: [[0, 9, 90, 10]], inFlight: [] });
  });
});

describe('checkpoint files', () => {
  const doc = (inputs = [{ ...input, settled: [], inFlight: [] }]): CheckpointDoc => ({ version: 1, startedAt: 'x', updatedAt: 'y', deadLetter: '/dl.ndjson', settings: { pack: false, validate: true }, inputs });

  it('round-trips through an atomic write, and is gone once removed', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lake-ckpt-')), 'ck.json');
    writeCheckpoint(path, doc());
    expect(readCheckpoint(path)).toEqual(doc());
    removeCheckpoint(path);
    expect(readCheckpoint(path)).toBeUndefined();
  });

  it('refuses to resume other inputs, or inputs that changed', () => {
    expect(() => matchCheckpoint(doc(), [{ name: 'b.csv', path: '/data/b.csv', size: 100, mtimeMs: 5 }], 'ck.json')).toThrow('the checkpoint ck.json is for other inputs (a.csv)');
    expect(() => matchCheckpoint(doc(), [{ ...input, size: 101 }], 'ck.json')).toThrow('a.csv changed since the interrupted send (size or modification time differ)');
    expect(matchCheckpoint(doc(), [input], 'ck.json')).toHaveLength(1);
  });
});
