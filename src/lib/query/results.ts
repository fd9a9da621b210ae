/**
 * A finished query's rows. The first page comes from GetQueryResults (it also gives the
 * column types). When there is more, the rest is not paged 1,000 rows a call: the whole
 * result is streamed from Athena's result object, `<OutputLocation>/<QueryExecutionId>.csv`,
 * through the object store, one chunk at a time. Results that are not CSV (DDL and utility
 * statements write text), and results whose object cannot be read, are paged.
 *
 * An engine that still holds the rows it wrote to the result object (the local engine, in
 * the process that ran the query) hands them over instead: the same strings, without
 * writing them out and parsing them back.
 */
import { ServiceError } from '../errors.js';
import type { ObjectStore, QueryEngine, QueryExecutionInfo, ResultColumn } from '../ports.js';
import { athenaCsvRows, type CsvRow } from './athena-csv.js';

export const PAGE_SIZE = 1000;
/** Rows handed on at a time from an engine's memory. */
const HELD_BATCH = 4096;

export interface ResultStream {
  columns: ResultColumn[];
  /** Batches of raw rows (Athena's text, null for NULL), in order. */
  batches: AsyncIterable<CsvRow[]>;
  /** Where the rows come from: the first page alone, the result object, pages, or the engine's memory. */
  source: 'page' | 'object' | 'pages' | 'held';
}

/** An engine holding the rows of queries it ran (proposed as an optional QueryEngine method). */
export interface HeldResults {
  /** Every row of a SUCCEEDED query, as its result object holds them; undefined when it does not hold them. */
  heldRows(queryId: string): readonly CsvRow[] | undefined;
}

export function holdsResults(engine: QueryEngine): engine is QueryEngine & HeldResults {
  return typeof (engine as Partial<HeldResults>).heldRows === 'function';
}

export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new ServiceError(`not an s3:// object location: ${url}`, { service: 'athena', code: 'BadOutputLocation' });
  return { bucket: m[1]!, key: m[2]! };
}

export async function openResults(
  engine: QueryEngine,
  store: ObjectStore,
  info: QueryExecutionInfo,
  options: { signal?: AbortSignal; onFallback?: (reason: string) => void } = {},
): Promise<ResultStream> {
  const first = await engine.resultPage(info.queryId, { maxResults: PAGE_SIZE, signal: options.signal });
  const { columns } = first;
  if (first.nextToken === undefined) {
    return { columns, source: 'page', batches: once(first.rows) };
  }
  const held = holdsResults(engine) ? engine.heldRows(info.queryId) : undefined;
  if (held) return { columns, source: 'held', batches: slices(held) };
  if (info.outputLocation?.endsWith('.csv')) {
    const { bucket, key } = parseS3Url(info.outputLocation);
    try {
      const body = await store.getStream(bucket, key, { signal: options.signal });
      return { columns, source: 'object', batches: objectRows(body, bucket, key, columns.length) };
    } catch (err) {
      if (options.signal?.aborted) throw err;
      // No read access to the results bucket (or no object, with managed query results):
      // the rows are still there, 1,000 a call.
      options.onFallback?.(`cannot read the result object ${info.outputLocation} (${(err as Error).name}: ${(err as Error).message}); paging through GetQueryResults instead, which is slower`);
    }
  }
  return { columns, source: 'pages', batches: pages(engine, info.queryId, first.rows, first.nextToken, options.signal) };
}

async function* once(rows: CsvRow[]): AsyncGenerator<CsvRow[]> {
  if (rows.length > 0) yield rows;
}

async function* slices(rows: readonly CsvRow[]): AsyncGenerator<CsvRow[]> {
  for (let i = 0; i < rows.length; i += HELD_BATCH) yield rows.slice(i, i + HELD_BATCH);
}

async function* objectRows(body: AsyncIterable<Uint8Array>, bucket: string, key: string, width: number): AsyncGenerator<CsvRow[]> {
  let header = true;
  for await (const batch of athenaCsvRows(body)) {
    const rows = header ? batch.slice(1) : batch;
    header = false;
    for (const row of rows) {
      if (row.length !== width) {
        throw new ServiceError(`s3://${bucket}/${key}: a row has ${row.length} values where the result has ${width} columns`, { service: 's3', code: 'MalformedResult' });
      }
    }
    if (rows.length > 0) yield rows;
  }
}

async function* pages(engine: QueryEngine, queryId: string, firstRows: CsvRow[], firstToken: string, signal?: AbortSignal): AsyncGenerator<CsvRow[]> {
  if (firstRows.length > 0) yield firstRows;
  let nextToken: string | undefined = firstToken;
  while (nextToken !== undefined) {
    const page = await engine.resultPage(queryId, { nextToken, maxResults: PAGE_SIZE, signal });
    if (page.rows.length > 0) yield page.rows;
    nextToken = page.nextToken;
  }
}
