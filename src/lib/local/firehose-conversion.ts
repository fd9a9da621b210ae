/**
 * Conversion of PutRecordBatch records for the local Firehose: the serde turns each record
 * into rows (or a failure with Firehose's error code), and each row is encoded as a CSV
 * line for the spool, grouped by the buffer it goes to (its event hour, or the one buffer
 * of an arrival-time stream). Runs in-thread or in worker threads: everything a worker
 * gets and gives back is plain data and transferable buffers.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { LakeConfig } from '../config.js';
import { EPOCH_MILLIS_THRESHOLD } from '../firehose-prefix.js';
import { parseGlueType, type GlueType } from '../glue-types.js';
import type { Column } from '../ports.js';
import { compileSchema, serdeSchemaFromConfig, type SerdeConverter } from '../serde/index.js';
import type { Row, RowValue } from '../serde/types.js';
import { csvEncoder } from './firehose-spool.js';

/** Row group hour for arrival-time streams (one buffer). */
export const ARRIVAL = -1;

/**
 * Whether conversion can run in worker threads: only when this module runs as JavaScript
 * (the built CLI, a bundle), since a worker loads it as its entry; from TypeScript sources it
 * converts in-thread.
 */
export function conversionWorkersAvailable(): boolean {
  return /\.m?js$/.test(new URL(import.meta.url).pathname);
}

/** What a converter needs: plain data, so it can be sent to a worker thread. */
export interface ConverterSpec {
  columns: Column[];
  serde: LakeConfig['serde'];
  eventTime?: { column: string; type: GlueType['kind'] };
}

export interface BatchConverter {
  serde: SerdeConverter;
  names: string[];
  encoders: ((value: RowValue) => string)[];
  eventTime?: ConverterSpec['eventTime'];
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
    names: spec.columns.map((c) => c.name),
    encoders: spec.columns.map((c) => csvEncoder(parseGlueType(c.type))),
    eventTime: spec.eventTime,
  };
}

/** Converts a batch with the serde and encodes its rows for the spool, grouped by target buffer. */
export function convertBatch(converter: BatchConverter, records: Uint8Array[]): BatchOutcome {
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
export class ConversionPool {
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
