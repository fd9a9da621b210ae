import { describe, expect, it } from 'vitest';
import { malformedLines, sampleCsv, sampleNdjson, sampleRows, sqlTimestamp } from '../../src/lib/demo/sample.js';

const start = new Date('2024-05-17T00:00:00Z');

describe('demo sample', () => {
  it('is the same for the same seed, and different for another', () => {
    const a = [...sampleRows({ rows: 50, seed: 7, start, hours: 24, malformed: 0 })];
    const b = [...sampleRows({ rows: 50, seed: 7, start, hours: 24, malformed: 0 })];
    const c = [...sampleRows({ rows: 50, seed: 8, start, hours: 24, malformed: 0 })];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('spreads rows over the hours in time order, inside the window', () => {
    const rows = [...sampleRows({ rows: 2400, seed: 1, start, hours: 24, malformed: 0 })];
    expect(rows[0]!.timestamp.startsWith('2024-05-17 00:')).toBe(true);
    expect(rows[2399]!.timestamp.startsWith('2024-05-17 23:')).toBe(true);
    const hours = new Set(rows.map((r) => r.timestamp.slice(11, 13)));
    expect(hours.size).toBe(24);
    expect([...rows].map((r) => r.timestamp)).toEqual(rows.map((r) => r.timestamp).sort());
  });

  it('mixes in exactly the malformed lines asked for, of three kinds', () => {
    const lines = sampleNdjson({ rows: 100, seed: 3, start, hours: 1, malformed: 7 }).trimEnd().split('\n');
    expect(lines.length).toBe(107);
    const bad = lines.filter((l) => l.includes('bad time') || l.includes('bad number') || l.includes('cut off'));
    expect(bad.length).toBe(7);
    expect(malformedLines(3, start)).toEqual([
      '{"source":"web-01","logtype":"INFO","timestamp":"yesterday at noon","message":"bad time 0","latency_ms":1}',
      '{"source":"web-02","logtype":"ERROR","timestamp":"2024-05-17 00:00:00","message":"bad number 1","latency_ms":"fast"}',
      '{"source":"web-03","logtype":"WARN","timestamp":"2024-05-17 00:00:00","message":"cut off 2"',
    ]);
  });

  it('writes CSV with a header and one line a row', () => {
    const csv = sampleCsv({ rows: 3, seed: 5, start, hours: 1, malformed: 0 }).split('\n');
    expect(csv[0]).toBe('source,logtype,timestamp,message,latency_ms');
    expect(csv.length).toBe(5);
  });

  it('formats timestamps the way Firehose reads them', () => {
    expect(sqlTimestamp(new Date('2024-05-07T03:04:05Z'))).toBe('2024-05-07 03:04:05');
  });
});
