/**
 * Glue's own JSON shapes, as the local catalog keeps them on disk: their conversion to
 * and from lake's TableDef, PartitionDef and DatabaseDef, the partitions.json text, and
 * how partition records are identified and ordered. Pure: no I/O.
 */
import type { Column, DatabaseDef, PartitionDef, TableDef } from '../ports.js';

export interface GlueColumn {
  Name: string;
  Type: string;
  Comment?: string;
}

export interface GlueDatabase {
  Name: string;
  Description?: string;
  LocationUri?: string;
  Parameters?: Record<string, string>;
  CreateTime: string;
}

export interface GlueTable {
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

export interface GluePartition {
  Values: string[];
  StorageDescriptor: { Location: string };
  Parameters?: Record<string, string>;
  CreationTime: string;
}

function toGlueColumns(columns: Column[]): GlueColumn[] {
  return columns.map((c) => (c.comment === undefined ? { Name: c.name, Type: c.type } : { Name: c.name, Type: c.type, Comment: c.comment }));
}

export function fromGlueColumns(columns: GlueColumn[]): Column[] {
  return columns.map((c) => (c.Comment === undefined ? { name: c.Name, type: c.Type } : { name: c.Name, type: c.Type, comment: c.Comment }));
}

export function toGlueDatabase(db: DatabaseDef, name: string, createTime: string): GlueDatabase {
  const record: GlueDatabase = { Name: name, CreateTime: createTime };
  if (db.description !== undefined) record.Description = db.description;
  if (db.locationUri !== undefined) record.LocationUri = db.locationUri;
  if (db.parameters !== undefined) record.Parameters = { ...db.parameters };
  return record;
}

export function fromGlueDatabase(db: GlueDatabase): DatabaseDef {
  const def: DatabaseDef = { name: db.Name };
  if (db.Description !== undefined) def.description = db.Description;
  if (db.LocationUri !== undefined) def.locationUri = db.LocationUri;
  if (db.Parameters !== undefined) def.parameters = { ...db.Parameters };
  return def;
}

export function toGlueTable(def: TableDef, database: string, name: string, createTime: string, updateTime: string): GlueTable {
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

export function fromGlueTable(table: GlueTable): TableDef {
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

/** A partition record for `p`, with the given values and creation time. */
export function toGluePartition(p: PartitionDef, values: string[], creationTime: string): GluePartition {
  const record: GluePartition = { Values: values, StorageDescriptor: { Location: p.location }, CreationTime: creationTime };
  if (p.parameters !== undefined) record.Parameters = { ...p.parameters };
  return record;
}

export function fromGluePartition(p: GluePartition): PartitionDef {
  const def: PartitionDef = { values: [...p.Values], location: p.StorageDescriptor.Location, createdAt: new Date(p.CreationTime) };
  if (p.Parameters !== undefined) def.parameters = { ...p.Parameters };
  return def;
}

/** Each partition's JSON line, made once: records are never mutated, only replaced. */
const serialized = new WeakMap<GluePartition, string>();

/** A partitions.json file: `{"Partitions": [...]}`, one partition a line. */
export function partitionsFileText(partitions: Iterable<GluePartition>): string {
  const lines: string[] = [];
  for (const p of partitions) {
    let line = serialized.get(p);
    if (line === undefined) serialized.set(p, (line = JSON.stringify(p)));
    lines.push(line);
  }
  return lines.length === 0 ? '{"Partitions": []}\n' : `{"Partitions": [\n${lines.join(',\n')}\n]}\n`;
}

export function parsePartitionsFile(text: string): GluePartition[] {
  return (JSON.parse(text) as { Partitions: GluePartition[] }).Partitions;
}

// ---------------------------------------------------------------- partition identity and order

export function partitionId(values: string[]): string {
  return JSON.stringify(values);
}

export function compareValues(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** FNV-1a: a stable spread of partitions over GetPartitions segments. */
export function segmentOf(id: string, total: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % total;
}

/** Index of the first partition sorting after `after` in `sorted` (by compareValues). */
export function firstAfter(sorted: GluePartition[], after: string[]): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareValues((sorted[mid] as GluePartition).Values, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
