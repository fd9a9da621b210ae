/**
 * The CSV spool of a data buffer: how the serde's row values are written as CSV (cheap to
 * write from JavaScript, memory flat whatever the buffer size), and the DuckDB statement
 * that reads the file back with the Glue column types and writes Snappy Parquet. Also the
 * spool folder: one per stream and process, and finding the folders of killed processes.
 */
import { mkdirSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseGlueType, toDuckdbType, type GlueType } from '../glue-types.js';
import type { Column } from '../ports.js';
import type { RowValue } from '../serde/types.js';

const MiB = 1024 * 1024;
/** Spooled CSV is written in pieces of at most this many bytes. */
export const SPOOL_BUFFER_BYTES = 256 * 1024;
/**
 * Longest spooled CSV line DuckDB accepts: a 1,000 KiB record can double when its quotes are
 * escaped. DuckDB's read buffer defaults to 16 times this, which would cost memory per thread,
 * so it is set to the same size (a line of that size still reads across buffer boundaries):
 * a 64 MiB buffer's COPY then peaks ~15 MB lower than with twice, and runs no slower.
 */
const MAX_CSV_LINE_BYTES = 4 * MiB;
/**
 * Rows per Parquet row group: DuckDB holds a row group in memory while it writes it, so
 * smaller groups than its default (122,880) keep a big buffer's delivery about as light as
 * a small one's (memory flat as input grows).
 */
const PARQUET_ROW_GROUP_ROWS = 32_768;

/** An open spool file and the bytes not yet written to it. */
export interface SpoolFile {
  fd: number;
  /** CSV bytes not yet written to the spool file. */
  out: Buffer;
  used: number;
}

export function appendBytes(file: SpoolFile, bytes: Uint8Array): void {
  if (file.used + bytes.length > file.out.length) {
    writeLines(file);
    if (bytes.length > file.out.length) {
      writeSync(file.fd, bytes);
      return;
    }
  }
  file.out.set(bytes, file.used);
  file.used += bytes.length;
}

export function writeLines(file: SpoolFile): void {
  if (file.used === 0) return;
  writeSync(file.fd, file.out, 0, file.used);
  file.used = 0;
}

/**
 * `COPY` of a spooled CSV file to a Parquet file with the Glue column types: the CSV is read
 * with the types it was written in (timestamps as microseconds, dates as days, binary as
 * base64, nested values as JSON) and the SELECT turns them into the Glue types.
 */
