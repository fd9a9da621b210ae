/**
 * The local Glue catalog: Glue's own JSON shapes in files under `<lakeDir>/catalog/`.
 *
 *   catalog/.lock                          present while a process writes (see FileLock)
 *   catalog/<db>/database.json             Database
 *   catalog/<db>/<table>/table.json        Table, with StorageDescriptor and PartitionKeys
 *   catalog/<db>/<table>/partitions.json   {"Partitions": [Partition, ...]}, one a line
 *
 * Every write replaces a whole file through a temporary file and a rename, so readers need
 * no lock and never see half a file. Writers take one catalog-wide lock file, so two lake
 * processes never lose each other's changes. Parsed partition files are kept in memory
 * while the file on disk is unchanged, which keeps a 10,000-partition table cheap to grow
 * 100 partitions at a time.
 *
 * Glue's limits and per-item errors apply: 100 partitions a BatchCreatePartition, 25 a
 * BatchDeletePartition, 100 a BatchUpdatePartition, 1,000 a GetPartitions page. Names are
 * lowercased, as Glue does.
 *
 * Glue's JSON shapes live in file-catalog-shapes.ts, the lock in file-lock.ts and the
 * GetPartitions expression language in ../glue-expression.ts.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ServiceError } from '../errors.js';
import { compilePartitionExpression } from '../glue-expression.js';
import type { BatchPartitionResult, Catalog, DatabaseDef, GetPartitionsOptions, PartitionDef, PartitionError, PartitionPage, TableDef } from '../ports.js';
import {
  compareValues, firstAfter, fromGlueColumns, fromGlueDatabase, fromGluePartition, fromGlueTable, parsePartitionsFile, partitionId, partitionsFileText,
  segmentOf, toGlueDatabase, toGluePartition, toGlueTable, type GlueDatabase, type GluePartition, type GlueTable,
} from './file-catalog-shapes.js';
import { FileLock } from './file-lock.js';

export { compilePartitionExpression, FileLock };

const MAX_CREATE_PARTITIONS = 100;
const MAX_DELETE_PARTITIONS = 25;
const MAX_UPDATE_PARTITIONS = 100;
const MAX_RESULTS = 1000;
const MAX_SEGMENTS = 10;
const NAME = /^[a-z0-9_][a-z0-9_-]{0,254}$/;

export interface FileCatalogOptions {
  now?: () => Date;
  /** How long a write waits for another process's lock before failing. */
  lockTimeoutMs?: number;
  /** A lock older than this is considered abandoned even if its owner cannot be checked. */
  staleLockMs?: number;
}

function glueError(code: string, message: string, hint?: string): ServiceError {
  return new ServiceError(message, { code, service: 'glue', hint });
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

// ---------------------------------------------------------------- atomic files

/**
 * A small JSON file (a database or table definition), read synchronously: one read costs
 * less than the four trips through libuv's thread pool an asynchronous one takes, and every
 * query reads its table's definition.
 */
function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return Promise.resolve(JSON.parse(readFileSync(path, 'utf8')) as T);
  } catch (err) {
    if (errno(err) === 'ENOENT') return Promise.resolve(undefined);
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Replaces `path` with `text` through a synced temporary file and a rename. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------- the catalog

interface PartitionSet {
  /** Identity of the file this was read from: inode, size, mtime, ctime. */
  signature: string;
  byId: Map<string, GluePartition>;
  sorted?: GluePartition[];
}

function encodeNextToken(values: string[]): string {
  return Buffer.from(JSON.stringify({ after: values }), 'utf8').toString('base64url');
}

function decodeNextToken(token: string): string[] {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (Array.isArray(parsed.after) && parsed.after.every((v) => typeof v === 'string')) return parsed.after as string[];
  } catch {
    // falls through to the error below
  }
  throw glueError('InvalidInputException', 'Invalid NextToken for GetPartitions');
}

export class FileCatalog implements Catalog {
  /** `<lakeDir>/catalog` */
  readonly root: string;
  private readonly now: () => Date;
  private readonly lock: FileLock;
  private readonly partitionCache = new Map<string, PartitionSet>();

  constructor(lakeDir: string, options: FileCatalogOptions = {}) {
    this.root = resolve(lakeDir, 'catalog');
    this.now = options.now ?? (() => new Date());
    this.lock = new FileLock(join(this.root, '.lock'), { timeoutMs: options.lockTimeoutMs ?? 30_000, staleMs: options.staleLockMs ?? 60_000 });
  }

  // ---------------------------------------------------------------- databases

  async getDatabase(name: string): Promise<DatabaseDef | undefined> {
    const db = await readJson<GlueDatabase>(this.databaseFile(checkName('database', name)));
    return db && fromGlueDatabase(db);
  }

  async createDatabase(db: DatabaseDef): Promise<void> {
    const name = checkName('database', db.name);
    await this.write(async () => {
      const file = this.databaseFile(name);
      if (await readJson<GlueDatabase>(file)) throw glueError('AlreadyExistsException', `Database already exists: ${name}`);
      const record = toGlueDatabase(db, name, this.now().toISOString());
      await mkdir(dirname(file), { recursive: true });
      await writeAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
    });
  }

