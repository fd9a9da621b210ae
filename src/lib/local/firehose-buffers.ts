/**
 * The buffers of the local Firehose: which buffer a converted row (or a failed record, or a
 * call's raw input for the backup) joins, and when a buffer is flushed to the delivery queue:
 * at `buffering.sizeMiB` of input, after `intervalSeconds`, or when the stream closes.
 *
 * Buffers follow Firehose: with arrival-time prefixes there is one buffer for the stream
 * and the prefix is evaluated from the arrival of its oldest record (so a buffer spanning
 * an hour boundary lands in the earlier hour, as on AWS); with event time (dynamic
 * partitioning) there is one buffer per partition, each with its own size and interval.
 *
 * Each buffer notes which journal items it holds (firehose-journal.ts): the journal keeps
 * the calls at or above the oldest one not delivered, and a replay skips delivered items.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { LakeConfig } from '../config.js';
import { formatConversionErrorJson, genericErrorJson, type DataCatalogTable } from '../error-records.js';
import { timePartitionValues } from '../firehose-prefix.js';
import type { GlueType } from '../glue-types.js';
import { ARRIVAL, type BatchOutcome, type RowGroup } from './firehose-conversion.js';
import type { BackupBuffer, BufferBase, DataBuffer, DeliveryQueue, ErrorBuffer, StreamBuffer } from './firehose-delivery.js';
import type { DeliveredItems } from './firehose-recovery.js';
import { appendBytes, SPOOL_BUFFER_BYTES, type SpoolFolder, writeLines } from './firehose-spool.js';

const MiB = 1024 * 1024;

export interface StreamBuffersOptions {
  config: LakeConfig;
  spool: SpoolFolder;
  deliveries: DeliveryQueue;
  now: () => Date;
  catalogTable: DataCatalogTable;
  eventTime?: { column: string; type: GlueType['kind'] };
  /** Registered on `beforeExit` while a buffer is open (so records are not left behind). */
  onBeforeExit: () => void;
}

export class StreamBuffers {
  private readonly config: LakeConfig;
  private readonly spool: SpoolFolder;
  private readonly deliveries: DeliveryQueue;
  private readonly now: () => Date;
  private readonly catalogTable: DataCatalogTable;
  private readonly eventTime?: { column: string; type: GlueType['kind'] };
  private readonly onBeforeExit: () => void;
  private readonly sizeLimit: number;
  private readonly intervalMs: number;

  private readonly buffers = new Map<string, StreamBuffer>();
  /** The one data buffer of an arrival-time stream, while open. */
  private arrivalBuffer?: DataBuffer;
  /** Event-time partition of each hour seen (id and key values), to route rows cheaply. */
  private readonly partitionsByHour = new Map<number, { id: string; keys: Record<string, string> }>();
  /** Flushed buffers not delivered yet; failed ones stay, so their calls stay in the journal. */
  private readonly undelivered = new Set<StreamBuffer>();
  private sequence = 0n;
  /** While replaying a killed process's journal: the items already delivered, skipped. */
  replaying?: DeliveredItems;
  /** Rows and error records a replay put in the buffers. */
  replayedItems = 0;

  constructor(options: StreamBuffersOptions) {
    this.config = options.config;
    this.spool = options.spool;
    this.deliveries = options.deliveries;
    this.now = options.now;
    this.catalogTable = options.catalogTable;
    this.eventTime = options.eventTime;
    this.onBeforeExit = options.onBeforeExit;
    this.sizeLimit = options.config.buffering.sizeMiB * MiB;
    this.intervalMs = options.config.buffering.intervalSeconds * 1000;
  }

  /** A converted call into the buffers, after flushing the ones whose interval passed. */
  add(outcome: BatchOutcome, records: Uint8Array[], arrival: Date, seq: number): void {
    // Buffers whose interval passed by the (injectable) clock go before these records join.
    this.flushDue(arrival);
    this.applyBatch(outcome, records, arrival, seq);
    // Zero buffering: every call is delivered at once.
    if (this.intervalMs === 0) this.flushAll();
  }

  flushAll(): void {
    for (const buffer of [...this.buffers.values()]) this.flush(buffer);
  }

  /** A delivery succeeded: its calls no longer hold the journal back. */
  delivered(buffer: StreamBuffer): void {
    this.undelivered.delete(buffer);
  }

  /** The oldest call with records in a buffer open or not delivered, or `below` if lower. */
  oldestBatch(below: number): number {
    let low = below;
    for (const buffer of this.buffers.values()) low = Math.min(low, buffer.firstBatch);
    for (const buffer of this.undelivered) low = Math.min(low, buffer.firstBatch);
    return low;
  }

  /** Puts a converted batch into the buffers, in order: what PutRecordBatch's records become. */
  private applyBatch(outcome: BatchOutcome, records: Uint8Array[], arrival: Date, seq: number): void {
    const skip = this.replaying;
    // Failed records are copied: a record may be a view into a caller's larger buffer.
    outcome.failures.forEach((failure, item) => {
      if (skip?.has('error:format-conversion-failed', seq, item)) return;
      const data = new Uint8Array(records[failure.index]!);
      this.addError('format-conversion-failed', data, arrival, [seq, item], this.conversionFailure(data, arrival, failure.code, failure.message));
    });
    outcome.withoutEventTime.forEach((index, item) => {
      if (skip?.has('error:partitioning-failed', seq, item)) return;
      const data = new Uint8Array(records[index]!);
      const message = `Failed to extract the partition keys: the event time column '${this.eventTime!.column}' is missing or not a time`;
      this.addError('partitioning-failed', data, arrival, [seq, item], (end) =>
        genericErrorJson({ arrivalTimestamp: arrival.getTime(), code: 'DynamicPartitioning.MetadataExtractionFailed', message, attemptEndingTimestamp: end, rawData: data }),
      );
    });
    for (const group of outcome.groups) {
      const key = `h${group.hour}`;
      if (skip === undefined) this.applyRows(group, key, 0, group.rowEnds.length, arrival, seq);
      else for (const [from, to] of skip.undelivered(key, seq, group.rowEnds.length)) this.applyRows(group, key, from, to, arrival, seq);
    }
  }

