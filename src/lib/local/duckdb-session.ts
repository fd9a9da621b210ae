/**
 * The DuckDB side of the local engine: one in-memory instance and connection, set up as
 * Athena behaves (UTC, integer division, the Athena functions a query calls), the lake's
 * tables as views (duckdb-lake-views.ts), the bill of a query from its plan
 * (scan-stats.ts), and its rows rendered as Athena renders them, under Athena's column
 * names (athena-column-names.ts).
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Catalog, ObjectStore, ResultColumn } from '../ports.js';
import { athenaColumnNames } from './athena-column-names.js';
import { athenaFunctionDependencies, athenaFunctionStatement, ATHENA_SESSION_SETTINGS, sqlString } from './athena-functions.js';
import { athenaCellReader, athenaColumn } from './athena-results.js';
import { calledFunctions } from './athena-sql.js';
import { LAKE_CATALOG, LakeViews, quoteIdent } from './duckdb-lake-views.js';
import { collectScans, columnsRead, fileScanBytes } from './scan-stats.js';

export interface ScanTotals {
  scannedBytes: number;
  /** Partitions (or, for an unpartitioned table, tables) whose files are read. */
  partitions: number;
  files: number;
}

/** A query ready to run: its bill, and its parse tree (for the column names). */
export interface PlannedQuery extends ScanTotals {
  tree: unknown;
}

export interface Rows {
  columns: ResultColumn[];
  rows: (string | null)[][];
}

/** A result's columns, and its rows a batch at a time. */
export interface RowStream {
  columns: ResultColumn[];
  batches: AsyncIterable<(string | null)[][]>;
}