  // ---------------------------------------------------------------- tables

  async getTable(database: string, name: string): Promise<TableDef | undefined> {
    const table = await readJson<GlueTable>(this.tableFile(checkName('database', database), checkName('table', name)));
    return table && fromGlueTable(table);
  }

  async createTable(table: TableDef): Promise<void> {
    const database = checkName('database', table.database);
    const name = checkName('table', table.name);
    await this.write(async () => {
      await this.requireDatabase(database);
      const file = this.tableFile(database, name);
      if (await readJson<GlueTable>(file)) throw glueError('AlreadyExistsException', `Table already exists: ${database}.${name}`);
      const time = this.now().toISOString();
      await mkdir(dirname(file), { recursive: true });
      await writeAtomic(file, `${JSON.stringify(toGlueTable(table, database, name, time, time), null, 2)}\n`);
    });
  }

  async updateTable(table: TableDef): Promise<void> {
    const database = checkName('database', table.database);
    const name = checkName('table', table.name);
    await this.write(async () => {
      const existing = await this.requireTable(database, name);
      const updated = toGlueTable(table, database, name, existing.CreateTime, this.now().toISOString());
      await writeAtomic(this.tableFile(database, name), `${JSON.stringify(updated, null, 2)}\n`);
    });
  }

  async deleteTable(database: string, name: string): Promise<void> {
    const db = checkName('database', database);
    const tableName = checkName('table', name);
    await this.write(async () => {
      await this.requireTable(db, tableName);
      // One rename takes the table and its partitions away together; then the files go.
      const dir = dirname(this.tableFile(db, tableName));
      const doomed = join(this.root, db, `.deleted-${process.pid}-${randomBytes(6).toString('hex')}`);
      await rename(dir, doomed);
      this.partitionCache.delete(join(dir, 'partitions.json'));
      await rm(doomed, { recursive: true, force: true });
    });
  }

  // ---------------------------------------------------------------- partitions

  async getPartitions(database: string, table: string, options: GetPartitionsOptions = {}): Promise<PartitionPage> {
    options.signal?.throwIfAborted();
    const maxResults = options.maxResults ?? MAX_RESULTS;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS) {
      throw glueError('ValidationException', `maxResults must be 1 to ${MAX_RESULTS}, got ${maxResults}`);
    }
    const segment = options.segment;
    if (segment) {
      const { number, total } = segment;
      if (!Number.isInteger(total) || total < 1 || total > MAX_SEGMENTS || !Number.isInteger(number) || number < 0 || number >= total) {
        throw glueError('ValidationException', `segment must have total 1 to ${MAX_SEGMENTS} and number 0 to total-1, got ${number} of ${total}`);
      }
    }
    const db = checkName('database', database);
    const name = checkName('table', table);
    const def = await this.requireTable(db, name);
    const matches = options.expression?.trim() ? compilePartitionExpression(options.expression, fromGlueColumns(def.PartitionKeys)) : undefined;
    const after = options.nextToken ? decodeNextToken(options.nextToken) : undefined;

