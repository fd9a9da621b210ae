/**
 * Delivery of the local Firehose's buffers: a data buffer's CSV spool becomes a Snappy
 * Parquet object through DuckDB, error records become one object under the error prefix,
 * and a backup spool (already gzip) is moved under the backup prefix. Each object is written
 * to a temporary file and renamed into place by the object store, so no reader ever sees a
 * partial object. Deliveries run in the background, a few at a time, while records keep
 * arriving, as Firehose delivers asynchronously; the stream waits on `progress` for back
 * pressure and on `settled` when draining.
 */
import { rmSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { LakeConfig } from '../config.js';
import { evaluatePrefix, objectName, type FirehosePrefixes } from '../firehose-prefix.js';
import type { Logger } from '../log.js';
import type { FsObjectStore } from './fs-object-store.js';
import type { ItemSpan } from './firehose-journal.js';
import { parquetCopyStatement, type SpoolFile } from './firehose-spool.js';

/**
 * Deliveries running at once when the stream drains (each its own DuckDB connection): one
 * small COPY cannot keep DuckDB's threads busy. While records still arrive, one at a time:
 * the conversion workers keep the other cores busy, and each COPY that runs beside another
 * leaves DuckDB's allocator holding more memory for the rest of the process.
 */
const DELIVERY_CONCURRENCY = 2;

export interface BufferBase {
  /** Input bytes of the records in the buffer: what `buffering.sizeMiB` counts. */
  inputBytes: number;
  /** Arrival of the oldest record: evaluates `!{timestamp:...}` and the object name. */
  oldestArrival: Date;
  /** Clock reading (ms) when the buffer opened: what `intervalSeconds` counts from. */
  openedAt: number;
  timer?: NodeJS.Timeout;
  /** Journal sequence of the oldest call whose records the buffer holds. */
  firstBatch: number;
  /** The journal items it holds, by item key (firehose-journal.ts). */
  spans: Map<string, ItemSpan>;
}

export interface DataBuffer extends BufferBase, SpoolFile {
  kind: 'data';
  id: string;
  partitionKeys?: Record<string, string>;
  spoolPath: string;
  rows: number;
}

export interface ErrorBuffer extends BufferBase {
  kind: 'error';
  id: string;
  type: 'format-conversion-failed' | 'partitioning-failed';
  /** One per failed record; the attempt ends at delivery, so the JSON is built then. */
  records: ((attemptEndingTimestamp: number) => string)[];
}

export interface BackupBuffer extends BufferBase {
  kind: 'backup';
  id: string;
  spoolPath: string;
  fd: number;
}

export type StreamBuffer = DataBuffer | ErrorBuffer | BackupBuffer;

export interface DeliveryOptions {
  config: LakeConfig;
  store: FsObjectStore;
  now: () => Date;
  log: Logger;
  version: number;
  prefixes: FirehosePrefixes;
  /** DuckDB threads for the Parquet writer (default: the cores shared by the concurrent deliveries). */
  threads?: number;
  /** Called just before a buffer's object is put in place, with its key. */
  onCommit?: (buffer: StreamBuffer, key: string) => void;
  /** Called when a buffer's delivery succeeded or failed. */
  onSettled?: (buffer: StreamBuffer, ok: boolean) => void;
}

/** The queue of detached buffers, delivered `DELIVERY_CONCURRENCY` at a time. */
export class DeliveryQueue {
  private readonly waiting: StreamBuffer[] = [];
  private active = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly progressWaiters: (() => void)[] = [];
  /** Deliveries that failed, oldest first. */
  readonly failures: unknown[] = [];
  private readonly copyStatement: (csvPath: string, parquetPath: string) => string;
  private duckdb?: Promise<DuckDBInstance>;
  /** Set once the stream drains (close): deliveries run `DELIVERY_CONCURRENCY` at a time, not one. */
  private draining = false;
  private parquetCount = 0;

  constructor(private readonly options: DeliveryOptions) {
    this.copyStatement = parquetCopyStatement(options.config.columns);
  }

  /** Deliveries queued or running. */
  get pending(): number {
    return this.active + this.waiting.length;
  }

  /** Data deliveries (DuckDB's Parquet writes) queued or running. */
  get parquetPending(): number {
    return this.parquetCount;
  }

  push(buffer: StreamBuffer): void {
    if (buffer.kind === 'data') this.parquetCount++;
    this.waiting.push(buffer);
    this.pump();
  }

  /** The stream is closing: no more records arrive, so deliveries may run `DELIVERY_CONCURRENCY` at a time. */
  drainAll(): void {
    this.draining = true;
    this.pump();
  }

  private pump(): void {
    const { config, log } = this.options;
    const concurrency = this.draining ? DELIVERY_CONCURRENCY : 1;
    while (this.active < concurrency && this.waiting.length > 0) {
      const buffer = this.waiting.shift()!;
      this.active++;
      void this.deliver(buffer)
        .then(
          () => this.options.onSettled?.(buffer, true),
          (err: unknown) => {
            this.failures.push(err);
            log.warn(`delivery stream ${config.stream}: delivery failed: ${(err as Error).message}`);
            this.options.onSettled?.(buffer, false);
          },
        )
        .finally(() => {
          this.active--;
          if (buffer.kind === 'data') this.parquetCount--;
          this.pump();
          if (this.active === 0 && this.waiting.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
          else this.progressWaiters.splice(0).forEach((resolve) => resolve());
        });
    }
  }

  /** Resolves when no delivery is queued or running. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when a delivery finishes (or none is pending). */
  progress(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.progressWaiters.push(resolve);
      this.idleWaiters.push(resolve);
    });
  }

  /** Waits for every delivery and releases DuckDB. */
  async close(): Promise<void> {
    await this.settled();
    if (this.duckdb) {
      (await this.duckdb).closeSync();
      this.duckdb = undefined;
    }
  }

  private async deliver(buffer: StreamBuffer): Promise<void> {
    const { config, store, log, version, prefixes } = this.options;
    const deliveredAt = this.options.now();
    const bucket = config.bucket;
    switch (buffer.kind) {
      case 'data': {
        const prefix = evaluatePrefix(prefixes.prefix, { timestamp: buffer.oldestArrival, partitionKeys: buffer.partitionKeys });
        const key = prefix + objectName(config.stream, version, buffer.oldestArrival, crypto.randomUUID(), '.parquet');
        const temp = store.tempPathFor(bucket, key);
        try {
          await this.writeParquet(buffer.spoolPath, temp);
          this.options.onCommit?.(buffer, key);
          await store.putFromFile(bucket, key, temp);
        } catch (err) {
          rmSync(temp, { force: true });
          throw err;
        } finally {
          unlinkSync(buffer.spoolPath);
        }
        log.debug(`delivery stream ${config.stream}: ${buffer.rows} rows to s3://${bucket}/${key}`);
        return;
      }
      case 'error': {
        const end = deliveredAt.getTime();
        const body = buffer.records.map((build) => build(end)).join('');
        const prefix = evaluatePrefix(prefixes.errorOutputPrefix, { timestamp: buffer.oldestArrival, errorOutputType: buffer.type });
        const key = prefix + objectName(config.stream, version, buffer.oldestArrival);
        this.options.onCommit?.(buffer, key);
        await store.put(bucket, key, body);
        log.debug(`delivery stream ${config.stream}: ${buffer.records.length} ${buffer.type} records to s3://${bucket}/${key}`);
        return;
      }
      case 'backup': {
        const prefix = evaluatePrefix(config.backupPrefix ?? '', { timestamp: buffer.oldestArrival });
        const key = prefix + objectName(config.stream, version, buffer.oldestArrival, crypto.randomUUID(), '.gz');
        try {
          this.options.onCommit?.(buffer, key);
          await store.putFromFile(bucket, key, buffer.spoolPath);
        } catch (err) {
          rmSync(buffer.spoolPath, { force: true });
          throw err;
        }
        return;
      }
    }
  }

  private async writeParquet(csvPath: string, parquetPath: string): Promise<void> {
    const connection = await (await this.connect()).connect();
    try {
      await connection.run(this.copyStatement(csvPath, parquetPath));
    } finally {
      connection.closeSync();
    }
  }

  private connect(): Promise<DuckDBInstance> {
    this.duckdb ??= (async () => {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const settings: Record<string, string> = {};
      // Each concurrent COPY single-threaded by default on a small machine: a spool file is parsed
      // faster per core, and memory stays flat, than with threads contending inside one COPY.
      settings.threads = String(this.options.threads ?? Math.max(1, Math.floor(availableParallelism() / DELIVERY_CONCURRENCY)));
      return DuckDBInstance.create(':memory:', settings);
    })();
    return this.duckdb;
  }
}
