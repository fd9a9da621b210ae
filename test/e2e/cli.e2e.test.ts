// End-to-end: the built bin/lake, spawned as a user would, without a terminal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function lake(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  const run = spawnSync(process.execPath, [LAKE, ...args], { cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'lake-e2e-')), env: { ...cleanEnv, ...options.env }, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('bin/lake', () => {
  it('--version prints the package version', () => {
    expect(lake(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('--help prints usage on stdout', () => {
    const run = lake(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Usage: lake [options] [command]');
    expect(run.stderr).toBe('');
  });

  it('an unknown flag exits 2, suggests on stderr, prints nothing on stdout', () => {
    expect(lake(['--verison'])).toEqual({ code: 2, stdout: '', stderr: "lake: unknown option '--verison'\nhint: did you mean --version?\n" });
  });

  it('a missing config exits 2 with a hint to run lake init', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-e2e-'));
    const run = lake(['config'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`lake: no lake.config.json found in ${dir} or any parent folder\nhint: run \`lake init\` to create one, or pass -c FILE\n`);
  });

  it('-o json errors are one JSON object on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-e2e-'));
    const run = lake(['config', '-o', 'json'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(JSON.parse(run.stderr)).toEqual({
      error: { code: 'ConfigError', message: `no lake.config.json found in ${dir} or any parent folder`, hint: 'run `lake init` to create one, or pass -c FILE', exitCode: 2 },
    });
  });

  it('prints no ANSI escapes when not on a terminal, even when asked for a table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-e2e-'));
    writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'shop' }));
    const run = lake(['config', '-o', 'table'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('│ bucket ');
    expect(run.stdout + run.stderr).not.toMatch(/\u001b\[/);
  });

  it('defaults to JSON on stdout when stdout is not a terminal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-e2e-'));
    writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'shop' }));
    const run = lake(['config'], { cwd: dir });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { config: { bucket: string } }).config.bucket).toBe('shop-data');
  });
});
