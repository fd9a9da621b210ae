/**
 * A query's rows on their way into its result object, batch by batch as DuckDB renders them.
 * A result of up to `holdCells` values is kept in memory (the process that ran the query
 * hands it over without reading the object back) and written at the end in one piece; a
 * bigger one goes to a temporary file beside the object as it arrives, and only its first
 * page stays in memory, so memory stays bounded whatever the result's size. Either way the
 * object appears whole, by a rename, when the query succeeds.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import type { ObjectStore, ResultColumn } from '../ports.js';
import { athenaCsvHeader, athenaCsvLines, putResultObject, s3Object } from './athena-result-files.js';

export type TextRow = (string | null)[];

/** Values held in memory before a result is written out as it comes: about 50-100 MB of text. */
export const HOLD_CELLS = 1_000_000;

/** The local store's file hand-over (FsObjectStore); other stores hold the whole result. */
interface FileStore {
  tempPathFor(bucket: string, key: string): string;
  putFromFile(bucket: string, key: string, sourcePath: string): Promise<void>;
  createBucket(bucket: string): Promise<void>;
}

export interface WrittenResult {
  /** Every row, when the result was small enough to keep. */
  rows?: TextRow[];
  /** The first `firstPage` rows (all of them when fewer). */
  firstRows: TextRow[];
  rowCount: number;
}

export class ResultWriter {
  private held: TextRow[] | undefined = [];
  private readonly firstRows: TextRow[] = [];
  private rowCount = 0;
  private fd?: number;
  private temp?: string;
  private readonly bucket: string;
  private readonly key: string;

  constructor(
    private readonly store: ObjectStore,
    private readonly location: string,
    private readonly columns: readonly ResultColumn[],
    private readonly options: { holdCells?: number; firstPage: number },
  ) {
    ({ bucket: this.bucket, key: this.key } = s3Object(location));
  }

  async add(rows: TextRow[]): Promise<void> {
    for (let i = 0; i < rows.length && this.firstRows.length < this.options.firstPage; i++) this.firstRows.push(rows[i]!);
    this.rowCount += rows.length;
    if (this.held) {
      for (const row of rows) this.held.push(row);
      if (this.held.length * Math.max(1, this.columns.length) <= (this.options.holdCells ?? HOLD_CELLS) || !isFileStore(this.store)) return;
      await this.spill(this.store);
      return;
    }
    writeSync(this.fd!, athenaCsvLines(rows));
  }

  /** Puts the object in place; the rows come back when they were kept. */
  async finish(): Promise<WrittenResult> {
    if (this.held) {
      await putResultObject(this.store, this.location, 'csv', this.columns, this.held);
      return { rows: this.held, firstRows: this.firstRows, rowCount: this.rowCount };
    }
    closeSync(this.fd!);
    this.fd = undefined;
    await (this.store as ObjectStore & FileStore).putFromFile(this.bucket, this.key, this.temp!);
    this.temp = undefined;
    return { firstRows: this.firstRows, rowCount: this.rowCount };
  }

  /** The query did not succeed: nothing is left behind. */
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.temp) rmSync(this.temp, { force: true });
    this.fd = undefined;
    this.temp = undefined;
    this.held = undefined;
  }

  /** From now on rows go to a temporary file beside the object, those held so far first. */
  private async spill(store: FileStore): Promise<void> {
    let temp: string;
    try {
      temp = store.tempPathFor(this.bucket, this.key);
    } catch (err) {
      // A fresh local lake has no results bucket yet.
      if ((err as { code?: unknown }).code !== 'NoSuchBucket') throw err;
      await store.createBucket(this.bucket);
      temp = store.tempPathFor(this.bucket, this.key);
    }
    this.temp = temp;
    this.fd = openSync(temp, 'wx');
    writeSync(this.fd, athenaCsvHeader(this.columns));
    writeSync(this.fd, athenaCsvLines(this.held!));
    this.held = undefined;
  }
}

function isFileStore(store: ObjectStore): store is ObjectStore & FileStore {
  const s = store as ObjectStore & Partial<FileStore>;
  return typeof s.tempPathFor === 'function' && typeof s.putFromFile === 'function' && typeof s.createBucket === 'function';
}
