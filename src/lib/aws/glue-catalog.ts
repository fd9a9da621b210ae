/**
 * Catalog over the AWS Glue Data Catalog. Translates lake's TableDef/PartitionDef to
 * Glue's TableInput/PartitionInput and back, enforces Glue's batch limits before calling,
 * and returns per-item batch errors instead of throwing.
 */
import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  BatchUpdatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteTableCommand,
  GetDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  UpdateTableCommand,
  type Column as GlueColumn,
  type DatabaseInput,
  type ErrorDetail,
  type GlueClient,
  type Partition,
  type PartitionInput,
  type StorageDescriptor,
  type Table,
  type TableInput,
} from '@aws-sdk/client-glue';
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

/** Glue's per-call limits (API reference: BatchCreatePartition, BatchDeletePartition, BatchUpdatePartition). */
export const GLUE_LIMITS = { batchCreatePartition: 100, batchDeletePartition: 25, batchUpdatePartition: 100, getPartitionsMaxResults: 1000, maxSegments: 10 } as const;

function isNotFound(err: unknown): boolean {
  return (err as Error).name === 'EntityNotFoundException';
}

function tooMany(operation: string, limit: number, got: number): ServiceError {
  // The same code and wording Glue's own validation uses, so both backends fail alike.
  return new ServiceError(`${operation} takes at most ${limit} partitions a call, got ${got}`, { service: 'glue', code: 'ValidationException' });
}

export function toGlueColumn(column: Column): GlueColumn {
  const out: GlueColumn = { Name: column.name, Type: column.type };
  if (column.comment !== undefined) out.Comment = column.comment;
  return out;
}

export function fromGlueColumn(column: GlueColumn): Column {
  const out: Column = { name: column.Name ?? '', type: column.Type ?? '' };
  if (column.Comment !== undefined) out.comment = column.Comment;
  return out;
}

export function toTableInput(table: TableDef): TableInput {
  const storage: StorageDescriptor = { Columns: table.columns.map(toGlueColumn), Location: table.location };
  if (table.inputFormat !== undefined) storage.InputFormat = table.inputFormat;
  if (table.outputFormat !== undefined) storage.OutputFormat = table.outputFormat;
  if (table.serializationLibrary !== undefined || table.serdeParameters !== undefined) {
    storage.SerdeInfo = {};
    if (table.serializationLibrary !== undefined) storage.SerdeInfo.SerializationLibrary = table.serializationLibrary;
    if (table.serdeParameters !== undefined) storage.SerdeInfo.Parameters = { ...table.serdeParameters };
  }
  return {
    Name: table.name,
    TableType: table.tableType ?? 'EXTERNAL_TABLE',
    Parameters: { ...table.parameters },
    PartitionKeys: table.partitionKeys.map(toGlueColumn),
    StorageDescriptor: storage,
  };
}

export function fromGlueTable(database: string, table: Table): TableDef {
  const storage = table.StorageDescriptor ?? {};
  const out: TableDef = {
    database: table.DatabaseName ?? database,
    name: table.Name ?? '',
    location: storage.Location ?? '',
    columns: (storage.Columns ?? []).map(fromGlueColumn),
    partitionKeys: (table.PartitionKeys ?? []).map(fromGlueColumn),
    parameters: { ...(table.Parameters ?? {}) },
  };
  if (storage.InputFormat !== undefined) out.inputFormat = storage.InputFormat;
  if (storage.OutputFormat !== undefined) out.outputFormat = storage.OutputFormat;
  if (storage.SerdeInfo?.SerializationLibrary !== undefined) out.serializationLibrary = storage.SerdeInfo.SerializationLibrary;
  if (storage.SerdeInfo?.Parameters !== undefined) out.serdeParameters = { ...storage.SerdeInfo.Parameters };
  if (table.TableType !== undefined) out.tableType = table.TableType;
  if (table.CreateTime !== undefined) out.createdAt = table.CreateTime;
  if (table.UpdateTime !== undefined) out.updatedAt = table.UpdateTime;
  return out;
}

