// End-to-end: the built bin/lake creating a lake with `init`, reading it with `status`,
// and taking it down with `destroy`, on the local backend in a temporary folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));

function lake(args: string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && !k.startsWith('AWS_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  const run = spawnSync(process.execPath, [LAKE, ...args], { cwd, env: { ...env, AWS_EC2_METADATA_DISABLED: 'true' }, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const SAMPLE = ['id,Source,ts,amount,ok', '1,web,2024-05-17 13:00:00,12.5,true', '2,app,2024-05-17 13:05:00,3,false', '3,web,2024-05-17T14:00:00Z,7.25,true', ''].join('\n');

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-init-e2e-'));
  // The lake is named after its folder.
  writeFileSync(join(dir, 'sample.csv'), SAMPLE);
  return dir;
}

describe('lake init --backend local --infer sample.csv, then lake status', () => {
  it('writes the config and template, creates the lake, and status reports it empty and healthy', () => {
    const dir = folder();
    const name = dir.split('/').at(-1)!.toLowerCase().replace(/[^a-z0-9-]+/g, '-');

    const init = lake(['init', '--backend', 'local', '--infer', 'sample.csv', '-o', 'json'], dir);

    expect(init.code, init.stderr).toBe(0);
    const columns = [
      { name: 'id', type: 'bigint' },
      { name: 'source', type: 'string' },
      { name: 'ts', type: 'timestamp' },
      { name: 'amount', type: 'double' },
      { name: 'ok', type: 'boolean' },
    ];
    const database = name.replace(/-/g, '_');
    const outputs = { Bucket: `${name}-data`, DeliveryStream: `${name}-ingest`, Database: database, Table: 'events', WorkGroup: name, LakeDir: join(dir, '.lake') };
    expect(JSON.parse(init.stdout)).toEqual({
      config: join(dir, 'lake.config.json'),
      template: join(dir, 'lake.template.yaml'),
      name,
      backend: 'local',
      stack: `lake-${name}`,
      bucket: `${name}-data`,
      columns,
      inferred: {
        sample: 'sample.csv',
        format: 'csv',
        rows: 3,
        columns: [
          { name: 'id', type: 'bigint', reason: "whole numbers, e.g. '1' (3 of 3 rows); bigint leaves room to grow" },
          { name: 'source', type: 'string', reason: "text, e.g. 'web' (3 of 3 rows)" },
          { name: 'ts', type: 'timestamp', reason: "times Firehose reads as timestamps, e.g. '2024-05-17 13:00:00' (3 of 3 rows)" },
          { name: 'amount', type: 'double', reason: "numbers with a fraction, e.g. '12.5' (3 of 3 rows)" },
          { name: 'ok', type: 'boolean', reason: 'true/false (3 of 3 rows)' },
        ],
        skipped: [],
        timeCandidates: ['ts'],
      },
      deployed: { changed: true, status: 'CREATE_COMPLETE', outputs, failures: [] },
      notes: ['ts looks like event time: `lake init --time-field ts --force` partitions by it instead of arrival time'],
    });
    // The creation's events, as lines on stderr (no terminal).
    expect(init.stderr.split('\n').map((line) => line.replace(/^ {2}\d{2}:\d{2}:\d{2} {2}/, '  '))).toEqual([
      `creating stack lake-${name}`,
      '  DataBucket  AWS::S3::Bucket  CREATE_COMPLETE',
      '  GlueDatabase  AWS::Glue::Database  CREATE_COMPLETE',
      '  GlueTable  AWS::Glue::Table  CREATE_COMPLETE',
      '  DeliveryStream  AWS::KinesisFirehose::DeliveryStream  CREATE_COMPLETE',
      '  AthenaWorkGroup  AWS::Athena::WorkGroup  CREATE_COMPLETE',
      '',
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8'))).toEqual({
      name,
      backend: 'local',
      region: 'us-east-1',
      bucket: `${name}-data`,
      prefix: 'data/',
      errorPrefix: 'errors/',
      backupPrefix: null,
      database,
      table: 'events',
      stream: `${name}-ingest`,
      workgroup: name,
      resultsPrefix: 'athena-results/',
      columns,
      partitioning: { keys: ['year', 'month', 'day', 'hour'], time: 'arrival', layout: 'hive', projection: false },
      buffering: { sizeMiB: 64, intervalSeconds: 60 },
      pricePerTiB: 5,
      bytesScannedCutoff: '10GB',
    });
    expect(readFileSync(join(dir, 'lake.template.yaml'), 'utf8')).toContain(`      BucketName: ${name}-data\n`);
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(true);

    const before = Date.now();
    const status = lake(['status', '-o', 'json'], dir);

    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toBe('');
    const doc = JSON.parse(status.stdout) as { stack: { updatedAt: string } };
    const empty = { objects: 0, bytes: 0 };
    expect(doc).toEqual({
      backend: 'local',
      deployed: true,
      stack: {
        name: `lake-${name}`,
        status: 'CREATE_COMPLETE',
        updatedAt: doc.stack.updatedAt,
        outputs,
      },
      stream: { name: `${name}-ingest`, status: 'ACTIVE', sourceType: 'DirectPut', bufferingSizeMiB: 64, bufferingIntervalSeconds: 60 },
      partitions: { found: 0, registered: 0, unregistered: 0, projection: false },
      newestObject: null,
      errorsLast24h: 0,
      storedBytes: 0,
      storage: { data: empty, errors: empty, backup: null, results: empty, other: empty },
      problems: [],
      hint: null,
    });
    // The stack was created by `init`, moments before.
    expect(Date.parse(doc.stack.updatedAt)).toBeLessThanOrEqual(before);
    expect(Date.parse(doc.stack.updatedAt)).toBeGreaterThan(before - 60_000);
  });

  it('after a send, status sees the new partition unregistered until `partitions sync`', () => {
    const dir = folder();
    expect(lake(['init', '--infer', 'sample.csv'], dir).code).toBe(0);
    const send = lake(['send', 'sample.csv', '-o', 'json'], dir);
    expect(send.code, send.stderr).toBe(0);

    const before = JSON.parse(lake(['status', '-o', 'json'], dir).stdout) as { partitions: { found: number; unregistered: number; registered: number }; newestObject: string | null; storedBytes: number };
    expect(before.partitions.found).toBeGreaterThanOrEqual(1);
    expect(before.partitions).toEqual({ found: before.partitions.found, registered: 0, unregistered: before.partitions.found, projection: false });
    expect(before.newestObject).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(before.storedBytes).toBeGreaterThan(0);

    expect(lake(['partitions', 'sync'], dir).code).toBe(0);
    const after = JSON.parse(lake(['status', '-o', 'json'], dir).stdout) as { partitions: Record<string, unknown> };
    expect(after.partitions).toEqual({ found: before.partitions.found, registered: before.partitions.found, unregistered: 0, projection: false });
  });

  it('status as a table reads at a glance', () => {
    const dir = folder();
    expect(lake(['init', '--infer', 'sample.csv'], dir).code).toBe(0);
    const status = lake(['status', '-o', 'table'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/│ partitions +│ 0 registered, 0 unregistered +│/);
    expect(status.stdout).toMatch(/│ newest object +│ none yet +│/);
  });
});

describe('lake init refusals', () => {
  it('never overwrites lake.config.json without --force', () => {
    const dir = folder();
    expect(lake(['init', '--infer', 'sample.csv'], dir).code).toBe(0);
    const before = readFileSync(join(dir, 'lake.config.json'), 'utf8');

    const again = lake(['init', '--partition-by', 'year,month'], dir);

    expect(again).toEqual({ code: 2, stdout: '', stderr: 'lake: lake.config.json already exists\nhint: pass --force to overwrite it (data already in the lake is kept)\n' });
    expect(readFileSync(join(dir, 'lake.config.json'), 'utf8')).toBe(before);
    const forced = lake(['init', '--infer', 'sample.csv', '--time-field', 'ts', '--force', '-o', 'json'], dir);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8'))).toMatchObject({ partitioning: { time: 'ts' } });
  });

  it('names a --time-field that is not a column, and writes nothing', () => {
    const dir = folder();
    const run = lake(['init', '--infer', 'sample.csv', '--time-field', 'when'], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('lake: --time-field when: not one of the columns (id, source, ts, amount, ok)\nhint: name a timestamp column of the schema, or leave --time-field out to partition by arrival time\n');
    expect(existsSync(join(dir, 'lake.config.json'))).toBe(false);
  });

  it('on aws writes the config (with a bucket name of its own) and the template, and deploys nothing', () => {
    const dir = folder();
    writeFileSync(join(dir, 'schema.json'), JSON.stringify({ columns: [{ name: 'msg', type: 'string' }, { name: 'ts', type: 'timestamp' }] }));
    const run = lake(['init', '--backend', 'aws', '--name', 'weblogs', '--region', 'eu-west-1', '--schema', 'schema.json', '--layout', 'firehose', '--projection', '--api', '-o', 'json'], dir);
    expect(run.code, run.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8')) as { bucket: string };
    expect(config).toMatchObject({ name: 'weblogs', backend: 'aws', region: 'eu-west-1', api: true, partitioning: { layout: 'firehose', projection: true } });
    expect(config.bucket).toMatch(/^weblogs-data-[0-9a-f]{8}$/);
    expect(JSON.parse(run.stdout)).toMatchObject({ deployed: null, bucket: config.bucket });
    const template = readFileSync(join(dir, 'lake.template.yaml'), 'utf8');
    expect(template).toContain(`BucketName: ${config.bucket}\n`);
    expect(template).toContain('  IngestApi:\n    Type: AWS::ApiGateway::RestApi\n');
    expect(existsSync(join(dir, '.lake'))).toBe(false);
  });
});

describe('lake destroy on the local backend', () => {
  it('refuses without a terminal and without --yes, then with --yes removes the lake', () => {
    const dir = folder();
    expect(lake(['init', '--infer', 'sample.csv'], dir).code).toBe(0);
    expect(lake(['send', 'sample.csv'], dir).code).toBe(0);
    const name = (JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8')) as { name: string }).name;

    const refused = lake(['destroy'], dir);

    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(`lake: destroy stack lake-${name} and delete every object in bucket ${name}-data needs confirmation, and there is no terminal to ask\nhint: pass --yes to confirm\n`);
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(true);

    const destroyed = lake(['destroy', '--yes', '-o', 'json'], dir);

    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(JSON.parse(destroyed.stdout)).toMatchObject({ stack: `lake-${name}`, destroyed: true, keptData: false, bucket: `${name}-data` });
    expect((JSON.parse(destroyed.stdout) as { deletedObjects: number }).deletedObjects).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(false);
    const after = lake(['status', '-o', 'json'], dir);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ deployed: false, stack: null, stream: null, storedBytes: 0, hint: 'the lake is not deployed: run `lake deploy` to create it' });
  });
});

describe('a local lake that is not deployed', () => {
  const undeployed = () => {
    const dir = folder();
    const init = lake(['init', '--infer', 'sample.csv', '--no-deploy', '-o', 'json'], dir);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ deployed: null });
    const name = (JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8')) as { name: string }).name;
    return { dir, name };
  };

  it('status says so, with no stream, and tells what to do', () => {
    const { dir, name } = undeployed();

    const status = lake(['status', '-o', 'json'], dir);

    expect(status.code).toBe(0);
    expect(status.stderr).toBe('hint: the lake is not deployed: run `lake deploy` to create it\n');
    const empty = { objects: 0, bytes: 0 };
    expect(JSON.parse(status.stdout)).toEqual({
      backend: 'local',
      deployed: false,
      stack: null,
      stream: null,
      partitions: { found: 0, registered: 0, unregistered: 0, projection: false },
      newestObject: null,
      errorsLast24h: 0,
      storedBytes: 0,
      storage: { data: empty, errors: empty, backup: null, results: empty, other: empty },
      problems: [],
      hint: 'the lake is not deployed: run `lake deploy` to create it',
    });
    const table = lake(['status', '-o', 'table'], dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ stack +│ not deployed +│/);
    expect(table.stdout).toMatch(/│ stream +│ none \(not deployed\) +│/);
    expect(table.stdout).not.toContain('ACTIVE');
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(false);
    expect(name).not.toBe('');
  });

  it('deploy --plan prints the changes and stops; deploy creates; a second --plan finds nothing', () => {
    const { dir, name } = undeployed();

    const plan = lake(['deploy', '--plan', '-o', 'json'], dir);

    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toEqual({
      stack: `lake-${name}`,
      plan: true,
      changes: [
        { action: 'Add', logicalId: 'DataBucket', resourceType: 'AWS::S3::Bucket' },
        { action: 'Add', logicalId: 'GlueDatabase', resourceType: 'AWS::Glue::Database' },
        { action: 'Add', logicalId: 'GlueTable', resourceType: 'AWS::Glue::Table' },
        { action: 'Add', logicalId: 'DeliveryStream', resourceType: 'AWS::KinesisFirehose::DeliveryStream' },
        { action: 'Add', logicalId: 'AthenaWorkGroup', resourceType: 'AWS::Athena::WorkGroup' },
      ],
      template: join(dir, 'lake.template.yaml'),
    });
    expect(plan.stderr).toBe('');
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(false);
    expect(JSON.parse(lake(['status', '-o', 'json'], dir).stdout)).toMatchObject({ deployed: false, stack: null });
    const table = lake(['deploy', '--plan', '-o', 'table'], dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ Add +│ GlueTable +│ AWS::Glue::Table +│/);
    expect(table.stdout).toContain('5 changes');

    const deploy = lake(['deploy', '-o', 'json'], dir);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(JSON.parse(deploy.stdout)).toMatchObject({ stack: `lake-${name}`, plan: false, changed: true, status: 'CREATE_COMPLETE', failures: [] });
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(true);

    const again = lake(['deploy', '--plan', '-o', 'json'], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ stack: `lake-${name}`, plan: true, changes: [], template: join(dir, 'lake.template.yaml') });
    expect(again.stderr).toBe(`stack lake-${name} is up to date: no changes\n`);
  });
});
