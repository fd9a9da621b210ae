/**
 * The local Firehose: PutRecordBatch with the service's limits, record format conversion
 * through lake's serde, buffering per target prefix (size, interval, end of process), and
 * delivery of Snappy Parquet objects named and placed as Firehose places them. Records that
 * fail conversion become error records in AWS's shape; with a backup prefix the raw input
 * is kept gzipped.
 *
 * The parts: PutRecordBatch's limits (firehose-limits.ts); conversion of records to CSV rows,
 * in-thread or in worker threads (firehose-conversion.ts); the CSV spool each data buffer
 * writes and the DuckDB COPY that turns it into Parquet (firehose-spool.ts); delivery of
 * flushed buffers in the background, with no partial object ever visible
 * (firehose-delivery.ts). This file buffers: which buffer a row joins, and when a buffer is
 * flushed.
 *
 * Buffers follow Firehose: with arrival-time prefixes there is one buffer for the stream
 * and the prefix is evaluated from the arrival of its oldest record (so a buffer spanning
 * an hour boundary lands in the earlier hour, as on AWS); with event time (dynamic
 * partitioning) there is one buffer per partition, each with its own size and interval.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { gzipSync } from 'node:zlib';
import type { LakeConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { formatConversionErrorJson, genericErrorJson, type DataCatalogTable } from '../error-records.js';
import { firehosePrefixes, timePartitionValues, type FirehosePrefixes } from '../firehose-prefix.js';
import { parseGlueType, type GlueType } from '../glue-types.js';
import type { Logger } from '../log.js';
import type { DeliveryStream, PutRecordBatchResult, PutRecordResponse, StreamInfo } from '../ports.js';
import type { FsObjectStore } from './fs-object-store.js';
import { ARRIVAL, batchConverter, type BatchConverter, type BatchOutcome, ConversionPool, conversionWorkersAvailable, convertBatch } from './firehose-conversion.js';
import { type BackupBuffer, type BufferBase, type DataBuffer, DeliveryQueue, type ErrorBuffer, type StreamBuffer } from './firehose-delivery.js';
import { validateBatch } from './firehose-limits.js';
import { appendBytes, SPOOL_BUFFER_BYTES, SpoolFolder, writeLines } from './firehose-spool.js';

export { MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_RECORD_BYTES, validateBatch } from './firehose-limits.js';
export { eventTimeOf } from './firehose-conversion.js';

const MiB = 1024 * 1024;
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
  /** DuckDB threads for the Parquet writer (default: DuckDB's own choice). */
  threads?: number;
  /** Conversion worker threads for big sends (default: up to 4, one per core); 0 converts in-thread. */
  workers?: number;
}

export class LocalDeliveryStream implements DeliveryStream {
  private readonly config: LakeConfig;
  private readonly store: FsObjectStore;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly version: number;
  private readonly prefixes: FirehosePrefixes;
  private readonly converter: BatchConverter;
  private readonly workers: number;
  private readonly catalogTable: DataCatalogTable;
  private readonly eventTime?: { column: string; type: GlueType['kind'] };
  private readonly sizeLimit: number;
  private readonly intervalMs: number;

  private readonly buffers = new Map<string, StreamBuffer>();
  /** The one data buffer of an arrival-time stream, while open. */
  private arrivalBuffer?: DataBuffer;
  /** Event-time partition of each hour seen (id and key values), to route rows cheaply. */
  private readonly partitionsByHour = new Map<number, { id: string; keys: Record<string, string> }>();
  /** Buffers waiting for delivery, and deliveries running. */
  private readonly deliveries: DeliveryQueue;
  private pool?: ConversionPool;
  /** Batches handed to workers and not yet applied, oldest first. */
  private readonly converting: Promise<void>[] = [];
  private applied: Promise<void> = Promise.resolve();
  private received = 0;
  private readonly spool: SpoolFolder;
  private sequence = 0n;
  private recordIdSeed = Buffer.from(crypto.getRandomValues(new Uint8Array(96)));
  private recordCounter = 0;
  private closed = false;
  private readonly onBeforeExit = () => void this.close().catch((err: unknown) => this.log.warn(`delivery stream ${this.config.stream}: ${(err as Error).message}`));

