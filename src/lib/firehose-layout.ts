/**
 * What lake configures on its Firehose stream, and what Firehose names: the Prefix and
 * ErrorOutputPrefix of a LakeConfig (hive or firehose layout, arrival or event time), the
 * JQ query dynamic partitioning runs to extract the event-time keys, the partition values of
 * an instant, and the object names of delivered objects.
 */
import type { LakeConfig, TimeKey } from './config.js';
import { formatTimestamp } from './firehose-timestamp.js';

const pad = (value: number, width: number) => String(value).padStart(width, '0');

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
