/**
 * Scanned bytes as Athena bills Parquet, from DuckDB's plan.
 *
 * A table view is one `read_parquet` over the files of its registered partitions (see
 * duckdb-lake-views.ts), tagged with a filter `file_index <> <marker>` that is always true
 * and tells, in the plan, which table a scan reads. For every scan of a lake table the plan
 * (EXPLAIN (FORMAT json), the same for an estimate and for the run) says:
 *
 * - which columns it reads: `Projections`, plus the columns its pushed-down `Filters`
 *   name (a filtered column is read even when it is not returned);
 * - which partitions survive pruning: `File Filters`, the predicate on partition keys DuckDB
 *   prunes files with, evaluated over the table's partition values (and checked against
 *   the `Scanning Files: k/n` count DuckDB reports).
 *
 * The bill for a scan is, over its surviving files, the footer (the Thrift metadata, its
 * 4-byte length and the `PAR1` magic) plus the compressed size of the column chunks of the
 * columns read, in every row group. A struct field read alone (`s.a`) bills only that
 * field's chunks. `count(*)` reads no column: it bills the footers only, which is where
 * Parquet keeps row counts. A self-join scans twice and bills twice, as Athena does.
 */

/** What one Parquet file costs to read, from its footer. */
export interface FileFooter {
  /** Bytes of the footer: Thrift FileMetaData + 4-byte length + `PAR1`. */
  footerBytes: number;
  numRows: number;
  /** Top-level columns in file order, by lowercased name. */
  columns: Map<string, ColumnFootprint>;
}

export interface ColumnFootprint {
  /** The name as written in the file. */
  name: string;
  /** Compressed bytes of all its chunks, every row group. */
  bytes: number;
  /** Per leaf path below the column (`['a']` for `s.a`), compressed bytes. */
  leaves: { path: string[]; bytes: number }[];
}

/** A scan of a lake table, as the plan shows it. */
export interface PlanScan {
  marker: number;
  projections: string[];
  filters: string[];
  fileFilters?: string;
  scanningFiles?: { selected: number; total: number };
}

const MARKER = /file_index\s*!=\s*(\d+)/;

/** Every lake-table scan in a DuckDB `EXPLAIN (FORMAT json)` plan (or profile) tree. */
export function collectScans(plan: unknown): PlanScan[] {
  const scans: PlanScan[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as { name?: string; operator_name?: string; extra_info?: Record<string, unknown>; children?: unknown[] };
    const info = n.extra_info ?? {};
    if (info['Function'] === 'READ_PARQUET') {
      const filters = asList(info['Filters']);
      const markerAt = filters.findIndex((f) => MARKER.test(f));
      if (markerAt >= 0) {
        const scan: PlanScan = {
          marker: Number(MARKER.exec(filters[markerAt]!)![1]),
          projections: asList(info['Projections']).flatMap((p) => p.split('\n')).filter((p) => p !== ''),
          filters: filters.filter((_, i) => i !== markerAt),
        };
        const fileFilters = asList(info['File Filters']).join(' AND ');
        if (fileFilters) scan.fileFilters = fileFilters;
        const m = /^(\d+)\/(\d+)$/.exec(String(info['Scanning Files'] ?? ''));
        if (m) scan.scanningFiles = { selected: Number(m[1]), total: Number(m[2]) };
        scans.push(scan);
      }
    }
    (n.children ?? []).forEach(visit);
  };
  visit(plan);
  return scans;
}

function asList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  return [String(value)];
}

/** A column a scan reads: the whole column, or only some nested fields of it. */
export interface ColumnRead {
  column: string;
  /** Field paths read (`[['a']]` for `s.a`); empty when the whole column is read. */
  fields: string[][];
}

/**
 * The data columns a scan reads, lowercased: its projections (`s.a` is field `a` of `s`)
 * and every data column its filters name. Partition keys and virtual columns are not
 * data; they cost nothing.
 */
export function columnsRead(scan: PlanScan, dataColumns: ReadonlySet<string>): ColumnRead[] {
  const whole = new Set<string>();
  const fields = new Map<string, string[][]>();
  for (const projection of scan.projections) {
    const name = projection.toLowerCase();
    if (dataColumns.has(name)) {
      whole.add(name);
      continue;
    }
    const [head, ...rest] = splitPath(name);
    if (head === undefined || !dataColumns.has(head)) continue;
    if (rest.length === 0) whole.add(head);
    else fields.set(head, [...(fields.get(head) ?? []), rest]);
  }
  for (const filter of scan.filters) {
    for (const name of identifiersIn(filter)) if (dataColumns.has(name)) whole.add(name);
  }
  const reads: ColumnRead[] = [...whole].map((column) => ({ column, fields: [] }));
  for (const [column, paths] of fields) if (!whole.has(column)) reads.push({ column, fields: paths });
  return reads.sort((a, b) => a.column.localeCompare(b.column));
}

function splitPath(name: string): string[] {
  return name.split('.').map((p) => p.replace(/^"|"$/g, ''));
}

/** Identifiers (bare or double-quoted) outside string literals, lowercased. */
export function identifiersIn(expression: string): string[] {
  const names: string[] = [];
  const re = /'(?:[^']|'')*'|"((?:[^"]|"")*)"|([A-Za-z_][A-Za-z0-9_$]*)/g;
  for (let m = re.exec(expression); m; m = re.exec(expression)) {
    if (m[1] !== undefined) names.push(m[1].replace(/""/g, '"').toLowerCase());
    else if (m[2] !== undefined) names.push(m[2].toLowerCase());
  }
  return names;
}

/** Bytes billed for reading `columns` from one file. */
export function fileScanBytes(file: FileFooter, columns: readonly ColumnRead[]): number {
  let bytes = file.footerBytes;
  for (const read of columns) {
    const column = file.columns.get(read.column);
    if (!column) continue;
    const leaves = read.fields.length === 0 ? [] : column.leaves.filter((l) => read.fields.some((f) => f.every((p, i) => l.path[i]?.toLowerCase() === p)));
    bytes += leaves.length > 0 ? leaves.reduce((n, l) => n + l.bytes, 0) : column.bytes;
  }
  return bytes;
}

/**
 * Footer of one file from DuckDB's parquet_metadata rows: `path_in_schema` is the leaf
 * path joined with `, ` (`s, a`; `tags, list, element`).
 */
export function footerFromMetadata(footerSize: number, numRows: number, topLevel: readonly string[], chunks: readonly { path: string; bytes: number }[]): FileFooter {
  const columns = new Map<string, ColumnFootprint>();
  for (const name of topLevel) columns.set(name.toLowerCase(), { name, bytes: 0, leaves: [] });
  for (const chunk of chunks) {
    const [head, ...rest] = chunk.path.split(', ');
    const key = head!.toLowerCase();
    let column = columns.get(key);
    if (!column) {
      column = { name: head!, bytes: 0, leaves: [] };
      columns.set(key, column);
    }
    column.bytes += chunk.bytes;
    const leaf = column.leaves.find((l) => l.path.join('\u0000') === rest.join('\u0000'));
    if (leaf) leaf.bytes += chunk.bytes;
    else column.leaves.push({ path: rest, bytes: chunk.bytes });
  }
  return { footerBytes: footerSize + 8, numRows, columns };
}
