/**
 * Firehose's S3 prefixes: the expression language of `Prefix` and `ErrorOutputPrefix`
 * (`!{timestamp:...}`, `!{firehose:...}`, `!{partitionKeyFromQuery:...}`), the rules
 * CreateDeliveryStream checks, the prefixes lake configures from a LakeConfig, and the
 * object names Firehose gives what it delivers. Pure: the CloudFormation templates,
 * `lake partitions sync` and the local emulator all reuse it.
 *
 * Sources: the Firehose developer guide, "Custom prefixes for Amazon S3 objects" and
 * "Configure Amazon S3 object name format"; the behaviour of a prefix without
 * expressions (the default time path appended by plain concatenation, no `/` inserted)
 * as observed on AWS and reported in floci-io/floci#1857.
 */
import type { LakeConfig, TimeKey } from './config.js';

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

export class PrefixError extends Error {}

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

// ---------------------------------------------------------------- Java DateTimeFormatter

type Field = (date: Date) => string;
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (value: number, width: number) => String(value).padStart(width, '0');
const compiled = new Map<string, Field[]>();

/**
 * Formats `date` in UTC with a Java DateTimeFormatter pattern, as `!{timestamp:...}` does.
 * Supports the fields a prefix can sensibly use (era, year, quarter, month, day, day of
 * year, weekday, am/pm, hours, minutes, seconds, fractions) and quoted literals; other
 * pattern letters throw PrefixError rather than produce a path AWS would not.
 */
export function formatTimestamp(pattern: string, date: Date): string {
  let out = '';
  for (const field of compileTimestampPattern(pattern)) out += field(date);
  return out;
}

function compileTimestampPattern(pattern: string): Field[] {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  const fields: Field[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new PrefixError(`timestamp pattern '${pattern}': unclosed quote`);
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j];
        j++;
      }
      const literal = j === i + 1 ? "'" : text;
      fields.push(() => literal);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let count = 1;
      while (pattern[i + count] === ch) count++;
      fields.push(letterField(ch, count, pattern));
      i += count;
      continue;
    }
    if ('[]{}#'.includes(ch)) throw new PrefixError(`timestamp pattern '${pattern}': '${ch}' is reserved`);
    fields.push(() => ch);
    i++;
  }
  compiled.set(pattern, fields);
  return fields;
}

