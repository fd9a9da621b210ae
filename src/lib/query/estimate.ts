/**
 * What a query will scan, predicted without running it, and the guards that refuse a query
 * over a limit.
 *
 * An engine that can plan a query itself says so by having `estimateScan` (the local
 * DuckDB engine: its plan gives the partitions kept and the columns read, and its footers
 * the bytes). Otherwise (Athena) the estimate comes from `EXPLAIN (TYPE IO, FORMAT JSON)`,
 * which is free, and the catalog and object store: see estimate-athena.ts.
 */
import { RefusedError } from '../errors.js';
import type { Catalog, ObjectStore, QueryEngine } from '../ports.js';
import { billForEstimate, formatBytes, formatPrice, formatUsd, isBillable } from './cost.js';
import { estimateFromExplainIo } from './estimate-athena.js';
import type { ExecutionOptions } from './execution.js';

export interface ScanEstimate {
  scannedBytes: number;
  /** Partitions (or unpartitioned tables) whose files would be read. */
  partitions: number;
  files: number;
  /** How the figure was reached. */
  method: string;
}

export interface EstimateReport extends ScanEstimate {
  billedBytes: number;
  costUsd: number;
}

/** An engine that predicts its own scans (proposed as an optional QueryEngine method). */
export interface ScanEstimator {
  estimateScan(sql: string, database?: string, params?: string[]): Promise<ScanEstimate>;
}

export function canEstimate(engine: QueryEngine): engine is QueryEngine & ScanEstimator {
  return typeof (engine as Partial<ScanEstimator>).estimateScan === 'function';
}

export interface EstimateDeps {
  engine: QueryEngine;
  catalog: Catalog;
  store: ObjectStore;
}

export interface EstimateRequest {
  sql: string;
  database: string;
  workgroup?: string;
  params?: string[];
}

export async function estimateQuery(deps: EstimateDeps, request: EstimateRequest, pricePerTiB: number, options: { signal?: AbortSignal; execution?: ExecutionOptions } = {}): Promise<EstimateReport> {
  const billable = isBillable(request.sql);
  const scan = canEstimate(deps.engine)
    ? await deps.engine.estimateScan(request.sql, request.database, request.params)
    : await estimateFromExplainIo(deps, request, { signal: options.signal, execution: options.execution });
  const bill = billForEstimate(scan.scannedBytes, billable, pricePerTiB);
  return { scannedBytes: scan.scannedBytes, billedBytes: bill.billedBytes, costUsd: bill.costUsd, partitions: scan.partitions, files: scan.files, method: scan.method };
}

// ---------------------------------------------------------------- guards

export interface Guard {
  maxBytes: number | null;
  maxCostUsd: number | null;
  /** Where each limit came from, for the message: `--max-bytes` or `maxBytes in lake.config.json`. */
  sources: { maxBytes: string; maxCostUsd: string };
}

export function hasGuard(guard: Guard): boolean {
  return guard.maxBytes !== null || guard.maxCostUsd !== null;
}

/**
 * The refusal for an estimate over a limit, or undefined. Bytes are compared with the
 * bytes scanned; money with the cost of the billed bytes (10 MB minimum included).
 */
export function checkGuard(estimate: EstimateReport, guard: Guard, pricePerTiB: number): RefusedError | undefined {
  const what = `the query would scan about ${formatBytes(estimate.scannedBytes)} (billed ${formatBytes(estimate.billedBytes)}, ${formatUsd(estimate.costUsd)} at ${formatPrice(pricePerTiB)})`;
  const hint = 'filter on the partition keys, read fewer columns, or raise the limit; `lake query --estimate` shows the prediction';
  if (guard.maxBytes !== null && estimate.scannedBytes > guard.maxBytes) {
    return new RefusedError(`refused: ${what}, over ${guard.sources.maxBytes} ${formatBytes(guard.maxBytes)}; nothing was run`, { hint });
  }
  if (guard.maxCostUsd !== null && estimate.costUsd > guard.maxCostUsd) {
    return new RefusedError(`refused: ${what}, over ${guard.sources.maxCostUsd} ${formatUsd(guard.maxCostUsd)}; nothing was run`, { hint });
  }
  return undefined;
}
