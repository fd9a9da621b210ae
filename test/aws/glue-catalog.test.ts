import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  BatchUpdatePartitionCommand,
  CreateTableCommand,
  EntityNotFoundException,
  GetDatabaseCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
  type Table,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { GlueCatalog } from '../../src/lib/aws/glue-catalog.js';
import { ServiceError } from '../../src/lib/errors.js';
import type { PartitionDef, TableDef } from '../../src/lib/ports.js';

const client = new GlueClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const glue = mockClient(client);
let catalog: GlueCatalog;

const PARQUET_IN = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
const PARQUET_OUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';
const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
const CREATED = new Date('2024-05-01T00:00:00.000Z');
const UPDATED = new Date('2024-05-02T00:00:00.000Z');

const TABLE_DEF: TableDef = {
  database: 'weblogs',
  name: 'events',
  location: 's3://weblogs-data/data/',
  columns: [
    { name: 'source', type: 'string' },
    { name: 'ts', type: 'timestamp', comment: 'event time' },
  ],
  partitionKeys: [
    { name: 'year', type: 'string' },
    { name: 'month', type: 'string' },
  ],
  parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
  inputFormat: PARQUET_IN,
  outputFormat: PARQUET_OUT,
  serializationLibrary: PARQUET_SERDE,
  serdeParameters: { 'serialization.format': '1' },
  tableType: 'EXTERNAL_TABLE',
};

const GLUE_TABLE: Table = {
  Name: 'events',
  DatabaseName: 'weblogs',
  CreateTime: CREATED,
  UpdateTime: UPDATED,
  TableType: 'EXTERNAL_TABLE',
  Parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
  PartitionKeys: [
    { Name: 'year', Type: 'string' },
    { Name: 'month', Type: 'string' },
  ],
  StorageDescriptor: {
    Columns: [
      { Name: 'source', Type: 'string' },
      { Name: 'ts', Type: 'timestamp', Comment: 'event time' },
    ],
    Location: 's3://weblogs-data/data/',
    InputFormat: PARQUET_IN,
    OutputFormat: PARQUET_OUT,
    Compressed: false,
    SerdeInfo: { SerializationLibrary: PARQUET_SERDE, Parameters: { 'serialization.format': '1' } },
  },
};

/** The table's storage descriptor with a partition's location, as every partition must carry it. */
const partitionStorage = (location: string) => ({
  Columns: [
    { Name: 'source', Type: 'string' },
    { Name: 'ts', Type: 'timestamp', Comment: 'event time' },
  ],
  Location: location,
  InputFormat: PARQUET_IN,
  OutputFormat: PARQUET_OUT,
  Compressed: false,
  SerdeInfo: { SerializationLibrary: PARQUET_SERDE, Parameters: { 'serialization.format': '1' } },
});

const partition = (year: string, month: string): PartitionDef => ({ values: [year, month], location: `s3://weblogs-data/data/year=${year}/month=${month}/` });

beforeEach(() => {
  glue.reset();
  catalog = new GlueCatalog(() => Promise.resolve(client));
});

