/**
 * What Athena bills for a query, exactly.
 *
 * Units (checked against AWS's own documents, see AWS-FACTS.md):
 * - A megabyte is 10^6 bytes. Athena rounds the bytes scanned up to the next MB with a
 *   10 MB minimum per query, and its API states the same minimum for a workgroup's
 *   BytesScannedCutoffPerQuery as 10,000,000 bytes: Athena's MB is decimal.
 * - The price is per TiB, 2^40 bytes, as the configuration field `pricePerTiB` says.
 *   AWS publishes "$5 per TB"; `pricePerTiB` is whatever the user sets, applied to 2^40.
 *
 * Who pays: failed queries are free; DDL and utility statements (CREATE, SHOW, DESCRIBE,
 * EXPLAIN, partition statements) are free; a cancelled query pays for what it scanned
 * before it stopped (nothing when it read nothing); every other query pays at least 10 MB.
 */
import type { QueryExecutionInfo } from '../ports.js';

/** Athena's megabyte. */
export const MB = 1_000_000;
/** Bytes billed at least, for every billed query. */
export const MIN_BILLED_BYTES = 10 * MB;
/** The unit `pricePerTiB` is quoted in. */
export const TIB = 2 ** 40;

export interface Bill {
  billedBytes: number;
  costUsd: number;
  /** Why nothing is billed, when nothing is. */
  free?: 'failed' | 'ddl' | 'nothing-scanned';
}

/** Scanned bytes rounded up to the next MB, at least 10 MB. */
export function billedBytes(scannedBytes: number): number {
  return Math.max(MIN_BILLED_BYTES, Math.ceil(scannedBytes / MB) * MB);
}

/** Dollars for `billed` bytes at `pricePerTiB` dollars per 2^40 bytes, to the nano-dollar. */
export function costUsd(billed: number, pricePerTiB: number): number {
  return Math.round((billed / TIB) * pricePerTiB * 1e9) / 1e9;
}

/** The bill for a finished (or stopped) execution. */
export function billFor(info: Pick<QueryExecutionInfo, 'state' | 'statementType' | 'stats'>, pricePerTiB: number): Bill {
  if (info.state === 'FAILED') return { billedBytes: 0, costUsd: 0, free: 'failed' };
  if (info.statementType === 'DDL' || info.statementType === 'UTILITY') return { billedBytes: 0, costUsd: 0, free: 'ddl' };
  if (info.state === 'CANCELLED' && info.stats.scannedBytes === 0) return { billedBytes: 0, costUsd: 0, free: 'nothing-scanned' };
  const billed = billedBytes(info.stats.scannedBytes);
  return { billedBytes: billed, costUsd: costUsd(billed, pricePerTiB) };
}

/** The bill a query would get for `scannedBytes`, before it runs. */
export function billForEstimate(scannedBytes: number, billable: boolean, pricePerTiB: number): Bill {
  if (!billable) return { billedBytes: 0, costUsd: 0, free: 'ddl' };
  const billed = billedBytes(scannedBytes);
  return { billedBytes: billed, costUsd: costUsd(billed, pricePerTiB) };
}

/**
 * Whether Athena bills a statement: queries (SELECT, WITH, VALUES, INSERT, CTAS, UNLOAD,
 * EXPLAIN ANALYZE, ...) are billed; DDL and utility statements are not.
 */
export function isBillable(sql: string): boolean {
  const text = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').trim().replace(/^\(+\s*/, '');
  const [first = '', second = ''] = text.split(/[\s(]+/, 3).map((w) => w.toLowerCase());
  if (first === 'explain') return /^explain\s+analyze\b/i.test(text);
  if (first === 'create') return /\bas\s*\(?\s*(select|with|values)\b/i.test(text) && second !== 'view';
  return ['select', 'with', 'values', 'table', 'insert', 'update', 'delete', 'merge', 'unload'].includes(first);
}

// ---------------------------------------------------------------- formatting

const DECIMAL_UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** `12.3 MB` in Athena's decimal units; exact below 1 kB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let unit = 0;
  let value = bytes;
  while (value >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const text = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text.replace(/\.0+$|(\.\d*[1-9])0+$/, '$1')} ${DECIMAL_UNITS[unit]}`;
}

/** `$0.0000455`, `$0.25`, `$5.00`: cents at least, three significant digits for less. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  const digits = Math.min(12, Math.max(2, Math.ceil(-Math.log10(usd)) + 2));
  return `$${usd.toFixed(digits).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** `$5/TiB`: the price and its unit, as every cost line states it. */
export function formatPrice(pricePerTiB: number): string {
  return `${formatUsd(pricePerTiB).replace(/\.00$/, '')}/TiB`;
}