    const set = this.loadPartitions(this.partitionsFile(db, name));
    const sorted = (set.sorted ??= [...set.byId.values()].sort((a, b) => compareValues(a.Values, b.Values)));
    let i = after ? firstAfter(sorted, after) : 0;
    const page: PartitionPage = { partitions: [] };
    for (; i < sorted.length; i++) {
      const p = sorted[i] as GluePartition;
      if (segment && segment.total > 1 && segmentOf(partitionId(p.Values), segment.total) !== segment.number) continue;
      if (matches && !matches(p.Values)) continue;
      if (page.partitions.length === maxResults) {
        // Another match follows: the token resumes after the last partition returned.
        page.nextToken = encodeNextToken((page.partitions[maxResults - 1] as PartitionDef).values);
        break;
      }
      page.partitions.push(fromGluePartition(p));
    }
    return page;
  }

  async batchCreatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult> {
    if (partitions.length > MAX_CREATE_PARTITIONS) {
      throw glueError('ValidationException', `BatchCreatePartition takes at most ${MAX_CREATE_PARTITIONS} partitions a call, got ${partitions.length}`);
    }
    return this.changePartitions(database, table, (def, byId, errors) => {
      const time = this.now().toISOString();
      for (const p of partitions) {
        if (p.values.length !== def.PartitionKeys.length) {
          errors.push(countMismatch(p.values, def.PartitionKeys.length));
          continue;
        }
        const id = partitionId(p.values);
        if (byId.has(id)) {
          errors.push({ values: [...p.values], code: 'AlreadyExistsException', message: `Partition already exists: ${formatValues(p.values)}` });
          continue;
        }
        byId.set(id, toGluePartition(p, [...p.values], time));
      }
      return errors.length < partitions.length;
    });
  }

  async batchDeletePartition(database: string, table: string, values: string[][]): Promise<BatchPartitionResult> {
    if (values.length > MAX_DELETE_PARTITIONS) {
      throw glueError('ValidationException', `BatchDeletePartition takes at most ${MAX_DELETE_PARTITIONS} partitions a call, got ${values.length}`);
    }
    return this.changePartitions(database, table, (_def, byId, errors) => {
      for (const v of values) {
        if (!byId.delete(partitionId(v))) errors.push(notFound(v));
      }
      return errors.length < values.length;
    });
  }

  async batchUpdatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult> {
    if (partitions.length > MAX_UPDATE_PARTITIONS) {
      throw glueError('ValidationException', `BatchUpdatePartition takes at most ${MAX_UPDATE_PARTITIONS} partitions a call, got ${partitions.length}`);
    }
    return this.changePartitions(database, table, (def, byId, errors) => {
      for (const p of partitions) {
        if (p.values.length !== def.PartitionKeys.length) {
          errors.push(countMismatch(p.values, def.PartitionKeys.length));
          continue;
        }
        const id = partitionId(p.values);
        const existing = byId.get(id);
        if (!existing) {
          errors.push(notFound(p.values));
          continue;
        }
        byId.set(id, toGluePartition(p, existing.Values, existing.CreationTime));
      }
      return errors.length < partitions.length;
    });
  }

  // ---------------------------------------------------------------- internals

  private databaseFile(database: string): string {
    return join(this.root, database, 'database.json');
  }

  private tableFile(database: string, table: string): string {
    return join(this.root, database, table, 'table.json');
  }

  private partitionsFile(database: string, table: string): string {
    return join(this.root, database, table, 'partitions.json');
  }

  private async write<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.root, { recursive: true });
    return this.lock.run(fn);
  }

  private async requireDatabase(database: string): Promise<GlueDatabase> {
    const db = await readJson<GlueDatabase>(this.databaseFile(database));
    if (!db) throw glueError('EntityNotFoundException', `Database ${database} not found.`);
    return db;
  }

  private async requireTable(database: string, table: string): Promise<GlueTable> {
    const def = await readJson<GlueTable>(this.tableFile(database, table));
    if (def) return def;
    await this.requireDatabase(database);
    throw glueError('EntityNotFoundException', `Table ${table} not found in database ${database}.`);
  }

  /** Reads a partitions file, reusing the parsed copy while the file is the same one. */
  private loadPartitions(path: string): PartitionSet {
    // Synchronous: the usual case is one stat that finds the parsed copy still good.
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
      this.partitionCache.delete(path);
      return { signature: 'absent', byId: new Map() };
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      const signature = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const cached = this.partitionCache.get(path);
      if (cached?.signature === signature) return cached;
      const partitions = parsePartitionsFile(readFileSync(fd, 'utf8'));
      const set: PartitionSet = { signature, byId: new Map(partitions.map((p) => [partitionId(p.Values), p])) };
      this.partitionCache.set(path, set);
      return set;
    } finally {
      closeSync(fd);
    }
  }

  private async savePartitions(path: string, byId: Map<string, GluePartition>): Promise<void> {
    await writeAtomic(path, partitionsFileText(byId.values()));
    const st = await stat(path, { bigint: true });
    this.partitionCache.set(path, { signature: `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, byId });
  }

  /** Read-modify-write of a table's partitions under the lock; `change` collects per-item errors and says whether anything changed. */
  private async changePartitions(
    database: string,
    table: string,
    change: (def: GlueTable, byId: Map<string, GluePartition>, errors: PartitionError[]) => boolean,
  ): Promise<BatchPartitionResult> {
    const db = checkName('database', database);
    const name = checkName('table', table);
    return this.write(async () => {
      const def = await this.requireTable(db, name);
      const path = this.partitionsFile(db, name);
      // A copy: readers in this process keep seeing the committed set until the write lands.
      const byId = new Map(this.loadPartitions(path).byId);
      const errors: PartitionError[] = [];
      if (change(def, byId, errors)) {
        try {
          await this.savePartitions(path, byId);
        } catch (err) {
          this.partitionCache.delete(path);
          throw err;
        }
      }
      return { errors };
    });
  }
}

function checkName(kind: 'database' | 'table', name: string): string {
  const lower = typeof name === 'string' ? name.toLowerCase() : '';
  if (!NAME.test(lower)) {
    throw glueError('InvalidInputException', `invalid ${kind} name ${JSON.stringify(name)}`, 'use lowercase letters, digits, underscores and hyphens (at most 255)');
  }
  return lower;
}

function formatValues(values: string[]): string {
  return `[${values.join(', ')}]`;
}

function countMismatch(values: string[], expected: number): PartitionError {
  return {
    values: [...values],
    code: 'InvalidInputException',
    message: `The number of partition values (${values.length}) does not match the number of partition keys (${expected})`,
  };
}

function notFound(values: string[]): PartitionError {
  return { values: [...values], code: 'EntityNotFoundException', message: `Partition not found: ${formatValues(values)}` };
}
