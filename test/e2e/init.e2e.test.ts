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
    const report = JSON.parse(init.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      config: join(dir, 'lake.config.json'),
      template: join(dir, 'lake.template.yaml'),
      name,
      backend: 'local',
      stack: `lake-${name}`,
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'source', type: 'string' },
        { name: 'ts', type: 'timestamp' },
        { name: 'amount', type: 'double' },
        { name: 'ok', type: 'boolean' },
      ],
      inferred: { sample: 'sample.csv', format: 'csv', rows: 3, timeCandidates: ['ts'], skipped: [] },
      deployed: { changed: true, status: 'CREATE_COMPLETE', failures: [] },
    });
    expect((report.inferred as { columns: { reason: string }[] }).columns.map((c) => c.reason)[2]).toBe("times Firehose reads as timestamps, e.g. '2024-05-17 13:00:00' (3 of 3 rows)");
    const config = JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ name, backend: 'local', bucket: `${name}-data`, partitioning: { keys: ['year', 'month', 'day', 'hour'], time: 'arrival', layout: 'hive', projection: false } });
    expect(readFileSync(join(dir, 'lake.template.yaml'), 'utf8')).toContain(`      BucketName: ${name}-data\n`);
    expect(existsSync(join(dir, '.lake', 'stack.json'))).toBe(true);

    const status = lake(['status', '-o', 'json'], dir);

    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toBe('');
    const doc = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      backend: 'local',
      stack: { name: `lake-${name}`, status: 'CREATE_COMPLETE' },
      stream: { name: `${name}-ingest`, status: 'ACTIVE' },
      partitions: { found: 0, registered: 0, unregistered: 0, projection: false },
      newestObject: null,
      errorsLast24h: 0,
      storedBytes: 0,
      problems: [],
    });
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
    expect(JSON.parse(lake(['status', '-o', 'json'], dir).stdout)).toMatchObject({ stack: null, storedBytes: 0 });
  });
});
