/**
 * The local Firehose: PutRecordBatch with the service's limits, record format conversion
 * through lake's serde, buffering per target prefix (size, interval, end of process), and
 * delivery of Snappy Parquet objects named and placed as Firehose places them. Records that
 * fail conversion become error records in AWS's shape; with a backup prefix the raw input
 * is kept gzipped.
 *
 * The parts: PutRecordBatch's limits (firehose-limits.ts); conversion of records to CSV rows,
 * in-thread or in worker threads (firehose-conversion.ts, firehose-conversion-pool.ts); the
 * CSV spool each data buffer writes and the DuckDB COPY that turns it into Parquet
 * (firehose-spool.ts); delivery of flushed buffers in the background, with no partial object ever visible
 * (firehose-delivery.ts); which buffer a row joins and when a buffer is flushed
 * (firehose-buffers.ts); the write-ahead journal that makes an accepted record durable
 * before the call is answered (firehose-journal.ts), and the replay of a killed process's
 * journal by the next process (firehose-recovery.ts). This file is the service's face: the
 * calls, their order through the conversion workers, the journal's watermark, recovery.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { LakeConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { firehosePrefixes } from '../firehose-prefix.js';
import { parseGlueType, type GlueType } from '../glue-types.js';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { DeliveryStream, PutRecordBatchResult, PutRecordResponse, StreamInfo } from '../ports.js';
import type { FsObjectStore } from './fs-object-store.js';
import { StreamBuffers } from './firehose-buffers.js';
import { batchConverter, type BatchConverter, type BatchOutcome, convertBatch } from './firehose-conversion.js';
import { ConversionPool, conversionWorkersAvailable } from './firehose-conversion-pool.js';
import { DeliveryQueue } from './firehose-delivery.js';
import { FirehoseJournal, readBatches, readWatermark } from './firehose-journal.js';
import { validateBatch } from './firehose-limits.js';
import { claimStaleSpools, DeliveredItems } from './firehose-recovery.js';
import { SpoolFolder } from './firehose-spool.js';

export { MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES, validateBatch } from './firehose-limits.js';
export { eventTimeOf } from './firehose-conversion.js';

/** Flushes queued before PutRecordBatch waits for DuckDB (back pressure). */
const MAX_QUEUED_FLUSHES = 4;
/** Records a stream converts in-thread before starting worker threads. */
const WORKER_THRESHOLD_RECORDS = 5_000;

export interface LocalDeliveryStreamOptions {
  config: LakeConfig;
  store: FsObjectStore;
  now: () => Date;
  log: Logger;
  /** The destination version in object names: 1 until the stream's configuration changes. */
  version?: number;
  /** Account in the role ARN of error records. */
  accountId?: string;
  /** DuckDB threads for the Parquet writer (default: the cores shared by the concurrent deliveries). */
  threads?: number;
  /** Conversion worker threads for big sends (default: up to 4, one per core); 0 converts in-thread. */
  workers?: number;
  /** @internal The claimed spool folder of a killed process, whose journal this stream replays. */
  claimedSpool?: string;
  /** @internal Makes each conversion worker (tests: workers that die); from TypeScript sources too. */
  conversionWorker?: () => Worker;
}

