/**
 * Firehose's S3 prefixes: the expression language of `Prefix` and `ErrorOutputPrefix`
 * (`!{timestamp:...}`, `!{firehose:...}`, `!{partitionKeyFromQuery:...}`), the rules
 * CreateDeliveryStream checks; and, re-exported, the timestamp patterns (firehose-timestamp.ts),
 * the prefixes lake configures from a LakeConfig and the object names Firehose gives what
 * it delivers (firehose-layout.ts). Pure: the CloudFormation templates,
 * `lake partitions sync` and the local emulator all reuse it.
 *
 * Sources: the Firehose developer guide, "Custom prefixes for Amazon S3 objects" and
 * "Configure Amazon S3 object name format"; the behaviour of a prefix without
 * expressions (the default time path appended by plain concatenation, no `/` inserted)
 * as observed on AWS and reported in floci-io/floci#1857.
 */
import { compileTimestampPattern, formatTimestamp, PrefixError } from './firehose-timestamp.js';

export { formatTimestamp, PrefixError } from './firehose-timestamp.js';
export {
  type DynamicPartitioningSpec,
  EPOCH_MILLIS_THRESHOLD,
  eventTimeJqQuery,
  type FirehosePrefixes,
  firehosePrefixes,
  objectName,
  parseObjectName,
  timePartitionValues,
} from './firehose-layout.js';

export const PREFIX_NAMESPACES = ['timestamp', 'firehose', 'partitionKeyFromQuery', 'partitionKeyFromLambda'] as const;
export type PrefixNamespace = (typeof PREFIX_NAMESPACES)[number];

/** What `!{firehose:error-output-type}` evaluates to, by the reason a record failed. */
export const ERROR_OUTPUT_TYPES = [
  'processing-failed',
  'AmazonOpenSearchService-failed',
  'splunk-failed',
  'format-conversion-failed',
  'http-endpoint-failed',
  'partitioning-failed',
  'decompression-failed',
] as const;
export type ErrorOutputType = (typeof ERROR_OUTPUT_TYPES)[number];

/** Evaluated prefixes longer than this are refused by Firehose. */
export const MAX_EVALUATED_PREFIX_LENGTH = 512;

/** Appended to a Prefix that has no timestamp (or partition key) expression. */
export const DEFAULT_TIME_PATTERN = 'yyyy/MM/dd/HH/';

export type PrefixPart = { kind: 'literal'; text: string } | { kind: 'expression'; namespace: PrefixNamespace; value: string; text: string };

/** Splits a prefix into literals and `!{namespace:value}` expressions; throws PrefixError when malformed. */
export function parsePrefix(prefix: string): PrefixPart[] {
  const parts: PrefixPart[] = [];
  let pos = 0;
  while (pos < prefix.length) {
    const start = prefix.indexOf('!{', pos);
    if (start < 0) {
      parts.push({ kind: 'literal', text: prefix.slice(pos) });
      break;
    }
    if (start > pos) parts.push({ kind: 'literal', text: prefix.slice(pos, start) });
    const end = prefix.indexOf('}', start);
    if (end < 0) throw new PrefixError(`'${prefix}': '!{' at character ${start + 1} is not closed by '}'`);
    const text = prefix.slice(start, end + 1);
    const body = prefix.slice(start + 2, end);
    const colon = body.indexOf(':');
    if (colon < 0) throw new PrefixError(`'${prefix}': expression ${text} needs the form !{namespace:value}`);
    const namespace = body.slice(0, colon);
    const value = body.slice(colon + 1);
    if (!(PREFIX_NAMESPACES as readonly string[]).includes(namespace)) {
      throw new PrefixError(`'${prefix}': unknown namespace '${namespace}' in ${text}; expected one of ${PREFIX_NAMESPACES.join(', ')}`);
    }
    if (value.length === 0) throw new PrefixError(`'${prefix}': expression ${text} has no value`);
    if (value.includes('!{')) throw new PrefixError(`'${prefix}': expressions cannot be nested (${text})`);
    if (namespace === 'firehose' && value !== 'random-string' && value !== 'error-output-type') {
      throw new PrefixError(`'${prefix}': ${text}: the firehose namespace takes random-string or error-output-type`);
    }
    if (namespace === 'timestamp') compileTimestampPattern(value);
    parts.push({ kind: 'expression', namespace: namespace as PrefixNamespace, value, text });
    pos = end + 1;
  }
  return parts;
}

export interface PrefixValues {
  /** Arrival time of the oldest record in the object (UTC). */
  timestamp: Date;
  /** For ErrorOutputPrefix: why the records failed. */
  errorOutputType?: string;
  /** Dynamic partitioning keys, by name. */
  partitionKeys?: Record<string, string>;
  /** `!{firehose:random-string}`; a fresh value for each occurrence. */
  randomString?: () => string;
}

/**
 * Evaluates a Prefix (or, with `errorOutputType`, an ErrorOutputPrefix) as Firehose does
 * for one object. A prefix without expressions gets `yyyy/MM/dd/HH/` appended (for an
 * error prefix, `<type>/yyyy/MM/dd/HH/`); one with expressions but no timestamp or partition
 * key gets the time path appended too. Throws PrefixError when a key is missing or the
 * result is longer than 512 characters.
 */
