/**
 * What a query cost and how long it took: the `stats` object of the JSON document and the
 * line lake prints on stderr after every query.
 */
import type { QueryExecutionInfo } from '../ports.js';
import { type Bill, billFor, formatBytes, formatPrice, formatUsd, MIN_BILLED_BYTES } from './cost.js';
import type { EstimateReport } from './estimate.js';

export interface QueryStatsDoc {
  scannedBytes: number;
  billedBytes: number;
  costUsd: number;
  engineMs: number;
  queueMs: number;
  totalMs: number;
}

export function statsDoc(info: QueryExecutionInfo, pricePerTiB: number): QueryStatsDoc {
  const bill = billFor(info, pricePerTiB);
  const { scannedBytes, engineMs, queueMs, totalMs } = info.stats;
  return { scannedBytes, billedBytes: bill.billedBytes, costUsd: bill.costUsd, engineMs, queueMs, totalMs };
}

/**
 * `scanned 31.46 MB (31,457,280 bytes), billed 32 MB, $0.000146 at $5/TiB; engine 812 ms,
 * queue 40 ms, total 870 ms; query 1b2c...`
 */
export function statsLine(info: QueryExecutionInfo, pricePerTiB: number, engineName: string): string {
  const bill = billFor(info, pricePerTiB);
  const { scannedBytes, engineMs, queueMs, totalMs } = info.stats;
  const scanned = `scanned ${formatBytes(scannedBytes)}${scannedBytes >= 1000 ? ` (${scannedBytes.toLocaleString('en-US')} bytes)` : ''}`;
  return `${scanned}, ${billText(bill, pricePerTiB, scannedBytes)}; ${engineName} ${engineMs} ms, queue ${queueMs} ms, total ${totalMs} ms; query ${info.queryId}`;
}

function billText(bill: Bill, pricePerTiB: number, scannedBytes: number): string {
  if (bill.free === 'failed') return 'not billed (failed queries are free)';
  if (bill.free === 'ddl') return 'not billed (DDL and utility statements are free)';
  if (bill.free === 'nothing-scanned') return 'not billed (stopped before reading data)';
  const minimum = bill.billedBytes === MIN_BILLED_BYTES && scannedBytes < MIN_BILLED_BYTES ? ' (the 10 MB minimum)' : '';
  return `billed ${formatBytes(bill.billedBytes)}${minimum}, ${formatUsd(bill.costUsd)} at ${formatPrice(pricePerTiB)}`;
}

/** The estimate, for humans: one line. */
export function estimateLine(estimate: EstimateReport, pricePerTiB: number): string {
  const bill = estimate.billedBytes === 0 ? 'not billed' : `billed ${formatBytes(estimate.billedBytes)}, ${formatUsd(estimate.costUsd)} at ${formatPrice(pricePerTiB)}`;
  return `estimate: would scan ${formatBytes(estimate.scannedBytes)} in ${estimate.files} files of ${estimate.partitions} partitions, ${bill} (method: ${estimate.method})`;
}
