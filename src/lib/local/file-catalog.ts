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
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '../errors.js';
import type {
  BatchPartitionResult,
  Catalog,
  Column,
  DatabaseDef,
  GetPartitionsOptions,
  PartitionDef,
  PartitionError,
  PartitionPage,
  TableDef,
} from '../ports.js';

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

// ---------------------------------------------------------------- Glue's shapes on disk

interface GlueColumn {
  Name: string;
  Type: string;
  Comment?: string;
}

interface GlueDatabase {
  Name: string;
  Description?: string;
  LocationUri?: string;
  Parameters?: Record<string, string>;
  CreateTime: string;
}

interface GlueTable {
  Name: string;
  DatabaseName: string;
  TableType?: string;
  Parameters: Record<string, string>;
  CreateTime: string;
  UpdateTime: string;
  PartitionKeys: GlueColumn[];
  StorageDescriptor: {
    Columns: GlueColumn[];
    Location: string;
    InputFormat?: string;
    OutputFormat?: string;
    SerdeInfo?: { SerializationLibrary?: string; Parameters?: Record<string, string> };
  };
}

interface GluePartition {
  Values: string[];
  StorageDescriptor: { Location: string };
  Parameters?: Record<string, string>;
  CreationTime: string;
}

function toGlueColumns(columns: Column[]): GlueColumn[] {
  return columns.map((c) => (c.comment === undefined ? { Name: c.name, Type: c.type } : { Name: c.name, Type: c.type, Comment: c.comment }));
}

function fromGlueColumns(columns: GlueColumn[]): Column[] {
  return columns.map((c) => (c.Comment === undefined ? { name: c.Name, type: c.Type } : { name: c.Name, type: c.Type, comment: c.Comment }));
}

function toGlueTable(def: TableDef, database: string, name: string, createTime: string, updateTime: string): GlueTable {
  const table: GlueTable = {
    Name: name,
    DatabaseName: database,
    Parameters: { ...def.parameters },
    CreateTime: createTime,
    UpdateTime: updateTime,
    PartitionKeys: toGlueColumns(def.partitionKeys),
    StorageDescriptor: { Columns: toGlueColumns(def.columns), Location: def.location },
  };
  if (def.tableType !== undefined) table.TableType = def.tableType;
  if (def.inputFormat !== undefined) table.StorageDescriptor.InputFormat = def.inputFormat;
  if (def.outputFormat !== undefined) table.StorageDescriptor.OutputFormat = def.outputFormat;
  if (def.serializationLibrary !== undefined || def.serdeParameters !== undefined) {
    table.StorageDescriptor.SerdeInfo = {};
    if (def.serializationLibrary !== undefined) table.StorageDescriptor.SerdeInfo.SerializationLibrary = def.serializationLibrary;
    if (def.serdeParameters !== undefined) table.StorageDescriptor.SerdeInfo.Parameters = { ...def.serdeParameters };
  }
  return table;
}

function fromGlueTable(table: GlueTable): TableDef {
  const sd = table.StorageDescriptor;
  const def: TableDef = {
    database: table.DatabaseName,
    name: table.Name,
    location: sd.Location,
    columns: fromGlueColumns(sd.Columns),
    partitionKeys: fromGlueColumns(table.PartitionKeys),
    parameters: { ...table.Parameters },
    createdAt: new Date(table.CreateTime),
    updatedAt: new Date(table.UpdateTime),
  };
  if (table.TableType !== undefined) def.tableType = table.TableType;
  if (sd.InputFormat !== undefined) def.inputFormat = sd.InputFormat;
  if (sd.OutputFormat !== undefined) def.outputFormat = sd.OutputFormat;
  if (sd.SerdeInfo?.SerializationLibrary !== undefined) def.serializationLibrary = sd.SerdeInfo.SerializationLibrary;
  if (sd.SerdeInfo?.Parameters !== undefined) def.serdeParameters = { ...sd.SerdeInfo.Parameters };
  return def;
}

function fromGluePartition(p: GluePartition): PartitionDef {
  const def: PartitionDef = { values: [...p.Values], location: p.StorageDescriptor.Location, createdAt: new Date(p.CreationTime) };
  if (p.Parameters !== undefined) def.parameters = { ...p.Parameters };
  return def;
}

