/**
 * The local Firehose's write-ahead journal: what makes an accepted record durable, as it is
 * on AWS, although the emulator converts and buffers in memory and delivers later.
 *
 * In the stream's spool folder:
 * - `journal-<first sequence>.log` segments: each PutRecordBatch call, written before the
 *   call is answered, as one entry (sequence number, arrival time, the raw records). A new
 *   segment starts every `SEGMENT_BYTES`, so segments wholly delivered can be deleted.
 * - `delivered.log`: one line per delivery, written just before its object is put in place:
 *   the object key and the items it holds (per buffer key, from (batch, item) to (batch,
 *   item)). An item whose object exists was delivered; one whose object does not was not.
 * - `watermark`: the lowest batch sequence not yet delivered everywhere. Recovery replays
 *   only batches at or above it.
 *
 * Writes are synchronous and never fsync'd: the guarantee is against a killed process (the
 * kernel keeps what was written), not against a power loss.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync, writevSync } from 'node:fs';
import { join } from 'node:path';

/** A new segment starts once the current one holds this many bytes. */
export const SEGMENT_BYTES = 32 * 1024 * 1024;
const MAGIC = 0x4c4b4a31; // "LKJ1"
const HEADER_BYTES = 28;
const SEGMENT = /^journal-(\d{12})\.log$/;
const LEDGER = 'delivered.log';
const WATERMARK = 'watermark';

/**
 * Items of one buffer key held by a delivery: from (batch, item) to (batch, item), both
 * inclusive. Keys: `h<hour>` for data rows of an event hour (`h-1`: arrival time), the
 * error buffer ids for failed records, `backup` for whole batches (item 0).
 */
export type ItemSpan = [fromBatch: number, fromItem: number, toBatch: number, toItem: number];

export interface JournalBatch {
  seq: number;
  /** Arrival time (ms since the epoch) when the call was accepted. */
  arrival: number;
  records: Uint8Array[];
}

export interface DeliveryLine {
  key: string;
  spans: Record<string, ItemSpan>;
}

/** The writing side, for one spool folder. */
export class FirehoseJournal {
  private fd?: number;
  private segmentBytes = 0;
  /** First sequence of each segment, oldest first (the last one is being written). */
  private readonly segments: number[];
  private watermark: number;
  private ledgerLines = 0;
  /** Ledger lines at which it is rewritten without the lines below the watermark. */
  private compactAt = 256;
  private ledgerFd?: number;

  constructor(
    private readonly dir: string,
    private readonly segmentLimit = SEGMENT_BYTES,
  ) {
    this.segments = segmentSeqs(dir);
    this.watermark = readWatermark(dir);
  }

  /** Writes a batch, with one write: PutRecordBatch answers only after this. */
  append(seq: number, arrival: number, records: readonly Uint8Array[]): void {
    if (this.fd === undefined || this.segmentBytes >= this.segmentLimit) this.rotate(seq);
    const header = Buffer.allocUnsafe(HEADER_BYTES + 4 * records.length);
    let total = header.length;
    for (let i = 0; i < records.length; i++) {
      header.writeUInt32LE(records[i]!.length, HEADER_BYTES + 4 * i);
      total += records[i]!.length;
    }
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(total, 4);
    header.writeDoubleLE(seq, 8);
    header.writeDoubleLE(arrival, 16);
    header.writeUInt32LE(records.length, 24);
    const written = writevSync(this.fd!, [header, ...records]);
    // A regular file takes the whole write; finish it by hand if it ever does not.
    if (written < total) writeFully(this.fd!, Buffer.concat([header, ...records]).subarray(written));
    this.segmentBytes += total;
  }

  /** Names the object a delivery is about to put in place, and the items it holds. */
  committing(line: DeliveryLine): void {
    this.ledgerFd ??= openSync(join(this.dir, LEDGER), 'a');
    writeSync(this.ledgerFd, `${JSON.stringify(line)}\n`);
    this.ledgerLines++;
  }