export function parquetCopyStatement(columns: readonly Column[]): (csvPath: string, parquetPath: string) => string {
  const types = columns.map((c) => parseGlueType(c.type));
  const csvColumns = `{${columns.map((c, i) => `${sqlString(c.name)}: ${sqlString(csvColumnType(types[i]!))}`).join(', ')}}`;
  const selectList = columns.map((c, i) => `${selectExpression(sqlIdentifier(c.name), types[i]!)} AS ${sqlIdentifier(c.name)}`).join(', ');
  return (csvPath, parquetPath) =>
    `COPY (SELECT ${selectList} FROM read_csv(${sqlString(csvPath)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
    `new_line = '\\n', allow_quoted_nulls = false, max_line_size = ${MAX_CSV_LINE_BYTES}, buffer_size = ${MAX_CSV_LINE_BYTES}, ` +
    `columns = ${csvColumns})) TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_ROWS})`;
}

// ---------------------------------------------------------------- CSV spool encoding

const CSV_SPECIAL = /[",\r\n]/;

function csvString(s: string): string {
  if (s.length === 0) return '""';
  return CSV_SPECIAL.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** How a Row value of this type is written to the spool (the serde's representation in, CSV out). */
export function csvEncoder(type: GlueType): (value: RowValue) => string {
  switch (type.kind) {
    case 'string':
    case 'char':
    case 'varchar':
    case 'decimal':
      return (v) => csvString(v as string);
    case 'boolean':
      return (v) => (v ? 'true' : 'false');
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'float':
    case 'double':
    case 'date':
      return (v) => String(v);
    case 'bigint':
    case 'timestamp':
      // Within 2^53 a double prints the same digits, faster than a bigint does.
      return (v) => {
        const n = Number(v);
        return Number.isSafeInteger(n) ? `${n}` : String(v);
      };
    case 'binary':
      return (v) => Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString('base64');
    default:
      return (v) => csvString(nestedJson(v, type));
  }
}

/** The CSV column type DuckDB reads before the SELECT gives the Glue type. */
function csvColumnType(type: GlueType): string {
  switch (type.kind) {
    case 'date':
      return 'INTEGER';
    case 'timestamp':
      return 'BIGINT';
    case 'binary':
    case 'array':
    case 'map':
    case 'struct':
      return 'VARCHAR';
    default:
      return toDuckdbType(type);
  }
}

function selectExpression(column: string, type: GlueType): string {
  switch (type.kind) {
    case 'date':
      return `CAST(DATE '1970-01-01' + ${column} AS DATE)`;
    case 'timestamp':
      return `make_timestamp(${column})`;
    case 'binary':
      return `from_base64(${column})`;
    case 'array':
    case 'map':
    case 'struct':
      return `CAST(CAST(${column} AS JSON) AS ${toDuckdbType(type)})`;
    default:
      return column;
  }
}

/**
 * Nested values as JSON that DuckDB casts to the Glue type: maps as objects (keys cast
 * back), timestamps and dates as text, decimals as strings so no digit is lost.
 */
function nestedJson(value: RowValue, type: GlueType): string {
  if (value === null || value === undefined) return 'null';
  switch (type.kind) {
    case 'array':
      return `[${(value as RowValue[]).map((v) => nestedJson(v, type.element)).join(',')}]`;
    case 'map': {
      const parts: string[] = [];
      for (const [k, v] of value as Map<string | number | bigint | boolean, RowValue>) parts.push(`${JSON.stringify(String(k))}:${nestedJson(v, type.value)}`);
      return `{${parts.join(',')}}`;
    }
    case 'struct':
      return `{${type.fields.map((f) => `${JSON.stringify(f.name)}:${nestedJson((value as Record<string, RowValue>)[f.name] ?? null, f.type)}`).join(',')}}`;
    case 'timestamp':
      return JSON.stringify(formatMicros(value as bigint));
    case 'date':
      return JSON.stringify(new Date((value as number) * 86_400_000).toISOString().slice(0, 10));
    case 'binary':
      return JSON.stringify(Buffer.from(value as Uint8Array).toString('latin1'));
    case 'float':
    case 'double':
      return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return JSON.stringify(String(value));
  }
}

function formatMicros(micros: bigint): string {
  const ms = Number(micros / 1000n) - (micros % 1000n < 0n ? 1 : 0);
  const rest = Number(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(rest).padStart(6, '0')}`;
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}


/**
 * The spool folder of one stream in this process (created on first use): the CSV spools and
 * the write-ahead journal (firehose-journal.ts). A recovering stream is given the folder of a
 * killed process it claimed.
 */
export class SpoolFolder {
  readonly root: string;
  private readonly name: string;
  private dir?: string;
  private count = 0;

  constructor(lakeDir: string, stream: string, claimed?: string) {
    this.root = join(lakeDir, 'tmp', 'firehose');
    this.name = `${stream}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.dir = claimed;
  }

  /** The folder, created if needed. */
  get path(): string {
    if (!this.dir) {
      this.dir = join(this.root, this.name);
      mkdirSync(this.dir, { recursive: true });
    }
    return this.dir;
  }

  newPath(extension: string): string {
    return join(this.path, `buffer-${++this.count}${extension}`);
  }

  remove(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Spool folders of this stream whose process no longer runs (killed before it could deliver and clean up). */
export function staleSpoolFolders(root: string, stream: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const stale: string[] = [];
  for (const name of entries) {
    if (!name.startsWith(`${stream}-`)) continue;
    const pid = Number(/^(\d+)-[0-9a-f]{8}$/.exec(name.slice(stream.length + 1))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    stale.push(join(root, name));
  }
  return stale.sort();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
