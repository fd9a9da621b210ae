/**
 * The Glue table lake's configuration describes: Parquet formats and serde, the data
 * columns, the time partition keys (strings, as Firehose writes them: month '05'), and
 * partition projection parameters when asked for. Shared by the local deployer, the
 * CloudFormation template and the engines.
 */
import { type LakeConfig, type TimeKey, tableLocation } from './config.js';
import type { Column, TableDef } from './ports.js';

export const PARQUET_INPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
export const PARQUET_OUTPUT_FORMAT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';
export const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';

const PROJECTION_RANGES: Record<TimeKey, { range: string; digits: number }> = {
  year: { range: '2020,2099', digits: 4 },
  month: { range: '1,12', digits: 2 },
  day: { range: '1,31', digits: 2 },
  hour: { range: '0,23', digits: 2 },
};

export function partitionKeyColumns(config: LakeConfig): Column[] {
  return config.partitioning.keys.map((name) => ({ name, type: 'string' }));
}

/** The relative path of one partition under the table location: `year=2024/month=05/` or `2024/05/`. */
export function partitionPath(config: LakeConfig, values: string[]): string {
  const keys = config.partitioning.keys;
  return keys.map((key, i) => (config.partitioning.layout === 'hive' ? `${key}=${values[i]}` : values[i])).join('/') + '/';
}

export function projectionParameters(config: LakeConfig): Record<string, string> {
  const keys = config.partitioning.keys;
  const params: Record<string, string> = { 'projection.enabled': 'true' };
  for (const key of keys) {
    const { range, digits } = PROJECTION_RANGES[key];
    params[`projection.${key}.type`] = 'integer';
    params[`projection.${key}.range`] = range;
    params[`projection.${key}.digits`] = String(digits);
  }
  const template = keys.map((key) => (config.partitioning.layout === 'hive' ? `${key}=\${${key}}` : `\${${key}}`)).join('/');
  params['storage.location.template'] = `${tableLocation(config)}${template}/`;
  return params;
}

export function tableDefFromConfig(config: LakeConfig): TableDef {
  const parameters: Record<string, string> = {
    classification: 'parquet',
    'parquet.compression': 'SNAPPY',
    EXTERNAL: 'TRUE',
    ...(config.partitioning.projection ? projectionParameters(config) : {}),
  };
  return {
    database: config.database,
    name: config.table,
    location: tableLocation(config),
    columns: config.columns.map((c) => ({ ...c })),
    partitionKeys: partitionKeyColumns(config),
    parameters,
    inputFormat: PARQUET_INPUT_FORMAT,
    outputFormat: PARQUET_OUTPUT_FORMAT,
    serializationLibrary: PARQUET_SERDE,
    serdeParameters: { 'serialization.format': '1' },
    tableType: 'EXTERNAL_TABLE',
  };
}
