/**
 * Conversion of PutRecordBatch records for the local Firehose: the serde turns each record
 * into rows (or a failure with Firehose's error code), and each row is encoded as a CSV
 * line for the spool, grouped by the buffer it goes to (its event hour, or the one buffer
 * of an arrival-time stream). Runs in-thread or in worker threads (firehose-conversion-pool.ts):
 * everything a worker gets and gives back is plain data and transferable buffers.
 */
import { isAscii } from 'node:buffer';
import type { LakeConfig } from '../config.js';
import { EPOCH_MILLIS_THRESHOLD } from '../firehose-prefix.js';
import { parseGlueType, type GlueType } from '../glue-types.js';
import type { Column } from '../ports.js';
import { compileSchema, serdeSchemaFromConfig, type SerdeConverter } from '../serde/index.js';
import type { RowValue } from '../serde/types.js';
import { CsvWriter, type CsvFieldWriter, csvFieldWriter, writeCsvRow } from './firehose-csv.js';

/** Row group hour for arrival-time streams (one buffer). */
export const ARRIVAL = -1;

/** What a converter needs: plain data, so it can be sent to a worker thread. */
export interface ConverterSpec {
  columns: Column[];
  serde: LakeConfig['serde'];
  eventTime?: { column: string; type: GlueType['kind'] };
}

export interface BatchConverter {
  serde: SerdeConverter;
  /** Writes each row into the batch being converted. */
  encoder: BatchEncoder;
}

/** A batch's rows bound for one buffer: CSV bytes, where each row ends, and its share of input bytes. */
export interface RowGroup {
  /** Event hour since the epoch (partitions are at most hourly), or ARRIVAL. */
  hour: number;
  csv: Uint8Array;
  rowEnds: Int32Array;
  rowInputs: Float64Array;
}

export interface BatchOutcome {
  groups: RowGroup[];
  failures: { index: number; code: string; message: string }[];
  /** Record index of each row without an event time (partitioning-failed). */
  withoutEventTime: number[];
}

export function batchConverter(spec: ConverterSpec): BatchConverter {
  return {
    serde: compileSchema(serdeSchemaFromConfig({ columns: spec.columns, serde: spec.serde })),
    encoder: new BatchEncoder(spec),
  };
}

/**
 * A worker's batch (one buffer, each record's length) as records: when every byte is ASCII,
 * strings cut from one decoding of the whole (the same text the serde would decode from each
 * record, for less work), else views of the buffer.
 */
export function splitRecords(joined: Uint8Array, lengths: Int32Array): (Uint8Array | string)[] {
  const records: (Uint8Array | string)[] = [];
  const text = isAscii(joined) ? Buffer.from(joined.buffer, joined.byteOffset, joined.byteLength).toString('latin1') : undefined;
  let offset = 0;
  for (const length of lengths) {
    records.push(text === undefined ? joined.subarray(offset, offset + length) : text.slice(offset, offset + length));
    offset += length;
  }
  return records;
}

/**
 * Converts a batch with the serde and encodes its rows for the spool, grouped by target
 * buffer. A record given as a string is its UTF-8 bytes decoded (its length, the byte count: ASCII only).
 */
export function convertBatch(converter: BatchConverter, records: readonly (Uint8Array | string)[], spare?: ArrayBuffer): BatchOutcome {
  const { serde, encoder } = converter;
  const failures: BatchOutcome['failures'] = [];
  encoder.start();
  for (let i = 0; i < records.length; i++) {
    const data = records[i]!;
    encoder.beginRecord(i);
    const failure = serde.convertEach(data, encoder.onRow);
    if (failure === null) encoder.endRecord(data.length);
    else {
      encoder.dropRecord();
      failures.push({ index: i, code: failure.code, message: failure.message });
    }
  }
  return { groups: encoder.finish(spare), failures, withoutEventTime: encoder.withoutEventTime };
}

/** Hours since the epoch of an event time; NaN when the value has none. */
function eventHour(value: RowValue, type: GlueType['kind']): number {
  // The usual case without a Date or a bigint division per row.
  if (type === 'timestamp' && typeof value === 'bigint') return Math.floor(Number(value) / 3_600_000_000);
  const when = eventTimeOf(value, type);
  return when === undefined ? Number.NaN : Math.floor(when.getTime() / 3_600_000);
}

/**
 * Writes a batch's rows as CSV lines into one scratch buffer as the serde reads them, noting
 * each row's group (target hour); `finish` lays the groups out one after the other in one
 * buffer (a spare given back by the main thread when big enough), so a batch crosses to the
 * main thread as one transferable buffer.
 */
class BatchEncoder {
  private readonly writer = new CsvWriter();
  private readonly writers: CsvFieldWriter[];
  /** For each column, the value it takes (the last field of its name, as a row object would). */
  private readonly source: number[];
  private readonly eventIndex: number;
  private readonly eventType?: GlueType['kind'];
  private rowGroup = new Int32Array(1024);
  private rowEnd = new Int32Array(1024);
  private rowInput = new Float64Array(1024);
  private rows = 0;
  private hours: number[] = [];
  private groupOf = new Map<number, number>();
  withoutEventTime: number[] = [];
  /** State at the start of the current record, to fix its rows' shares or drop them. */
  private record = 0;
  private recordRows = 0;
  private recordFirstRow = 0;
  private recordPos = 0;
  private recordGroups = 0;
  private recordWithout = 0;
  readonly onRow = (values: readonly RowValue[]): void => this.row(values);

