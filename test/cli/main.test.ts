import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'lake-cli-'));
function lakeDir(config: unknown = { name: 'shop' }): string {
  const dir = emptyDir();
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify(config));
  return dir;
}

describe('lake (in-process)', () => {
  it('--version prints the version on stdout and exits 0', async () => {
    const run = await runCli(['--version'], { cwd: emptyDir() });
    expect(run).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('--help lists the commands and the exit codes on stdout', async () => {
    const run = await runCli(['--help'], { cwd: emptyDir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: lake \[options\] \[command\]/);
    expect(run.stdout).toContain('  config ');
    expect(run.stdout).toContain('Exit codes: 0 ok, 1 failed, 2 usage/config/input, 3 partial, 4 refused by a cost guard,');
    expect(run.stderr).toBe('');
  });

  it('help COMMAND shows that command\'s examples', async () => {
    const run = await runCli(['help', 'config'], { cwd: emptyDir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: lake config [options]');
    expect(run.stdout).toContain('$ lake config -o json | jq .config.bucket');
  });

  it('an unknown flag exits 2 with a suggestion on stderr and nothing on stdout', async () => {
    const run = await runCli(['config', '--outptu', 'json'], { cwd: emptyDir() });
    expect(run).toEqual({ code: 2, stdout: '', stderr: "lake: unknown option '--outptu'\nhint: did you mean --output?\n" });
  });

  it('an unknown command exits 2 and suggests the nearest name', async () => {
    const run = await runCli(['confgi'], { cwd: emptyDir() });
    expect(run).toEqual({ code: 2, stdout: '', stderr: "lake: unknown command 'confgi'\nhint: did you mean config?\n" });
  });

  it('an invalid --output value exits 2 naming the choices', async () => {
    const run = await runCli(['config', '-o', 'yaml'], { cwd: emptyDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("lake: option '-o, --output <format>' argument 'yaml' is invalid. Allowed choices are table, json, csv, ndjson.\n");
  });

  it('without a config, exits 2 with a hint to run lake init', async () => {
    const dir = emptyDir();
    const run = await runCli(['config'], { cwd: dir });
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `lake: no lake.config.json found in ${dir} or any parent folder\nhint: run \`lake init\` to create one, or pass -c FILE\n`,
    });
  });

  it('with -o json, an error is one JSON object on stderr and stdout stays empty', async () => {
    const dir = emptyDir();
    const run = await runCli(['config', '-o', 'json'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(JSON.parse(run.stderr)).toEqual({
      error: { code: 'ConfigError', message: `no lake.config.json found in ${dir} or any parent folder`, hint: 'run `lake init` to create one, or pass -c FILE', exitCode: 2 },
    });
  });

  it('with LAKE_OUTPUT=json, a parse error is JSON too', async () => {
    const run = await runCli(['--bogus'], { cwd: emptyDir(), env: { LAKE_OUTPUT: 'json' } });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'UsageError', message: "unknown option '--bogus'", hint: 'run `lake --help` for the commands and options', exitCode: 2 } });
  });

  it('config -o json reports values and their sources: flag over env over file over default', async () => {
    const dir = lakeDir({ name: 'shop', region: 'eu-west-1', bucket: 'shop-bucket' });
    const run = await runCli(['config', '-o', 'json', '--profile', 'dev'], { cwd: dir, env: { LAKE_REGION: 'eu-central-1' } });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { path: string; config: Record<string, unknown>; sources: Record<string, string> };
    expect(doc.path).toBe(join(dir, 'lake.config.json'));
    expect(doc.config.region).toBe('eu-central-1');
    expect(doc.sources.region).toBe('env:LAKE_REGION');
    expect(doc.config.profile).toBe('dev');
    expect(doc.sources.profile).toBe('flag');
    expect(doc.config.bucket).toBe('shop-bucket');
    expect(doc.sources.bucket).toBe('file');
    expect(doc.config.table).toBe('events');
    expect(doc.sources.table).toBe('default');

    const flagWins = await runCli(['config', '-o', 'json', '--region', 'ap-south-1'], { cwd: dir, env: { LAKE_REGION: 'eu-central-1' } });
    expect((JSON.parse(flagWins.stdout) as { config: { region: string } }).config.region).toBe('ap-south-1');
  });

  it('-c names a config file elsewhere', async () => {
    const dir = lakeDir({ name: 'other', bucket: 'other-bucket' });
    const run = await runCli(['-c', join(dir, 'lake.config.json'), 'config', '-o', 'json'], { cwd: emptyDir() });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { config: { bucket: string } }).config.bucket).toBe('other-bucket');
  });

  it('an invalid config exits 2 naming the file and field', async () => {
    const dir = lakeDir({ partitioning: { keys: ['year', 'month', 'minute'] } });
    const run = await runCli(['config'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "lake: lake.config.json: partitioning.keys[2]: expected day (keys are year, month, day, hour in that order, and may stop early), got 'minute'\nhint: fix the fields named above; `lake init --help` shows a valid configuration\n",
    );
  });

  it('config as csv writes field,value,source rows', async () => {
    const dir = lakeDir({ name: 'shop' });
    const run = await runCli(['config', '-o', 'csv'], { cwd: dir });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\r\n');
    expect(lines[0]).toBe('field,value,source');
    expect(lines[1]).toBe('name,shop,file');
    expect(lines).toContain('backend,local,default');
  });

  it('the table output on a terminal has no colour with NO_COLOR', async () => {
    const dir = lakeDir({ name: 'shop' });
    const run = await runCli(['config'], { cwd: dir, tty: true, env: { NO_COLOR: '1' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^configuration: /);
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  it('--debug adds the stack trace to an error', async () => {
    const run = await runCli(['config', '--debug'], { cwd: emptyDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\nConfigError: no lake\.config\.json found[^\n]*\n {4}at /);
  });
});
