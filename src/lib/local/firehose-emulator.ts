/**
 * The local Firehose: PutRecordBatch with the service's limits, record format conversion
 * through lake's serde, buffering per target prefix (size, interval, end of process), and
 * delivery of Snappy Parquet objects named and placed as Firehose places them. Records that
 * fail conversion become error records in AWS's shape; with a backup prefix the raw input
 * is kept gzipped.
 *
 * How rows reach Parquet: each buffer spools its rows as CSV to a file (cheap to write from
 * JavaScript, memory flat whatever the buffer size), and a flush has DuckDB read that file
 * with the Glue column types and COPY it to a temporary object file, renamed into place by
 * the object store, so no reader ever sees a partial object. Flushes run in the background
 * while records keep arriving (a few at a time, then PutRecordBatch waits), as Firehose delivers
 * asynchronously.
 *
 * Buffers follow Firehose: with arrival-time prefixes there is one buffer for the stream
 * and the prefix is evaluated from the arrival of its oldest record (so a buffer spanning
 * an hour boundary lands in the earlier hour, as on AWS); with event time (dynamic
 * partitioning) there is one buffer per partition, each with its own size and interval.
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { LakeConfig } from '../config.js';
import { ServiceError } from '../errors.js';
import { formatConversionErrorJson, genericErrorJson, type DataCatalogTable } from '../error-records.js';
import { EPOCH_MILLIS_THRESHOLD, evaluatePrefix, firehosePrefixes, objectName, timePartitionValues, type FirehosePrefixes } from '../firehose-prefix.js';
import { parseGlueType, toDuckdbType, type GlueType } from '../glue-types.js';
import type { Logger } from '../log.js';
import type { Column, DeliveryStream, PutRecordBatchResult, PutRecordResponse, StreamInfo } from '../ports.js';
import { compileSchema, serdeSchemaFromConfig, type SerdeConverter } from '../serde/index.js';
import type { Row, RowValue } from '../serde/types.js';
import type { FsObjectStore } from './fs-object-store.js';

/** PutRecordBatch's limits (Firehose API reference, "Amazon Data Firehose Quota"). */
export const MAX_BATCH_RECORDS = 500;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
export const MAX_RECORD_BYTES = 1_000 * 1024;

const MiB = 1024 * 1024;
/** Spooled CSV is written in pieces of at most this many bytes. */
const SPOOL_BUFFER_BYTES = 256 * 1024;
/** Flushes queued before PutRecordBatch waits for DuckDB (back pressure). */
const MAX_QUEUED_FLUSHES = 4;
/** Deliveries running at once (each its own DuckDB connection). */
const DELIVERY_CONCURRENCY = 2;
/**
 * Longest spooled CSV line DuckDB accepts: a 1,000 KiB record can double when its quotes are
 * escaped. DuckDB's read buffer defaults to 16 times this, which would cost memory per thread,
 * so it is set to twice.
 */
const MAX_CSV_LINE_BYTES = 4 * MiB;
/** Records a stream converts in-thread before starting worker threads. */
const WORKER_THRESHOLD_RECORDS = 5_000;
/** Row group hour for arrival-time streams (one buffer). */
const ARRIVAL = -1;

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

interface BufferBase {
  /** Input bytes of the records in the buffer: what `buffering.sizeMiB` counts. */
  inputBytes: number;
  /** Arrival of the oldest record: evaluates `!{timestamp:...}` and the object name. */
  oldestArrival: Date;
  /** Clock reading (ms) when the buffer opened: what `intervalSeconds` counts from. */
  openedAt: number;
  timer?: NodeJS.Timeout;
}

interface DataBuffer extends BufferBase {
  kind: 'data';
  id: string;
  partitionKeys?: Record<string, string>;
  spoolPath: string;
  fd: number;
  /** CSV bytes not yet written to the spool file. */
  out: Buffer;
  used: number;
  rows: number;
}

interface ErrorBuffer extends BufferBase {
  kind: 'error';
  id: string;
  type: 'format-conversion-failed' | 'partitioning-failed';
  /** One per failed record; the attempt ends at delivery, so the JSON is built then. */
  records: ((attemptEndingTimestamp: number) => string)[];
}

interface BackupBuffer extends BufferBase {
  kind: 'backup';
  id: string;
  spoolPath: string;
  fd: number;
}

type StreamBuffer = DataBuffer | ErrorBuffer | BackupBuffer;

