/**
 * AWS clients, built in one place from the configuration: region, profile, custom endpoint
 * (path-style for S3 so MinIO, LocalStack or a loopback mock work), adaptive retries, and a
 * user agent naming lake. Each SDK package is imported on first use.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { GlueClient } from '@aws-sdk/client-glue';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../log.js';

export interface AwsSettings {
  region: string;
  profile?: string;
  endpointUrl?: string;
  version: string;
  log: Logger;
}

export interface CommonClientConfig {
  region: string;
  profile?: string;
  endpoint?: string;
  retryMode: 'adaptive';
  maxAttempts: number;
  customUserAgent: [string, string][];
  logger?: { trace(): void; debug(...args: unknown[]): void; info(...args: unknown[]): void; warn(...args: unknown[]): void; error(...args: unknown[]): void };
}

const SECRET_KEYS = /^(secretAccessKey|sessionToken|accessKeyId|SecretAccessKey|SessionToken|AccessKeyId|authorization|Authorization|x-amz-security-token|credentials|Credentials)$/;

/** How much of an SDK log entry --debug shows: enough to see the call, never megabytes. */
export const REDACT_LIMITS = { depth: 6, items: 20, keys: 40, string: 256, chars: 4096 };

/**
 * JSON of an SDK log entry for --debug, with every credential-looking field replaced. Safe
 * on anything the SDK logs: a GetObject output carries its Body, a stream full of cycles;
 * PutRecordBatch carries megabytes of Uint8Array. Streams and byte arrays are summarised
 * ("<stream>", "<N bytes>"), cycles marked, and arrays, objects, strings, depth and the
 * whole line bounded by REDACT_LIMITS.
 */
export function redact(value: unknown, maxChars = REDACT_LIMITS.chars): string {
  const ancestors = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'string') return v.length > REDACT_LIMITS.string ? `${v.slice(0, REDACT_LIMITS.string)}...(${v.length} chars)` : v;
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (typeof v !== 'object' || v === null) return v;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `<${v.byteLength} bytes>`;
    if (typeof Blob !== 'undefined' && v instanceof Blob) return `<${v.size} bytes>`;
    if (isStream(v)) return '<stream>';
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (v instanceof Map || v instanceof Set) return `<${v.constructor.name}(${v.size})>`;
    if (ancestors.has(v)) return '[circular]';
    if (depth >= REDACT_LIMITS.depth) return Array.isArray(v) ? `[array(${v.length})]` : '[object]';
    ancestors.add(v);
    try {
      if (Array.isArray(v)) {
        const shown = v.slice(0, REDACT_LIMITS.items).map((item) => walk(item, depth + 1) ?? null);
        if (v.length > REDACT_LIMITS.items) shown.push(`...${v.length - REDACT_LIMITS.items} more`);
        return shown;
      }
      if (v instanceof Error) return { name: v.name, message: walk(v.message, depth + 1), ...entries(v, depth) };
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return walk(safely(() => toJSON.call(v) as unknown), depth + 1);
      return entries(v, depth);
    } finally {
      ancestors.delete(v);
    }
  };
  const entries = (v: object, depth: number): Record<string, unknown> => {
    const keys = Object.keys(v);
    const out: Record<string, unknown> = {};
    for (const key of keys.slice(0, REDACT_LIMITS.keys)) {
      out[key] = SECRET_KEYS.test(key) ? '[redacted]' : walk(safely(() => (v as Record<string, unknown>)[key]), depth + 1);
    }
    if (keys.length > REDACT_LIMITS.keys) out['...'] = `${keys.length - REDACT_LIMITS.keys} more keys`;
    return out;
  };
  const text = JSON.stringify(walk(value, 0)) ?? String(value);
  return text.length > maxChars ? `${text.slice(0, maxChars)}...(truncated, ${text.length} chars)` : text;
}