export class LocalDeliveryStream implements DeliveryStream {
  private readonly options: LocalDeliveryStreamOptions;
  private readonly config: LakeConfig;
  private readonly store: FsObjectStore;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly converter: BatchConverter;
  private readonly workers: number;
  private readonly accountId: string;
  private readonly eventTime?: { column: string; type: GlueType['kind'] };
  private readonly buffers: StreamBuffers;
  /** Buffers waiting for delivery, and deliveries running. */
  private readonly deliveries: DeliveryQueue;
  private pool?: ConversionPool;
  /** One conversion worker was retired for the deliveries running beside conversion. */
  private poolShrunk = false;
  private poolFailureReported = false;
  /** Batches handed to workers and not yet applied, oldest first. */
  private readonly converting: Promise<void>[] = [];
  private applied: Promise<void> = Promise.resolve();
  private received = 0;
  private readonly spool: SpoolFolder;
  private journal?: FirehoseJournal;
  /** Journal sequence of the next call (of the next replayed call, while replaying). */
  private nextBatch = 0;
  /** Calls journaled but not yet in the buffers (converting in workers, or failed to). */
  private readonly unapplied = new Set<number>();
  private recovery?: Promise<void>;
  private deployed = false;
  private recordIdSeed = Buffer.from(crypto.getRandomValues(new Uint8Array(96)));
  private recordCounter = 0;
  private closed = false;

  constructor(options: LocalDeliveryStreamOptions) {
    const { config } = options;
    this.options = options;
    this.config = config;
    this.store = options.store;
    this.now = options.now;
    this.log = options.log;
    const types = config.columns.map((c) => parseGlueType(c.type));
    this.workers = options.workers ?? Math.min(4, availableParallelism());
    this.accountId = options.accountId ?? '000000000000';
    const catalogTable = {
      catalogId: null,
      databaseName: config.database,
      tableName: config.table,
      region: config.region,
      versionId: 'LATEST',
      roleArn: `arn:aws:iam::${this.accountId}:role/${config.stackName}-firehose`,
    };
    if (config.partitioning.time !== 'arrival') {
      const index = config.columns.findIndex((c) => c.name === config.partitioning.time);
      this.eventTime = { column: config.partitioning.time, type: types[index]?.kind ?? 'timestamp' };
    }
    this.converter = batchConverter({ columns: config.columns, serde: config.serde, eventTime: this.eventTime });
    this.spool = new SpoolFolder(config.lakeDir, config.stream, options.claimedSpool);
    this.deliveries = new DeliveryQueue({
      config,
      store: this.store,
      now: this.now,
      log: this.log,
      version: options.version ?? 1,
      prefixes: firehosePrefixes(config),
      threads: options.threads,
      onCommit: (buffer, key) => this.journal?.committing({ key, spans: Object.fromEntries(buffer.spans) }),
      onSettled: (buffer, ok) => {
        if (!ok) return;
        this.buffers.delivered(buffer);
        this.journal?.advance(this.watermark());
      },
    });
    const onBeforeExit = () => void this.close().catch((err: unknown) => this.log.warn(`delivery stream ${config.stream}: ${(err as Error).message}`));
    this.buffers = new StreamBuffers({ config, spool: this.spool, deliveries: this.deliveries, now: this.now, catalogTable, eventTime: this.eventTime, onBeforeExit });
  }

  /** As DescribeDeliveryStream: a stream whose lake was never deployed does not exist (undefined, as the AWS adapter says). */
  describe(): Promise<StreamInfo | undefined> {
    if (!existsSync(join(this.store.root, this.config.bucket))) return Promise.resolve(undefined);
    return Promise.resolve({
      name: this.config.stream,
      status: 'ACTIVE',
      sourceType: 'DirectPut',
      bufferingSizeMiB: this.config.buffering.sizeMiB,
      bufferingIntervalSeconds: this.config.buffering.intervalSeconds,
    });
  }