  constructor(options: LocalDeliveryStreamOptions) {
    const { config } = options;
    this.config = config;
    this.store = options.store;
    this.now = options.now;
    this.log = options.log;
    this.version = options.version ?? 1;
    this.prefixes = firehosePrefixes(config);
    const types = config.columns.map((c) => parseGlueType(c.type));
    this.workers = options.workers ?? Math.min(4, availableParallelism());
    this.sizeLimit = config.buffering.sizeMiB * MiB;
    this.intervalMs = config.buffering.intervalSeconds * 1000;
    const accountId = options.accountId ?? '000000000000';
    this.catalogTable = {
      catalogId: null,
      databaseName: config.database,
      tableName: config.table,
      region: config.region,
      versionId: 'LATEST',
      roleArn: `arn:aws:iam::${accountId}:role/${config.stackName}-firehose`,
    };
    if (config.partitioning.time !== 'arrival') {
      const index = config.columns.findIndex((c) => c.name === config.partitioning.time);
      this.eventTime = { column: config.partitioning.time, type: types[index]?.kind ?? 'timestamp' };
    }
    this.converter = batchConverter({ columns: config.columns, serde: config.serde, eventTime: this.eventTime });
    this.spool = new SpoolFolder(config.lakeDir, config.stream);
    this.deliveries = new DeliveryQueue({ config, store: this.store, now: this.now, log: this.log, version: this.version, prefixes: this.prefixes, threads: options.threads });
  }

  describe(): Promise<StreamInfo | undefined> {
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
    validateBatch(records);
    // Back pressure: DuckDB writes while records keep coming, but not unboundedly behind.
    while (this.deliveries.pending >= MAX_QUEUED_FLUSHES) await this.deliveries.progress();

    const arrival = this.now();
    const responses: PutRecordResponse[] = new Array<PutRecordResponse>(records.length);
    for (let i = 0; i < records.length; i++) responses[i] = { recordId: this.nextRecordId() };
    if (this.config.backupPrefix !== null) this.backup(records, arrival);
    this.received += records.length;

    const pool = this.conversionPool();
    if (pool === undefined) {
      this.deliverBatch(convertBatch(this.converter, records), records, arrival);
    } else {
      // Converted in a worker while the caller sends more; applied strictly in call order.
      const converted = pool.convert(records);
      const step = this.applied.then(async () => this.deliverBatch(await converted, records, arrival));
      this.applied = step.catch((err: unknown) => {
        this.deliveries.failures.push(err);
        this.log.warn(`delivery stream ${this.config.stream}: conversion failed: ${(err as Error).message}`);
      });
      this.converting.push(step);
      void step.finally(() => this.converting.splice(this.converting.indexOf(step), 1)).catch(() => undefined);
      while (this.converting.length >= pool.size * 4) await this.converting[0]!.catch(() => undefined);
    }
    return { failedPutCount: 0, responses };
  }

  private deliverBatch(outcome: BatchOutcome, records: Uint8Array[], arrival: Date): void {
    // Buffers whose interval passed by the (injectable) clock go before these records join.
    this.flushDue(arrival);
    this.applyBatch(outcome, records, arrival);
    // Zero buffering: every call is delivered at once.
    if (this.intervalMs === 0) for (const buffer of [...this.buffers.values()]) this.flush(buffer);
  }

  /**
   * Worker threads for conversion once a stream has seen enough records to be worth them
   * (the serde is JavaScript: one core would cap a big send). Only when this module runs as
   * JavaScript (the built CLI, a bundle): from TypeScript sources it converts in-thread.
   */
  private conversionPool(): ConversionPool | undefined {
    if (this.pool) return this.pool;
    if (this.workers === 0 || this.received < WORKER_THRESHOLD_RECORDS || !conversionWorkersAvailable()) return undefined;
    this.pool = new ConversionPool(this.workers, { columns: this.config.columns, serde: this.config.serde, eventTime: this.eventTime });
    return this.pool;
  }

