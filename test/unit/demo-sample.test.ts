import { describe, expect, it } from 'vitest';
import { malformedCsvLines, malformedLines, sampleCsv, sampleNdjson, sampleRows, sqlTimestamp } from '../../src/lib/demo/sample.js';
import { demoFiles, demoSamples, demoSteps } from '../../src/lib/demo/script.js';

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

  it('mixes malformed CSV rows of three kinds evenly among the good ones', () => {
    const lines = sampleCsv({ rows: 12, seed: 5, start, hours: 1, malformed: 3 }).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 12 + 3);
    // One bad row after every 3 good ones (12 / 4): lines 5, 9 and 13 below the header.
    expect([lines[4], lines[8], lines[12]]).toEqual(malformedCsvLines(3, start));
    expect(malformedCsvLines(3, start)).toEqual(['web-01,INFO,yesterday at noon,bad time 0,1', 'web-02,ERROR,2024-05-17 00:00:00,bad number 1,fast', 'web-03,WARN,2024-05-17 00:00:00,cut off 2']);
    expect(lines.filter((l) => l.split(',').length !== 5)).toEqual(['web-03,WARN,2024-05-17 00:00:00,cut off 2']);
  });

  it('the demo spreads its sample over two days and expects exit 3 only from the checked send', () => {
    const samples = demoSamples(1_000);
    const days = new Set([...sampleRows(samples.csv)].map((r) => r.timestamp.slice(0, 10)));
    expect([...days]).toEqual(['2024-05-16', '2024-05-17']);
    expect(samples.ndjson.rows).toBe(50);
    expect(demoFiles(1_000).map(([name]) => name)).toEqual(['weblogs.csv', 'late.ndjson', 'schema.json']);
    expect(demoSteps('/d').map((s) => [s.args.slice(0, 2).join(' '), s.expectedExitCode])).toEqual([
      ['init --name', 0],
      ['send weblogs.csv', 3],
      ['send late.ndjson', 0],
      ['partitions sync', 0],
      ['query SELECT logtype, count(*) AS n FROM events GROUP BY logtype ORDER BY n DESC', 0],
      ["query SELECT hour, count(*) AS errors FROM events WHERE logtype = 'ERROR' AND year = '2024' AND month = '05' AND day = '17' GROUP BY hour ORDER BY hour", 0],
      ['errors --samples', 0],
    ]);
  });

  it('formats timestamps the way Firehose reads them', () => {
    expect(sqlTimestamp(new Date('2024-05-07T03:04:05Z'))).toBe('2024-05-07 03:04:05');
  });
});