  /** Records that every batch below `watermark` is delivered; drops the segments and ledger lines below it. */
  advance(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    const temp = join(this.dir, `${WATERMARK}.tmp`);
    writeFileSync(temp, String(watermark));
    renameSync(temp, join(this.dir, WATERMARK));
    let dropped = false;
    // A segment holds batches below the next segment's first sequence.
    while (this.segments.length > 1 && this.segments[1]! <= watermark) {
      rmSync(segmentPath(this.dir, this.segments.shift()!), { force: true });
      dropped = true;
    }
    if (dropped || this.ledgerLines >= this.compactAt) this.compactLedger();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.ledgerFd !== undefined) closeSync(this.ledgerFd);
    this.fd = this.ledgerFd = undefined;
  }

  private rotate(seq: number): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(segmentPath(this.dir, seq), 'a');
    this.segmentBytes = 0;
    this.segments.push(seq);
  }

  /** Keeps only the ledger lines with items at or above the watermark. */
  private compactLedger(): void {
    const kept = readLedger(this.dir).filter((line) => Object.values(line.spans).some((span) => span[2] >= this.watermark));
    const temp = join(this.dir, `${LEDGER}.tmp`);
    writeFileSync(temp, kept.map((line) => `${JSON.stringify(line)}\n`).join(''));
    if (this.ledgerFd !== undefined) closeSync(this.ledgerFd);
    this.ledgerFd = undefined;
    renameSync(temp, join(this.dir, LEDGER));
    this.ledgerLines = kept.length;
    this.compactAt = 2 * kept.length + 256;
  }
}

function writeFully(fd: number, bytes: Buffer): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at);
}

function segmentPath(dir: string, seq: number): string {
  return join(dir, `journal-${String(seq).padStart(12, '0')}.log`);
}

function segmentSeqs(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((seq): seq is string => seq !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Whether a spool folder holds a journal (folders of older versions, or of a process killed before its first call, do not). */
export function hasJournal(dir: string): boolean {
  return segmentSeqs(dir).length > 0;
}

export function readWatermark(dir: string): number {
  try {
    const value = Number(readFileSync(join(dir, WATERMARK), 'utf8'));
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  } catch {
    return 0;
  }
}

/** The deliveries a folder's process started; a line cut short by the kill is ignored. */
export function readLedger(dir: string): DeliveryLine[] {
  let text: string;
  try {
    text = readFileSync(join(dir, LEDGER), 'utf8');
  } catch {
    return [];
  }
  const lines: DeliveryLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      lines.push(JSON.parse(line) as DeliveryLine);
    } catch {
      // the last line, written when the process was killed
    }
  }
  return lines;
}

/** The journal's batches at or above `from`, oldest first; a last entry cut short by the kill (never answered) is ignored. */
export function* readBatches(dir: string, from: number): Generator<JournalBatch> {
  const seqs = segmentSeqs(dir);
  for (let s = 0; s < seqs.length; s++) {
    if (s + 1 < seqs.length && seqs[s + 1]! <= from) continue;
    const path = segmentPath(dir, seqs[s]!);
    if (statSync(path).size === 0) continue;
    const bytes = readFileSync(path);
    let at = 0;
    while (at + HEADER_BYTES <= bytes.length) {
      const total = bytes.readUInt32LE(at + 4);
      if (bytes.readUInt32LE(at) !== MAGIC || at + total > bytes.length) break;
      const count = bytes.readUInt32LE(at + 24);
      const seq = bytes.readDoubleLE(at + 8);
      const arrival = bytes.readDoubleLE(at + 16);
      if (seq >= from) {
        const records: Uint8Array[] = new Array<Uint8Array>(count);
        let data = at + HEADER_BYTES + 4 * count;
        for (let i = 0; i < count; i++) {
          const length = bytes.readUInt32LE(at + HEADER_BYTES + 4 * i);
          records[i] = bytes.subarray(data, data + length);
          data += length;
        }
        yield { seq, arrival, records };
      }
      at += total;
    }
  }
}
