/**
 * The schema failed records are explained and checked against: the Glue table's columns,
 * which are what Firehose converts with, and the OpenX options of the configuration. When
 * the table cannot be read (not deployed yet, no permission), the configuration's columns.
 */
import type { LakeConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Catalog } from '../ports.js';
import { type SerdeSchema, serdeSchemaFromConfig } from '../serde/index.js';

export async function tableSchema(catalog: Catalog, config: LakeConfig, log: Logger): Promise<SerdeSchema> {
  const fromConfig = serdeSchemaFromConfig(config);
  try {
    const table = await catalog.getTable(config.database, config.table);
    if (table && table.columns.length > 0) return { ...fromConfig, columns: table.columns.map((c) => ({ name: c.name, type: c.type })) };
    log.debug(`table ${config.database}.${config.table} not found: explaining with the configuration's columns`);
  } catch (err) {
    log.debug(`reading table ${config.database}.${config.table} failed (${(err as Error).message}): explaining with the configuration's columns`);
  }
  return fromConfig;
}