  /** Waits for the deliveries already started (buffers still filling stay buffered). */
  async drain(): Promise<void> {
    await this.applied;
    await this.deliveries.settled();
    this.throwFailure();
  }

  /** Flushes every buffer, waits for the deliveries, and releases DuckDB. Rejects with the first delivery failure. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      process.off('beforeExit', this.onBeforeExit);
      await this.applied;
      await this.pool?.close();
      this.pool = undefined;
      for (const buffer of [...this.buffers.values()]) this.flush(buffer);
      await this.deliveries.close();
      this.spool.remove();
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

  // ---------------------------------------------------------------- ingestion

  /** Puts a converted batch into the buffers, in order: what PutRecordBatch's records become. */
  private applyBatch(outcome: BatchOutcome, records: Uint8Array[], arrival: Date): void {
    // Failed records are copied: a record may be a view into a caller's larger buffer.
    for (const failure of outcome.failures) {
      const data = new Uint8Array(records[failure.index]!);
      this.addError('format-conversion-failed', data, arrival, this.conversionFailure(data, arrival, failure.code, failure.message));
    }
    for (const index of outcome.withoutEventTime) {
      const data = new Uint8Array(records[index]!);
      const message = `Failed to extract the partition keys: the event time column '${this.eventTime!.column}' is missing or not a time`;
      this.addError('partitioning-failed', data, arrival, (end) =>
        genericErrorJson({ arrivalTimestamp: arrival.getTime(), code: 'DynamicPartitioning.MetadataExtractionFailed', message, attemptEndingTimestamp: end, rawData: data }),
      );
    }
    for (const group of outcome.groups) {
      let buffer = this.bufferForHour(group.hour, arrival);
      let from = 0;
      for (let r = 0; r < group.rowEnds.length; r++) {
        buffer.rows++;
        buffer.inputBytes += group.rowInputs[r]!;
        if (buffer.inputBytes >= this.sizeLimit) {
          appendBytes(buffer, group.csv.subarray(from, group.rowEnds[r]));
          from = group.rowEnds[r]!;
          this.flush(buffer);
          if (r + 1 < group.rowEnds.length) buffer = this.bufferForHour(group.hour, arrival);
        }
      }
      if (from < group.csv.length) appendBytes(buffer, group.csv.subarray(from));
    }
  }

  /** The open buffer for rows of this event hour (-1: arrival time), opening one if needed. */
  private bufferForHour(hour: number, arrival: Date): DataBuffer {
    if (hour === ARRIVAL) return (this.arrivalBuffer ??= this.dataBuffer(undefined, arrival));
    let partition = this.partitionsByHour.get(hour);
    if (partition === undefined) {
      const keys = timePartitionValues(new Date(hour * 3_600_000), this.config.partitioning.keys);
      partition = { id: `data:${JSON.stringify(keys)}`, keys };
      this.partitionsByHour.set(hour, partition);
    }
    const buffer = this.buffers.get(partition.id) as DataBuffer | undefined;
    return buffer ?? this.dataBuffer(partition.keys, arrival, partition.id);
  }

  private conversionFailure(data: Uint8Array, arrival: Date, code: string, message: string): (attemptEnding: number) => string {
    const sequenceNumber = this.nextSequenceNumber(arrival.getTime());
    const dataCatalogTable = this.catalogTable;
    return (attemptEndingTimestamp) =>
      formatConversionErrorJson({
        arrivalTimestamp: arrival.getTime(),
        code,
        message,
        attemptEndingTimestamp,
        rawData: data,
        sequenceNumber,
        subSequenceNumber: null,
        dataCatalogTable,
      });
  }