export function fromGluePartition(partition: Partition): PartitionDef {
  const out: PartitionDef = { values: [...(partition.Values ?? [])], location: partition.StorageDescriptor?.Location ?? '' };
  if (partition.Parameters !== undefined) out.parameters = { ...partition.Parameters };
  if (partition.CreationTime !== undefined) out.createdAt = partition.CreationTime;
  return out;
}

/**
 * A partition as Athena and Glue expect it: the table's storage descriptor (columns,
 * formats, serde) with the partition's own location. A partition registered without
 * them reads as having no columns or an unknown format.
 */
export function toPartitionInput(tableStorage: StorageDescriptor, partition: PartitionDef): PartitionInput {
  const input: PartitionInput = { Values: [...partition.values], StorageDescriptor: { ...tableStorage, Location: partition.location } };
  if (partition.parameters !== undefined) input.Parameters = { ...partition.parameters };
  return input;
}

function toPartitionError(values: string[] | undefined, detail: ErrorDetail | undefined): PartitionError {
  return { values: [...(values ?? [])], code: detail?.ErrorCode ?? 'Unknown', message: detail?.ErrorMessage ?? '' };
}

export class GlueCatalog implements Catalog {
  /** Table storage descriptors, copied into every partition written; dropped when lake changes the table. */
  private readonly storageCache = new Map<string, Promise<StorageDescriptor>>();

  constructor(private readonly getClient: () => Promise<GlueClient>) {}

