import type { LakeConfig } from '../../src/lib/config.js';

/** The emulator tests' table: one column of each Glue scalar type Firehose converts. */
export const SHOP_COLUMNS: readonly LakeConfig['columns'][number][] = [
  { name: 'id', type: 'string' },
  { name: 'qty', type: 'int' },
  { name: 'big', type: 'bigint' },
  { name: 'price', type: 'decimal(10,2)' },
  { name: 'ratio', type: 'double' },
  { name: 'ok', type: 'boolean' },
  { name: 'ts', type: 'timestamp' },
  { name: 'born', type: 'date' },
];
