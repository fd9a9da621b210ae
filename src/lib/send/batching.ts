/**
 * Cutting rows into what the delivery API takes: Firehose records (one row each, or with
 * --pack several newline-separated rows up to about 1,000 KiB) and calls (PutRecordBatch:
 * 500 records and 4 MiB of record data; Kinesis PutRecords: 500 records and 5 MiB with
 * partition keys). Pure: no I/O, no clock.
 */

export interface DeliveryLimits {
  recordsPerCall: number;
  /** Bytes of record data a call may carry, per-record overhead included. */
  bytesPerCall: number;
  /** Bytes one record may hold, its overhead included. */
  bytesPerRecord: number;
  /** Bytes the API counts per record beyond its data (Kinesis: the partition key). */
  overheadPerRecord: number;
}

/** PutRecordBatch (AWS-FACTS.md "Firehose"). */
export const FIREHOSE_LIMITS: DeliveryLimits = { recordsPerCall: 500, bytesPerCall: 4 * 1024 * 1024, bytesPerRecord: 1000 * 1024, overheadPerRecord: 0 };

/** The largest record data that fits `limits`. */
export function maxRecordData(limits: DeliveryLimits): number {
  return limits.bytesPerRecord - limits.overheadPerRecord;
}

/** One input row on its way: where it came from and what is sent for it. */
export interface SendRow {
  input: number;
  seq: number;
  line: number;
  /** Byte offset after the row, and the line there: where a resumed read would start. */
  end: number;
  endLine: number;
  /** The row as the input had it, for the dead-letter file. */
  raw: Buffer;
  /** The JSON sent for this row alone. */
  payload: Buffer;
  /** In flight when an earlier run of this send stopped: may be delivered twice. */
  maybeDelivered?: boolean;
}

/** One record of a call: one row, or several packed. */
export interface SendItem {
  data: Buffer;
  rows: SendRow[];
  /** Sent before in a call that got no answer: may be delivered twice. */
  maybeDelivered?: boolean;
}

/** Collects items into calls at the API's limits. */
export class Batcher {
  private items: SendItem[] = [];
  private bytes = 0;

  constructor(private readonly limits: DeliveryLimits) {}

  /** Adds an item; returns the previous batch when this item does not fit in it. */
  add(item: SendItem): SendItem[] | undefined {
    const size = item.data.length + this.limits.overheadPerRecord;
    if (size > this.limits.bytesPerRecord) throw new RangeError(`a record of ${item.data.length} bytes is over the limit; it should have been set aside`);
    // A batch is handed over as soon as it holds the most records a call takes, so the
    // only batch still open here has room for one more record, if not for its bytes.
    const full = this.items.length > 0 && this.bytes + size > this.limits.bytesPerCall ? this.take() : undefined;
    this.items.push(item);
    this.bytes += size;
    if (full === undefined && this.items.length >= this.limits.recordsPerCall) return this.take();
    return full;
  }

  /** The batch in progress, if any. */
  flush(): SendItem[] | undefined {
    return this.items.length > 0 ? this.take() : undefined;
  }

  get size(): number {
    return this.items.length;
  }

  private take(): SendItem[] {
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    return items;
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * --pack: rows joined by newlines into records of at most `maxBytes` (Firehose converts
 * each JSON object of a record into its own row). A row too big to share a record is
 * returned on its own.
 */
export class Packer {
  private rows: SendRow[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Adds a row; returns the finished record when the row does not fit in the current one. */
  add(row: SendRow): SendItem | undefined {
    const extra = this.rows.length === 0 ? row.payload.length : row.payload.length + 1;
    let done: SendItem | undefined;
    if (this.rows.length > 0 && this.bytes + extra > this.maxBytes) done = this.take();
    this.bytes += this.rows.length === 0 ? row.payload.length : row.payload.length + 1;
    this.rows.push(row);
    return done;
  }

  flush(): SendItem | undefined {
    return this.rows.length > 0 ? this.take() : undefined;
  }

  private take(): SendItem {
    const rows = this.rows;
    this.rows = [];
    this.bytes = 0;
    if (rows.length === 1) return { data: rows[0]!.payload, rows };
    const parts: Buffer[] = [];
    rows.forEach((r, i) => {
      if (i > 0) parts.push(NEWLINE);
      parts.push(r.payload);
    });
    return { data: Buffer.concat(parts), rows };
  }
}

/** Firehose bills ingestion per record, each rounded up to the next 5 KB (KB = 1,024 bytes here). */
export const BILLING_STEP_BYTES = 5 * 1024;

export function billedKB(recordBytes: number): number {
  return Math.max(1, Math.ceil(recordBytes / BILLING_STEP_BYTES)) * 5;
}
