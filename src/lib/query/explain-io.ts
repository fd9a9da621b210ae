/**
 * Athena's `EXPLAIN (TYPE IO, FORMAT JSON)`: free, runs nothing, and names every table a
 * query reads with the constraint its filters put on the columns (Trino's IoPlanPrinter):
 *
 *   {"inputTableColumnInfos": [{
 *      "table": {"catalog": "awsdatacatalog", "schemaTable": {"schema": "weblogs", "table": "events"}},
 *      "constraint": {"none": false, "columnConstraints": [{
 *         "columnName": "day", "type": "varchar",
 *         "domain": {"nullsAllowed": false, "ranges": [{"low": {"value": "17", "bound": "EXACTLY"},
 *                                                         "high": {"value": "17", "bound": "EXACTLY"}}]}}]},
 *      "estimate": {"outputRowCount": 0.0, "outputSizeInBytes": 0.0, "cpuCost": 0.0, ...}}],
 *    "estimate": {...}}
 *
 * A marker's bound is EXACTLY (inclusive), ABOVE (exclusive low, or unbounded when it has
 * no value) or BELOW (exclusive high, or unbounded). `none: true` means no row can match.
 * Older engines (v2) put `columnConstraints` directly on the table entry.
 */
import { ServiceError } from '../errors.js';

export type Bound = 'EXACTLY' | 'ABOVE' | 'BELOW';

export interface Marker {
  value?: string;
  bound: Bound;
}

export interface ColumnDomain {
  column: string;
  type: string;
  nullsAllowed: boolean;
  ranges: { low: Marker; high: Marker }[];
}

export interface IoTableScan {
  catalog: string;
  database: string;
  table: string;
  /** No row can satisfy the filters: nothing is read. */
  none: boolean;
  constraints: ColumnDomain[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The plan's text (the EXPLAIN result's rows joined) -> one entry per table scan. */
export function parseIoPlan(text: string): IoTableScan[] {
  let plan: unknown;
  try {
    // Jackson may write NaN estimates as bare tokens, which JSON.parse refuses.
    plan = JSON.parse(text.replace(/:\s*(NaN|-?Infinity)\b/g, ': null'));
  } catch (err) {
    throw new ServiceError(`cannot read the EXPLAIN (TYPE IO) plan: ${(err as Error).message}`, { service: 'athena', code: 'BadExplainOutput' });
  }
  if (!isObject(plan) || !Array.isArray(plan.inputTableColumnInfos)) {
    throw new ServiceError('the EXPLAIN (TYPE IO) plan has no inputTableColumnInfos', { service: 'athena', code: 'BadExplainOutput' });
  }
  return plan.inputTableColumnInfos.filter(isObject).map((info) => {
    const table = isObject(info.table) ? info.table : {};
    const schemaTable = isObject(table.schemaTable) ? table.schemaTable : {};
    const constraint = isObject(info.constraint) ? info.constraint : { none: false, columnConstraints: info.columnConstraints };
    const columns = Array.isArray(constraint.columnConstraints) ? constraint.columnConstraints.filter(isObject) : [];
    return {
      catalog: String(table.catalog ?? ''),
      database: String(schemaTable.schema ?? '').toLowerCase(),
      table: String(schemaTable.table ?? '').toLowerCase(),
      none: constraint.none === true,
      constraints: columns.map(readDomain),
    };
  });
}

function readDomain(c: Json): ColumnDomain {
  const domain = isObject(c.domain) ? c.domain : {};
  const type = typeof c.type === 'string' ? c.type : isObject(c.typeSignature) ? String(c.typeSignature.rawType ?? '') : String(c.typeSignature ?? '');
  return {
    column: String(c.columnName ?? '').toLowerCase(),
    type: type.toLowerCase(),
    nullsAllowed: domain.nullsAllowed === true,
    ranges: (Array.isArray(domain.ranges) ? domain.ranges.filter(isObject) : []).map((r) => ({ low: readMarker(r.low, 'ABOVE'), high: readMarker(r.high, 'BELOW') })),
  };
}

function readMarker(v: unknown, unbounded: Bound): Marker {
  if (!isObject(v)) return { bound: unbounded };
  const bound = v.bound === 'EXACTLY' || v.bound === 'ABOVE' || v.bound === 'BELOW' ? v.bound : unbounded;
  return typeof v.value === 'string' ? { value: v.value, bound } : { bound };
}

const NUMERIC = /^(tinyint|smallint|integer|int|bigint|real|double|decimal)/;

/** Does a partition value (null for Hive's default partition) satisfy the column's domain? */
export function domainAdmits(domain: ColumnDomain, value: string | null): boolean {
  if (value === null) return domain.nullsAllowed;
  const numeric = NUMERIC.test(domain.type);
  const compare = (a: string, b: string) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0);
  return domain.ranges.some(({ low, high }) => {
    if (low.value !== undefined) {
      const c = compare(value, low.value);
      if (c < 0 || (c === 0 && low.bound !== 'EXACTLY')) return false;
    }
    if (high.value !== undefined) {
      const c = compare(value, high.value);
      if (c > 0 || (c === 0 && high.bound !== 'EXACTLY')) return false;
    }
    return true;
  });
}

/**
 * The partitions a scan keeps: those whose values satisfy every constraint on a partition
 * key (constraints on data columns do not prune partitions).
 */
export function partitionSurvives(scan: IoTableScan, keys: readonly string[], values: readonly (string | null)[]): boolean {
  if (scan.none) return false;
  return scan.constraints.every((domain) => {
    const i = keys.indexOf(domain.column);
    return i < 0 || domainAdmits(domain, values[i] ?? null);
  });
}
