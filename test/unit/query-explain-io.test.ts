import { describe, expect, it } from 'vitest';
import { columnsReferenced, scansNamed } from '../../src/lib/query/estimate-athena.js';
import { domainAdmits, parseIoPlan, partitionSurvives, type ColumnDomain } from '../../src/lib/query/explain-io.js';

// The shape Trino's IoPlanPrinter writes (Athena engine v3): one entry per table scan, the
// constraint on each filtered column as ranges of markers.
const V3_PLAN = JSON.stringify({
  inputTableColumnInfos: [
    {
      table: { catalog: 'awsdatacatalog', schemaTable: { schema: 'weblogs', table: 'events' } },
      constraint: {
        none: false,
        columnConstraints: [
          {
            columnName: 'day',
            type: 'varchar',
            domain: {
              nullsAllowed: false,
              ranges: [
                { low: { value: '16', bound: 'EXACTLY' }, high: { value: '16', bound: 'EXACTLY' } },
                { low: { value: '17', bound: 'EXACTLY' }, high: { value: '17', bound: 'EXACTLY' } },
              ],
            },
          },
          {
            columnName: 'amount',
            type: 'decimal(10,2)',
            domain: { nullsAllowed: false, ranges: [{ low: { value: '100.00', bound: 'ABOVE' }, high: { bound: 'BELOW' } }] },
          },
        ],
      },
      estimate: { outputRowCount: 'NaN', outputSizeInBytes: 'NaN', cpuCost: 'NaN', maxMemory: 0.0, networkCost: 0.0 },
    },
    {
      table: { catalog: 'awsdatacatalog', schemaTable: { schema: 'weblogs', table: 'Sources' } },
      constraint: { none: true, columnConstraints: [] },
      estimate: { outputRowCount: 0.0, outputSizeInBytes: 0.0, cpuCost: 0.0, maxMemory: 0.0, networkCost: 0.0 },
    },
  ],
  estimate: { outputRowCount: 'NaN', outputSizeInBytes: 'NaN', cpuCost: 'NaN', maxMemory: 'NaN', networkCost: 'NaN' },
});

describe('parseIoPlan', () => {
  it('reads tables, none and the column domains of an engine v3 plan', () => {
    expect(parseIoPlan(V3_PLAN)).toEqual([
      {
        catalog: 'awsdatacatalog',
        database: 'weblogs',
        table: 'events',
        none: false,
        constraints: [
          {
            column: 'day',
            type: 'varchar',
            nullsAllowed: false,
            ranges: [
              { low: { value: '16', bound: 'EXACTLY' }, high: { value: '16', bound: 'EXACTLY' } },
              { low: { value: '17', bound: 'EXACTLY' }, high: { value: '17', bound: 'EXACTLY' } },
            ],
          },
          { column: 'amount', type: 'decimal(10,2)', nullsAllowed: false, ranges: [{ low: { value: '100.00', bound: 'ABOVE' }, high: { bound: 'BELOW' } }] },
        ],
      },
      { catalog: 'awsdatacatalog', database: 'weblogs', table: 'sources', none: true, constraints: [] },
    ]);
  });

  it('reads the older shape (columnConstraints on the table entry, typeSignature) and bare NaN tokens', () => {
    const v2 = '{"inputTableColumnInfos":[{"table":{"catalog":"awsdatacatalog","schemaTable":{"schema":"weblogs","table":"events"}},"columnConstraints":[{"columnName":"year","typeSignature":"varchar","domain":{"nullsAllowed":false,"ranges":[{"low":{"value":"2024","bound":"EXACTLY"},"high":{"value":"2024","bound":"EXACTLY"}}]}}],"estimate":{"outputRowCount":NaN}}]}';
    expect(parseIoPlan(v2)).toEqual([
      {
        catalog: 'awsdatacatalog',
        database: 'weblogs',
        table: 'events',
        none: false,
        constraints: [{ column: 'year', type: 'varchar', nullsAllowed: false, ranges: [{ low: { value: '2024', bound: 'EXACTLY' }, high: { value: '2024', bound: 'EXACTLY' } }] }],
      },
    ]);
  });

  it('fails with a clear message on something else', () => {
    expect(() => parseIoPlan('Fragment 0 [SINGLE]')).toThrow(/^cannot read the EXPLAIN \(TYPE IO\) plan: /);
    expect(() => parseIoPlan('{"outputTable":null}')).toThrow('the EXPLAIN (TYPE IO) plan has no inputTableColumnInfos');
  });
});