  async putRecordBatch(records: Uint8Array[], signal?: AbortSignal): Promise<PutRecordBatchResult> {
    signal?.throwIfAborted();
    if (this.closed) throw new ServiceError(`delivery stream ${this.config.stream} is closed`, { code: 'ResourceInUseException', service: 'firehose' });
    this.checkDeployed();
    validateBatch(records);
    void (this.recovery ??= this.recoverStale());
    // Back pressure: DuckDB writes while records keep coming, but not unboundedly behind.
    while (this.deliveries.pending >= MAX_QUEUED_FLUSHES) await this.deliveries.progress();

    const arrival = this.now();
    const seq = this.nextBatch++;
    // Durable before the answer, as on AWS: a killed process's next run replays it.
    (this.journal ??= new FirehoseJournal(this.spool.path)).append(seq, arrival.getTime(), records);
    const responses: PutRecordResponse[] = new Array<PutRecordResponse>(records.length);
    for (let i = 0; i < records.length; i++) responses[i] = { recordId: this.nextRecordId() };
    if (this.config.backupPrefix !== null) this.buffers.backup(records, arrival, seq);
    this.received += records.length;

    const pool = this.conversionPool();
    if (pool === undefined) {
      this.buffers.add(convertBatch(this.converter, records), records, arrival, seq);
    } else {
      // Converted in a worker while the caller sends more; applied strictly in call order.
      const converted = pool.convert(records);
      this.unapplied.add(seq);
      const step = this.applied.then(async () => {
        let outcome: BatchOutcome;
        try {
          outcome = await converted;
        } catch (err) {
          // A worker died: this batch and the later ones are converted here, in order.
          if (!pool.failure) throw err;
          if (!this.poolFailureReported) this.log.warn(`delivery stream ${this.config.stream}: ${pool.failure.message}; converting in the main thread from now on`);
          this.poolFailureReported = true;
          outcome = convertBatch(this.converter, records);
        }
        this.buffers.add(outcome, records, arrival, seq);
        pool.recycle(outcome);
        this.unapplied.delete(seq);
      });
      this.applied = step.catch((err: unknown) => {
        this.deliveries.failures.push(err);
        this.log.warn(`delivery stream ${this.config.stream}: conversion failed: ${(err as Error).message}`);
      });
      this.converting.push(step);
      void step.finally(() => this.converting.splice(this.converting.indexOf(step), 1)).catch(() => undefined);
      // A Parquet write while records still arrive takes DuckDB's share of the cores: one
      // worker fewer for the rest of the stream frees its heap (memory flat as input grows).
      if (this.deliveries.parquetPending > 0 && !this.poolShrunk) {
        this.poolShrunk = true;
        pool.retireOne();
      }
      while (this.converting.length >= pool.size * 4) await this.converting[0]!.catch(() => undefined);
    }
    return { failedPutCount: 0, responses };
  }

  /**
   * Worker threads for conversion once a stream has seen enough records to be worth them
   * (the serde is JavaScript: one core would cap a big send). Only when this module runs as
   * JavaScript (the built CLI, a bundle): from TypeScript sources it converts in-thread.
   */
  private conversionPool(): ConversionPool | undefined {
    if (this.pool) return this.pool;
    const { conversionWorker } = this.options;
    if (this.workers === 0 || this.received < WORKER_THRESHOLD_RECORDS || (!conversionWorker && !conversionWorkersAvailable())) return undefined;
    this.pool = new ConversionPool(this.workers, { columns: this.config.columns, serde: this.config.serde, eventTime: this.eventTime }, conversionWorker);
    return this.pool;
  }

  /** Waits for the deliveries already started (buffers still filling stay buffered). */
  async drain(): Promise<void> {
    await this.applied;
    await this.deliveries.settled();
    await this.recovery;
    this.throwFailure();
  }

