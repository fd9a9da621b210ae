/**
 * The local catalog's cross-process write lock: one lock file that every lake process
 * takes before changing `<lakeDir>/catalog/`, so two processes never lose each other's
 * changes. Writers within one process queue in memory instead of polling the file.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '../errors.js';

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
  at: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/** Serializes this process's writers, so they queue in memory instead of polling the lock file. */
const inProcessQueues = new Map<string, Promise<unknown>>();

/**
 * A lock file created atomically (a hard link of a file holding the owner, which fails if
 * the lock exists), so its content is always complete. A lock whose owner process is gone
 * (same host) or that is older than `staleMs` is broken; breaking takes a second, short
 * lock so two waiters cannot both break it and remove a fresh lock by mistake.
 */
export class FileLock {
  private readonly host = hostname();

  constructor(
    readonly path: string,
    private readonly options: { timeoutMs: number; staleMs: number },
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = inProcessQueues.get(this.path) ?? Promise.resolve();
    const current = previous.then(async () => {
      const release = await this.acquire();
      try {
        return await fn();
      } finally {
        await release();
      }
    });
    const tail = current.catch(() => undefined);
    inProcessQueues.set(this.path, tail);
    try {
      return await current;
    } finally {
      if (inProcessQueues.get(this.path) === tail) inProcessQueues.delete(this.path);
    }
  }

  private async acquire(): Promise<() => Promise<void>> {
    const token = randomUUID();
    const temp = `${this.path}-${token}`;
    const deadline = Date.now() + this.options.timeoutMs;
    let delay = 1;
    try {
      for (;;) {
        const owner: LockOwner = { pid: process.pid, host: this.host, token, at: Date.now() };
        await writeFile(temp, JSON.stringify(owner));
        try {
          await link(temp, this.path);
          return () => this.release(token);
        } catch (err) {
          if (errno(err) !== 'EEXIST') throw err;
        }
        if (await this.breakIfStale()) continue;
        if (Date.now() >= deadline) {
          throw new ServiceError(`the local catalog is locked by another process (${this.path}) and stayed locked for ${this.options.timeoutMs} ms`, {
            code: 'ConcurrentModificationException',
            service: 'glue',
            hint: `if no other lake process is running, delete ${this.path}`,
          });
        }
        await sleep(delay * (0.5 + Math.random()));
        delay = Math.min(delay * 2, 50);
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  private async release(token: string): Promise<void> {
    const owner = await this.readOwner();
    if (owner?.parsed?.token === token) await unlink(this.path).catch(() => undefined);
  }

  private async readOwner(): Promise<{ text: string; parsed?: LockOwner; mtimeMs: number } | undefined> {
    try {
      const [text, st] = await Promise.all([readFile(this.path, 'utf8'), stat(this.path)]);
      let parsed: LockOwner | undefined;
      try {
        parsed = JSON.parse(text) as LockOwner;
      } catch {
        parsed = undefined;
      }
      return { text, parsed, mtimeMs: st.mtimeMs };
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  private isStale(owner: { parsed?: LockOwner; mtimeMs: number }): boolean {
    const { parsed } = owner;
    // Only a positive pid may reach process.kill: 0 and -1 address whole process groups.
    if (!parsed || !Number.isInteger(parsed.pid) || parsed.pid <= 0 || typeof parsed.at !== 'number') return Date.now() - owner.mtimeMs > this.options.staleMs;
    if (parsed.host === this.host && !pidAlive(parsed.pid)) return true;
    return Date.now() - parsed.at > this.options.staleMs;
  }

  /** True when the lock was gone or has been broken: try again at once. */
  private async breakIfStale(): Promise<boolean> {
    const owner = await this.readOwner();
    if (!owner) return true;
    if (!this.isStale(owner)) return false;
    const breaker = `${this.path}.break`;
    try {
      await writeFile(breaker, String(process.pid), { flag: 'wx' });
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      // A breaker that died mid-way would block everyone: it only ever lives a few milliseconds.
      const st = await stat(breaker).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 10_000) await unlink(breaker).catch(() => undefined);
      return false;
    }
    try {
      const again = await this.readOwner();
      if (again?.text === owner.text) await unlink(this.path).catch(() => undefined);
    } finally {
      await unlink(breaker).catch(() => undefined);
    }
    return true;
  }
}
