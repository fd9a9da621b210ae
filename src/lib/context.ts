/**
 * LakeContext: what every command gets. Config and backend are built lazily on first use,
 * so `lake --help` or `lake config` never load an adapter.
 */
import { createInterface } from 'node:readline/promises';
import { type BackendDeps, createBackend } from './backend.js';
import { regionFromSharedConfig } from './aws-shared-config.js';
import { type ConfigOverrides, type LakeConfig, type ResolvedConfig, type ValueSource, awsRegionFromEnv, loadConfig } from './config.js';
import { UsageError } from './errors.js';
import type { IO } from './output/io.js';
import type { OutputHost } from './output/host.js';
import type { Backend } from './ports.js';

export interface GlobalOptions {
  config?: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  output?: string;
  quiet?: boolean;
  progress?: boolean;
  color?: boolean;
  debug?: boolean;
  yes?: boolean;
}

export type GlobalSources = Partial<Record<keyof GlobalOptions, ValueSource>>;

export interface ContextInit {
  io: IO;
  out: OutputHost;
  globals: GlobalOptions;
  sources: GlobalSources;
  signal: AbortSignal;
  version: string;
  now?: () => Date;
  /** Tests pass a backend built from fakes. */
  backendFactory?: (deps: BackendDeps) => Promise<Backend>;
}

export class LakeContext {
  readonly io: IO;
  readonly out: OutputHost;
  readonly globals: GlobalOptions;
  readonly signal: AbortSignal;
  readonly version: string;
  readonly now: () => Date;
  private readonly sources: GlobalSources;
  private readonly backendFactory: (deps: BackendDeps) => Promise<Backend>;
  private resolved?: ResolvedConfig;
  private backendPromise?: Promise<Backend>;

  constructor(init: ContextInit) {
    this.io = init.io;
    this.out = init.out;
    this.globals = init.globals;
    this.sources = init.sources;
    this.signal = init.signal;
    this.version = init.version;
    this.now = init.now ?? (() => new Date());
    this.backendFactory = init.backendFactory ?? createBackend;
  }

  get cwd(): string {
    return this.io.cwd;
  }

  /** The resolved configuration; throws ConfigError (exit 2) when there is none or it is invalid. */
  resolvedConfig(): ResolvedConfig {
    this.resolved ??= loadConfig(this.io.cwd, this.overrides());
    return this.resolved;
  }

  get config(): LakeConfig {
    return this.resolvedConfig().config;
  }

  /** Flags and environment that override the file, with where each came from. */
  overrides(): ConfigOverrides {
    const env = this.io.env;
    const overrides: ConfigOverrides = {};
    const flagOrEnv = (key: 'region' | 'profile' | 'endpointUrl') => {
      const value = this.globals[key];
      if (value === undefined) return undefined;
      return { value, source: this.sources[key] ?? 'flag' };
    };
    overrides.configPath = this.globals.config;
    overrides.region = flagOrEnv('region');
    overrides.profile = flagOrEnv('profile');
    overrides.endpointUrl = flagOrEnv('endpointUrl');
    overrides.awsRegion = awsRegionFromEnv(env);
    overrides.sharedConfigRegion = (profile) => regionFromSharedConfig(profile ?? (env.AWS_PROFILE?.trim() || 'default'), env);
    if (env.LAKE_BACKEND) overrides.backend = { value: env.LAKE_BACKEND, source: 'env:LAKE_BACKEND' };
    return overrides;
  }

  backend(): Promise<Backend> {
    this.backendPromise ??= this.backendFactory({
      config: this.config,
      log: this.out,
      now: this.now,
      version: this.version,
      env: this.io.env,
    });
    return this.backendPromise;
  }

  /**
   * Asks a yes/no question on a terminal. Without a terminal it never waits: it fails
   * naming the flag that answers it.
   */
  async confirm(question: string, flag = '--yes'): Promise<boolean> {
    if (this.globals.yes) return true;
    if (!this.io.stdin.isTTY || !this.io.stderr.isTTY) {
      throw new UsageError(`${question} needs confirmation, and there is no terminal to ask`, { hint: `pass ${flag} to confirm` });
    }
    const rl = createInterface({ input: this.io.stdin, output: this.io.stderr as NodeJS.WritableStream });
    try {
      const answer = await rl.question(`${question} [y/N] `, { signal: this.signal });
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }

  async close(): Promise<void> {
    if (!this.backendPromise) return;
    const backend = await this.backendPromise.catch(() => undefined);
    await backend?.close();
  }
}