function letterField(letter: string, count: number, pattern: string): Field {
  const tooMany = (max: number) => {
    if (count > max) throw new PrefixError(`timestamp pattern '${pattern}': too many pattern letters: ${letter}`);
  };
  const number = (max: number, get: (d: Date) => number): Field => {
    tooMany(max);
    return (d) => pad(get(d), count);
  };
  switch (letter) {
    case 'G':
      tooMany(5);
      return (d) => (d.getUTCFullYear() > 0 ? (count === 4 ? 'Anno Domini' : count === 5 ? 'A' : 'AD') : count === 4 ? 'Before Christ' : count === 5 ? 'B' : 'BC');
    case 'u':
    case 'y':
      if (count === 2) return (d) => pad(((d.getUTCFullYear() % 100) + 100) % 100, 2);
      return (d) => pad(d.getUTCFullYear(), count);
    case 'Q':
    case 'q':
      tooMany(4);
      if (count === 3) return (d) => `Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
      if (count === 4) return (d) => `${['1st', '2nd', '3rd', '4th'][Math.floor(d.getUTCMonth() / 3)]} quarter`;
      return (d) => pad(Math.floor(d.getUTCMonth() / 3) + 1, count);
    case 'M':
    case 'L':
      tooMany(5);
      if (count === 3) return (d) => MONTHS[d.getUTCMonth()]!.slice(0, 3);
      if (count === 4) return (d) => MONTHS[d.getUTCMonth()]!;
      if (count === 5) return (d) => MONTHS[d.getUTCMonth()]![0]!;
      return (d) => pad(d.getUTCMonth() + 1, count);
    case 'd':
      return number(2, (d) => d.getUTCDate());
    case 'D':
      return number(3, (d) => Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1);
    case 'E':
      tooMany(5);
      if (count === 4) return (d) => DAYS[d.getUTCDay()]!;
      if (count === 5) return (d) => DAYS[d.getUTCDay()]![0]!;
      return (d) => DAYS[d.getUTCDay()]!.slice(0, 3);
    case 'a':
      tooMany(1);
      return (d) => (d.getUTCHours() < 12 ? 'AM' : 'PM');
    case 'H':
      return number(2, (d) => d.getUTCHours());
    case 'k':
      return number(2, (d) => d.getUTCHours() || 24);
    case 'K':
      return number(2, (d) => d.getUTCHours() % 12);
    case 'h':
      return number(2, (d) => d.getUTCHours() % 12 || 12);
    case 'm':
      return number(2, (d) => d.getUTCMinutes());
    case 's':
      return number(2, (d) => d.getUTCSeconds());
    case 'S':
      tooMany(9);
      return (d) => pad(d.getUTCMilliseconds(), 3).padEnd(count, '0').slice(0, count);
    default:
      throw new PrefixError(`timestamp pattern '${pattern}': pattern letter '${letter}' is not supported by lake (use y, M, d, H, m, s and quoted literals)`);
  }
}

// ---------------------------------------------------------------- lake's prefixes

export interface DynamicPartitioningSpec {
  /** JQ 1.6 query for the MetadataExtraction processor: yields the partition keys. */
  jqQuery: string;
  /** The keys the query yields, in prefix order. */
  keys: TimeKey[];
}

export interface FirehosePrefixes {
  prefix: string;
  errorOutputPrefix: string;
  /** Present when partitions come from an event-time column (dynamic partitioning). */
  dynamicPartitioning?: DynamicPartitioningSpec;
}

const TIME_PATTERNS: Record<TimeKey, string> = { year: 'yyyy', month: 'MM', day: 'dd', hour: 'HH' };

/**
 * The Prefix and ErrorOutputPrefix lake configures for its stream. Hive layout:
 * `data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/.../`; Firehose layout:
 * `data/!{timestamp:yyyy}/!{timestamp:MM}/.../`. For event time the values come from
 * `!{partitionKeyFromQuery:<key>}` with the JQ query that extracts them. Errors go to
 * `<errorPrefix>!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/` (arrival time:
 * Firehose forbids partition keys there).
 */
export function firehosePrefixes(config: Pick<LakeConfig, 'prefix' | 'errorPrefix' | 'partitioning' | 'columns' | 'serde'>): FirehosePrefixes {
  const { keys, time, layout } = config.partitioning;
  const eventTime = time !== 'arrival';
  let prefix = config.prefix;
  for (const key of keys) {
    const value = eventTime ? `!{partitionKeyFromQuery:${key}}` : `!{timestamp:${TIME_PATTERNS[key]}}`;
    prefix += layout === 'hive' ? `${key}=${value}/` : `${value}/`;
  }
  const errorOutputPrefix = `${config.errorPrefix}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`;
  if (!eventTime) return { prefix, errorOutputPrefix };
  const jsonKey = config.serde.columnToJsonKeyMappings[time] ?? time;
  const lookup = { caseInsensitive: config.serde.caseInsensitive, dotsToUnderscores: config.serde.convertDotsInJsonKeysToUnderscores };
  return { prefix, errorOutputPrefix, dynamicPartitioning: { jqQuery: eventTimeJqQuery(jsonKey, keys, lookup), keys: [...keys] } };
}

/**
 * A JQ 1.6 query reading the event time from `jsonKey` in any form the OpenX SerDe takes
 * for a timestamp (ISO `...T...Z`, `yyyy-M-d H:m:s[.S]`, `yyyy-MM-dd`, epoch seconds or
 * milliseconds, as a number or a numeric string) and yielding zero-padded UTC parts.
 * Epoch values of 1e12 and more are milliseconds, as the serde reads them (`serde/temporal.ts`).
 */
export function eventTimeJqQuery(jsonKey: string, keys: readonly TimeKey[], lookup: { caseInsensitive?: boolean; dotsToUnderscores?: boolean } = {}): string {
  // JQ runs on the raw record, so it finds the key as the OpenX SerDe would: lowercased (and
  // with dots as underscores) when the SerDe is configured so; the first match wins.
  let key = '.key';
  if (lookup.caseInsensitive) key += ' | ascii_downcase';
  if (lookup.dotsToUnderscores) key += ' | gsub("[.]"; "_")';
  const wanted = lookup.caseInsensitive ? jsonKey.toLowerCase() : jsonKey;
  const field = key === '.key' ? `.${JSON.stringify(jsonKey)}` : `(to_entries | map(select(${key} == ${JSON.stringify(wanted)})) | first | .value)`;
  const epoch = `(if (. >= ${EPOCH_MILLIS_THRESHOLD} or . <= -${EPOCH_MILLIS_THRESHOLD}) then . / 1000 else . end | floor | todate)`;
  const parts: Record<TimeKey, string> = {
    year: '$t.y',
    month: '($t.m | if length < 2 then "0" + . else . end)',
    day: '($t.d | if length < 2 then "0" + . else . end)',
    hour: '(($t.h // "0") | if length < 2 then "0" + . else . end)',
  };
  return (
    `(${field} | if type == "number" then ${epoch} ` +
    `elif type == "string" and test("^-?[0-9]+(\\\\.[0-9]+)?$") then (tonumber | ${epoch}) ` +
    `elif type == "string" then . else error("no event time") end) ` +
    `| capture("^(?<y>[0-9]{4})-(?<m>[0-9]{1,2})-(?<d>[0-9]{1,2})([T ](?<h>[0-9]{1,2}))?") as $t ` +
    `| {${keys.map((k) => `${k}: ${parts[k]}`).join(', ')}}`
  );
}

/** Epoch numbers at or above this magnitude are milliseconds, below it seconds (probed on AWS, see serde/temporal.ts). */
export const EPOCH_MILLIS_THRESHOLD = 1_000_000_000_000;

/** The partition values (zero-padded strings) of an instant, for the keys given. */
export function timePartitionValues(date: Date, keys: readonly TimeKey[]): Record<string, string> {
  const all: Record<TimeKey, string> = {
    year: pad(date.getUTCFullYear(), 4),
    month: pad(date.getUTCMonth() + 1, 2),
    day: pad(date.getUTCDate(), 2),
    hour: pad(date.getUTCHours(), 2),
  };
  const out: Record<string, string> = {};
  for (const key of keys) out[key] = all[key];
  return out;
}

// ---------------------------------------------------------------- object names

/**
 * The name Firehose gives a delivered object: `<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid>`,
 * in UTC at `date` (the delivery), with `extension` (`.parquet` for converted output; none for
 * uncompressed raw output, `.gz` for gzip). The stream version starts at 1 and grows with
 * each configuration change.
 */
export function objectName(stream: string, version: number, date: Date, uuid: string = crypto.randomUUID(), extension = ''): string {
  return `${stream}-${version}-${formatTimestamp('yyyy-MM-dd-HH-mm-ss', date)}-${uuid}${extension}`;
}

const OBJECT_NAME = /^(?<stream>[a-zA-Z0-9_.-]+)-(?<version>\d+)-(?<time>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-(?<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?<extension>(\.[A-Za-z0-9]+)*)$/;

/** Reads an object name back; undefined when it is not one of Firehose's. */
export function parseObjectName(name: string): { stream: string; version: number; date: Date; uuid: string; extension: string } | undefined {
  const match = OBJECT_NAME.exec(name.slice(name.lastIndexOf('/') + 1));
  if (!match?.groups) return undefined;
  const [y, mo, d, h, mi, s] = match.groups.time!.split('-').map(Number) as [number, number, number, number, number, number];
  return { stream: match.groups.stream!, version: Number(match.groups.version), date: new Date(Date.UTC(y, mo - 1, d, h, mi, s)), uuid: match.groups.uuid!, extension: match.groups.extension ?? '' };
}
