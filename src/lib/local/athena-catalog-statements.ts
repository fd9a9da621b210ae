/**
 * The statements the local engine answers from the catalog rather than DuckDB, with
 * Athena's result shapes: SHOW PARTITIONS / COLUMNS / CREATE TABLE, DESCRIBE, ALTER TABLE
 * ADD / DROP PARTITION (in Glue's batch sizes) and MSCK REPAIR TABLE.
 */
import type { Catalog, ObjectStore, PartitionDef, ResultColumn, TableDef } from '../ports.js';
import { AthenaSqlError } from './athena-sql.js';
import type { StatementKind } from './athena-statements.js';
import { LAKE_CATALOG } from './duckdb-lake-views.js';
import { parseS3 } from './lake-view-layout.js';

export type CatalogStatement = Exclude<StatementKind, { kind: 'query' | 'explain' | 'unsupported' }>;

export interface CatalogStatementDeps {
  catalog: Catalog;
  store: ObjectStore;
}

export async function runCatalogStatement(deps: CatalogStatementDeps, statement: CatalogStatement, database: string): Promise<{ columns: ResultColumn[]; rows: (string | null)[][] }> {
  const { catalog } = deps;
  const [db, name] = statement.table.length >= 2 ? statement.table.slice(-2) : [database, statement.table[0]!];
  const table = await catalog.getTable(db!, name!);
  if (!table) throw new AthenaSqlError(`TABLE_NOT_FOUND: Table '${LAKE_CATALOG}.${db}.${name}' does not exist`);
  const varchar = (n: string): ResultColumn => ({ name: n, type: 'varchar' });
  switch (statement.kind) {
    case 'show-partitions': {
      const partitions = await allPartitions(catalog, table);
      return { columns: [varchar('partition')], rows: partitions.map((p) => [partitionName(table, p.values)]) };
    }
    case 'show-columns':
      return { columns: [varchar('field')], rows: [...table.columns, ...table.partitionKeys].map((c) => [c.name]) };
    case 'describe': {
      const rows: string[][] = table.columns.map((c) => [c.name, c.type, c.comment ?? '']);
      for (const k of table.partitionKeys) rows.push([k.name, k.type, k.comment ?? '']);
      if (table.partitionKeys.length > 0) {
        rows.push(['', '', ''], ['# Partition Information', '', ''], ['# col_name', 'data_type', 'comment'], ['', '', '']);
        for (const k of table.partitionKeys) rows.push([k.name, k.type, k.comment ?? '']);
      }
      return { columns: [varchar('col_name'), varchar('data_type'), varchar('comment')], rows };
    }
    case 'show-create-table':
      return { columns: [varchar('createtab_stmt')], rows: showCreateTable(table).map((l) => [l]) };
    case 'add-partitions':
      return { columns: [], rows: await addPartitions(catalog, table, statement.partitions, statement.ifNotExists) };
    case 'drop-partitions':
      return { columns: [], rows: await dropPartitions(catalog, table, statement.partitions, statement.ifExists) };
    case 'msck-repair':
      return { columns: [], rows: await msckRepair(deps, table) };
  }
}

async function addPartitions(catalog: Catalog, table: TableDef, partitions: { values: Record<string, string>; location?: string }[], ifNotExists: boolean): Promise<string[][]> {
  const defs: PartitionDef[] = partitions.map((p) => {
    const values = specValues(table, p.values);
    return { values, location: p.location ?? `${withSlash(table.location)}${table.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/')}/` };
  });
  for (let i = 0; i < defs.length; i += 100) {
    const result = await catalog.batchCreatePartition(table.database, table.name, defs.slice(i, i + 100));
    const error = result.errors.find((e) => !(ifNotExists && e.code === 'AlreadyExistsException'));
    if (error) throw new AthenaSqlError(`${error.code}: ${error.code === 'AlreadyExistsException' ? 'Partition already exists.' : error.message}`);
  }
  return [];
}

async function dropPartitions(catalog: Catalog, table: TableDef, specs: Record<string, string>[], ifExists: boolean): Promise<string[][]> {
  const values = specs.map((s) => specValues(table, s));
  for (let i = 0; i < values.length; i += 25) {
    const result = await catalog.batchDeletePartition(table.database, table.name, values.slice(i, i + 25));
    const error = result.errors.find((e) => !(ifExists && e.code === 'EntityNotFoundException'));
    if (error) throw new AthenaSqlError(`${error.code}: ${error.code === 'EntityNotFoundException' ? 'Partition not found.' : error.message}`);
  }
  return [];
}

