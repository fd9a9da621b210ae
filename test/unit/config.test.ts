import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/lib/errors.js';
import { awsRegionFromEnv, defaultConfig, findConfig, loadConfig, nearest, parseSize, validateConfig } from '../../src/lib/config.js';

function problemsOf(raw: unknown): string[] {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  return [];
}

function tempDirWith(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-config-'));
  writeFileSync(join(dir, 'lake.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('validateConfig', () => {
  it('given the sketch of DESIGN.md, accepts it and converts sizes to bytes', () => {
    const { config, sources } = validateConfig({
      name: 'weblogs',
      backend: 'local',
      region: 'us-east-1',
      bucket: 'weblogs-data',
      prefix: 'data/',
      errorPrefix: 'errors/',
      backupPrefix: 'raw/',
      database: 'weblogs',
      table: 'events',
      stream: 'weblogs-ingest',
      workgroup: 'weblogs',
      resultsPrefix: 'athena-results/',
      columns: [
        { name: 'source', type: 'string' },
        { name: 'ts', type: 'timestamp' },
      ],
      partitioning: { keys: ['year', 'month', 'day', 'hour'], time: 'arrival', layout: 'hive', projection: false },
      buffering: { sizeMiB: 64, intervalSeconds: 60 },
      pricePerTiB: 5,
      bytesScannedCutoff: '10GB',
    });
    expect(config.bytesScannedCutoff).toBe(10_000_000_000);
    expect(config.backupPrefix).toBe('raw/');
    expect(config.columns).toEqual([
      { name: 'source', type: 'string' },
      { name: 'ts', type: 'timestamp' },
    ]);
    expect(sources.bucket).toBe('file');
    expect(sources.maxBytes).toBe('default');
  });

  it('given a wrong partition key, names the file, the field and the allowed value', () => {
    expect(problemsOf({ partitioning: { keys: ['year', 'month', 'minute'] } })).toEqual([
      'lake.config.json: partitioning.keys[2]: expected day (keys are year, month, day, hour in that order, and may stop early), got \'minute\'',
    ]);
  });

  it('given several problems, reports every one of them', () => {
    expect(
      problemsOf({
        bucket: 'Bad_Bucket',
        prefix: '/data',
        columns: [{ name: 'a', type: 'strin' }, { name: 'a', type: 'int' }],
        buffering: { sizeMiB: 500 },
        region: 'mars',
        colums: [],
      }),
    ).toEqual([
      "lake.config.json: colums: unknown field (did you mean 'columns'?)",
      "lake.config.json: region: expected an AWS region like us-east-1, got 'mars'",
      "lake.config.json: bucket: expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens), got 'Bad_Bucket'",
      "lake.config.json: prefix: expected a key prefix ending in '/' and not starting with '/', got '/data'",
      "lake.config.json: columns[0].type: unknown type 'strin' in 'strin'",
      "lake.config.json: columns[1].name: duplicate column 'a'",
      'lake.config.json: buffering.sizeMiB: expected 1 to 128, got 500',
    ]);
  });

  it('given an event-time column that does not exist, says so', () => {
    expect(problemsOf({ columns: [{ name: 'ts', type: 'timestamp' }], partitioning: { time: 'event_time' } })).toEqual([
      "lake.config.json: partitioning.time: 'event_time' is not one of the columns; expected 'arrival' or a column name",
    ]);
  });

  it('given overlapping prefixes, refuses them', () => {
    expect(problemsOf({ prefix: 'data/', errorPrefix: 'data/errors/' })).toEqual([
      "lake.config.json: errorPrefix: 'data/errors/' overlaps prefix 'data/': data, errors, backups and results need separate prefixes",
    ]);
  });

  it('given a cutoff below Athena\'s minimum, refuses it', () => {
    expect(problemsOf({ bytesScannedCutoff: '5MB' })).toEqual(["lake.config.json: bytesScannedCutoff: Athena's minimum cutoff is 10MB, got 5000000 bytes"]);
  });

  it('given nested Glue types, accepts them', () => {
    const { config } = validateConfig({ columns: [{ name: 'tags', type: 'array<struct<k:string,v:decimal(10,2)>>' }, { name: 'm', type: 'MAP<string,bigint>' }] });
    expect(config.columns.map((c) => c.type)).toEqual(['array<struct<k:string,v:decimal(10,2)>>', 'map<string,bigint>']);
  });

  it('given a partition key also declared as a column, refuses it', () => {
    expect(problemsOf({ columns: [{ name: 'year', type: 'int' }] })).toEqual(["lake.config.json: columns: 'year' is a partition key and cannot also be a column"]);
  });
});

describe('loadConfig', () => {
  it('finds lake.config.json in a parent folder and resolves lakeDir beside it', () => {
    const dir = tempDirWith({ name: 'shop', bucket: 'shop-data' });
    const nested = join(dir, 'a', 'b');
    mkdirSync(nested, { recursive: true });
    expect(findConfig(nested)).toBe(join(dir, 'lake.config.json'));
    const { config, path } = loadConfig(nested);
    expect(path).toBe(join(dir, 'lake.config.json'));
    expect(config.lakeDir).toBe(join(dir, '.lake'));
    expect(config.bucket).toBe('shop-data');
    expect(config.database).toBe('shop');
    expect(config.stream).toBe('shop-ingest');
  });

  it('applies precedence: a flag over the environment over the file over defaults', () => {
    const dir = tempDirWith({ region: 'eu-west-1' });
    expect(loadConfig(dir).config.region).toBe('eu-west-1');
    expect(loadConfig(dir).sources.region).toBe('file');
    const fromEnv = loadConfig(dir, { region: { value: 'eu-central-1', source: 'env:LAKE_REGION' } });
    expect(fromEnv.config.region).toBe('eu-central-1');
    expect(fromEnv.sources.region).toBe('env:LAKE_REGION');
    const fromDefault = loadConfig(tempDirWith({}));
    expect(fromDefault.config.region).toBe('us-east-1');
    expect(fromDefault.sources.region).toBe('default');
  });

  it('accepts the optional profile and endpointUrl in the file, and checks them', () => {
    const loaded = loadConfig(tempDirWith({ profile: 'dev', endpointUrl: 'http://127.0.0.1:4566' }));
    expect([loaded.config.profile, loaded.sources.profile, loaded.config.endpointUrl, loaded.sources.endpointUrl]).toEqual(['dev', 'file', 'http://127.0.0.1:4566', 'file']);
    expect(() => loadConfig(tempDirWith({ endpointUrl: 'localhost:4566' }))).toThrow(/endpointUrl: expected an http\(s\) URL/);
    expect(() => loadConfig(tempDirWith({ profil: 'dev' }))).toThrow("lake.config.json: profil: unknown field (did you mean 'profile'?)");
  });

  it('takes the profile\'s region from the AWS config file only when nothing above sets one', () => {
    const seen: (string | undefined)[] = [];
    const sharedConfigRegion = (profile: string | undefined) => {
      seen.push(profile);
      return { value: 'eu-south-1', source: `aws-config:${profile ?? 'default'}` } as const;
    };
    const region = (r: { config: { region: string }; sources: { region: string } }) => [r.config.region, r.sources.region];
    expect(region(loadConfig(tempDirWith({ profile: 'dev' }), { sharedConfigRegion }))).toEqual(['eu-south-1', 'aws-config:dev']);
    expect(region(loadConfig(tempDirWith({}), { sharedConfigRegion, profile: { value: 'ops', source: 'flag' } }))).toEqual(['eu-south-1', 'aws-config:ops']);
    expect(region(loadConfig(tempDirWith({}), { sharedConfigRegion }))).toEqual(['eu-south-1', 'aws-config:default']);
    expect(seen).toEqual(['dev', 'ops', undefined]);
    expect(region(loadConfig(tempDirWith({ region: 'eu-west-1' }), { sharedConfigRegion }))).toEqual(['eu-west-1', 'file']);
    expect(region(loadConfig(tempDirWith({}), { sharedConfigRegion, awsRegion: { value: 'eu-west-3', source: 'env:AWS_REGION' } }))).toEqual(['eu-west-3', 'env:AWS_REGION']);
    expect(region(loadConfig(tempDirWith({}), { sharedConfigRegion, region: { value: 'ca-central-1', source: 'flag' } }))).toEqual(['ca-central-1', 'flag']);
    expect(seen).toHaveLength(3);
  });

  it('takes AWS_REGION / AWS_DEFAULT_REGION below the file and above the default, as the AWS CLI does', () => {
    const awsRegion = { value: 'eu-west-3', source: 'env:AWS_REGION' } as const;
    const lakeRegion = { value: 'eu-central-1', source: 'env:LAKE_REGION' } as const;
    const region = (r: { config: { region: string }; sources: { region: string } }) => [r.config.region, r.sources.region];
    expect(region(loadConfig(tempDirWith({ region: 'eu-west-1' }), { awsRegion, region: lakeRegion }))).toEqual(['eu-central-1', 'env:LAKE_REGION']);
    expect(region(loadConfig(tempDirWith({ region: 'eu-west-1' }), { awsRegion }))).toEqual(['eu-west-1', 'file']);
    expect(region(loadConfig(tempDirWith({}), { awsRegion }))).toEqual(['eu-west-3', 'env:AWS_REGION']);
    expect(region(loadConfig(mkdtempSync(join(tmpdir(), 'lake-none-')), { awsRegion }, { required: false }))).toEqual(['eu-west-3', 'env:AWS_REGION']);
  });

  it('reads AWS_REGION first, then AWS_DEFAULT_REGION, ignoring empty values', () => {
    expect(awsRegionFromEnv({ AWS_REGION: 'eu-west-3', AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual({ value: 'eu-west-3', source: 'env:AWS_REGION' });
    expect(awsRegionFromEnv({ AWS_REGION: ' ', AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual({ value: 'eu-north-1', source: 'env:AWS_DEFAULT_REGION' });
    expect(awsRegionFromEnv({})).toBeUndefined();
  });

  it('given no config anywhere, fails with exit code 2 and a hint to run lake init', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-none-'));
    try {
      loadConfig(dir);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).exitCode).toBe(2);
      expect((err as ConfigError).hint).toBe('run `lake init` to create one, or pass -c FILE');
    }
  });

  it('given invalid JSON, names the file', () => {
    const dir = tempDirWith('{ "name": ');
    expect(() => loadConfig(dir)).toThrow(/^lake\.config\.json: not valid JSON: /);
  });

  it('given -c naming a missing file, says which', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-c-'));
    expect(() => loadConfig(dir, { configPath: 'nope.json' })).toThrow('config file nope.json does not exist');
  });
});

describe('parseSize', () => {
  it.each([
    ['10GB', 10_000_000_000],
    ['64MiB', 67_108_864],
    ['1.5 kb', 1500],
    ['1TiB', 1_099_511_627_776],
    [1234, 1234],
    ['12', 12],
  ] as const)('reads %s as %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(['ten', '10 parsecs', '', '-5MB'])('rejects %j', (input) => {
    expect(parseSize(input)).toBeUndefined();
  });
});

describe('nearest', () => {
  it('suggests the closest name within two edits', () => {
    expect(nearest('qurey', ['query', 'send', 'errors'])).toBe('query');
    expect(nearest('partitons', ['partitions', 'demo'])).toBe('partitions');
    expect(nearest('zzzzzz', ['query', 'send'])).toBeUndefined();
  });
});

describe('defaultConfig', () => {
  it('derives names from the lake name', () => {
    const c = defaultConfig('web-logs');
    expect([c.bucket, c.database, c.stream, c.workgroup, c.stackName]).toEqual(['web-logs-data', 'web_logs', 'web-logs-ingest', 'web-logs', 'lake-web-logs']);
  });
});