export class DuckdbSession {
  private database?: string;
  /** Athena functions installed so far (each macro costs its creation: only those used). */
  private readonly functions = new Set<string>();
  private readonly views: LakeViews;
  /** Parse trees and bills of recent statements, most recently used last. */
  private readonly trees = new Map<string, unknown>();
  private readonly bills = new Map<string, ScanTotals>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    options: { lakeDir: string; catalog: Catalog; store: ObjectStore },
  ) {
    this.views = new LakeViews(conn, options);
  }

  static async open(options: { lakeDir: string; catalog: Catalog; store: ObjectStore }): Promise<DuckdbSession> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    await conn.run(
      [
        `ATTACH ':memory:' AS ${LAKE_CATALOG}`,
        `USE ${LAKE_CATALOG}`,
        // The scan reads each footer twice (binding, then scanning): keep them once.
        'SET parquet_metadata_cache = true',
        // Late materialization re-reads a table for ORDER BY ... LIMIT through a second
        // scan the plan cannot tie to its table: the bill would miss those columns.
        "SET disabled_optimizers = 'late_materialization'",
        ...ATHENA_SESSION_SETTINGS,
      ].join(';\n'),
    );
    return new DuckdbSession(instance, conn, options);
  }

  /** How far DuckDB has got with the running statement, in percent (-1 when it cannot tell). */
  get progress(): number {
    return this.conn.progress.percentage;
  }

  interrupt(): void {
    this.conn.interrupt();
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  /**
   * Functions and views for what the SQL names, then the plan's bill. The parse tree of a
   * statement seen before is reused, and so is its bill while the views it reads are the
   * same (a rebuilt view has a new marker): a repeated query costs no planning round trips.
   */
  async plan(sql: string, database: string): Promise<PlannedQuery> {
    await this.installFunctions(sql);
    await this.views.ensureSchema(database);
    const tree = await this.parse(sql);
    const markers: string[] = [];
    for (const ref of tableReferences(tree, database)) markers.push(String((await this.views.ensure(ref.database, ref.table))?.marker ?? '-'));
    if (this.database !== database) {
      await this.conn.run(`USE ${LAKE_CATALOG}.${quoteIdent(database)}`);
      this.database = database;
    }
    const key = `${database}\u0000${markers.join(',')}\u0000${sql}`;
    const bill = remember(this.bills, key, await (this.bills.get(key) ?? this.bill(sql)));
    return { ...bill, tree };
  }

  private async parse(sql: string): Promise<unknown> {
    const known = this.trees.get(sql);
    if (known !== undefined) return remember(this.trees, sql, known);
    const reader = await this.conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
    return remember(this.trees, sql, JSON.parse(String(reader.getRows()[0]?.[0] ?? '{}')) as unknown);
  }

  /**
   * The query's columns, and its rows rendered as Athena renders them, a DuckDB chunk at a
   * time; `cancelled` is asked between chunks.
   */
  async select(sql: string, tree: unknown, cancelled: () => boolean): Promise<RowStream> {
    // Streamed: DuckDB need not hold the whole result beside the rendered rows (a
    // materialized result measured no faster on query-local).
    const result = await this.conn.stream(sql);
    const names = athenaColumnNames(tree, result.columnNames());
    const types = result.columnTypes();
    const columns = names.map((n, i) => athenaColumn(n, types[i]!));
    const readers = types.map((t) => athenaCellReader(t));
    async function* batches(): AsyncGenerator<(string | null)[][]> {
      for (;;) {
        if (cancelled()) throw new Error('cancelled');
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) {
          // An interrupted stream ends as if it were complete: a cut-off result is not a result.
          if (cancelled()) throw new Error('cancelled');
          return;
        }
        const count = chunk.rowCount;
        const rows = new Array<(string | null)[]>(count);
        for (let r = 0; r < count; r++) rows[r] = new Array<string | null>(names.length);
        for (let c = 0; c < names.length; c++) {
          const read = readers[c]!;
          const vector = chunk.getColumnVector(c);
          for (let r = 0; r < count; r++) rows[r]![c] = read(vector, r);
        }
        yield rows;
      }
    }
    return { columns, batches: batches() };
  }

  /** DuckDB's EXPLAIN (ANALYZE) text, one line a row. */
  async explain(sql: string, analyze: boolean): Promise<string[]> {
    const reader = await this.conn.runAndReadAll(`EXPLAIN ${analyze ? 'ANALYZE ' : ''}${sql}`);
    return reader
      .getRows()
      .flatMap((r) => String(r[1]).split('\n'))
      .filter((l) => l.trim() !== '');
  }

  /** What Athena would bill for the plan's scans of lake tables. */
  private async bill(sql: string): Promise<ScanTotals> {
    const reader = await this.conn.runAndReadAll(`EXPLAIN (FORMAT json) ${sql}`);
    const plan: unknown[] = reader.getRows().map((r) => JSON.parse(String(r[1])) as unknown);
    const totals: ScanTotals = { scannedBytes: 0, partitions: 0, files: 0 };
    for (const scan of collectScans(plan)) {
      const view = this.views.byMarker(scan.marker);
      if (!view) continue;
      const columns = columnsRead(scan, view.dataColumns);
      let kept: number[] | undefined = view.partitions.map((_, i) => i);
      let share = 1;
      if (scan.fileFilters) {
        kept = await this.views.survivingPartitions(view, scan.fileFilters, scan.scanningFiles?.selected);
        if (!kept) {
          // The filter could not be replayed: bill DuckDB's own share of the files.
          kept = view.partitions.map((_, i) => i);
          share = scan.scanningFiles && scan.scanningFiles.total > 0 ? scan.scanningFiles.selected / scan.scanningFiles.total : 1;
        }
      }
      let bytes = 0;
      let partitions = 0;
      let files = 0;
      for (const i of kept) {
        const partition = view.partitions[i]!;
        if (partition.files.length > 0) partitions += 1;
        files += partition.files.length;
        for (const file of partition.files) bytes += fileScanBytes(file.footer, columns);
      }
      totals.scannedBytes += Math.round(bytes * share);
      totals.partitions += Math.round(partitions * share);
      totals.files += Math.round(files * share);
    }
    return totals;
  }

  /** Installs the Athena functions the SQL calls (and those their macros call) not yet installed. */
  private async installFunctions(sql: string): Promise<void> {
    const statements: string[] = [];
    const install = (name: string) => {
      if (this.functions.has(name)) return;
      const statement = athenaFunctionStatement(name);
      if (!statement) return;
      this.functions.add(name);
      athenaFunctionDependencies(name).forEach(install);
      statements.push(statement);
    };
    calledFunctions(sql).forEach(install);
    if (statements.length > 0) await this.conn.run(statements.join(';\n'));
  }
}

const REMEMBERED = 64;

/** Keeps `value` as the most recently used entry of a small LRU map, and returns it. */
function remember<T>(map: Map<string, T>, key: string, value: T): T {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
  return value;
}

/**
 * The lake tables a query names, qualified with the session database where it has none.
 * Read from DuckDB's parse tree, which, unlike its table-name API, does not look through
 * views. CTE names come along; they match no catalog table.
 */
function tableReferences(tree: unknown, database: string): { database: string; table: string }[] {
  const refs = new Map<string, { database: string; table: string }>();
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['type'] === 'BASE_TABLE' && typeof n['table_name'] === 'string') {
      const catalogName = String(n['catalog_name'] ?? '').toLowerCase();
      if (catalogName === '' || catalogName === LAKE_CATALOG) {
        const db = (String(n['schema_name'] ?? '') || database).toLowerCase();
        const table = n['table_name'].toLowerCase();
        refs.set(`${db}.${table}`, { database: db, table });
      }
    }
    Object.values(n).forEach(visit);
  };
  visit(tree);
  return [...refs.values()];
}