  private dataBuffer(partitionKeys: Record<string, string> | undefined, arrival: Date, id = 'data:'): DataBuffer {
    const spoolPath = this.spool.newPath('.csv');
    const buffer: DataBuffer = { kind: 'data', id, partitionKeys, spoolPath, fd: openSync(spoolPath, 'w'), out: Buffer.allocUnsafe(SPOOL_BUFFER_BYTES), used: 0, rows: 0, ...this.opened(arrival) };
    this.register(buffer);
    return buffer;
  }

  private addError(type: ErrorBuffer['type'], data: Uint8Array, arrival: Date, json: (attemptEnding: number) => string): void {
    const id = `error:${type}`;
    let buffer = this.buffers.get(id) as ErrorBuffer | undefined;
    if (!buffer) {
      buffer = { kind: 'error', id, type, records: [], ...this.opened(arrival) };
      this.register(buffer);
    }
    buffer.records.push(json);
    buffer.inputBytes += data.length;
    if (buffer.inputBytes >= this.sizeLimit) this.flush(buffer);
  }

  private backup(records: Uint8Array[], arrival: Date): void {
    let buffer = this.buffers.get('backup') as BackupBuffer | undefined;
    if (!buffer) {
      const spoolPath = this.spool.newPath('.gz');
      buffer = { kind: 'backup', id: 'backup', spoolPath, fd: openSync(spoolPath, 'w'), ...this.opened(arrival) };
      this.register(buffer);
    }
    // One gzip member per call: concatenated members are one valid gzip stream.
    const bytes = Buffer.concat(records);
    writeSync(buffer.fd, gzipSync(bytes));
    buffer.inputBytes += bytes.length;
    if (buffer.inputBytes >= this.sizeLimit) this.flush(buffer);
  }

  private opened(arrival: Date): BufferBase {
    return { inputBytes: 0, oldestArrival: arrival, openedAt: this.now().getTime() };
  }

  private register(buffer: StreamBuffer): void {
    if (this.buffers.size === 0) process.on('beforeExit', this.onBeforeExit);
    this.buffers.set(buffer.id, buffer);
    if (this.intervalMs > 0) {
      buffer.timer = setTimeout(() => this.flush(buffer), this.intervalMs);
      buffer.timer.unref();
    }
  }

  /** Flushes the buffers whose interval has passed by the injected clock. */
  private flushDue(now: Date): void {
    for (const buffer of [...this.buffers.values()]) {
      if (now.getTime() - buffer.openedAt >= this.intervalMs) this.flush(buffer);
    }
  }

  private nextRecordId(): string {
    // Opaque like Firehose's (base64 of an internal id): a per-stream random seed and a counter.
    this.recordIdSeed.writeUInt32BE(this.recordCounter++ >>> 0, 0);
    return this.recordIdSeed.toString('base64');
  }

  private nextSequenceNumber(arrival: number): string {
    this.sequence++;
    return `49${String(arrival).padStart(15, '0')}${String(this.sequence).padStart(39, '0')}`;
  }

  // ---------------------------------------------------------------- delivery

  /** Detaches the buffer and queues its delivery. */
  private flush(buffer: StreamBuffer): void {
    if (this.buffers.get(buffer.id) !== buffer) return;
    this.buffers.delete(buffer.id);
    if (buffer.timer) clearTimeout(buffer.timer);
    if (this.buffers.size === 0) process.off('beforeExit', this.onBeforeExit);
    if (buffer.kind !== 'error') {
      if (buffer.kind === 'data') writeLines(buffer);
      if (buffer === this.arrivalBuffer) this.arrivalBuffer = undefined;
      closeSync(buffer.fd);
    }
    this.deliveries.push(buffer);
  }

  /** @internal for tests: buffered rows by buffer id. */
  bufferedRows(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, buffer] of this.buffers) out[id] = buffer.kind === 'data' ? buffer.rows : buffer.kind === 'error' ? buffer.records.length : buffer.inputBytes;
    return out;
  }
}