/** Each partition's JSON line, made once: records are never mutated, only replaced. */
const serialized = new WeakMap<GluePartition, string>();

function partitionId(values: string[]): string {
  return JSON.stringify(values);
}

function compareValues(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** FNV-1a: a stable spread of partitions over GetPartitions segments. */
function segmentOf(id: string, total: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % total;
}

// ---------------------------------------------------------------- atomic files

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
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

// ---------------------------------------------------------------- the lock

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
          throw glueError(
            'ConcurrentModificationException',
            `the local catalog is locked by another process (${this.path}) and stayed locked for ${this.options.timeoutMs} ms`,
            `if no other lake process is running, delete ${this.path}`,
          );
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

// ---------------------------------------------------------------- partition expressions

type Literal = { text: string; numeric: boolean };
type Comparison = '=' | '<>' | '<' | '<=' | '>' | '>=';
type ExprNode =
  | { kind: 'and' | 'or'; left: ExprNode; right: ExprNode }
  | { kind: 'not'; node: ExprNode }
  | { kind: 'cmp'; key: string; op: Comparison; value: Literal }
  | { kind: 'between'; key: string; low: Literal; high: Literal }
  | { kind: 'in'; key: string; values: Literal[] }
  | { kind: 'like'; key: string; pattern: string };

type Token = { type: 'word' | 'ident' | 'string' | 'number' | 'op' | 'punct'; text: string; at: number };

function expressionError(expression: string, why: string): ServiceError {
  return glueError('InvalidInputException', `invalid partition expression ${JSON.stringify(expression)}: ${why}`);
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= expression.length) throw expressionError(expression, `unterminated string at ${i}`);
        if (expression[j] === "'") {
          if (expression[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += expression[j];
        j++;
      }
      tokens.push({ type: 'string', text, at: i });
      i = j + 1;
    } else if (c === '`' || c === '"') {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) throw expressionError(expression, `unterminated quoted name at ${i}`);
      tokens.push({ type: 'ident', text: expression.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(expression.slice(i));
      if (!m) throw expressionError(expression, `unexpected "${c}" at ${i}`);
      tokens.push({ type: 'number', text: m[0], at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i)) as RegExpExecArray;
      tokens.push({ type: 'word', text: m[0], at: i });
      i += m[0].length;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', text: c, at: i });
      i++;
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(expression.slice(i));
      if (!m) throw expressionError(expression, `unexpected "${c}" at ${i}`);
      tokens.push({ type: 'op', text: m[0] === '!=' ? '<>' : m[0], at: i });
      i += m[0].length;
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'LIKE']);

class ExpressionParser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(private readonly expression: string) {
    this.tokens = tokenize(expression);
  }

  parse(): ExprNode {
    const node = this.or();
    const extra = this.tokens[this.pos];
    if (extra) throw this.fail(`unexpected "${extra.text}" at ${extra.at}`);
    return node;
  }

  private fail(why: string): ServiceError {
    return expressionError(this.expression, why);
  }

  private isWord(word: string): boolean {
    const t = this.tokens[this.pos];
    return t?.type === 'word' && t.text.toUpperCase() === word;
  }

  private isPunct(p: string): boolean {
    const t = this.tokens[this.pos];
    return t?.type === 'punct' && t.text === p;
  }

  private expectWord(word: string): void {
    if (!this.isWord(word)) throw this.fail(`expected ${word}${this.where()}`);
    this.pos++;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw this.fail(`expected "${p}"${this.where()}`);
    this.pos++;
  }

  private where(): string {
    const t = this.tokens[this.pos];
    return t ? ` at ${t.at}, found "${t.text}"` : ' at the end';
  }

  private or(): ExprNode {
    let left = this.and();
    while (this.isWord('OR')) {
      this.pos++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): ExprNode {
    let left = this.not();
    while (this.isWord('AND')) {
      this.pos++;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): ExprNode {
    if (this.isWord('NOT')) {
      this.pos++;
      return { kind: 'not', node: this.not() };
    }
    if (this.isPunct('(')) {
      this.pos++;
      const node = this.or();
      this.expectPunct(')');
      return node;
    }
    return this.predicate();
  }

  private predicate(): ExprNode {
    const t = this.tokens[this.pos];
    if (!t || !(t.type === 'ident' || (t.type === 'word' && !KEYWORDS.has(t.text.toUpperCase())))) {
      throw this.fail(`expected a partition key${this.where()}`);
    }
    this.pos++;
    const key = t.text.toLowerCase();
    const negated = this.isWord('NOT');
    if (negated) this.pos++;
    let node: ExprNode;
    if (this.isWord('BETWEEN')) {
      this.pos++;
      const low = this.literal();
      this.expectWord('AND');
      node = { kind: 'between', key, low, high: this.literal() };
    } else if (this.isWord('IN')) {
      this.pos++;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.isPunct(',')) {
        this.pos++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      node = { kind: 'in', key, values };
    } else if (this.isWord('LIKE')) {
      this.pos++;
      node = { kind: 'like', key, pattern: this.literal().text };
    } else {
      if (negated) throw this.fail(`expected BETWEEN, IN or LIKE after NOT${this.where()}`);
      const op = this.tokens[this.pos];
      if (op?.type !== 'op') throw this.fail(`expected a comparison${this.where()}`);
      this.pos++;
      node = { kind: 'cmp', key, op: op.text as Comparison, value: this.literal() };
    }
    return negated ? { kind: 'not', node } : node;
  }

  private literal(): Literal {
    const t = this.tokens[this.pos];
    if (t?.type === 'string' || t?.type === 'number') {
      this.pos++;
      return { text: t.text, numeric: t.type === 'number' };
    }
    throw this.fail(`expected a value${this.where()}`);
  }
}

const INTEGRAL = new Set(['tinyint', 'smallint', 'int', 'integer', 'bigint']);
const FRACTIONAL = /^(float|double|real|decimal)\b/;

/** Orders a partition value against a literal as Glue does for the key's type. */
function comparatorFor(type: string): (value: string, literal: string) => number | undefined {
  const t = type.trim().toLowerCase();
  if (INTEGRAL.has(t)) {
    return (value, literal) => {
      if (!/^-?[0-9]+$/.test(value) || !/^-?[0-9]+$/.test(literal)) return undefined;
      const a = BigInt(value);
      const b = BigInt(literal);
      return a === b ? 0 : a < b ? -1 : 1;
    };
  }
  if (FRACTIONAL.test(t)) {
    return (value, literal) => {
      const a = Number(value);
      const b = Number(literal);
      if (Number.isNaN(a) || Number.isNaN(b) || value.trim() === '' || literal.trim() === '') return undefined;
      return a === b ? 0 : a < b ? -1 : 1;
    };
  }
  return (value, literal) => (value === literal ? 0 : value < literal ? -1 : 1);
}

function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (const c of pattern) {
    if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/**
 * Compiles a GetPartitions `Expression` into a predicate over partition values, for the
 * subset lake uses: comparisons, BETWEEN, IN, LIKE, NOT, AND, OR and parentheses. String
 * keys compare as strings; integer and fractional keys compare as numbers.
 */
export function compilePartitionExpression(expression: string, partitionKeys: Column[]): (values: string[]) => boolean {
  const ast = new ExpressionParser(expression).parse();
  const keys = new Map(partitionKeys.map((k, i) => [k.name.toLowerCase(), { index: i, compare: comparatorFor(k.type) }]));
  const keyOf = (name: string) => {
    const key = keys.get(name);
    if (!key) throw expressionError(expression, `unknown partition key "${name}" (keys: ${partitionKeys.map((k) => k.name).join(', ') || 'none'})`);
    return key;
  };
  const compile = (node: ExprNode): ((values: string[]) => boolean) => {
    switch (node.kind) {
      case 'and': {
        const [l, r] = [compile(node.left), compile(node.right)];
        return (v) => l(v) && r(v);
      }
      case 'or': {
        const [l, r] = [compile(node.left), compile(node.right)];
        return (v) => l(v) || r(v);
      }
      case 'not': {
        const inner = compile(node.node);
        return (v) => !inner(v);
      }
      case 'cmp': {
        const { index, compare } = keyOf(node.key);
        const { op, value } = node;
        return (v) => {
          const c = compare(v[index] ?? '', value.text);
          if (c === undefined) return false;
          switch (op) {
            case '=':
              return c === 0;
            case '<>':
              return c !== 0;
            case '<':
              return c < 0;
            case '<=':
              return c <= 0;
            case '>':
              return c > 0;
            case '>=':
              return c >= 0;
          }
        };
      }
      case 'between': {
        const { index, compare } = keyOf(node.key);
        const { low, high } = node;
        return (v) => {
          const a = compare(v[index] ?? '', low.text);
          const b = compare(v[index] ?? '', high.text);
          return a !== undefined && b !== undefined && a >= 0 && b <= 0;
        };
      }
      case 'in': {
        const { index, compare } = keyOf(node.key);
        const values = node.values;
        return (v) => values.some((l) => compare(v[index] ?? '', l.text) === 0);
      }
      case 'like': {
        const { index } = keyOf(node.key);
        const re = likeToRegExp(node.pattern);
        return (v) => re.test(v[index] ?? '');
      }
    }
  };
  return compile(ast);
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
    if (!db) return undefined;
    const def: DatabaseDef = { name: db.Name };
    if (db.Description !== undefined) def.description = db.Description;
    if (db.LocationUri !== undefined) def.locationUri = db.LocationUri;
    if (db.Parameters !== undefined) def.parameters = { ...db.Parameters };
    return def;
  }

  async createDatabase(db: DatabaseDef): Promise<void> {
    const name = checkName('database', db.name);
    await this.write(async () => {
      const file = this.databaseFile(name);
      if (await readJson<GlueDatabase>(file)) throw glueError('AlreadyExistsException', `Database already exists: ${name}`);
      const record: GlueDatabase = { Name: name, CreateTime: this.now().toISOString() };
      if (db.description !== undefined) record.Description = db.description;
      if (db.locationUri !== undefined) record.LocationUri = db.locationUri;
      if (db.parameters !== undefined) record.Parameters = { ...db.parameters };
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

    const set = await this.loadPartitions(this.partitionsFile(db, name));
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
        const record: GluePartition = { Values: [...p.values], StorageDescriptor: { Location: p.location }, CreationTime: time };
        if (p.parameters !== undefined) record.Parameters = { ...p.parameters };
        byId.set(id, record);
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
        const record: GluePartition = { Values: existing.Values, StorageDescriptor: { Location: p.location }, CreationTime: existing.CreationTime };
        if (p.parameters !== undefined) record.Parameters = { ...p.parameters };
        byId.set(id, record);
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
  private async loadPartitions(path: string): Promise<PartitionSet> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
      this.partitionCache.delete(path);
      return { signature: 'absent', byId: new Map() };
    }
    try {
      const st = await handle.stat({ bigint: true });
      const signature = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const cached = this.partitionCache.get(path);
      if (cached?.signature === signature) return cached;
      const parsed = JSON.parse(await handle.readFile('utf8')) as { Partitions: GluePartition[] };
      const set: PartitionSet = { signature, byId: new Map(parsed.Partitions.map((p) => [partitionId(p.Values), p])) };
      this.partitionCache.set(path, set);
      return set;
    } finally {
      await handle.close();
    }
  }

  private async savePartitions(path: string, byId: Map<string, GluePartition>): Promise<void> {
    const lines: string[] = [];
    for (const p of byId.values()) {
      let line = serialized.get(p);
      if (line === undefined) serialized.set(p, (line = JSON.stringify(p)));
      lines.push(line);
    }
    await writeAtomic(path, lines.length === 0 ? '{"Partitions": []}\n' : `{"Partitions": [\n${lines.join(',\n')}\n]}\n`);
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
      const byId = new Map((await this.loadPartitions(path)).byId);
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

function firstAfter(sorted: GluePartition[], after: string[]): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareValues((sorted[mid] as GluePartition).Values, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
