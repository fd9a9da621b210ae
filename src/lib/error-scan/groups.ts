/**
 * Error records grouped by error output type and error code: how many, first and last
 * arrival, a sample message, and with `--samples N` the N earliest records decoded and
 * explained. Objects are read concurrently, so "earliest" is decided by arrival time, then
 * key and offset, never by the order records happen to come in: the same lake gives the
 * same report.
 */
import type { ErrorRecord } from '../error-records.js';
import { type ErrorSample, explainRecord } from './samples.js';
import type { SerdeSchema } from '../serde/index.js';

export interface ErrorGroup {
  type: string;
  code: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  sample: string;
  /** With --samples: the earliest records of the group, decoded. */
  samples?: ErrorSample[];
}

/** A record as the report refers to it: where it is and when it arrived. */
export interface LocatedRecord {
  record: ErrorRecord;
  key: string;
  /** Arrival (ms): the record's own, else the time its object's key tells. */
  time: number;
}

export const UNKNOWN = 'unknown';

interface GroupState {
  type: string;
  code: string;
  count: number;
  first: LocatedRecord;
  last: number;
  earliest: LocatedRecord[];
}

export function compareLocated(a: LocatedRecord, b: LocatedRecord): number {
  return a.time - b.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.record.offset - b.record.offset;
}

export class ErrorGrouper {
  private readonly groups = new Map<string, GroupState>();
  total = 0;

  /** `samples`: records kept per group for `--samples`; `schema` explains them. */
  constructor(
    private readonly samples = 0,
    private readonly schema?: SerdeSchema,
  ) {}

  add(located: LocatedRecord): void {
    this.total++;
    const type = located.record.type ?? UNKNOWN;
    const code = located.record.code ?? UNKNOWN;
    const id = `${type}\u0000${code}`;
    const group = this.groups.get(id);
    if (!group) {
      this.groups.set(id, { type, code, count: 1, first: located, last: located.time, earliest: this.samples > 0 ? [located] : [] });
      return;
    }
    group.count++;
    if (compareLocated(located, group.first) < 0) group.first = located;
    if (located.time > group.last) group.last = located.time;
    if (this.samples > 0) keepEarliest(group.earliest, located, this.samples);
  }

  /** Largest groups first; ties by type and code. */
  result(): ErrorGroup[] {
    return [...this.groups.values()]
      .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type) || a.code.localeCompare(b.code))
      .map((g) => {
        const group: ErrorGroup = {
          type: g.type,
          code: g.code,
          count: g.count,
          firstSeen: new Date(g.first.time).toISOString(),
          lastSeen: new Date(g.last).toISOString(),
          sample: g.first.record.message ?? '',
        };
        if (this.samples > 0) group.samples = g.earliest.map((r) => explainRecord(r, this.schema));
        return group;
      });
  }
}

/** Inserts in order and keeps the `n` earliest. */
function keepEarliest(list: LocatedRecord[], item: LocatedRecord, n: number): void {
  if (list.length >= n && compareLocated(item, list[list.length - 1]!) >= 0) return;
  let i = list.length;
  while (i > 0 && compareLocated(item, list[i - 1]!) < 0) i--;
  list.splice(i, 0, item);
  if (list.length > n) list.pop();
}
