/**
 * lake.config.json: found upward from the working directory (or named with -c), validated
 * on load with messages naming the file and the field, and merged with environment and
 * flags. Precedence, highest first: flag > LAKE_* env > file > AWS_REGION /
 * AWS_DEFAULT_REGION > the profile's region in ~/.aws/config (region only, as the AWS CLI
 * reads them) > defaults. Every resolved value remembers its source so `lake config` can
 * show it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { CONFIG_FILE, type ResolvedConfig, type ValueSource, allSources, defaultConfig } from './config-defaults.js';
import { validateConfig } from './config-validate.js';
import { ConfigError } from './errors.js';

export * from './config-defaults.js';
export { validateConfig } from './config-validate.js';
export { nearest, suggest } from './suggest.js';

/** What the command line and environment say, already parsed by the program. */
export interface ConfigOverrides {
  configPath?: string;
  region?: { value: string; source: ValueSource };
  profile?: { value: string; source: ValueSource };
  endpointUrl?: { value: string; source: ValueSource };
  backend?: { value: string; source: ValueSource };
  /** The SDK's region variables: used only when neither flag, LAKE_REGION nor the file sets one. */
  awsRegion?: { value: string; source: ValueSource };
  /** The region the shared config file gives a profile (the resolved one, if any): used when nothing above sets one. */
  sharedConfigRegion?: (profile: string | undefined) => { value: string; source: ValueSource } | undefined;
}

/** Looks for lake.config.json in `cwd` and each parent. */
export function findConfig(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function loadConfig(cwd: string, overrides: ConfigOverrides = {}, options: { required?: boolean } = {}): ResolvedConfig {
  const path = overrides.configPath ? resolve(cwd, overrides.configPath) : findConfig(cwd);
  if (overrides.configPath && path && !existsSync(path)) {
    throw new ConfigError(`config file ${overrides.configPath} does not exist`, { hint: 'check the -c/--config path, or run `lake init` to create one' });
  }
  if (!path) {
    if (options.required !== false) {
      throw new ConfigError(`no ${CONFIG_FILE} found in ${resolve(cwd)} or any parent folder`, {
        hint: 'run `lake init` to create one, or pass -c FILE',
      });
    }
    return applyOverrides({ config: defaultConfig(), sources: allSources('default') }, overrides);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${basename(path)}: not valid JSON: ${(err as Error).message}`, { hint: `fix the syntax of ${path}` });
  }
  const resolved = validateConfig(raw, basename(path));
  resolved.path = path;
  if (!isAbsolute(resolved.config.lakeDir)) resolved.config.lakeDir = join(dirname(path), resolved.config.lakeDir);
  return applyOverrides(resolved, overrides);
}

function applyOverrides(resolved: ResolvedConfig, overrides: ConfigOverrides): ResolvedConfig {
  const { config, sources } = resolved;
  if (overrides.awsRegion && sources.region === 'default') {
    config.region = overrides.awsRegion.value;
    sources.region = overrides.awsRegion.source;
  }
  if (overrides.region) {
    config.region = overrides.region.value;
    sources.region = overrides.region.source;
  }
  if (overrides.profile) {
    config.profile = overrides.profile.value;
    sources.profile = overrides.profile.source;
  }
  if (sources.region === 'default' && !overrides.region && overrides.sharedConfigRegion) {
    const found = overrides.sharedConfigRegion(config.profile);
    if (found) {
      config.region = found.value;
      sources.region = found.source;
    }
  }
  if (overrides.endpointUrl) {
    config.endpointUrl = overrides.endpointUrl.value;
    sources.endpointUrl = overrides.endpointUrl.source;
  }
  if (overrides.backend) {
    if (overrides.backend.value !== 'local' && overrides.backend.value !== 'aws') {
      throw new ConfigError(`${overrides.backend.source}: backend: expected one of local, aws, got '${overrides.backend.value}'`);
    }
    config.backend = overrides.backend.value;
    sources.backend = overrides.backend.source;
  }
  return resolved;
}

/**
 * The region the AWS CLI and SDKs would take from the environment: AWS_REGION first, then
 * AWS_DEFAULT_REGION (the AWS CLI's own name). Empty values count as unset.
 */
export function awsRegionFromEnv(env: Record<string, string | undefined>): { value: string; source: ValueSource } | undefined {
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const value = env[name]?.trim();
    if (value) return { value, source: `env:${name}` };
  }
  return undefined;
}