/** Node streams (an SDK response Body is an IncomingMessage) and web ReadableStreams. */
function isStream(v: object): boolean {
  return typeof (v as { pipe?: unknown }).pipe === 'function' || typeof (v as { getReader?: unknown }).getReader === 'function';
}

/** A getter that throws must not take the log line (or the call) down with it. */
function safely(read: () => unknown): unknown {
  try {
    return read();
  } catch (err) {
    return `[unreadable: ${err instanceof Error ? err.message : String(err)}]`;
  }
}

export function commonClientConfig(settings: AwsSettings): CommonClientConfig {
  const log = settings.log;
  const config: CommonClientConfig = {
    region: settings.region,
    retryMode: 'adaptive',
    maxAttempts: 6,
    customUserAgent: [['lake', settings.version]],
    // Redacting serialises each call's whole input (a PutRecordBatch carries megabytes), so
    // the SDK gets a logger only when debug lines are shown (OutputHost says when not).
    logger: (log as { settings?: { debug?: boolean } }).settings?.debug === false ? undefined : {
      trace: () => {},
      debug: () => {},
      // The SDK logs each call's input and output at info level: shown with --debug, redacted.
      info: (...args: unknown[]) => log.debug(`aws: ${args.map((a) => redact(a)).join(' ')}`),
      warn: (...args: unknown[]) => log.debug(`aws warning: ${args.map((a) => redact(a)).join(' ')}`),
      error: (...args: unknown[]) => log.debug(`aws error: ${args.map((a) => redact(a)).join(' ')}`),
    },
  };
  if (settings.profile) config.profile = settings.profile;
  if (settings.endpointUrl) config.endpoint = settings.endpointUrl;
  return config;
}

/** Lazily built clients, one of each, sharing settings. */
export class AwsClients {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(readonly settings: AwsSettings) {
    // The SDK warns on Node < 22 about releases after January 2027; lake pins its SDK
    // versions in package-lock.json, so the warning says nothing actionable to a lake user.
    // It would land on stderr of every AWS command: keep it for --debug.
    if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined && Number(process.versions.node.split('.')[0]) < 22) {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      settings.log.debug(`Node ${process.version}: AWS SDK releases after January 2027 need Node 22 or newer`);
    }
  }

  private once<T>(name: string, build: () => Promise<T>): Promise<T> {
    let client = this.cache.get(name) as Promise<T> | undefined;
    if (!client) {
      client = build();
      this.cache.set(name, client);
    }
    return client;
  }

  s3(): Promise<S3Client> {
    return this.once('s3', async () => {
      const { S3Client } = await import('@aws-sdk/client-s3');
      // Custom endpoints rarely serve virtual-hosted buckets: address them by path.
      return new S3Client({ ...commonClientConfig(this.settings), forcePathStyle: this.settings.endpointUrl !== undefined });
    });
  }

  glue(): Promise<GlueClient> {
    return this.once('glue', async () => new (await import('@aws-sdk/client-glue')).GlueClient(commonClientConfig(this.settings)));
  }

  firehose(): Promise<FirehoseClient> {
    return this.once('firehose', async () => new (await import('@aws-sdk/client-firehose')).FirehoseClient(commonClientConfig(this.settings)));
  }

  kinesis(): Promise<KinesisClient> {
    return this.once('kinesis', async () => new (await import('@aws-sdk/client-kinesis')).KinesisClient(commonClientConfig(this.settings)));
  }

  athena(): Promise<AthenaClient> {
    return this.once('athena', async () => new (await import('@aws-sdk/client-athena')).AthenaClient(commonClientConfig(this.settings)));
  }

  cloudFormation(): Promise<CloudFormationClient> {
    return this.once('cloudformation', async () => new (await import('@aws-sdk/client-cloudformation')).CloudFormationClient(commonClientConfig(this.settings)));
  }

  async destroy(): Promise<void> {
    for (const client of this.cache.values()) {
      const c = (await client.catch(() => undefined)) as { destroy?: () => void } | undefined;
      c?.destroy?.();
    }
    this.cache.clear();
  }
}
