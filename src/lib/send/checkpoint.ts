/**
 * Checkpoints of a send, so `--resume` continues without re-sending accepted rows.
 *
 * Per input, the rows are numbered in file order; the checkpoint keeps the ranges of rows
 * settled (accepted, or written to the dead-letter file), each with the byte offset and
 * line after its last row, and the ranges of rows in calls not yet answered. A resumed
 * read seeks to the end of the first range (the watermark), skips rows inside later
 * ranges, and sends the rest: only rows that were in flight can be delivered twice, and
 * they are counted as such.
 *
 * The file is rewritten (temporary name, then rename) before each call is made, so a
 * crash at any moment leaves a checkpoint naming every call that might have been made.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { InputFile } from '../records/input.js';
import type { JsonLayout, ReadPosition, RecordFormat } from '../records/types.js';

/** [from, to) with the byte offset and line just after row to-1. */
export type SettledRange = [from: number, to: number, end: number, endLine: number];
export type RowRange = [from: number, to: number];

export interface CheckpointInput {
  name: string;
  path?: string;
  size?: number;
  mtimeMs?: number;
  format?: RecordFormat;
  layout?: JsonLayout;
  header?: string[];
  /** Rows in the input, once it was read to the end. */
  rows?: number;
  settled: SettledRange[];
  inFlight: RowRange[];
}

export interface CheckpointDoc {
  version: 1;
  startedAt: string;
  updatedAt: string;
  /** The dead-letter file the send writes to; a resumed send appends to it. */
  deadLetter: string;
  /** Settings that change what is sent for a row: a resume must use the same. */
  settings: { pack: boolean; validate: boolean; format?: RecordFormat; delimiter?: string; timestampFormat?: string };
  inputs: CheckpointInput[];
}

/** Which rows of one input are settled or in flight. */
export class InputLedger {
  settled: SettledRange[];
  private readonly inFlight = new Map<number, RowRange>();
  /** In flight when the previous run stopped: may have been delivered already. */
  private readonly previouslyInFlight: RowRange[];
  rows?: number;
  format?: RecordFormat;
  layout?: JsonLayout;
  header?: string[];

  constructor(
    readonly input: InputFile,
    saved?: CheckpointInput,
  ) {
    this.settled = saved ? saved.settled.map((r) => [...r] as SettledRange) : [];
    this.previouslyInFlight = saved ? saved.inFlight.map((r) => [...r] as RowRange) : [];
    this.rows = saved?.rows;
    this.format = saved?.format;
    this.layout = saved?.layout;
    this.header = saved?.header;
  }

  /** Every row of the input settled. */
  get complete(): boolean {
    const first = this.settled[0];
    return this.rows !== undefined && (this.rows === 0 || (first !== undefined && first[0] === 0 && first[1] >= this.rows));
  }

  /** Where a read resumes: after the rows settled from the start. */
  watermark(): ReadPosition {
    const first = this.settled[0];
    if (first === undefined || first[0] !== 0) return { seq: 0, offset: 0, line: 1 };
    return { seq: first[1], offset: first[2], line: first[3] };
  }

  isSettled(seq: number): boolean {
    return findRange(this.settled, seq) >= 0;
  }

  wasInFlight(seq: number): boolean {
    return this.previouslyInFlight.some(([from, to]) => seq >= from && seq < to);
  }

  settle(from: number, to: number, end: number, endLine: number): void {
    const r = this.settled;
    let i = r.length;
    while (i > 0 && r[i - 1]![0] > from) i--;
    r.splice(i, 0, [from, to, end, endLine]);
    // Merge with the range before when they touch, then with every range after that does.
    if (i > 0 && r[i - 1]![1] >= from) {
      absorb(r[i - 1]!, r[i]!);
      r.splice(i, 1);
      i--;
    }
    while (i + 1 < r.length && r[i + 1]![0] <= r[i]![1]) {
      absorb(r[i]!, r[i + 1]!);
      r.splice(i + 1, 1);
    }
  }

  startCall(id: number, from: number, to: number): void {
    this.inFlight.set(id, [from, to]);
  }

  endCall(id: number): void {
    this.inFlight.delete(id);
  }

  toJSON(): CheckpointInput {
    const out: CheckpointInput = { name: this.input.name, settled: this.settled, inFlight: mergeRanges([...this.inFlight.values(), ...this.previouslyInFlight.filter(([from, to]) => !this.covers(from, to))]) };
    if (this.input.path !== undefined) out.path = this.input.path;
    if (this.input.size !== undefined) out.size = this.input.size;
    if (this.input.mtimeMs !== undefined) out.mtimeMs = this.input.mtimeMs;
    if (this.format !== undefined) out.format = this.format;
    if (this.layout !== undefined) out.layout = this.layout;
    if (this.header !== undefined) out.header = this.header;
    if (this.rows !== undefined) out.rows = this.rows;
    return out;
  }

  private covers(from: number, to: number): boolean {
    const i = findRange(this.settled, from);
    return i >= 0 && this.settled[i]![1] >= to;
  }
}

/** Extends `into` to cover `other` (which starts inside or right after it). */
function absorb(into: SettledRange, other: SettledRange): void {
  if (other[1] > into[1]) {
    into[1] = other[1];
    into[2] = other[2];
    into[3] = other[3];
  }
}

function findRange(ranges: SettledRange[], seq: number): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (seq < r[0]) hi = mid - 1;
    else if (seq >= r[1]) lo = mid + 1;
    else return mid;
  }
  return -1;
}

function mergeRanges(ranges: RowRange[]): RowRange[] {
  const sorted = ranges.map((r) => [...r] as RowRange).sort((a, b) => a[0] - b[0]);
  const out: RowRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

export function readCheckpoint(path: string): CheckpointDoc | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let doc: CheckpointDoc;
  try {
    doc = JSON.parse(text) as CheckpointDoc;
  } catch (err) {
    throw new InputError(`${path}: not a lake send checkpoint (${(err as Error).message})`, { hint: 'delete it to start the send over' });
  }
  if (doc?.version !== 1 || !Array.isArray(doc.inputs)) throw new InputError(`${path}: not a lake send checkpoint this version can read`, { hint: 'delete it to start the send over' });
  return doc;
}

/** Writes the checkpoint atomically (a reader or a crash never sees half of it). */
export function writeCheckpoint(path: string, doc: CheckpointDoc): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc));
  renameSync(tmp, path);
}

export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.tmp`, { force: true });
}

/**
 * The saved state of each input of a resumed send, checked against the inputs as they
 * are now: the same files, unchanged.
 */
export function matchCheckpoint(doc: CheckpointDoc, inputs: InputFile[], path: string): CheckpointInput[] {
  const hint = `send them again without --resume (delete ${path} first), or resume with the same files`;
  if (doc.inputs.length !== inputs.length || doc.inputs.some((saved, i) => saved.name !== inputs[i]!.name && saved.path !== inputs[i]!.path)) {
    throw new InputError(`the checkpoint ${path} is for other inputs (${doc.inputs.map((i) => i.name).join(', ')})`, { hint });
  }
  return doc.inputs.map((saved, i) => {
    const now = inputs[i]!;
    if (saved.size !== undefined && (saved.size !== now.size || saved.mtimeMs !== now.mtimeMs)) {
      throw new InputError(`${now.name} changed since the interrupted send (size or modification time differ)`, { hint });
    }
    return saved;
  });
}
