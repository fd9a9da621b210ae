/**
 * Recovery of the records a killed process had accepted but not delivered. Its spool folder
 * holds the journal (firehose-journal.ts); the first stream of the same name that starts in
 * another process claims the folder by renaming it to a name carrying its own pid (a rename
 * is atomic: of two processes racing, one gets the folder and the other ENOENT), then
 * replays the journal's batches at or above the watermark through the normal conversion and
 * buffering, with their original arrival times, skipping the items whose object exists.
 * A recoverer killed in turn leaves the folder under its own pid, to be claimed again.
 */
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { hasJournal, type ItemSpan, readLedger } from './firehose-journal.js';
import { staleSpoolFolders } from './firehose-spool.js';

/** Claims this stream's spool folders of dead processes; the ones without a journal are removed. */
export function claimStaleSpools(root: string, stream: string): { dir: string; pid: number }[] {
  const claimed: { dir: string; pid: number }[] = [];
  for (const dir of staleSpoolFolders(root, stream)) {
    const mine = join(root, `${stream}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`);
    try {
      renameSync(dir, mine);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST' || code === 'ENOTEMPTY') continue; // another process claimed it first
      throw err;
    }
    if (!hasJournal(mine)) {
      rmSync(mine, { recursive: true, force: true });
      continue;
    }
    // The journal is the truth: the dead process's CSV spools (and gzip backups) are not needed.
    for (const name of readdirSync(mine)) if (/^buffer-\d+\./.test(name)) rmSync(join(mine, name), { force: true });
    claimed.push({ dir: mine, pid: Number(/-(\d+)-[0-9a-f]{8}$/.exec(basename(dir))![1]) });
  }
  return claimed;
}

/** The items of a journal already in objects that exist: what a replay skips. */
export class DeliveredItems {
  private readonly spans = new Map<string, ItemSpan[]>();

  /** Items of the ledger lines whose object exists. */
  static async load(dir: string, exists: (key: string) => Promise<boolean>): Promise<DeliveredItems> {
    const items = new DeliveredItems();
    for (const line of readLedger(dir)) {
      if (!(await exists(line.key))) continue;
      for (const [key, span] of Object.entries(line.spans)) items.add(key, span);
    }
    return items;
  }

  add(key: string, span: ItemSpan): void {
    const list = this.spans.get(key);
    if (list) list.push(span);
    else this.spans.set(key, [span]);
  }

  has(key: string, batch: number, item: number): boolean {
    for (const [b1, i1, b2, i2] of this.spans.get(key) ?? []) {
      if ((batch > b1 || (batch === b1 && item >= i1)) && (batch < b2 || (batch === b2 && item <= i2))) return true;
    }
    return false;
  }

  /** The [from, to) ranges of items 0..count-1 of a batch not delivered yet, in order. */
  undelivered(key: string, batch: number, count: number): [number, number][] {
    const taken: [number, number][] = [];
    for (const [b1, i1, b2, i2] of this.spans.get(key) ?? []) {
      if (batch < b1 || batch > b2) continue;
      taken.push([batch === b1 ? i1 : 0, batch === b2 ? i2 + 1 : count]);
    }
    taken.sort((a, b) => a[0] - b[0]);
    const ranges: [number, number][] = [];
    let at = 0;
    for (const [from, to] of taken) {
      if (from > at && at < count) ranges.push([at, Math.min(from, count)]);
      at = Math.max(at, to);
    }
    if (at < count) ranges.push([at, count]);
    return ranges;
  }
}