  /** Rows [from, to) of a row group into their buffer, flushing it each time it fills. */
  private applyRows(group: RowGroup, key: string, from: number, to: number, arrival: Date, seq: number): void {
    if (from >= to) return;
    if (this.replaying) this.replayedItems += to - from;
    let buffer = this.bufferForHour(group.hour, arrival, seq);
    let first = from;
    let byte = from === 0 ? 0 : group.rowEnds[from - 1]!;
    for (let r = from; r < to; r++) {
      buffer.rows++;
      buffer.inputBytes += group.rowInputs[r]!;
      if (buffer.inputBytes >= this.sizeLimit) {
        appendBytes(buffer, group.csv.subarray(byte, group.rowEnds[r]));
        byte = group.rowEnds[r]!;
        holds(buffer, key, seq, first, r);
        first = r + 1;
        this.flush(buffer);
        if (r + 1 < to) buffer = this.bufferForHour(group.hour, arrival, seq);
      }
    }
    if (first < to) {
      appendBytes(buffer, group.csv.subarray(byte, group.rowEnds[to - 1]));
      holds(buffer, key, seq, first, to - 1);
    }
  }

  /** The open buffer for rows of this event hour (-1: arrival time), opening one if needed. */
  private bufferForHour(hour: number, arrival: Date, seq: number): DataBuffer {
    if (hour === ARRIVAL) return (this.arrivalBuffer ??= this.dataBuffer(undefined, arrival, seq));
    let partition = this.partitionsByHour.get(hour);
    if (partition === undefined) {
      const keys = timePartitionValues(new Date(hour * 3_600_000), this.config.partitioning.keys);
      partition = { id: `data:${JSON.stringify(keys)}`, keys };
      this.partitionsByHour.set(hour, partition);
    }
    const buffer = this.buffers.get(partition.id) as DataBuffer | undefined;
    return buffer ?? this.dataBuffer(partition.keys, arrival, seq, partition.id);
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

  private dataBuffer(partitionKeys: Record<string, string> | undefined, arrival: Date, seq: number, id = 'data:'): DataBuffer {
    const spoolPath = this.spool.newPath('.csv');
    const buffer: DataBuffer = { kind: 'data', id, partitionKeys, spoolPath, fd: openSync(spoolPath, 'w'), out: Buffer.allocUnsafe(SPOOL_BUFFER_BYTES), used: 0, rows: 0, ...this.opened(arrival, seq) };
    this.register(buffer);
    return buffer;
  }

  private addError(type: ErrorBuffer['type'], data: Uint8Array, arrival: Date, [seq, item]: [number, number], json: (attemptEnding: number) => string): void {
    const id = `error:${type}`;
    let buffer = this.buffers.get(id) as ErrorBuffer | undefined;
    if (!buffer) {
      buffer = { kind: 'error', id, type, records: [], ...this.opened(arrival, seq) };
      this.register(buffer);
    }
    if (this.replaying) this.replayedItems++;
    buffer.records.push(json);
    holds(buffer, id, seq, item, item);
    buffer.inputBytes += data.length;
    if (buffer.inputBytes >= this.sizeLimit) this.flush(buffer);
  }

  /** A call's raw input, gzipped, for the backup prefix. */
  backup(records: Uint8Array[], arrival: Date, seq: number): void {
    let buffer = this.buffers.get('backup') as BackupBuffer | undefined;
    if (!buffer) {
      const spoolPath = this.spool.newPath('.gz');
      buffer = { kind: 'backup', id: 'backup', spoolPath, fd: openSync(spoolPath, 'w'), ...this.opened(arrival, seq) };
      this.register(buffer);
    }
    holds(buffer, 'backup', seq, 0, 0);
    // One gzip member per call: concatenated members are one valid gzip stream.
    const bytes = Buffer.concat(records);
    writeSync(buffer.fd, gzipSync(bytes));
    buffer.inputBytes += bytes.length;
    if (buffer.inputBytes >= this.sizeLimit) this.flush(buffer);
  }

  private opened(arrival: Date, seq: number): BufferBase {
    // A replay runs on the calls' arrival times, so intervals cut buffers as they did then.
    return { inputBytes: 0, oldestArrival: arrival, openedAt: this.replaying ? arrival.getTime() : this.now().getTime(), firstBatch: seq, spans: new Map() };
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

  private nextSequenceNumber(arrival: number): string {
    this.sequence++;
    return `49${String(arrival).padStart(15, '0')}${String(this.sequence).padStart(39, '0')}`;
  }

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
    this.undelivered.add(buffer);
    this.deliveries.push(buffer);
  }

  /** Buffered rows by buffer id (records for errors, bytes for the backup). */
  bufferedRows(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, buffer] of this.buffers) out[id] = buffer.kind === 'data' ? buffer.rows : buffer.kind === 'error' ? buffer.records.length : buffer.inputBytes;
    return out;
  }
}

/** Notes that a buffer holds items [from, to] (inclusive) of a call, for the journal's ledger. */
function holds(buffer: StreamBuffer, key: string, seq: number, from: number, to: number): void {
  const span = buffer.spans.get(key);
  if (span === undefined) buffer.spans.set(key, [seq, from, seq, to]);
  else {
    span[2] = seq;
    span[3] = to;
  }
}