/** MSCK REPAIR TABLE: adds the `key=value` partitions found under the location, never drops. */
async function msckRepair({ catalog, store }: CatalogStatementDeps, table: TableDef): Promise<string[][]> {
  const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
  if (keys.length === 0) return [];
  const { bucket, prefix } = parseS3(table.location);
  const registered = new Set((await allPartitions(catalog, table)).map((p) => p.values.join('\u0000')));
  const found = new Map<string, string[]>();
  for await (const object of store.listAll(bucket, { prefix })) {
    const dirs = object.key.slice(prefix.length).split('/').slice(0, -1);
    if (dirs.length < keys.length) continue;
    const values: string[] = [];
    for (let i = 0; i < keys.length; i++) {
      const [k, ...v] = dirs[i]!.split('=');
      if (v.length === 0 || k!.toLowerCase() !== keys[i]) break;
      values.push(decodeURIComponent(v.join('=')));
    }
    if (values.length === keys.length && !registered.has(values.join('\u0000'))) found.set(values.join('\u0000'), values);
  }
  const missing = [...found.values()];
  const defs = missing.map((values) => ({ values, location: `s3://${bucket}/${prefix}${keys.map((k, i) => `${k}=${values[i]}`).join('/')}/` }));
  for (let i = 0; i < defs.length; i += 100) await catalog.batchCreatePartition(table.database, table.name, defs.slice(i, i + 100));
  const names = missing.map((v) => `${table.name}:${partitionName(table, v)}`);
  return names.length === 0 ? [] : [[`Partitions not in metastore:\t${names.join('\t')}`], ...names.map((n) => [`Repair: Added partition to metastore ${n}`])];
}

async function allPartitions(catalog: Catalog, table: TableDef): Promise<PartitionDef[]> {
  const partitions: PartitionDef[] = [];
  let nextToken: string | undefined;
  do {
    const page = await catalog.getPartitions(table.database, table.name, { nextToken, maxResults: 1000 });
    partitions.push(...page.partitions);
    nextToken = page.nextToken;
  } while (nextToken);
  return partitions;
}

function partitionName(table: TableDef, values: readonly string[]): string {
  return table.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/');
}

function specValues(table: TableDef, spec: Record<string, string>): string[] {
  const keys = table.partitionKeys.map((k) => k.name.toLowerCase());
  const given = Object.keys(spec);
  if (given.length !== keys.length || !given.every((k) => keys.includes(k))) {
    throw new AthenaSqlError(`SEMANTIC_ERROR: Partition spec (${given.join(', ')}) does not match the partition keys (${keys.join(', ')}) of ${table.database}.${table.name}`);
  }
  return keys.map((k) => spec[k]!);
}

function withSlash(location: string): string {
  return location.endsWith('/') ? location : location + '/';
}

/** Athena's SHOW CREATE TABLE, one line a row. */
function showCreateTable(table: TableDef): string[] {
  const cols = (columns: TableDef['columns']) => columns.map((c, i) => `  \`${c.name}\` ${c.type}${c.comment ? ` COMMENT '${c.comment}'` : ''}${i < columns.length - 1 ? ',' : ')'}`);
  const lines = [`CREATE EXTERNAL TABLE \`${table.database}\`.\`${table.name}\`(`, ...cols(table.columns)];
  if (table.partitionKeys.length > 0) lines.push('PARTITIONED BY ( ', ...cols(table.partitionKeys));
  if (table.serializationLibrary) lines.push('ROW FORMAT SERDE ', `  '${table.serializationLibrary}' `);
  if (table.inputFormat) lines.push('STORED AS INPUTFORMAT ', `  '${table.inputFormat}' `);
  if (table.outputFormat) lines.push('OUTPUTFORMAT ', `  '${table.outputFormat}'`);
  lines.push('LOCATION', `  '${table.location}'`);
  const params = Object.entries(table.parameters);
  if (params.length > 0) {
    lines.push('TBLPROPERTIES (');
    params.forEach(([k, v], i) => lines.push(`  '${k}'='${v}'${i < params.length - 1 ? ', ' : ')'}`));
  }
  return lines;
}