  /** Flushes every buffer, waits for the deliveries, and releases DuckDB. Rejects with the first delivery failure. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.applied;
      await this.pool?.close();
      this.pool = undefined;
      this.deliveries.drainAll();
      this.buffers.flushAll();
      await this.deliveries.close();
      // A send that only resumes may make no call: records a killed process accepted are delivered now.
      if (this.options.claimedSpool === undefined) await (this.recovery ??= this.recoverStale());
      this.journal?.close();
      // What failed to deliver stays in the journal: the next process to start replays it.
      if (this.deliveries.failures.length === 0) this.spool.remove();
    }
    await this.deliveries.settled();
    this.throwFailure();
  }

  private throwFailure(): void {
    const { failures } = this.deliveries;
    if (failures.length === 0) return;
    const first = failures[0];
    throw first instanceof ServiceError
      ? first
      : new ServiceError(`delivery stream ${this.config.stream} could not deliver: ${(first as Error).message}`, { service: 'firehose', cause: first });
  }

  // ---------------------------------------------------------------- durability

  /** As on AWS, a stream that was never deployed does not exist: refuse before accepting anything. */
  private checkDeployed(): void {
    if (this.deployed) return;
    if (!existsSync(join(this.store.root, this.config.bucket))) {
      throw new ServiceError(`Firehose ${this.config.stream} under account ${this.accountId} not found: the local lake is not deployed (no bucket ${this.config.bucket})`, {
        code: 'ResourceNotFoundException',
        service: 'firehose',
        hint: 'run `lake deploy` to create the bucket, the table and the stream',
      });
    }
    this.deployed = true;
  }

  /** The lowest call sequence whose records are not all delivered: the journal keeps what is at or above it. */
  private watermark(): number {
    let low = this.nextBatch;
    for (const seq of this.unapplied) low = Math.min(low, seq);
    return this.buffers.oldestBatch(low);
  }

  /** Delivers what killed processes of this stream had accepted; failures are warnings and the folder is kept for the next run. */
  private async recoverStale(): Promise<void> {
    const stream = this.config.stream;
    if (!existsSync(join(this.store.root, this.config.bucket))) return;
    let claimed: ReturnType<typeof claimStaleSpools>;
    try {
      claimed = claimStaleSpools(this.spool.root, stream);
    } catch (err) {
      this.log.warn(`delivery stream ${stream}: could not look for the records of killed processes: ${(err as Error).message}`);
      return;
    }
    for (const { dir, pid } of claimed) {
      const replayer = new LocalDeliveryStream({ ...this.options, workers: 0, claimedSpool: dir });
      try {
        const { batches, items } = await replayer.replay();
        this.log.info(`delivery stream ${stream}: recovered ${items} rows in ${batches} calls accepted by a process that was killed (pid ${pid})`);
      } catch (err) {
        this.log.warn(`delivery stream ${stream}: could not deliver what a killed process (pid ${pid}) had accepted, kept in ${dir} for the next run: ${(err as Error).message}`);
      }
    }
  }

  /**
   * @internal Replays the journal of the claimed folder: the calls at or above its watermark,
   * with their arrival times, less the items already delivered; then delivers and removes the
   * folder (kept if a delivery fails). `items`: rows and error records delivered now.
   */
  async replay(): Promise<{ batches: number; items: number }> {
    const dir = this.spool.path;
    this.journal = new FirehoseJournal(dir);
    const skip = (this.buffers.replaying = await DeliveredItems.load(dir, async (key) => (await this.store.head(this.config.bucket, key)) !== undefined));
    let batches = 0;
    try {
      for (const batch of readBatches(dir, readWatermark(dir))) {
        while (this.deliveries.pending >= MAX_QUEUED_FLUSHES) await this.deliveries.progress();
        this.nextBatch = batch.seq + 1;
        const arrival = new Date(batch.arrival);
        if (this.config.backupPrefix !== null && !skip.has('backup', batch.seq, 0)) this.buffers.backup(batch.records, arrival, batch.seq);
        this.buffers.add(convertBatch(this.converter, batch.records), batch.records, arrival, batch.seq);
        batches++;
      }
    } finally {
      await this.close();
    }
    return { batches, items: this.buffers.replayedItems };
  }

  /** @internal for tests: buffered rows by buffer id. */
  bufferedRows(): Record<string, number> {
    return this.buffers.bufferedRows();
  }

  private nextRecordId(): string {
    // Opaque like Firehose's (base64 of an internal id): a per-stream random seed and a counter.
    this.recordIdSeed.writeUInt32BE(this.recordCounter++ >>> 0, 0);
    return this.recordIdSeed.toString('base64');
  }

}
