/**
 * Parquet footers already read, by object and version (size and modification time), kept
 * in `<lakeDir>/athena/footers.json` so the next lake process does not read them again.
 * A file that is not Parquet is remembered too (as null). Entries not used for 30 days are
 * dropped when the file is next written; two processes writing it at once cost nothing but
 * a re-read later (each write replaces the whole file atomically).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ColumnFootprint, FileFooter } from './scan-stats.js';

const FORMAT = 1;
const DAY_MS = 86_400_000;
const KEEP_DAYS = 30;

interface StoredFooter {
  b: number;
  r: number;
  /** [name, bytes, [[leaf path, bytes], ...]] per top-level column, in file order. */
  c: [string, number, [string[], number][]][];
}

interface Entry {
  version: string;
  footer: FileFooter | null;
  /** Day (since the epoch) it was last used. */
  day: number;
}

export class FooterCache {
  private readonly entries = new Map<string, Entry>();
  private loaded?: Promise<void>;
  private dirty = false;

  constructor(
    private readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The footer of `id` at `version`: a FileFooter, null (not Parquet) or undefined (unknown). */
  async get(id: string, version: string): Promise<FileFooter | null | undefined> {
    await this.load();
    const entry = this.entries.get(id);
    if (!entry || entry.version !== version) return undefined;
    // Kept in memory; written with the next change.
    entry.day = Math.floor(this.now() / DAY_MS);
    return entry.footer;
  }

  set(id: string, version: string, footer: FileFooter | null): void {
    this.entries.set(id, { version, footer, day: Math.floor(this.now() / DAY_MS) });
    this.dirty = true;
  }

  /** Writes the cache when something was added since it was read. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const oldest = Math.floor(this.now() / DAY_MS) - KEEP_DAYS;
    const files: Record<string, [string, number, StoredFooter | null]> = {};
    for (const [id, e] of this.entries) if (e.day >= oldest) files[id] = [e.version, e.day, e.footer && store(e.footer)];
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.lake-tmp-${process.pid}`;
    await writeFile(temp, JSON.stringify({ format: FORMAT, files }));
    await rename(temp, this.path);
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch {
        return; // no cache yet
      }
      try {
        const parsed = JSON.parse(text) as { format?: number; files?: Record<string, [string, number, StoredFooter | null]> };
        if (parsed.format !== FORMAT || !parsed.files) return;
        for (const [id, [version, day, footer]] of Object.entries(parsed.files)) {
          if (!this.entries.has(id)) this.entries.set(id, { version, day, footer: footer && restore(footer) });
        }
      } catch {
        // a damaged cache is only a cache: footers are read again
      }
    })();
    return this.loaded;
  }
}

function store(footer: FileFooter): StoredFooter {
  return { b: footer.footerBytes, r: footer.numRows, c: [...footer.columns.values()].map((c) => [c.name, c.bytes, c.leaves.map((l) => [l.path, l.bytes])]) };
}

function restore(stored: StoredFooter): FileFooter {
  const columns = new Map<string, ColumnFootprint>();
  for (const [name, bytes, leaves] of stored.c) columns.set(name.toLowerCase(), { name, bytes, leaves: leaves.map(([path, b]) => ({ path, bytes: b })) });
  return { footerBytes: stored.b, numRows: stored.r, columns };
}
