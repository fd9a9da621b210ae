import { describe, expect, it } from 'vitest';
import {
  MB,
  MIN_BILLED_BYTES,
  TIB,
  billFor,
  billForEstimate,
  billedBytes,
  costUsd,
  formatBytes,
  formatPrice,
  formatUsd,
  isBillable,
} from '../../src/lib/query/cost.js';
import type { QueryExecutionInfo } from '../../src/lib/ports.js';
import { estimateLine, statsLine } from '../../src/lib/query/report.js';

const info = (state: QueryExecutionInfo['state'], scannedBytes: number, statementType: QueryExecutionInfo['statementType'] = 'DML') => ({
  state,
  statementType,
  stats: { scannedBytes, engineMs: 0, queueMs: 0, totalMs: 0 },
});

describe('units', () => {
  it("a megabyte is Athena's: 10^6 bytes, the unit of its 10,000,000-byte minimum cutoff", () => {
    expect(MB).toBe(1_000_000);
    expect(MIN_BILLED_BYTES).toBe(10_000_000);
  });

  it('the price is per TiB: 2^40 bytes, not a TB of 10^12', () => {
    expect(TIB).toBe(1_099_511_627_776);
    expect(costUsd(2 ** 40, 5)).toBe(5);
    expect(costUsd(10 ** 12, 5)).toBe(4.547473509);
  });
});

describe('billedBytes', () => {
  it('0 bytes scanned bills the 10 MB minimum', () => {
    expect(billedBytes(0)).toBe(10_000_000);
  });

  it('10 MB + 1 byte bills 11 MB', () => {
    expect(billedBytes(10_000_001)).toBe(11_000_000);
  });

  it('rounds up to the next MB above the minimum, and keeps whole MBs', () => {
    expect(billedBytes(1)).toBe(10_000_000);
    expect(billedBytes(10_000_000)).toBe(10_000_000);
    expect(billedBytes(31_457_280)).toBe(32_000_000);
    expect(billedBytes(5_000_000_000_000)).toBe(5_000_000_000_000);
  });
});

describe('costUsd', () => {
  it('is billed bytes at pricePerTiB dollars per 2^40 bytes, to the nano-dollar', () => {
    expect(costUsd(10_000_000, 5)).toBe(0.000045475);
    expect(costUsd(11_000_000, 5)).toBe(0.000050022);
    expect(costUsd(3 * 2 ** 40, 6.75)).toBe(20.25);
    expect(costUsd(10_000_000, 0)).toBe(0);
  });
});

describe('billFor', () => {
  it('bills a finished query at least 10 MB', () => {
    expect(billFor(info('SUCCEEDED', 0), 5)).toEqual({ billedBytes: 10_000_000, costUsd: 0.000045475 });
    expect(billFor(info('SUCCEEDED', 10_000_001), 5)).toEqual({ billedBytes: 11_000_000, costUsd: 0.000050022 });
  });

  it('does not bill failed queries', () => {
    expect(billFor(info('FAILED', 123_456_789), 5)).toEqual({ billedBytes: 0, costUsd: 0, free: 'failed' });
  });

  it('does not bill DDL or utility statements', () => {
    expect(billFor(info('SUCCEEDED', 0, 'DDL'), 5)).toEqual({ billedBytes: 0, costUsd: 0, free: 'ddl' });
    expect(billFor(info('SUCCEEDED', 0, 'UTILITY'), 5)).toEqual({ billedBytes: 0, costUsd: 0, free: 'ddl' });
  });

  it('bills a cancelled query for what it scanned, and nothing when it read nothing', () => {
    expect(billFor(info('CANCELLED', 2_500_000_000), 5)).toEqual({ billedBytes: 2_500_000_000, costUsd: 0.011368684 });
    expect(billFor(info('CANCELLED', 0), 5)).toEqual({ billedBytes: 0, costUsd: 0, free: 'nothing-scanned' });
  });

  it('an estimate of a statement that is not billed costs nothing', () => {
    expect(billForEstimate(0, false, 5)).toEqual({ billedBytes: 0, costUsd: 0, free: 'ddl' });
    expect(billForEstimate(0, true, 5)).toEqual({ billedBytes: 10_000_000, costUsd: 0.000045475 });
  });
});