export class LocalDeliveryStream implements DeliveryStream {
  private readonly config: LakeConfig;
  private readonly store: FsObjectStore;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly version: number;
  private readonly prefixes: FirehosePrefixes;
  private readonly converter: BatchConverter;
  private readonly workers: number;
  private readonly selectList: string;
  private readonly csvColumns: string;
  private readonly catalogTable: DataCatalogTable;
  private readonly eventTime?: { column: string; type: GlueType['kind'] };
  private readonly sizeLimit: number;
  private readonly intervalMs: number;
  private readonly threads?: number;

  private readonly buffers = new Map<string, StreamBuffer>();
  /** The one data buffer of an arrival-time stream, while open. */
  private arrivalBuffer?: DataBuffer;
  /** Event-time partition of each hour seen (id and key values), to route rows cheaply. */
  private readonly partitionsByHour = new Map<number, { id: string; keys: Record<string, string> }>();
  /** Buffers waiting for delivery, and deliveries running. */
  private readonly waiting: StreamBuffer[] = [];
  private active = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly progressWaiters: (() => void)[] = [];
  private readonly failures: unknown[] = [];
  private pool?: ConversionPool;
  /** Batches handed to workers and not yet applied, oldest first. */
  private readonly converting: Promise<void>[] = [];
  private applied: Promise<void> = Promise.resolve();
  private received = 0;
  private spoolDir?: string;
  private spoolCount = 0;
  private sequence = 0n;
  private recordIdSeed = Buffer.from(crypto.getRandomValues(new Uint8Array(96)));
  private recordCounter = 0;
  private duckdb?: Promise<DuckDBInstance>;
  private closed = false;
  private readonly onBeforeExit = () => void this.close().catch((err: unknown) => this.log.warn(`delivery stream ${this.config.stream}: ${(err as Error).message}`));

  constructor(options: LocalDeliveryStreamOptions) {
    const { config } = options;
    this.config = config;
    this.store = options.store;
    this.now = options.now;
    this.log = options.log;
    this.version = options.version ?? 1;
    this.threads = options.threads;
    this.prefixes = firehosePrefixes(config);
    const types = config.columns.map((c) => parseGlueType(c.type));
    this.workers = options.workers ?? Math.min(4, availableParallelism());
    this.csvColumns = `{${config.columns.map((c, i) => `${sqlString(c.name)}: ${sqlString(csvColumnType(types[i]!))}`).join(', ')}}`;
    this.selectList = config.columns.map((c, i) => `${selectExpression(sqlIdentifier(c.name), types[i]!)} AS ${sqlIdentifier(c.name)}`).join(', ');
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
    while (this.active + this.waiting.length >= MAX_QUEUED_FLUSHES) await this.progress();

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
        this.failures.push(err);
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
    if (this.workers === 0 || this.received < WORKER_THRESHOLD_RECORDS || !/\.m?js$/.test(new URL(import.meta.url).pathname)) return undefined;
    this.pool = new ConversionPool(this.workers, { columns: this.config.columns, serde: this.config.serde, eventTime: this.eventTime });
    return this.pool;
  }