  constructor(spec: ConverterSpec) {
    const names = spec.columns.map((c) => c.name);
    this.writers = spec.columns.map((c) => csvFieldWriter(parseGlueType(c.type)));
    this.source = names.map((name) => names.lastIndexOf(name));
    this.eventIndex = spec.eventTime ? names.lastIndexOf(spec.eventTime.column) : -1;
    this.eventType = spec.eventTime?.type;
  }

  start(): void {
    this.writer.pos = 0;
    this.rows = 0;
    this.hours = [];
    this.groupOf = new Map();
    this.withoutEventTime = [];
  }

  beginRecord(index: number): void {
    this.record = index;
    this.recordRows = 0;
    this.recordFirstRow = this.rows;
    this.recordPos = this.writer.pos;
    this.recordGroups = this.hours.length;
    this.recordWithout = this.withoutEventTime.length;
  }

  private row(values: readonly RowValue[]): void {
    this.recordRows++;
    let hour = ARRIVAL;
    if (this.eventType !== undefined) {
      hour = eventHour(this.eventIndex >= 0 ? (values[this.eventIndex] ?? null) : null, this.eventType);
      if (Number.isNaN(hour)) {
        this.withoutEventTime.push(this.record);
        return;
      }
    }
    let group = this.groupOf.get(hour);
    if (group === undefined) {
      group = this.hours.push(hour) - 1;
      this.groupOf.set(hour, group);
    }
    writeCsvRow(this.writer, this.writers, values, this.source);
    const r = this.rows++;
    if (r === this.rowEnd.length) this.growRows();
    this.rowGroup[r] = group;
    this.rowEnd[r] = this.writer.pos;
  }

  /** The record converted: its rows share its input bytes. */
  endRecord(inputBytes: number): void {
    const share = inputBytes / this.recordRows;
    for (let r = this.recordFirstRow; r < this.rows; r++) this.rowInput[r] = share;
  }

  /** The record failed: its rows (and groups only they opened) go. */
  dropRecord(): void {
    this.rows = this.recordFirstRow;
    this.writer.pos = this.recordPos;
    for (const hour of this.hours.splice(this.recordGroups)) this.groupOf.delete(hour);
    this.withoutEventTime.length = this.recordWithout;
  }

  private growRows(): void {
    const size = this.rowEnd.length * 2;
    const grow = <T extends Int32Array | Float64Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.rowGroup = grow(this.rowGroup, new Int32Array(size));
    this.rowEnd = grow(this.rowEnd, new Int32Array(size));
    this.rowInput = grow(this.rowInput, new Float64Array(size));
  }

  finish(spare?: ArrayBuffer): RowGroup[] {
    const { rows, hours, rowGroup, rowEnd, rowInput } = this;
    const scratch = this.writer.buf;
    const groupCount = hours.length;
    const bytesOf = new Float64Array(groupCount);
    const rowsOf = new Int32Array(groupCount);
    let begin = 0;
    for (let r = 0; r < rows; r++) {
      const g = rowGroup[r]!;
      bytesOf[g] = bytesOf[g]! + rowEnd[r]! - begin;
      rowsOf[g] = rowsOf[g]! + 1;
      begin = rowEnd[r]!;
    }
    // Where each group starts in the output, in bytes and in rows.
    const byteAt = new Float64Array(groupCount);
    const rowAt = new Int32Array(groupCount);
    for (let g = 1; g < groupCount; g++) {
      byteAt[g] = byteAt[g - 1]! + bytesOf[g - 1]!;
      rowAt[g] = rowAt[g - 1]! + rowsOf[g - 1]!;
    }
    // One buffer: each row's input share, where each row ends, then the CSV bytes.
    const size = rows * 12 + this.writer.pos;
    const out = spare !== undefined && spare.byteLength >= size ? spare : new ArrayBuffer(sizeWithSlack(size));
    const inputs = new Float64Array(out, 0, rows);
    const ends = new Int32Array(out, rows * 8, rows);
    const csv = new Uint8Array(out, rows * 12, this.writer.pos);
    const filled = new Float64Array(groupCount);
    const counted = new Int32Array(groupCount);
    // Runs of consecutive rows of one group are copied at once.
    let runStart = 0;
    for (let r = 0; r < rows; r++) {
      const g = rowGroup[r]!;
      const lineStart = r === 0 ? 0 : rowEnd[r - 1]!;
      const k = rowAt[g]! + counted[g]!;
      counted[g] = counted[g]! + 1;
      filled[g] = filled[g]! + rowEnd[r]! - lineStart;
      ends[k] = filled[g]!;
      inputs[k] = rowInput[r]!;
      if (r + 1 === rows || rowGroup[r + 1] !== g) {
        const runFrom = runStart === 0 ? 0 : rowEnd[runStart - 1]!;
        scratch.copy(csv, byteAt[g]! + filled[g]! - (rowEnd[r]! - runFrom), runFrom, rowEnd[r]!);
        runStart = r + 1;
      }
    }
    return hours.map((hour, g) => ({
      hour,
      csv: csv.subarray(byteAt[g]!, byteAt[g]! + bytesOf[g]!),
      rowEnds: ends.subarray(rowAt[g]!, rowAt[g]! + rowsOf[g]!),
      rowInputs: inputs.subarray(rowAt[g]!, rowAt[g]! + rowsOf[g]!),
    }));
  }
}

/** A new batch buffer is a quarter bigger than needed, so it fits most later batches when given back for reuse. */
export function sizeWithSlack(size: number): number {
  return Math.ceil((size * 1.25) / 4096) * 4096;
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