describe('isBillable', () => {
  it.each([
    ['SELECT 1', true],
    ['  with t AS (SELECT 1) SELECT * FROM t', true],
    ['(SELECT 1) UNION (SELECT 2)', true],
    ['-- daily\nSELECT * FROM events', true],
    ['VALUES 1, 2', true],
    ['INSERT INTO t SELECT * FROM events', true],
    ['CREATE TABLE t AS SELECT * FROM events', true],
    ['EXPLAIN ANALYZE SELECT * FROM events', true],
    ['UNLOAD (SELECT * FROM events) TO \'s3://b/p/\' WITH (format = \'PARQUET\')', true],
    ['EXPLAIN SELECT * FROM events', false],
    ['CREATE VIEW v AS SELECT * FROM events', false],
    ['CREATE EXTERNAL TABLE t (a int) LOCATION \'s3://b/p/\'', false],
    ['SHOW PARTITIONS events', false],
    ['DESCRIBE events', false],
    ['MSCK REPAIR TABLE events', false],
    ["ALTER TABLE events ADD PARTITION (year='2024')", false],
  ])('%s -> %s', (sql, billable) => {
    expect(isBillable(sql)).toBe(billable);
  });
});

describe('formatting', () => {
  it('bytes in decimal units, exact below a kB', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(10_000_000)).toBe('10 MB');
    expect(formatBytes(31_457_280)).toBe('31.5 MB');
    expect(formatBytes(1_234_567)).toBe('1.23 MB');
    expect(formatBytes(5_000_000_000_000)).toBe('5 TB');
  });

  it('dollars with two significant digits at least', () => {
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.000045475)).toBe('$0.0000455');
    expect(formatUsd(5)).toBe('$5.00');
    expect(formatUsd(0.25)).toBe('$0.25');
    expect(formatUsd(0.011368684)).toBe('$0.0114');
    expect(formatUsd(20.25)).toBe('$20.25');
    expect(formatPrice(5)).toBe('$5/TiB');
    expect(formatPrice(6.75)).toBe('$6.75/TiB');
  });
});

describe('the cost line', () => {
  const run = (scannedBytes: number) => ({ ...info('SUCCEEDED', scannedBytes), queryId: 'q-1', stats: { scannedBytes, engineMs: 812, queueMs: 40, totalMs: 852 } });

  it('states the bill and its unit, TiB: 0 bytes bills the 10 MB minimum', () => {
    expect(statsLine(run(0), 5, 'engine')).toBe('scanned 0 bytes, billed 10 MB (the 10 MB minimum), $0.0000455 at $5/TiB; engine 812 ms, queue 40 ms, total 852 ms; query q-1');
  });

  it('states the bill and its unit, TiB: 10 MB + 1 byte bills 11 MB', () => {
    expect(statsLine(run(10_000_001), 5, 'engine')).toBe('scanned 10 MB (10,000,001 bytes), billed 11 MB, $0.00005 at $5/TiB; engine 812 ms, queue 40 ms, total 852 ms; query q-1');
  });

  it('says so when an estimate is not billed, and names TiB when it is', () => {
    expect(estimateLine({ scannedBytes: 10_000_001, billedBytes: 11_000_000, costUsd: 0.000050022, partitions: 2, files: 3, method: 'duckdb-plan' }, 5)).toBe(
      'estimate: would scan 10 MB in 3 files of 2 partitions, billed 11 MB, $0.00005 at $5/TiB (method: duckdb-plan)',
    );
    expect(estimateLine({ scannedBytes: 0, billedBytes: 0, costUsd: 0, partitions: 0, files: 0, method: 'duckdb-plan' }, 5)).toBe('estimate: would scan 0 bytes in 0 files of 0 partitions, not billed (method: duckdb-plan)');
  });
});
