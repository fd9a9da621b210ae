/**
 * What templates/lake.yaml is filled with, from a LakeConfig: names, prefixes, the Glue
 * table (through table-def.ts, as the local deployer builds it), the Firehose prefixes and
 * JQ query (through firehose-prefix.ts, as the local emulator evaluates them), and the
 * flags that keep or drop the optional parts.
 */
import type { LakeConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { firehosePrefixes, validatePrefixes } from '../firehose-prefix.js';
import { tableDefFromConfig } from '../table-def.js';
import type { TemplateInput } from './engine.js';
import type { YamlValue } from './yaml.js';

/** Firehose refuses format conversion (and dynamic partitioning) with a smaller buffer. */
export const MIN_CONVERSION_BUFFER_MIB = 64;

export interface RenderOptions {
  /**
   * Keep the bucket and key when the stack is deleted (`lake destroy --keep-data`).
   * Otherwise deleting the stack deletes them; CloudFormation refuses to delete a bucket
   * that still holds objects, so `destroy` empties it first.
   */
  retainData?: boolean;
}

/**
 * The Kinesis data stream in front of Firehose (`kinesisSource`): the delivery stream's
 * name with `-source`, the name `lake send` writes to (kinesis-source-stream.ts).
 */
export function sourceStreamName(config: Pick<LakeConfig, 'stream'>): string {
  return `${config.stream}-source`;
}

export interface TemplateValues extends TemplateInput {
  /** What the rendering changed from the configuration, worded for the user. */
  notes: string[];
}

export function templateValues(config: LakeConfig, options: RenderOptions = {}): TemplateValues {
  const notes: string[] = [];
  const table = tableDefFromConfig(config);
  const prefixes = firehosePrefixes(config);
  const problems = validatePrefixes({ prefix: prefixes.prefix, errorOutputPrefix: prefixes.errorOutputPrefix, dynamicPartitioning: prefixes.dynamicPartitioning !== undefined });
  if (problems.length > 0) throw new ConfigError(`Firehose would refuse the prefixes this configuration gives: ${problems.join('; ')}`, { hint: 'check prefix, errorPrefix and partitioning in lake.config.json' });

  let bufferSizeMiB = config.buffering.sizeMiB;
  if (bufferSizeMiB < MIN_CONVERSION_BUFFER_MIB) {
    notes.push(`buffering.sizeMiB ${bufferSizeMiB} raised to ${MIN_CONVERSION_BUFFER_MIB}: Firehose needs at least ${MIN_CONVERSION_BUFFER_MIB} MiB to convert to Parquet`);
    bufferSizeMiB = MIN_CONVERSION_BUFFER_MIB;
  }
  const column = (c: { name: string; type: string; comment?: string }): YamlValue => (c.comment === undefined ? { Name: c.name, Type: c.type } : { Name: c.name, Type: c.type, Comment: c.comment });

  const values: Record<string, YamlValue> = {
    name: config.name,
    bucket: config.bucket,
    prefix: config.prefix,
    errorPrefix: config.errorPrefix,
    backupPrefix: config.backupPrefix ?? '',
    resultsPrefix: config.resultsPrefix,
    database: config.database,
    table: config.table,
    stream: config.stream,
    sourceStream: sourceStreamName(config),
    workgroup: config.workgroup,
    dataDeletionPolicy: options.retainData ? 'Retain' : 'Delete',
    tableLocation: table.location,
    inputFormat: table.inputFormat!,
    outputFormat: table.outputFormat!,
    serializationLibrary: table.serializationLibrary!,
    serdeParameters: { ...table.serdeParameters },
    tableParameters: { ...table.parameters },
    partitionKeys: table.partitionKeys.map(column),
    columns: table.columns.map(column),
    deliveryPrefix: prefixes.prefix,
    errorOutputPrefix: prefixes.errorOutputPrefix,
    jqQuery: prefixes.dynamicPartitioning?.jqQuery ?? '',
    bufferSizeMiB,
    bufferIntervalSeconds: config.buffering.intervalSeconds,
    caseInsensitive: config.serde.caseInsensitive,
    convertDotsInJsonKeysToUnderscores: config.serde.convertDotsInJsonKeysToUnderscores,
    columnToJsonKeyMappings: { ...config.serde.columnToJsonKeyMappings },
    bytesScannedCutoff: config.bytesScannedCutoff ?? 0,
  };
  const flags: Record<string, boolean> = {
    backup: config.backupPrefix !== null && config.backupPrefix !== '',
    eventTime: prefixes.dynamicPartitioning !== undefined,
    kinesisSource: config.kinesisSource,
    api: config.api,
    cutoff: config.bytesScannedCutoff !== null,
    keyMappings: Object.keys(config.serde.columnToJsonKeyMappings).length > 0,
  };
  if (config.columns.length === 0) notes.push('the table has no columns yet: add them to lake.config.json (or run `lake init --infer SAMPLE --force`) before sending');
  return { values, flags, notes };
}