export function evaluatePrefix(prefix: string, values: PrefixValues): string {
  const parts = parsePrefix(prefix);
  let out = '';
  for (const part of parts) {
    if (part.kind === 'literal') {
      out += part.text;
      continue;
    }
    switch (part.namespace) {
      case 'timestamp':
        out += formatTimestamp(part.value, values.timestamp);
        break;
      case 'firehose':
        if (part.value === 'random-string') out += (values.randomString ?? randomString)();
        else {
          if (values.errorOutputType === undefined) throw new PrefixError(`'${prefix}': ${part.text} can only be used in an ErrorOutputPrefix`);
          out += values.errorOutputType;
        }
        break;
      default: {
        const value = values.partitionKeys?.[part.value];
        if (value === undefined) throw new PrefixError(`'${prefix}': no value for partition key '${part.value}'`);
        out += value;
      }
    }
  }
  const expressions = parts.filter((p) => p.kind === 'expression');
  if (expressions.length === 0) {
    if (values.errorOutputType !== undefined) out += `${values.errorOutputType}/`;
    out += formatTimestamp(DEFAULT_TIME_PATTERN, values.timestamp);
  } else if (!expressions.some((p) => p.namespace !== 'firehose')) {
    out += formatTimestamp(DEFAULT_TIME_PATTERN, values.timestamp);
  }
  if (out.length > MAX_EVALUATED_PREFIX_LENGTH) {
    throw new PrefixError(`the evaluated prefix is ${out.length} characters; Firehose allows at most ${MAX_EVALUATED_PREFIX_LENGTH}`);
  }
  return out;
}

/** `!{firehose:random-string}`: 11 characters, like the documentation's `046b6c7f-0b`. */
export function randomString(): string {
  return crypto.randomUUID().slice(0, 11);
}

export interface PrefixRules {
  prefix: string;
  /** Undefined or '' when not set. */
  errorOutputPrefix?: string;
  /** Dynamic partitioning enabled on the stream. */
  dynamicPartitioning?: boolean;
}

/**
 * The checks CreateDeliveryStream makes on a destination's prefixes. Returns every
 * problem found, worded for a person; an empty list means Firehose would accept them.
 */
export function validatePrefixes(rules: PrefixRules): string[] {
  const problems: string[] = [];
  const parse = (label: string, text: string): PrefixPart[] | undefined => {
    try {
      return parsePrefix(text);
    } catch (err) {
      if (err instanceof PrefixError) problems.push(`${label} ${err.message}`);
      else throw err;
      return undefined;
    }
  };
  const prefixParts = parse('Prefix', rules.prefix);
  const errorText = rules.errorOutputPrefix ?? '';
  const errorParts = errorText.length > 0 ? parse('ErrorOutputPrefix', errorText) : [];
  const expressionsOf = (parts: PrefixPart[] | undefined) => (parts ?? []).filter((p): p is Extract<PrefixPart, { kind: 'expression' }> => p.kind === 'expression');
  const prefixExpressions = expressionsOf(prefixParts);
  const errorExpressions = expressionsOf(errorParts);
  const isPartitionKey = (p: { namespace: PrefixNamespace }) => p.namespace === 'partitionKeyFromQuery' || p.namespace === 'partitionKeyFromLambda';

  if (prefixExpressions.length > 0 && errorText.length === 0) {
    problems.push(`Prefix '${rules.prefix}' uses expressions, so an ErrorOutputPrefix is required`);
  }
  if (prefixExpressions.some((p) => p.namespace === 'firehose' && p.value === 'error-output-type')) {
    problems.push(`Prefix '${rules.prefix}' cannot contain !{firehose:error-output-type}: it belongs in the ErrorOutputPrefix`);
  }
  if (errorExpressions.length > 0 && !errorExpressions.some((p) => p.namespace === 'firehose' && p.value === 'error-output-type')) {
    problems.push(`ErrorOutputPrefix '${errorText}' uses expressions, so it must contain !{firehose:error-output-type}`);
  }
  if (errorExpressions.some(isPartitionKey)) {
    problems.push(`ErrorOutputPrefix '${errorText}' cannot use partitionKeyFromQuery or partitionKeyFromLambda`);
  }
  if (prefixExpressions.some(isPartitionKey) && !rules.dynamicPartitioning) {
    problems.push(`Prefix '${rules.prefix}' uses partition keys, which need dynamic partitioning enabled`);
  }
  if (rules.dynamicPartitioning && !prefixExpressions.some(isPartitionKey)) {
    problems.push(`dynamic partitioning is enabled, so Prefix '${rules.prefix}' must use at least one !{partitionKeyFromQuery:...} or !{partitionKeyFromLambda:...}`);
  }
  // Length after evaluation, with the widest values the expressions can take.
  if (prefixParts) checkLength('Prefix', rules.prefix, problems);
  if (errorParts && errorText.length > 0) checkLength('ErrorOutputPrefix', errorText, problems);
  return problems;
}

function checkLength(label: string, text: string, problems: string[]): void {
  const partitionKeys = new Proxy({}, { get: () => '' }) as Record<string, string>;
  try {
    evaluatePrefix(text, {
      timestamp: new Date(Date.UTC(2000, 8, 30, 23, 59, 59, 999)),
      errorOutputType: 'AmazonOpenSearchService-failed',
      partitionKeys,
      randomString,
    });
  } catch (err) {
    if (err instanceof PrefixError) problems.push(`${label} ${err.message}`);
    else throw err;
  }
}