describe('GlueCatalog shape translation', () => {
  it('writes a TableDef as exactly this TableInput', async () => {
    glue.on(CreateTableCommand).resolves({});

    await catalog.createTable(TABLE_DEF);

    expect(glue.commandCalls(CreateTableCommand)[0]!.args[0].input).toStrictEqual({
      DatabaseName: 'weblogs',
      TableInput: {
        Name: 'events',
        TableType: 'EXTERNAL_TABLE',
        Parameters: { classification: 'parquet', EXTERNAL: 'TRUE' },
        PartitionKeys: [
          { Name: 'year', Type: 'string' },
          { Name: 'month', Type: 'string' },
        ],
        StorageDescriptor: {
          Columns: [
            { Name: 'source', Type: 'string' },
            { Name: 'ts', Type: 'timestamp', Comment: 'event time' },
          ],
          Location: 's3://weblogs-data/data/',
          InputFormat: PARQUET_IN,
          OutputFormat: PARQUET_OUT,
          SerdeInfo: { SerializationLibrary: PARQUET_SERDE, Parameters: { 'serialization.format': '1' } },
        },
      },
    });
  });

  it('reads a Glue table back as the same TableDef, with its times', async () => {
    glue.on(GetTableCommand).resolves({ Table: GLUE_TABLE });

    expect(await catalog.getTable('weblogs', 'events')).toStrictEqual({ ...TABLE_DEF, createdAt: CREATED, updatedAt: UPDATED });
    expect(glue.commandCalls(GetTableCommand)[0]!.args[0].input).toStrictEqual({ DatabaseName: 'weblogs', Name: 'events' });
  });

  it('answers undefined for a table or database Glue does not know', async () => {
    glue.on(GetTableCommand).rejects(new EntityNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Table events not found.' }));
    glue.on(GetDatabaseCommand).rejects(new EntityNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Database weblogs not found.' }));

    expect(await catalog.getTable('weblogs', 'events')).toBeUndefined();
    expect(await catalog.getDatabase('weblogs')).toBeUndefined();
  });

  it('maps a database', async () => {
    glue.on(GetDatabaseCommand).resolves({ Database: { Name: 'weblogs', Description: 'lake', LocationUri: 's3://weblogs-data/', Parameters: { owner: 'lake' } } });
    expect(await catalog.getDatabase('weblogs')).toStrictEqual({ name: 'weblogs', description: 'lake', locationUri: 's3://weblogs-data/', parameters: { owner: 'lake' } });
  });
});

describe('GlueCatalog.getPartitions', () => {
  it('pages with NextToken, passes Segment, Expression and MaxResults through, and always excludes the column schema', async () => {
    glue
      .on(GetPartitionsCommand)
      .resolvesOnce({
        Partitions: [
          { Values: ['2024', '05'], StorageDescriptor: { Location: 's3://weblogs-data/data/year=2024/month=05/' }, CreationTime: CREATED },
          { Values: ['2024', '06'], StorageDescriptor: { Location: 's3://weblogs-data/data/year=2024/month=06/' }, Parameters: { note: 'x' } },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ Partitions: [{ Values: ['2024', '07'], StorageDescriptor: { Location: 's3://weblogs-data/data/year=2024/month=07/' } }] });

    const options = { segment: { number: 2, total: 4 }, expression: "year = '2024'", maxResults: 2 };
    const first = await catalog.getPartitions('weblogs', 'events', options);
    const second = await catalog.getPartitions('weblogs', 'events', { ...options, nextToken: first.nextToken });

    expect(first).toStrictEqual({
      partitions: [
        { values: ['2024', '05'], location: 's3://weblogs-data/data/year=2024/month=05/', createdAt: CREATED },
        { values: ['2024', '06'], location: 's3://weblogs-data/data/year=2024/month=06/', parameters: { note: 'x' } },
      ],
      nextToken: 'page-2',
    });
    expect(second).toStrictEqual({ partitions: [{ values: ['2024', '07'], location: 's3://weblogs-data/data/year=2024/month=07/' }] });
    const inputs = glue.commandCalls(GetPartitionsCommand).map((c) => c.args[0].input);
    const expected = {
      DatabaseName: 'weblogs',
      TableName: 'events',
      Expression: "year = '2024'",
      MaxResults: 2,
      Segment: { SegmentNumber: 2, TotalSegments: 4 },
      ExcludeColumnSchema: true,
    };
    expect(inputs).toStrictEqual([
      { ...expected, NextToken: undefined },
      { ...expected, NextToken: 'page-2' },
    ]);
  });

  it('refuses a segment outside 0..total-1 or more than 10 segments, without a call', async () => {
    await expect(catalog.getPartitions('weblogs', 'events', { segment: { number: 4, total: 4 } })).rejects.toMatchObject({ constructor: ServiceError, code: 'ValidationException' });
    await expect(catalog.getPartitions('weblogs', 'events', { segment: { number: 0, total: 11 } })).rejects.toMatchObject({ constructor: ServiceError, code: 'ValidationException' });
    expect(glue.commandCalls(GetPartitionsCommand)).toHaveLength(0);
  });
});

describe('GlueCatalog.batchCreatePartition', () => {
  it("copies the table's storage descriptor into each partition and returns per-item errors such as AlreadyExistsException", async () => {
    glue.on(GetTableCommand).resolves({ Table: GLUE_TABLE });
    glue.on(BatchCreatePartitionCommand).resolves({
      Errors: [{ PartitionValues: ['2024', '05'], ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' } }],
    });

    const result = await catalog.batchCreatePartition('weblogs', 'events', [partition('2024', '05'), { ...partition('2024', '06'), parameters: { source: 'lake' } }]);

    expect(result).toStrictEqual({ errors: [{ values: ['2024', '05'], code: 'AlreadyExistsException', message: 'Partition already exists.' }] });
    expect(glue.commandCalls(BatchCreatePartitionCommand)[0]!.args[0].input).toStrictEqual({
      DatabaseName: 'weblogs',
      TableName: 'events',
      PartitionInputList: [
        { Values: ['2024', '05'], StorageDescriptor: partitionStorage('s3://weblogs-data/data/year=2024/month=05/') },
        { Values: ['2024', '06'], StorageDescriptor: partitionStorage('s3://weblogs-data/data/year=2024/month=06/'), Parameters: { source: 'lake' } },
      ],
    });
  });

  it('reads the table once for many batches, and again after lake updates the table', async () => {
    glue.on(GetTableCommand).resolves({ Table: GLUE_TABLE });
    glue.on(BatchCreatePartitionCommand).resolves({});

    await catalog.batchCreatePartition('weblogs', 'events', [partition('2024', '05')]);
    await catalog.batchCreatePartition('weblogs', 'events', [partition('2024', '06')]);
    expect(glue.commandCalls(GetTableCommand)).toHaveLength(1);

    glue.on(CreateTableCommand).resolves({});
    await catalog.createTable(TABLE_DEF);
    await catalog.batchCreatePartition('weblogs', 'events', [partition('2024', '07')]);
    expect(glue.commandCalls(GetTableCommand)).toHaveLength(2);
  });

  it('refuses more than 100 partitions without calling Glue', async () => {
    const many = Array.from({ length: 101 }, (_, i) => partition('2024', String(i)));
    await expect(catalog.batchCreatePartition('weblogs', 'events', many)).rejects.toMatchObject({
      constructor: ServiceError,
      code: 'ValidationException',
      message: 'BatchCreatePartition takes at most 100 partitions a call, got 101',
    });
    expect(glue.calls()).toHaveLength(0);
  });
});

describe('GlueCatalog.batchDeletePartition', () => {
  it('deletes by values and maps per-item errors', async () => {
    glue.on(BatchDeletePartitionCommand).resolves({
      Errors: [{ PartitionValues: ['2023', '01'], ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Partition not found.' } }],
    });

    const result = await catalog.batchDeletePartition('weblogs', 'events', [
      ['2023', '01'],
      ['2023', '02'],
    ]);

    expect(result).toStrictEqual({ errors: [{ values: ['2023', '01'], code: 'EntityNotFoundException', message: 'Partition not found.' }] });
    expect(glue.commandCalls(BatchDeletePartitionCommand)[0]!.args[0].input).toStrictEqual({
      DatabaseName: 'weblogs',
      TableName: 'events',
      PartitionsToDelete: [{ Values: ['2023', '01'] }, { Values: ['2023', '02'] }],
    });
  });

  it('refuses more than 25 without calling Glue', async () => {
    const many = Array.from({ length: 26 }, (_, i) => ['2024', String(i)]);
    await expect(catalog.batchDeletePartition('weblogs', 'events', many)).rejects.toMatchObject({
      constructor: ServiceError,
      code: 'ValidationException',
      message: 'BatchDeletePartition takes at most 25 partitions a call, got 26',
    });
    expect(glue.calls()).toHaveLength(0);
  });
});

describe('GlueCatalog.batchUpdatePartition', () => {
  it('sends Entries of PartitionValueList + PartitionInput and maps per-item errors', async () => {
    glue.on(GetTableCommand).resolves({ Table: GLUE_TABLE });
    glue.on(BatchUpdatePartitionCommand).resolves({
      Errors: [{ PartitionValueList: ['2024', '05'], ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Partition not found.' } }],
    });

    const moved = { values: ['2024', '05'], location: 's3://weblogs-data/moved/year=2024/month=05/' };
    const result = await catalog.batchUpdatePartition('weblogs', 'events', [moved]);

    expect(result).toStrictEqual({ errors: [{ values: ['2024', '05'], code: 'EntityNotFoundException', message: 'Partition not found.' }] });
    expect(glue.commandCalls(BatchUpdatePartitionCommand)[0]!.args[0].input).toStrictEqual({
      DatabaseName: 'weblogs',
      TableName: 'events',
      Entries: [
        {
          PartitionValueList: ['2024', '05'],
          PartitionInput: { Values: ['2024', '05'], StorageDescriptor: partitionStorage('s3://weblogs-data/moved/year=2024/month=05/') },
        },
      ],
    });
  });

  it('refuses more than 100 without calling Glue', async () => {
    const many = Array.from({ length: 101 }, (_, i) => partition('2024', String(i)));
    await expect(catalog.batchUpdatePartition('weblogs', 'events', many)).rejects.toMatchObject({ constructor: ServiceError, code: 'ValidationException' });
    expect(glue.calls()).toHaveLength(0);
  });
});