describe('partition pruning with the plan', () => {
  const range = (low: string | undefined, lowBound: 'EXACTLY' | 'ABOVE', high: string | undefined, highBound: 'EXACTLY' | 'BELOW', type = 'varchar', nullsAllowed = false): ColumnDomain => ({
    column: 'k',
    type,
    nullsAllowed,
    ranges: [{ low: low === undefined ? { bound: 'ABOVE' } : { value: low, bound: lowBound }, high: high === undefined ? { bound: 'BELOW' } : { value: high, bound: highBound } }],
  });

  it('honours inclusive and exclusive bounds and unbounded ends', () => {
    expect(['04', '05', '06', '07'].map((v) => domainAdmits(range('05', 'EXACTLY', '07', 'BELOW'), v))).toEqual([false, true, true, false]);
    expect(['04', '05', '06'].map((v) => domainAdmits(range('05', 'ABOVE', undefined, 'BELOW'), v))).toEqual([false, false, true]);
    expect(['04', '05', '06'].map((v) => domainAdmits(range(undefined, 'ABOVE', '05', 'EXACTLY'), v))).toEqual([true, true, false]);
  });

  it('compares numbers as numbers and strings as strings', () => {
    expect(domainAdmits(range('9', 'EXACTLY', undefined, 'BELOW', 'integer'), '10')).toBe(true);
    expect(domainAdmits(range('9', 'EXACTLY', undefined, 'BELOW', 'varchar'), '10')).toBe(false);
  });

  it("Hive's default partition (null) survives only when nulls are allowed", () => {
    expect(domainAdmits(range('1', 'EXACTLY', '1', 'EXACTLY'), null)).toBe(false);
    expect(domainAdmits(range('1', 'EXACTLY', '1', 'EXACTLY', 'varchar', true), null)).toBe(true);
  });

  it('keeps partitions by the constraints on partition keys only; none keeps nothing', () => {
    const [events, sources] = parseIoPlan(V3_PLAN);
    const keys = ['year', 'month', 'day'];
    expect(partitionSurvives(events!, keys, ['2024', '05', '15'])).toBe(false);
    expect(partitionSurvives(events!, keys, ['2024', '05', '16'])).toBe(true);
    expect(partitionSurvives(events!, keys, ['2023', '12', '17'])).toBe(true);
    expect(partitionSurvives(sources!, [], [])).toBe(false);
  });
});

describe('what the SQL reads', () => {
  const columns = ['id', 'source', 'amount', 'payload', 'ts'];
  const names = (sql: string) => columnsReferenced(sql, columns).map((c) => c.column);

  it('the columns named anywhere, outside strings and comments', () => {
    expect(names("SELECT source, sum(amount) FROM events WHERE day = '17' AND note <> 'payload' GROUP BY 1 -- ts")).toEqual(['source', 'amount']);
    expect(names('SELECT count(*) FROM events')).toEqual([]);
    expect(names('SELECT "Source" FROM events')).toEqual(['source']);
    expect(names('SELECT amount * 2 FROM events')).toEqual(['amount']);
  });

  it('every column for * and t.*', () => {
    expect(names('SELECT * FROM events')).toEqual(columns);
    expect(names('SELECT e.* FROM events e')).toEqual(columns);
    expect(names('SELECT DISTINCT * FROM events')).toEqual(columns);
  });

  it('counts the scans FROM and JOIN name', () => {
    expect(scansNamed('SELECT a.id FROM events a JOIN weblogs.events b ON a.id = b.id', 'events')).toBe(2);
    expect(scansNamed('SELECT * FROM "events"', 'events')).toBe(1);
    expect(scansNamed('SELECT * FROM other', 'events')).toBe(0);
  });
});
