/**
 * The backend factory: the one place that looks at `config.backend`. Adapters are imported
 * lazily so a command that needs no backend (help, config) never loads the AWS SDK or DuckDB.
 */
import type { LakeConfig } from './config.js';
import type { Logger } from './log.js';
import type { Backend } from './ports.js';

export interface BackendDeps {
  config: LakeConfig;
  log: Logger;
  /** Injected clock: arrival times, query timings. */
  now: () => Date;
  /** Lake's version, for the AWS user agent. */
  version: string;
  /** Environment used for AWS settings (credentials chain reads process.env itself). */
  env: Record<string, string | undefined>;
}

export async function createBackend(deps: BackendDeps): Promise<Backend> {
  if (deps.config.backend === 'aws') {
    const { createAwsBackend } = await import('./aws/backend.js');
    return createAwsBackend(deps);
  }
  const { createLocalBackend } = await import('./local/backend.js');
  return createLocalBackend(deps);
}