  async getDatabase(name: string): Promise<DatabaseDef | undefined> {
    const client = await this.getClient();
    try {
      const { Database: db } = await client.send(new GetDatabaseCommand({ Name: name }));
      if (!db) return undefined;
      const out: DatabaseDef = { name: db.Name ?? name };
      if (db.Description !== undefined) out.description = db.Description;
      if (db.LocationUri !== undefined) out.locationUri = db.LocationUri;
      if (db.Parameters !== undefined) out.parameters = { ...db.Parameters };
      return out;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async createDatabase(db: DatabaseDef): Promise<void> {
    const client = await this.getClient();
    const input: DatabaseInput = { Name: db.name };
    if (db.description !== undefined) input.Description = db.description;
    if (db.locationUri !== undefined) input.LocationUri = db.locationUri;
    if (db.parameters !== undefined) input.Parameters = { ...db.parameters };
    await client.send(new CreateDatabaseCommand({ DatabaseInput: input }));
  }

  async getTable(database: string, name: string): Promise<TableDef | undefined> {
    const table = await this.getGlueTable(database, name);
    return table ? fromGlueTable(database, table) : undefined;
  }

  async createTable(table: TableDef): Promise<void> {
    const client = await this.getClient();
    this.storageCache.delete(cacheKey(table.database, table.name));
    await client.send(new CreateTableCommand({ DatabaseName: table.database, TableInput: toTableInput(table) }));
  }

  async updateTable(table: TableDef): Promise<void> {
    const client = await this.getClient();
    this.storageCache.delete(cacheKey(table.database, table.name));
    await client.send(new UpdateTableCommand({ DatabaseName: table.database, TableInput: toTableInput(table) }));
  }

  async deleteTable(database: string, name: string): Promise<void> {
    const client = await this.getClient();
    this.storageCache.delete(cacheKey(database, name));
    await client.send(new DeleteTableCommand({ DatabaseName: database, Name: name }));
  }

  async getPartitions(database: string, table: string, options: GetPartitionsOptions = {}): Promise<PartitionPage> {
    const { segment } = options;
    if (segment && !(Number.isInteger(segment.total) && segment.total >= 1 && segment.total <= GLUE_LIMITS.maxSegments && Number.isInteger(segment.number) && segment.number >= 0 && segment.number < segment.total)) {
      throw new ServiceError(`GetPartitions segment must be 0 to total-1 with total 1 to ${GLUE_LIMITS.maxSegments}, got ${segment.number} of ${segment.total}`, { service: 'glue', code: 'ValidationException' });
    }
    const client = await this.getClient();
    const out = await client.send(
      new GetPartitionsCommand({
        DatabaseName: database,
        TableName: table,
        Expression: options.expression,
        NextToken: options.nextToken,
        MaxResults: options.maxResults,
        // Glue numbers segments from 0, as the port does.
        Segment: segment ? { SegmentNumber: segment.number, TotalSegments: segment.total } : undefined,
        // Every partition repeats the table's columns otherwise: responses shrink several-fold.
        ExcludeColumnSchema: true,
      }),
      { abortSignal: options.signal },
    );
    const page: PartitionPage = { partitions: (out.Partitions ?? []).map(fromGluePartition) };
    if (out.NextToken) page.nextToken = out.NextToken;
    return page;
  }

  async batchCreatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult> {
    if (partitions.length > GLUE_LIMITS.batchCreatePartition) throw tooMany('BatchCreatePartition', GLUE_LIMITS.batchCreatePartition, partitions.length);
    if (partitions.length === 0) return { errors: [] };
    const storage = await this.tableStorage(database, table);
    const client = await this.getClient();
    const out = await client.send(
      new BatchCreatePartitionCommand({ DatabaseName: database, TableName: table, PartitionInputList: partitions.map((p) => toPartitionInput(storage, p)) }),
    );
    return { errors: (out.Errors ?? []).map((e) => toPartitionError(e.PartitionValues, e.ErrorDetail)) };
  }

  async batchDeletePartition(database: string, table: string, values: string[][]): Promise<BatchPartitionResult> {
    if (values.length > GLUE_LIMITS.batchDeletePartition) throw tooMany('BatchDeletePartition', GLUE_LIMITS.batchDeletePartition, values.length);
    if (values.length === 0) return { errors: [] };
    const client = await this.getClient();
    const out = await client.send(
      new BatchDeletePartitionCommand({ DatabaseName: database, TableName: table, PartitionsToDelete: values.map((v) => ({ Values: [...v] })) }),
    );
    return { errors: (out.Errors ?? []).map((e) => toPartitionError(e.PartitionValues, e.ErrorDetail)) };
  }

  async batchUpdatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult> {
    if (partitions.length > GLUE_LIMITS.batchUpdatePartition) throw tooMany('BatchUpdatePartition', GLUE_LIMITS.batchUpdatePartition, partitions.length);
    if (partitions.length === 0) return { errors: [] };
    const storage = await this.tableStorage(database, table);
    const client = await this.getClient();
    const out = await client.send(
      new BatchUpdatePartitionCommand({
        DatabaseName: database,
        TableName: table,
        Entries: partitions.map((p) => ({ PartitionValueList: [...p.values], PartitionInput: toPartitionInput(storage, p) })),
      }),
    );
    return { errors: (out.Errors ?? []).map((e) => toPartitionError(e.PartitionValueList, e.ErrorDetail)) };
  }

  private async getGlueTable(database: string, name: string): Promise<Table | undefined> {
    const client = await this.getClient();
    try {
      const { Table: table } = await client.send(new GetTableCommand({ DatabaseName: database, Name: name }));
      return table;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The table's storage descriptor without its location, read once per table (sync writes many batches). */
  private tableStorage(database: string, table: string): Promise<StorageDescriptor> {
    const key = cacheKey(database, table);
    let storage = this.storageCache.get(key);
    if (!storage) {
      storage = this.getGlueTable(database, table).then((found) => {
        if (!found) {
          throw new ServiceError(`table ${database}.${table} does not exist in the Glue catalog`, {
            service: 'glue',
            code: 'EntityNotFoundException',
            hint: 'run `lake deploy` (or `lake init --deploy`) to create it',
          });
        }
        const { Location: _location, ...rest } = found.StorageDescriptor ?? {};
        return rest;
      });
      this.storageCache.set(key, storage);
      // A failed lookup must not be remembered: the next call asks again.
      storage.catch(() => this.storageCache.delete(key));
    }
    return storage;
  }
}

function cacheKey(database: string, table: string): string {
  return `${database}\u0000${table}`;
}
