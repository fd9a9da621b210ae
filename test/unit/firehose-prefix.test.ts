import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type LakeConfig } from '../../src/lib/config.js';
import {
  evaluatePrefix,
  firehosePrefixes,
  formatTimestamp,
  objectName,
  parseObjectName,
  parsePrefix,
  PrefixError,
  randomString,
  timePartitionValues,
  validatePrefixes,
} from '../../src/lib/firehose-prefix.js';

const AT = new Date(Date.UTC(2024, 2, 5, 7, 8, 9, 45)); // 2024-03-05T07:08:09.045Z, a Tuesday

function config(partitioning: Partial<LakeConfig['partitioning']> = {}): LakeConfig {
  const c = defaultConfig('shop');
  c.columns = [
    { name: 'id', type: 'string' },
    { name: 'ts', type: 'timestamp' },
  ];
  c.partitioning = { ...c.partitioning, ...partitioning };
  return c;
}

function hasJq(): boolean {
  try {
    execFileSync('jq', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('formatTimestamp (Java DateTimeFormatter in UTC)', () => {
  it.each([
    ['yyyy/MM/dd/HH/', '2024/03/05/07/'],
    ['yyyy-MM-dd-HH-mm-ss', '2024-03-05-07-08-09'],
    ['y', '2024'],
    ['yy', '24'],
    ['M d H m s', '3 5 7 8 9'],
    ['MMM MMMM', 'Mar March'],
    ['D DDD', '65 065'],
    ['EEE EEEE', 'Tue Tuesday'],
    ['h a', '7 AM'],
    ['SSS', '045'],
    ["'year='yyyy", 'year=2024'],
    ["HH'h'''", "07h'"],
    ['QQQ', 'Q1'],
  ])('formats %s as %s', (pattern, expected) => {
    expect(formatTimestamp(pattern, AT)).toBe(expected);
  });

  it('uses UTC whatever the local zone', () => {
    expect(formatTimestamp('yyyy-MM-dd HH', new Date('2023-12-31T23:30:00-05:00'))).toBe('2024-01-01 04');
  });

  it('refuses letters it does not support and too many letters', () => {
    expect(() => formatTimestamp('YYYY', AT)).toThrow(/pattern letter 'Y' is not supported/);
    expect(() => formatTimestamp('ddd', AT)).toThrow(/too many pattern letters: d/);
    expect(() => formatTimestamp("'open", AT)).toThrow(/unclosed quote/);
  });
});

describe('parsePrefix', () => {
  it('splits literals and expressions', () => {
    expect(parsePrefix('data/year=!{timestamp:yyyy}/!{firehose:random-string}')).toEqual([
      { kind: 'literal', text: 'data/year=' },
      { kind: 'expression', namespace: 'timestamp', value: 'yyyy', text: '!{timestamp:yyyy}' },
      { kind: 'literal', text: '/' },
      { kind: 'expression', namespace: 'firehose', value: 'random-string', text: '!{firehose:random-string}' },
    ]);
  });

  it.each([
    ['data/!{timestamp:yyyy', /not closed/],
    ['data/!{yyyy}/', /needs the form !\{namespace:value\}/],
    ['data/!{time:yyyy}/', /unknown namespace 'time'/],
    ['data/!{firehose:uuid}/', /random-string or error-output-type/],
    ['data/!{partitionKeyFromQuery:}/', /has no value/],
  ])('refuses %s', (prefix, message) => {
    expect(() => parsePrefix(prefix)).toThrow(PrefixError);
    expect(() => parsePrefix(prefix)).toThrow(message);
  });
});

describe('evaluatePrefix', () => {
  it('evaluates every timestamp expression at the same instant', () => {
    expect(evaluatePrefix('data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/', { timestamp: AT })).toBe(
      'data/year=2024/month=03/day=05/hour=07/',
    );
  });

  it('appends yyyy/MM/dd/HH/ to a prefix without expressions, by plain concatenation', () => {
    expect(evaluatePrefix('legacy/', { timestamp: AT })).toBe('legacy/2024/03/05/07/');
    expect(evaluatePrefix('legacy', { timestamp: AT })).toBe('legacy2024/03/05/07/');
    expect(evaluatePrefix('', { timestamp: AT })).toBe('2024/03/05/07/');
  });

  it('appends the time path when the only expressions are firehose ones', () => {
    expect(evaluatePrefix('r/!{firehose:random-string}/', { timestamp: AT, randomString: () => '046b6c7f-0b' })).toBe('r/046b6c7f-0b/2024/03/05/07/');
  });

  it('does not append the time path to dynamic partitioning prefixes', () => {
    expect(evaluatePrefix('data/year=!{partitionKeyFromQuery:year}/', { timestamp: AT, partitionKeys: { year: '2019' } })).toBe('data/year=2019/');
  });

  it('evaluates the error output type in an ErrorOutputPrefix', () => {
    expect(evaluatePrefix('errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/', { timestamp: AT, errorOutputType: 'format-conversion-failed' })).toBe(
      'errors/format-conversion-failed/2024/03/05/',
    );
    expect(evaluatePrefix('errors/', { timestamp: AT, errorOutputType: 'processing-failed' })).toBe('errors/processing-failed/2024/03/05/07/');
  });

  it('refuses a missing partition key, the error type outside an error prefix, and more than 512 characters', () => {
    expect(() => evaluatePrefix('d/!{partitionKeyFromQuery:year}/', { timestamp: AT })).toThrow("no value for partition key 'year'");
    expect(() => evaluatePrefix('d/!{firehose:error-output-type}/', { timestamp: AT })).toThrow('can only be used in an ErrorOutputPrefix');
    expect(evaluatePrefix(`${'a'.repeat(498)}!{timestamp:yyyy/MM/dd}/`, { timestamp: AT })).toHaveLength(509);
    expect(() => evaluatePrefix(`${'a'.repeat(502)}!{timestamp:yyyy/MM/dd}/`, { timestamp: AT })).toThrow('the evaluated prefix is 513 characters; Firehose allows at most 512');
  });

  it('makes random strings of 11 characters', () => {
    expect(randomString()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{2}$/);
  });
});

describe('validatePrefixes (CreateDeliveryStream rules)', () => {
  it('accepts the documented example', () => {
    expect(
      validatePrefixes({
        prefix: 'data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
        errorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
      }),
    ).toEqual([]);
  });

  it('accepts a static prefix without an error prefix', () => {
    expect(validatePrefixes({ prefix: 'data/' })).toEqual([]);
  });

  it('needs an ErrorOutputPrefix when the Prefix has expressions', () => {
    expect(validatePrefixes({ prefix: 'data/!{timestamp:yyyy}/' })).toEqual(["Prefix 'data/!{timestamp:yyyy}/' uses expressions, so an ErrorOutputPrefix is required"]);
  });

  it('needs the error output type in an ErrorOutputPrefix with expressions', () => {
    expect(validatePrefixes({ prefix: 'data/!{timestamp:yyyy}/', errorOutputPrefix: 'errors/!{timestamp:yyyy}/' })).toEqual([
      "ErrorOutputPrefix 'errors/!{timestamp:yyyy}/' uses expressions, so it must contain !{firehose:error-output-type}",
    ]);
  });

  it('keeps the error output type out of the Prefix and partition keys out of the ErrorOutputPrefix', () => {
    expect(
      validatePrefixes({
        prefix: 'data/!{firehose:error-output-type}/',
        errorOutputPrefix: 'errors/!{firehose:error-output-type}/!{partitionKeyFromQuery:year}/',
        dynamicPartitioning: true,
      }),
    ).toEqual([
      "Prefix 'data/!{firehose:error-output-type}/' cannot contain !{firehose:error-output-type}: it belongs in the ErrorOutputPrefix",
      "ErrorOutputPrefix 'errors/!{firehose:error-output-type}/!{partitionKeyFromQuery:year}/' cannot use partitionKeyFromQuery or partitionKeyFromLambda",
      "dynamic partitioning is enabled, so Prefix 'data/!{firehose:error-output-type}/' must use at least one !{partitionKeyFromQuery:...} or !{partitionKeyFromLambda:...}",
    ]);
  });

  it('ties partition keys to dynamic partitioning', () => {
    expect(validatePrefixes({ prefix: 'd/!{partitionKeyFromQuery:year}/', errorOutputPrefix: 'e/!{firehose:error-output-type}/' })).toEqual([
      "Prefix 'd/!{partitionKeyFromQuery:year}/' uses partition keys, which need dynamic partitioning enabled",
    ]);
  });

  it('reports a prefix that evaluates past 512 characters and a malformed one', () => {
    expect(validatePrefixes({ prefix: `${'p'.repeat(501)}/!{timestamp:yyyy-MM-dd}/`, errorOutputPrefix: 'e/!{firehose:error-output-type}/' })).toEqual([
      'Prefix the evaluated prefix is 513 characters; Firehose allows at most 512',
    ]);
    expect(validatePrefixes({ prefix: 'd/!{timestamp:yyyy', errorOutputPrefix: 'e/' })).toEqual(["Prefix 'd/!{timestamp:yyyy': '!{' at character 3 is not closed by '}'"]);
  });
});

describe('firehosePrefixes (what lake configures)', () => {
  it('builds the hive layout for arrival time', () => {
    const p = firehosePrefixes(config());
    expect(p).toEqual({
      prefix: 'data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
      errorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/',
    });
    expect(validatePrefixes({ prefix: p.prefix, errorOutputPrefix: p.errorOutputPrefix })).toEqual([]);
  });

  it('builds the firehose layout and stops at the last key', () => {
    expect(firehosePrefixes(config({ layout: 'firehose', keys: ['year', 'month', 'day'] })).prefix).toBe('data/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/');
  });

  it('uses dynamic partitioning for event time', () => {
    const p = firehosePrefixes(config({ time: 'ts', keys: ['year', 'month'] }));
    expect(p.prefix).toBe('data/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/');
    expect(p.dynamicPartitioning?.keys).toEqual(['year', 'month']);
    expect(validatePrefixes({ prefix: p.prefix, errorOutputPrefix: p.errorOutputPrefix, dynamicPartitioning: true })).toEqual([]);
  });

  it.skipIf(!hasJq())('yields the same partition values from JQ 1.6 as lake computes, for every accepted time form', () => {
    const { jqQuery } = firehosePrefixes(config({ time: 'ts' })).dynamicPartitioning!;
    const cases: [unknown, string][] = [
      ['2024-03-05T07:08:09Z', '{"year":"2024","month":"03","day":"05","hour":"07"}'],
      ['2024-03-05T07:08:09.123Z', '{"year":"2024","month":"03","day":"05","hour":"07"}'],
      ['2024-3-5 7:08:09', '{"year":"2024","month":"03","day":"05","hour":"07"}'],
      ['2024-03-05 23:59:59.9', '{"year":"2024","month":"03","day":"05","hour":"23"}'],
      [1709622489, '{"year":"2024","month":"03","day":"05","hour":"07"}'],
      [1709622489045, '{"year":"2024","month":"03","day":"05","hour":"07"}'],
      [1709622489.5, '{"year":"2024","month":"03","day":"05","hour":"07"}'],
      ['1709622489', '{"year":"2024","month":"03","day":"05","hour":"07"}'],
    ];
    for (const [ts, expected] of cases) {
      const out = execFileSync('jq', ['-c', jqQuery], { input: JSON.stringify({ id: 'x', ts }) }).toString().trim();
      // Keys match as the OpenX SerDe matches them: case-insensitively by default.
      expect(execFileSync('jq', ['-c', jqQuery], { input: JSON.stringify({ id: 'x', Ts: ts }) }).toString().trim()).toBe(out);
      expect(out, String(ts)).toBe(expected);
      const [, hour] = /"hour":"(\d+)"/.exec(expected) ?? [];
      expect(JSON.stringify(timePartitionValues(new Date(Date.UTC(2024, 2, 5, Number(hour))), ['year', 'month', 'day', 'hour']))).toBe(expected);
    }
  });

  it.skipIf(!hasJq())('finds a mapped key exactly when the SerDe is case-sensitive, and dotted keys when dots become underscores', () => {
    const sensitive = config({ time: 'ts' });
    sensitive.serde = { caseInsensitive: false, convertDotsInJsonKeysToUnderscores: false, columnToJsonKeyMappings: { ts: 'eventTime' } };
    const exact = firehosePrefixes(sensitive).dynamicPartitioning!.jqQuery;
    expect(execFileSync('jq', ['-c', exact], { input: '{"eventTime":"2024-03-05 07:00:00"}' }).toString().trim()).toBe('{"year":"2024","month":"03","day":"05","hour":"07"}');
    expect(() => execFileSync('jq', ['-c', exact], { input: '{"eventtime":"2024-03-05 07:00:00"}', stdio: 'pipe' })).toThrow();
    const dotted = config({ time: 'event_ts', keys: ['year'] });
    dotted.columns = [{ name: 'event_ts', type: 'timestamp' }];
    dotted.serde = { caseInsensitive: true, convertDotsInJsonKeysToUnderscores: true, columnToJsonKeyMappings: {} };
    const query = firehosePrefixes(dotted).dynamicPartitioning!.jqQuery;
    expect(execFileSync('jq', ['-c', query], { input: '{"Event.TS":1709622489}' }).toString().trim()).toBe('{"year":"2024"}');
  });

  it.skipIf(!hasJq())('fails in JQ when the record has no event time (Firehose then writes partitioning-failed)', () => {
    const { jqQuery } = firehosePrefixes(config({ time: 'ts' })).dynamicPartitioning!;
    expect(() => execFileSync('jq', ['-c', jqQuery], { input: '{"id":"x"}', stdio: 'pipe' })).toThrow();
  });
});

describe('object names', () => {
  it('names objects <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>', () => {
    expect(objectName('shop-ingest', 1, AT, '0b6a4c1e-52a6-4b0b-9b35-6a8a1f0e2c11', '.parquet')).toBe('shop-ingest-1-2024-03-05-07-08-09-0b6a4c1e-52a6-4b0b-9b35-6a8a1f0e2c11.parquet');
  });

  it('reads a name back', () => {
    expect(parseObjectName('data/year=2024/shop-ingest-3-2024-03-05-07-08-09-0b6a4c1e-52a6-4b0b-9b35-6a8a1f0e2c11.parquet')).toEqual({
      stream: 'shop-ingest',
      version: 3,
      date: new Date(Date.UTC(2024, 2, 5, 7, 8, 9)),
      uuid: '0b6a4c1e-52a6-4b0b-9b35-6a8a1f0e2c11',
      extension: '.parquet',
    });
    expect(parseObjectName('data/part-0001.parquet')).toBeUndefined();
  });
});
