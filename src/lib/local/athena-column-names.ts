/**
 * Result column names as Athena (Trino) gives them, from DuckDB's parse tree
 * (json_serialize_sql). Trino names an output column by its alias, or for a bare column
 * reference (`source`, `t.source`, `info.y`) by its last part as the query spells it; any
 * other expression has no name and is reported as `_col<N>`, N its 0-based position in the
 * output (`SELECT source, count(*)` gives `source`, `_col1`). `*` expands to the names of
 * what it selects from, so unnamed columns of a subquery or CTE stay unnamed outside it.
 * A UNION takes the names of its first query; VALUES columns have none.
 *
 * DuckDB names the same columns `count_star()`, `1`, `(a + 1)`: those names are replaced.
 * Where the tree cannot say (a `*` over a table, a table function, DuckDB-only syntax),
 * DuckDB's own names stand; they are the table's column names.
 */

/** One output column, or a run of them of unknown length whose names DuckDB gives. */
type Segment = { name: string } | { unnamed: true } | { run: true };

type Node = Record<string, unknown>;
type Ctes = ReadonlyMap<string, { node: unknown; aliases: string[] }>;

const RUN: Segment = { run: true };

/** Athena's names for a query's result columns; DuckDB's names where they cannot be told. */
export function athenaColumnNames(tree: unknown, duckdbNames: readonly string[]): string[] {
  const statement = (tree as { statements?: { node?: unknown }[] } | undefined)?.statements?.[0]?.node;
  if (statement === undefined) return [...duckdbNames];
  const segments = querySegments(statement, new Map());
  const names = [...duckdbNames];
  const fixed = segments.filter((s) => !('run' in s)).length;
  const runs = segments.length - fixed;
  const apply = (segment: Segment, position: number) => {
    if ('name' in segment) names[position] = segment.name;
    else if ('unnamed' in segment) names[position] = `_col${position}`;
  };
  if (runs === 0 && fixed !== duckdbNames.length) return names;
  if (runs <= 1) {
    const runLength = duckdbNames.length - fixed;
    if (runLength < 0) return names;
    let position = 0;
    for (const segment of segments) {
      if ('run' in segment) position += runLength;
      else apply(segment, position++);
    }
    return names;
  }
  // Several runs of unknown length: positions are known before the first and after the last.
  const first = segments.findIndex((s) => 'run' in s);
  const last = segments.length - 1 - [...segments].reverse().findIndex((s) => 'run' in s);
  segments.slice(0, first).forEach((s, i) => apply(s, i));
  segments.slice(last + 1).forEach((s, i, tail) => apply(s, duckdbNames.length - tail.length + i));
  return names;
}

function querySegments(value: unknown, outer: Ctes): Segment[] {
  const node = value as Node | undefined;
  if (!node || typeof node !== 'object') return [RUN];
  const ctes = withCtes(node, outer);
  if (node['type'] === 'SET_OPERATION_NODE') return querySegments(node['left'], ctes);
  if (node['type'] !== 'SELECT_NODE' || !Array.isArray(node['select_list'])) return [RUN];
  const segments: Segment[] = [];
  for (const item of node['select_list'] as Node[]) {
    const alias = typeof item['alias'] === 'string' ? item['alias'] : '';
    if (alias !== '') segments.push({ name: alias });
    else if (item['class'] === 'COLUMN_REF' && Array.isArray(item['column_names']) && item['column_names'].length > 0) {
      segments.push({ name: String(item['column_names'].at(-1)) });
    } else if (item['class'] === 'STAR') segments.push(...starSegments(item, node['from_table'], ctes));
    else segments.push({ unnamed: true });
  }
  return segments;
}

/** A plain `*` over what the FROM clause gives; DuckDB's `* EXCLUDE`, `t.*`, COLUMNS(...) are runs. */
function starSegments(star: Node, from: unknown, ctes: Ctes): Segment[] {
  const plain =
    star['columns'] !== true &&
    (star['relation_name'] ?? '') === '' &&
    [star['exclude_list'], star['replace_list'], star['rename_list'], star['qualified_exclude_list']].every((l) => !Array.isArray(l) || l.length === 0);
  return plain ? relationSegments(from, ctes) : [RUN];
}

function relationSegments(value: unknown, ctes: Ctes): Segment[] {
  const table = value as Node | undefined;
  if (!table || typeof table !== 'object') return [RUN];
  const aliases = Array.isArray(table['column_name_alias']) ? (table['column_name_alias'] as string[]) : [];
  let segments: Segment[];
  switch (table['type']) {
    case 'EMPTY':
      return [];
    case 'SUBQUERY':
      segments = querySegments((table['subquery'] as Node | undefined)?.['node'], ctes);
      break;
    case 'EXPRESSION_LIST': {
      const rows = table['values'] as unknown[][] | undefined;
      segments = Array.from({ length: rows?.[0]?.length ?? 0 }, () => ({ unnamed: true }));
      break;
    }
    case 'BASE_TABLE': {
      const name = String(table['table_name']).toLowerCase();
      const cte = (table['schema_name'] ?? '') === '' ? ctes.get(name) : undefined;
      // Inside its own definition a CTE name is not itself (a recursive CTE's second half).
      const inner = new Map(ctes);
      inner.delete(name);
      segments = cte ? renamed(querySegments(cte.node, inner), cte.aliases) : [RUN];
      break;
    }
    case 'JOIN': {
      const using = Array.isArray(table['using_columns']) && table['using_columns'].length > 0;
      if (using || table['ref_type'] === 'NATURAL') return [RUN];
      segments = [...relationSegments(table['left'], ctes), ...relationSegments(table['right'], ctes)];
      break;
    }
    default:
      return [RUN];
  }
  return renamed(segments, aliases);
}

/** `AS t(a, b)` names the first columns; the rest keep theirs. */
function renamed(segments: Segment[], aliases: readonly string[]): Segment[] {
  if (aliases.length === 0) return segments;
  if (segments.some((s) => 'run' in s)) return [RUN];
  return segments.map((s, i) => (i < aliases.length ? { name: aliases[i]! } : s));
}

function withCtes(node: Node, outer: Ctes): Ctes {
  const map = (node['cte_map'] as { map?: { key?: unknown; value?: { aliases?: unknown; query?: { node?: unknown } } }[] } | undefined)?.map;
  if (!Array.isArray(map) || map.length === 0) return outer;
  const ctes = new Map(outer);
  for (const entry of map) {
    if (typeof entry.key !== 'string') continue;
    ctes.set(entry.key.toLowerCase(), { node: entry.value?.query?.node, aliases: Array.isArray(entry.value?.aliases) ? (entry.value.aliases as string[]) : [] });
  }
  return ctes;
}
