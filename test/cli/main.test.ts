import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { IO } from '../../src/lib/output/io.js';
import { main } from '../../src/main.js';
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

describe('lake help COMMAND', () => {
  const COMMAND_PATHS = [['init'], ['deploy'], ['destroy'], ['status'], ['send'], ['partitions'], ['partitions', 'sync'], ['partitions', 'list'], ['query'], ['errors'], ['config'], ['demo'], ['completion']];

  it.each(COMMAND_PATHS.map((p) => [p.join(' '), p]))('lake help %s shows its usage and ends with two or three examples of it', async (_name, path) => {
    const run = await runCli(['help', ...path], { cwd: emptyDir() });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[0]).toMatch(new RegExp(`^Usage: lake ${path.join(' ')} `));
    const examples = run.stdout.slice(run.stdout.indexOf('\nExamples:\n')).split('\n').filter((l) => l.startsWith('  $ '));
    expect(run.stdout).toContain('\nExamples:\n');
    expect(examples.length === 2 || examples.length === 3, examples.join('\n')).toBe(true);
    for (const line of examples) expect(line).toContain(`lake ${path.join(' ')}`);
  });

  it('lake help partitions sync is the help of sync, not of partitions', async () => {
    const viaHelp = await runCli(['help', 'partitions', 'sync'], { cwd: emptyDir() });
    const viaFlag = await runCli(['partitions', 'sync', '--help'], { cwd: emptyDir() });
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout.split('\n')[0]).toBe('Usage: lake partitions sync [options]');
  });
});

describe('region precedence', () => {
  const regionOf = async (dir: string, env: Record<string, string>, argv: string[] = []) => {
    const run = await runCli(['config', '-o', 'json', ...argv], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { config: { region: string }; sources: { region: string } };
    return [doc.config.region, doc.sources.region];
  };
  const ALL = { LAKE_REGION: 'eu-west-2', AWS_REGION: 'eu-west-3', AWS_DEFAULT_REGION: 'eu-north-1' };

  it('given a region at every level, each level wins over the ones below it', async () => {
    const withFile = lakeDir({ name: 'shop', region: 'ap-south-1' });
    const withoutFile = lakeDir({ name: 'shop' });
    expect(await regionOf(withFile, ALL, ['--region', 'ca-central-1'])).toEqual(['ca-central-1', 'flag']);
    expect(await regionOf(withFile, ALL)).toEqual(['eu-west-2', 'env:LAKE_REGION']);
    expect(await regionOf(withFile, { AWS_REGION: 'eu-west-3', AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual(['ap-south-1', 'file']);
    expect(await regionOf(withoutFile, { AWS_REGION: 'eu-west-3', AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual(['eu-west-3', 'env:AWS_REGION']);
    expect(await regionOf(withoutFile, { AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual(['eu-north-1', 'env:AWS_DEFAULT_REGION']);
    expect(await regionOf(withoutFile, {})).toEqual(['us-east-1', 'default']);
  });

  it('given no region above it, takes the profile\'s region from the AWS config file, as the AWS CLI does', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lake-home-'));
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'config'), '[default]\nregion = us-west-2\n[profile dev]\nregion = eu-central-1\n');
    const withoutFile = lakeDir({ name: 'shop' });
    expect(await regionOf(withoutFile, { HOME: home })).toEqual(['us-west-2', 'aws-config:default']);
    expect(await regionOf(withoutFile, { HOME: home, AWS_PROFILE: 'dev' })).toEqual(['eu-central-1', 'aws-config:dev']);
    expect(await regionOf(withoutFile, { HOME: home }, ['--profile', 'dev'])).toEqual(['eu-central-1', 'aws-config:dev']);
    expect(await regionOf(lakeDir({ name: 'shop', profile: 'dev' }), { HOME: home })).toEqual(['eu-central-1', 'aws-config:dev']);
    expect(await regionOf(withoutFile, { HOME: home, AWS_PROFILE: 'nosuch' })).toEqual(['us-east-1', 'default']);
    // Everything above it still wins.
    expect(await regionOf(withoutFile, { HOME: home, AWS_DEFAULT_REGION: 'eu-north-1' })).toEqual(['eu-north-1', 'env:AWS_DEFAULT_REGION']);
    expect(await regionOf(lakeDir({ name: 'shop', region: 'ap-south-1' }), { HOME: home })).toEqual(['ap-south-1', 'file']);
    expect(await regionOf(withoutFile, { HOME: home }, ['--region', 'ca-central-1'])).toEqual(['ca-central-1', 'flag']);
  });

  it('given an empty AWS_REGION, falls through to AWS_DEFAULT_REGION', async () => {
    expect(await regionOf(lakeDir({ name: 'shop' }), { AWS_REGION: '', AWS_DEFAULT_REGION: 'sa-east-1' })).toEqual(['sa-east-1', 'env:AWS_DEFAULT_REGION']);
  });

  it('lake init writes the region in effect: the flag, else AWS_REGION / AWS_DEFAULT_REGION', async () => {
    const regionWritten = async (argv: string[], env: Record<string, string>) => {
      const dir = emptyDir();
      const run = await runCli(['init', '--no-deploy', '-o', 'json', ...argv], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(readFileSync(join(dir, 'lake.config.json'), 'utf8')) as { region: string }).region;
    };
    expect(await regionWritten([], { AWS_DEFAULT_REGION: 'eu-north-1' })).toBe('eu-north-1');
    expect(await regionWritten(['--region', 'ap-south-1'], { AWS_REGION: 'eu-west-3' })).toBe('ap-south-1');
    expect(await regionWritten([], {})).toBe('us-east-1');
  });

  it('the table names the environment variable the region came from', async () => {
    const run = await runCli(['config', '-o', 'csv'], { cwd: lakeDir({ name: 'shop' }), env: { AWS_DEFAULT_REGION: 'eu-north-1' } });
    expect(run.stdout.split('\r\n')).toContain('region,eu-north-1,env:AWS_DEFAULT_REGION');
  });
});

describe('Ctrl-C', () => {
  it('the first aborts the run through its AbortSignal; a second exits at once with 130', async () => {
    const others = process.listeners('SIGINT');
    for (const l of others) process.off('SIGINT', l);
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = { text: '', write(chunk: string) { this.text += chunk; return true; } };
    const stdout = { text: '', write(chunk: string) { this.text += chunk; return true; } };
    // stdin never ends: `send -` is still reading when both signals arrive.
    const stdin = new PassThrough();
    const io: IO = { stdout, stderr, stdin, env: {}, cwd: lakeDir({ name: 'shop', columns: [{ name: 'id', type: 'bigint' }] }) };
    try {
      const running = main(['send', '-', '--no-checkpoint'], io, { handleSignals: true });
      process.emit('SIGINT');
      expect(stderr.text).toBe('\nlake: stopping (press Ctrl-C again to exit at once)...\n');
      expect(exit).not.toHaveBeenCalled();
      process.emit('SIGINT');
      expect(exit).toHaveBeenCalledWith(130);
      expect(stderr.text).toBe('\nlake: stopping (press Ctrl-C again to exit at once)...\nlake: interrupted again, exiting now\n');
      stdin.end();
      // With process.exit stubbed, the run goes on: the send saw the abort and stopped.
      expect(await running).toBe(130);
      expect(stderr.text.split('\n').slice(3)).toEqual(['lake: interrupted: 0 rows not sent yet', '']);
      expect(process.listeners('SIGINT')).toEqual([]);
    } finally {
      exit.mockRestore();
      for (const l of others) process.on('SIGINT', l);
    }
  });
});
