import { describe, expect, it } from 'vitest';
import { chunk, parseSince, placeKey, planSync, valuesEnd, valuesStart, type PlacementRules } from '../../src/lib/partitions.js';

const hive: PlacementRules = { tablePrefix: 'data/', keys: ['year', 'month', 'day', 'hour'], layout: 'hive', excludedPrefixes: ['errors/', 'raw/'] };
const firehose: PlacementRules = { ...hive, layout: 'firehose' };

describe('placeKey', () => {
  it('places a hive key in its partition', () => {
    expect(placeKey('data/year=2024/month=05/day=17/hour=13/s-1-2024-05-17-13-00-00-x.parquet', 10, hive)).toEqual({
      kind: 'partition',
      values: ['2024', '05', '17', '13'],
      prefix: 'data/year=2024/month=05/day=17/hour=13/',
    });
  });

  it('places a Firehose-layout key in its partition', () => {
    expect(placeKey('data/2024/05/17/13/s-1.parquet', 10, firehose)).toEqual({ kind: 'partition', values: ['2024', '05', '17', '13'], prefix: 'data/2024/05/17/13/' });
  });

  it('ignores folder markers, temporary objects and excluded prefixes', () => {
    expect(placeKey('data/year=2024/', 0, hive)).toEqual({ kind: 'ignored' });
    expect(placeKey('data/year=2024/month=05/day=17/hour=13/.lake-tmp-abc', 5, hive)).toEqual({ kind: 'ignored' });
    expect(placeKey('data/year=2024_$folder$', 0, hive)).toEqual({ kind: 'ignored' });
    expect(placeKey('errors/format-conversion-failed/x', 5, { ...hive, tablePrefix: '' })).toEqual({ kind: 'ignored' });
  });

  it.each([
    ['data/year=2024/month=13/day=01/hour=00/a.parquet', 'data/year=2024/month=13/', "month '13' is out of range (two digits 01-12)"],
    ['data/year=24/month=01/day=01/hour=00/a.parquet', 'data/year=24/', "year '24' is not four digits"],
    ['data/year=2024/minute=01/day=01/hour=00/a.parquet', 'data/year=2024/minute=01/', "unknown key 'minute' where month was expected"],
    ["data/year=2024/month=0'1/day=01/hour=00/a.parquet", "data/year=2024/month=0'1/", "month value '0'1' contains a quote or backslash"],
    ['data/tmp/x.parquet', 'data/tmp/x.parquet', 'path stops before the month level'],
    ['data/stray.parquet', 'data/stray.parquet', 'object outside any partition'],
    ['data/year=2024/month=05/day=17/a.parquet', 'data/year=2024/month=05/day=17/a.parquet', 'path stops before the hour level'],
  ])('reports %s as an anomaly at %s', (key, path, reason) => {
    expect(placeKey(key, 10, hive)).toEqual({ kind: 'anomaly', anomaly: { path, reason } });
  });
});

describe('planSync', () => {
  const loc = (v: string) => `s3://b/data/year=2024/month=05/day=${v}/`;
  const rules = { prune: false };

  it('adds the missing, updates moved locations, counts the unchanged', () => {
    const plan = planSync(
      [
        { values: ['2024', '05', '01'], location: loc('01'), objects: 1, bytes: 1 },
        { values: ['2024', '05', '02'], location: loc('02'), objects: 1, bytes: 1 },
        { values: ['2024', '05', '03'], location: loc('03'), objects: 1, bytes: 1 },
      ],
      [
        { values: ['2024', '05', '01'], location: loc('01').slice(0, -1) },
        { values: ['2024', '05', '02'], location: 's3://b/old/02/' },
        { values: ['2024', '05', '09'], location: loc('09') },
      ],
      rules,
    );
    expect(plan.add).toEqual([{ values: ['2024', '05', '03'], location: loc('03') }]);
    expect(plan.update).toEqual([{ before: { values: ['2024', '05', '02'], location: 's3://b/old/02/' }, after: { values: ['2024', '05', '02'], location: loc('02') } }]);
    expect(plan.unchanged).toBe(1);
    expect(plan.drop).toEqual([]);
  });

  it('with prune, drops the registered partitions that have no objects, within scope only', () => {
    const registered = [
      { values: ['2024', '04', '30'], location: 'x' },
      { values: ['2024', '05', '09'], location: 'y' },
    ];
    const plan = planSync([], registered, { prune: true, inScope: (v) => v[1] === '05' });
    expect(plan.drop).toEqual([{ values: ['2024', '05', '09'], location: 'y' }]);
  });
});

describe('time helpers', () => {
  it('gives the period a partition covers', () => {
    expect(valuesStart(['year', 'month', 'day', 'hour'], ['2024', '05', '17', '13']).toISOString()).toBe('2024-05-17T13:00:00.000Z');
    expect(valuesEnd(['year', 'month', 'day', 'hour'], ['2024', '05', '17', '13']).toISOString()).toBe('2024-05-17T14:00:00.000Z');
    expect(valuesEnd(['year', 'month'], ['2024', '12']).toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(valuesEnd(['year', 'month', 'day', 'hour'], ['2024'])).toEqual(new Date('2025-01-01T00:00:00Z'));
  });

  it('reads --since as a date, a date and hour, or a duration back', () => {
    const now = new Date('2024-05-17T13:30:00Z');
    expect(parseSince('2024-05-01', now)?.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseSince('2024-05-17T09', now)?.toISOString()).toBe('2024-05-17T09:00:00.000Z');
    expect(parseSince('48h', now)?.toISOString()).toBe('2024-05-15T13:30:00.000Z');
    expect(parseSince('7d', now)?.toISOString()).toBe('2024-05-10T13:30:00.000Z');
    expect(parseSince('2024-05', now)?.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseSince('yesterday', now)).toBeUndefined();
  });

  it('chunks at the given size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk(Array.from({ length: 250 }, (_, i) => i), 100).map((c) => c.length)).toEqual([100, 100, 50]);
  });
});