  /** Waits for the deliveries already started (buffers still filling stay buffered). */
  async drain(): Promise<void> {
    await this.applied;
    await this.settled();
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
      await this.settled();
      if (this.duckdb) {
        (await this.duckdb).closeSync();
        this.duckdb = undefined;
      }
      if (this.spoolDir) rmSync(this.spoolDir, { recursive: true, force: true });
    }
    await this.settled();
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failures.length === 0) return;
    const first = this.failures[0];
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
    const spoolPath = this.newSpoolPath('.csv');
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
      const spoolPath = this.newSpoolPath('.gz');
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

  private newSpoolPath(extension: string): string {
    if (!this.spoolDir) {
      const root = join(this.config.lakeDir, 'tmp', 'firehose');
      mkdirSync(root, { recursive: true });
      removeStaleSpools(root);
      this.spoolDir = join(root, `${this.config.stream}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
      mkdirSync(this.spoolDir, { recursive: true });
    }
    return join(this.spoolDir, `buffer-${++this.spoolCount}${extension}`);
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
    this.waiting.push(buffer);
    this.pump();
  }

  /** Starts queued deliveries, two at a time: one small COPY cannot keep DuckDB's threads busy. */
  private pump(): void {
    while (this.active < DELIVERY_CONCURRENCY && this.waiting.length > 0) {
      const buffer = this.waiting.shift()!;
      this.active++;
      void this.deliver(buffer)
        .catch((err: unknown) => {
          this.failures.push(err);
          this.log.warn(`delivery stream ${this.config.stream}: delivery failed: ${(err as Error).message}`);
        })
        .finally(() => {
          this.active--;
          this.pump();
          if (this.active === 0 && this.waiting.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
          else this.progressWaiters.splice(0).forEach((resolve) => resolve());
        });
    }
  }

  /** Resolves when no delivery is queued or running. */
  private settled(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when a delivery finishes (or none is pending). */
  private progress(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.progressWaiters.push(resolve);
      this.idleWaiters.push(resolve);
    });
  }

  private async deliver(buffer: StreamBuffer): Promise<void> {
    const deliveredAt = this.now();
    const bucket = this.config.bucket;
    switch (buffer.kind) {
      case 'data': {
        const prefix = evaluatePrefix(this.prefixes.prefix, { timestamp: buffer.oldestArrival, partitionKeys: buffer.partitionKeys });
        const key = prefix + objectName(this.config.stream, this.version, buffer.oldestArrival, crypto.randomUUID(), '.parquet');
        const temp = this.store.tempPathFor(bucket, key);
        try {
          await this.writeParquet(buffer.spoolPath, temp);
          await this.store.putFromFile(bucket, key, temp);
        } catch (err) {
          rmSync(temp, { force: true });
          throw err;
        } finally {
          unlinkSync(buffer.spoolPath);
        }
        this.log.debug(`delivery stream ${this.config.stream}: ${buffer.rows} rows to s3://${bucket}/${key}`);
        return;
      }
      case 'error': {
        const end = deliveredAt.getTime();
        const body = buffer.records.map((build) => build(end)).join('');
        const prefix = evaluatePrefix(this.prefixes.errorOutputPrefix, { timestamp: buffer.oldestArrival, errorOutputType: buffer.type });
        const key = prefix + objectName(this.config.stream, this.version, buffer.oldestArrival);
        await this.store.put(bucket, key, body);
        this.log.debug(`delivery stream ${this.config.stream}: ${buffer.records.length} ${buffer.type} records to s3://${bucket}/${key}`);
        return;
      }
      case 'backup': {
        const prefix = evaluatePrefix(this.config.backupPrefix ?? '', { timestamp: buffer.oldestArrival });
        const key = prefix + objectName(this.config.stream, this.version, buffer.oldestArrival, crypto.randomUUID(), '.gz');
        try {
          await this.store.putFromFile(bucket, key, buffer.spoolPath);
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
      await connection.run(
        `COPY (SELECT ${this.selectList} FROM read_csv(${sqlString(csvPath)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
          `new_line = '\\n', allow_quoted_nulls = false, max_line_size = ${MAX_CSV_LINE_BYTES}, buffer_size = ${2 * MAX_CSV_LINE_BYTES}, ` +
          `columns = ${this.csvColumns})) TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION snappy)`,
      );
    } finally {
      connection.closeSync();
    }
  }

  private connect(): Promise<DuckDBInstance> {
    this.duckdb ??= (async () => {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const settings: Record<string, string> = {};
      if (this.threads !== undefined) settings.threads = String(this.threads);
      return DuckDBInstance.create(':memory:', settings);
    })();
    return this.duckdb;
  }

  /** @internal for tests: buffered rows by buffer id. */
  bufferedRows(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, buffer] of this.buffers) out[id] = buffer.kind === 'data' ? buffer.rows : buffer.kind === 'error' ? buffer.records.length : buffer.inputBytes;
    return out;
  }
}

// ---------------------------------------------------------------- conversion (in-thread or in workers)

/** What a converter needs: plain data, so it can be sent to a worker thread. */
interface ConverterSpec {
  columns: Column[];
  serde: LakeConfig['serde'];
  eventTime?: { column: string; type: GlueType['kind'] };
}

interface BatchConverter {
  serde: SerdeConverter;
  names: string[];
  encoders: ((value: RowValue) => string)[];
  eventTime?: ConverterSpec['eventTime'];
}

/** A batch's rows bound for one buffer: CSV bytes, where each row ends, and its share of input bytes. */
interface RowGroup {
  /** Event hour since the epoch (partitions are at most hourly), or ARRIVAL. */
  hour: number;
  csv: Uint8Array;
  rowEnds: Int32Array;
  rowInputs: Float64Array;
}

interface BatchOutcome {
  groups: RowGroup[];
  failures: { index: number; code: string; message: string }[];
  /** Record index of each row without an event time (partitioning-failed). */
  withoutEventTime: number[];
}

function batchConverter(spec: ConverterSpec): BatchConverter {
  return {
    serde: compileSchema(serdeSchemaFromConfig({ columns: spec.columns, serde: spec.serde })),
    names: spec.columns.map((c) => c.name),
    encoders: spec.columns.map((c) => csvEncoder(parseGlueType(c.type))),
    eventTime: spec.eventTime,
  };
}

/** Converts a batch with the serde and encodes its rows for the spool, grouped by target buffer. */
function convertBatch(converter: BatchConverter, records: Uint8Array[]): BatchOutcome {
  const groups = new Map<number, GroupWriter>();
  const failures: BatchOutcome['failures'] = [];
  const withoutEventTime: number[] = [];
  const { eventTime } = converter;
  for (let i = 0; i < records.length; i++) {
    const data = records[i]!;
    const result = converter.serde.convert(data);
    if (!result.ok) {
      failures.push({ index: i, code: result.code, message: result.message });
      continue;
    }
    const rows = result.rows;
    const share = data.length / rows.length;
    for (const row of rows) {
      let hour = ARRIVAL;
      if (eventTime) {
        hour = eventHour(row[eventTime.column] ?? null, eventTime.type);
        if (Number.isNaN(hour)) {
          withoutEventTime.push(i);
          continue;
        }
      }
      let group = groups.get(hour);
      if (group === undefined) {
        group = new GroupWriter(hour);
        groups.set(hour, group);
      }
      group.add(encodeRow(converter, row), share);
    }
  }
  return { groups: [...groups.values()].map((g) => g.finish()), failures, withoutEventTime };
}

function encodeRow(converter: BatchConverter, row: Row): string {
  const { names, encoders } = converter;
  let line = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) line += ',';
    const value = row[names[i]!];
    if (value !== null && value !== undefined) line += encoders[i]!(value);
  }
  return line + '\n';
}

/** Hours since the epoch of an event time; NaN when the value has none. */
function eventHour(value: RowValue, type: GlueType['kind']): number {
  // The usual case without a Date or a bigint division per row.
  if (type === 'timestamp' && typeof value === 'bigint') return Math.floor(Number(value) / 3_600_000_000);
  const when = eventTimeOf(value, type);
  return when === undefined ? Number.NaN : Math.floor(when.getTime() / 3_600_000);
}

class GroupWriter {
  private readonly lines: string[] = [];
  private inputs = new Float64Array(64);

  constructor(private readonly hour: number) {}

  add(line: string, input: number): void {
    const n = this.lines.push(line);
    if (n > this.inputs.length) {
      const bigger = new Float64Array(this.inputs.length * 2);
      bigger.set(this.inputs);
      this.inputs = bigger;
    }
    this.inputs[n - 1] = input;
  }

  /** Encodes the group at once; rows end where their lines do (in characters when all is ASCII). */
  finish(): RowGroup {
    const { lines } = this;
    const text = lines.join('');
    const encoded = Buffer.from(text, 'utf8');
    const rowEnds = new Int32Array(lines.length);
    let end = 0;
    const ascii = encoded.length === text.length;
    for (let i = 0; i < lines.length; i++) {
      end += ascii ? lines[i]!.length : Buffer.byteLength(lines[i]!, 'utf8');
      rowEnds[i] = end;
    }
    // Transferred to the main thread, so it must own its memory: small buffers share a pooled slab.
    const owns = encoded.byteOffset === 0 && encoded.buffer.byteLength === encoded.length;
    const csv = owns ? new Uint8Array(encoded.buffer, 0, encoded.length) : new Uint8Array(encoded);
    return { hour: this.hour, csv, rowEnds, rowInputs: this.inputs.slice(0, lines.length) };
  }
}

interface WorkerReply {
  id: number;
  outcome?: BatchOutcome;
  error?: string;
}

/** Worker threads running `convertBatch`; each batch goes to the next worker in turn. */
class ConversionPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (o: BatchOutcome) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(
    readonly size: number,
    spec: ConverterSpec,
  ) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { lakeFirehoseConverter: spec } });
      worker.on('message', (reply: WorkerReply) => {
        const waiting = this.pending.get(reply.id);
        if (!waiting) return;
        this.settle(reply.id);
        if (reply.outcome) waiting.resolve(reply.outcome);
        else waiting.reject(new Error(reply.error ?? 'conversion worker failed'));
      });
      worker.on('error', (err) => {
        for (const [id, waiting] of [...this.pending]) {
          this.settle(id);
          waiting.reject(err);
        }
      });
      worker.unref();
      return worker;
    });
  }

  convert(records: Uint8Array[]): Promise<BatchOutcome> {
    const id = this.nextId++;
    // One buffer for the batch, transferred: cloning each record could copy a whole pool slab.
    const lengths = Int32Array.from(records, (r) => r.length);
    const joined = new Uint8Array(lengths.reduce((n, l) => n + l, 0));
    let offset = 0;
    for (const record of records) {
      joined.set(record, offset);
      offset += record.length;
    }
    return new Promise((resolve, reject) => {
      // A worker is kept referenced only while it owes an answer, so an idle stream never holds the process open.
      if (this.pending.size === 0) for (const worker of this.workers) worker.ref();
      this.pending.set(id, { resolve, reject });
      this.workers[id % this.size]!.postMessage({ id, joined, lengths }, [joined.buffer, lengths.buffer]);
    });
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) for (const worker of this.workers) worker.unref();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// In a conversion worker (this module loaded as the worker's entry): answer batches.
if (!isMainThread && parentPort && (workerData as { lakeFirehoseConverter?: ConverterSpec } | null)?.lakeFirehoseConverter) {
  const port = parentPort;
  const converter = batchConverter((workerData as { lakeFirehoseConverter: ConverterSpec }).lakeFirehoseConverter);
  port.on('message', ({ id, joined, lengths }: { id: number; joined: Uint8Array; lengths: Int32Array }) => {
    try {
      const records: Uint8Array[] = [];
      let offset = 0;
      for (const length of lengths) {
        records.push(joined.subarray(offset, offset + length));
        offset += length;
      }
      const outcome = convertBatch(converter, records);
      port.postMessage({ id, outcome } satisfies WorkerReply, outcome.groups.flatMap((g) => [g.csv.buffer as ArrayBuffer, g.rowEnds.buffer as ArrayBuffer, g.rowInputs.buffer as ArrayBuffer]));
    } catch (err) {
      port.postMessage({ id, error: (err as Error).message } satisfies WorkerReply);
    }
  });
}

function appendBytes(buffer: DataBuffer, bytes: Uint8Array): void {
  if (buffer.used + bytes.length > buffer.out.length) {
    writeLines(buffer);
    if (bytes.length > buffer.out.length) {
      writeSync(buffer.fd, bytes);
      return;
    }
  }
  buffer.out.set(bytes, buffer.used);
  buffer.used += bytes.length;
}

function writeLines(buffer: DataBuffer): void {
  if (buffer.used === 0) return;
  writeSync(buffer.fd, buffer.out, 0, buffer.used);
  buffer.used = 0;
}

// ---------------------------------------------------------------- limits

/**
 * PutRecordBatch's checks, in the service's order: the member constraints first (a
 * ValidationException naming every oversized record, 1-based, as AWS's message does), then
 * the request size (InvalidArgumentException). Either fails the whole call.
 */
export function validateBatch(records: Uint8Array[]): void {
  if (records.length === 0 || records.length > MAX_BATCH_RECORDS) {
    const bound = records.length === 0 ? 'greater than or equal to 1' : `less than or equal to ${MAX_BATCH_RECORDS}`;
    throw new ServiceError(`1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length ${bound} (got ${records.length} records)`, {
      code: 'ValidationException',
      service: 'firehose',
      hint: `PutRecordBatch takes 1 to ${MAX_BATCH_RECORDS} records; split the batch`,
    });
  }
  const oversized: string[] = [];
  let total = 0;
  records.forEach((record, i) => {
    total += record.length;
    if (record.length > MAX_RECORD_BYTES) {
      oversized.push(`Value 'java.nio.HeapByteBuffer[pos=0 lim=${record.length} cap=${record.length}]' at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`);
    }
  });
  if (oversized.length > 0) {
    throw new ServiceError(`${oversized.length} validation error${oversized.length > 1 ? 's' : ''} detected: ${oversized.join('; ')}`, {
      code: 'ValidationException',
      service: 'firehose',
      hint: `a Firehose record holds at most ${MAX_RECORD_BYTES} bytes (1,000 KiB); split the record`,
    });
  }
  if (total > MAX_BATCH_BYTES) {
    throw new ServiceError(`Records size exceeds 4 MB limit (${total} bytes in ${records.length} records)`, {
      code: 'InvalidArgumentException',
      service: 'firehose',
      hint: `PutRecordBatch takes at most ${MAX_BATCH_BYTES} bytes (4 MiB) of record data; send fewer records per call`,
    });
  }
}

// ---------------------------------------------------------------- event time

/** The instant an event-time column value stands for; undefined when it has none. */
export function eventTimeOf(value: RowValue, kind: GlueType['kind']): Date | undefined {
  if (value === null || value === undefined) return undefined;
  let ms: number | undefined;
  if (kind === 'timestamp' && typeof value === 'bigint') ms = Number(value / 1000n) - (value % 1000n < 0n ? 1 : 0);
  else if (kind === 'date' && typeof value === 'number') ms = value * 86_400_000;
  else if (typeof value === 'bigint' || typeof value === 'number') {
    const n = Number(value);
    ms = Math.abs(n) >= EPOCH_MILLIS_THRESHOLD ? Math.floor(n) : Math.floor(n) * 1000;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) {
      const n = Math.floor(Number(text));
      ms = Math.abs(n) >= EPOCH_MILLIS_THRESHOLD ? n : n * 1000;
    } else {
      const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}))?/.exec(text);
      if (m) ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0));
    }
  }
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms);
}

// ---------------------------------------------------------------- CSV spool encoding

const CSV_SPECIAL = /[",\r\n]/;

function csvString(s: string): string {
  if (s.length === 0) return '""';
  return CSV_SPECIAL.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** How a Row value of this type is written to the spool (the serde's representation in, CSV out). */
function csvEncoder(type: GlueType): (value: RowValue) => string {
  switch (type.kind) {
    case 'string':
    case 'char':
    case 'varchar':
    case 'decimal':
      return (v) => csvString(v as string);
    case 'boolean':
      return (v) => (v ? 'true' : 'false');
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'float':
    case 'double':
    case 'date':
      return (v) => String(v);
    case 'bigint':
    case 'timestamp':
      // Within 2^53 a double prints the same digits, faster than a bigint does.
      return (v) => {
        const n = Number(v);
        return Number.isSafeInteger(n) ? `${n}` : String(v);
      };
    case 'binary':
      return (v) => Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString('base64');
    default:
      return (v) => csvString(nestedJson(v, type));
  }
}

/** The CSV column type DuckDB reads before the SELECT gives the Glue type. */
function csvColumnType(type: GlueType): string {
  switch (type.kind) {
    case 'date':
      return 'INTEGER';
    case 'timestamp':
      return 'BIGINT';
    case 'binary':
    case 'array':
    case 'map':
    case 'struct':
      return 'VARCHAR';
    default:
      return toDuckdbType(type);
  }
}

function selectExpression(column: string, type: GlueType): string {
  switch (type.kind) {
    case 'date':
      return `CAST(DATE '1970-01-01' + ${column} AS DATE)`;
    case 'timestamp':
      return `make_timestamp(${column})`;
    case 'binary':
      return `from_base64(${column})`;
    case 'array':
    case 'map':
    case 'struct':
      return `CAST(CAST(${column} AS JSON) AS ${toDuckdbType(type)})`;
    default:
      return column;
  }
}

/**
 * Nested values as JSON that DuckDB casts to the Glue type: maps as objects (keys cast
 * back), timestamps and dates as text, decimals as strings so no digit is lost.
 */
function nestedJson(value: RowValue, type: GlueType): string {
  if (value === null || value === undefined) return 'null';
  switch (type.kind) {
    case 'array':
      return `[${(value as RowValue[]).map((v) => nestedJson(v, type.element)).join(',')}]`;
    case 'map': {
      const parts: string[] = [];
      for (const [k, v] of value as Map<string | number | bigint | boolean, RowValue>) parts.push(`${JSON.stringify(String(k))}:${nestedJson(v, type.value)}`);
      return `{${parts.join(',')}}`;
    }
    case 'struct':
      return `{${type.fields.map((f) => `${JSON.stringify(f.name)}:${nestedJson((value as Record<string, RowValue>)[f.name] ?? null, f.type)}`).join(',')}}`;
    case 'timestamp':
      return JSON.stringify(formatMicros(value as bigint));
    case 'date':
      return JSON.stringify(new Date((value as number) * 86_400_000).toISOString().slice(0, 10));
    case 'binary':
      return JSON.stringify(Buffer.from(value as Uint8Array).toString('latin1'));
    case 'float':
    case 'double':
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return JSON.stringify(String(value));
  }
}

function formatMicros(micros: bigint): string {
  const ms = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  const rest = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(rest).padStart(6, '0')}`;
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Spool folders of processes that no longer run (killed before they could clean up). */
function removeStaleSpools(root: string): void {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const name of entries) {
    const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
