// End-to-end: the built bin/lake, spawned as a user would, without a terminal.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));

function lake(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const run = spawnSync(process.execPath, [LAKE, ...args], { cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'lake-e2e-')), env: { ...cleanEnv(), ...options.env }, encoding: 'utf8' });
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

  it('exits 0 without a word when its stdout is closed before it writes (EPIPE)', async () => {
    const child = spawn(process.execPath, [LAKE, 'completion', 'bash'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away at once: lake's first write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('`lake query ... | head -1`: prints the first row, stops, exits 0 with no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-e2e-'));
    writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'shop', bytesScannedCutoff: '10GB' }));
    // About 700 KB of rows: far more than the pipe holds once head has gone.
    const sql = "SELECT range AS n, 'row number ' || range AS label FROM range(20000)";
    const script = `"$0" "$1" query "$2" -o ndjson --no-progress -q | head -1; echo "lake exit \${PIPESTATUS[0]}"`;
    const run = spawnSync('bash', ['-c', script, process.execPath, LAKE, sql], { cwd: dir, encoding: 'utf8', env: cleanEnv() });
    expect(run.stdout).toBe('{"n":0,"label":"row number 0"}\nlake exit 0\n');
    expect(run.stderr).toBe('');
  }, 60_000);

  it('completion bash from the built CLI completes lake par to partitions', () => {
    const script = `source <("$0" "$1" completion bash); COMP_WORDS=(lake par); COMP_CWORD=1; _lake; echo "\${COMPREPLY[@]}"`;
    const run = spawnSync('bash', ['-c', script, process.execPath, LAKE], { encoding: 'utf8', env: cleanEnv() });
    expect([run.stdout, run.stderr]).toEqual(['partitions\n', '']);
  });

  it('starts without loading any command module: dist/main.js imports none of them statically', () => {
    const dist = join(dirname(LAKE), '..', 'dist');
    const seen = new Set<string>();
    const sources: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(join(dist, file), 'utf8');
      const map = JSON.parse(readFileSync(join(dist, `${file}.map`), 'utf8')) as { sources: string[] };
      sources.push(...map.sources.map((s) => s.replace(/^(\.\.\/)+/, '')));
      // Static imports only: import("./x.js") loads when a command runs.
      for (const m of code.matchAll(/^(?:import|export)\b[^;]*?from\s*"\.\/([^"]+)"/gms)) visit(m[1]!);
    };
    visit('main.js');
    expect(sources.filter((s) => s.startsWith('src/commands/')).sort()).toEqual(['src/commands/command.ts']);
    expect(sources.filter((s) => /src\/lib\/(context|config|backend)\.ts$/.test(s))).toEqual([]);
    expect(sources.filter((s) => s.startsWith('node_modules/'))).toEqual([]);
  });
});
