// Runs the benchmarks: `npm run bench` runs all, `npm run bench -- NAME...` the named ones.
// Each benchmark is bench/NAME.mjs or bench/NAME.ts (bundled on the fly with esbuild, its
// packages left external), run in its own Node process so one's memory does not colour the
// next; each prints one JSON line per figure: {"name","value","unit","baseline"?,"ratio"?,"target"?}.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const root = join(benchDir, '..');
const available = readdirSync(benchDir)
  .filter((f) => /\.(mjs|ts)$/.test(f) && f !== 'run.mjs' && !f.startsWith('_'))
  .map((f) => f.replace(/\.(mjs|ts)$/, ''))
  .sort((a, b) => (a === 'startup' ? -1 : b === 'startup' ? 1 : a.localeCompare(b)));

const args = process.argv.slice(2);
// Names first; everything from the first flag on goes to the benchmark (`local-delivery --rows 10000000`).
const firstFlag = args.findIndex((a) => a.startsWith('-'));
const names = firstFlag < 0 ? args : args.slice(0, firstFlag);
const passThrough = firstFlag < 0 ? [] : args.slice(firstFlag);
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exitCode = 2;
} else {
  // Inside the project, so the bundle's bare imports resolve from node_modules.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const temp = mkdtempSync(join(cache, 'lake-bench-'));
  let failed = 0;
  for (const name of names.length > 0 ? names : available) {
    let file = join(benchDir, `${name}.mjs`);
    if (!existsSync(file)) {
      file = join(temp, `${name}.mjs`);
      await build({
        entryPoints: [join(benchDir, `${name}.ts`)],
        outfile: file,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        jsx: 'automatic',
        absWorkingDir: root,
        define: { __LAKE_VERSION__: '"bench"' },
        logLevel: 'warning',
      });
    }
    process.stderr.write(`bench: ${name}\n`);
    const run = spawnSync(process.execPath, ['--expose-gc', file, ...passThrough], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) {
      failed++;
      process.stderr.write(`bench: ${name} failed (exit ${run.status ?? run.signal})\n`);
    }
  }
  rmSync(temp, { recursive: true, force: true });
  if (failed > 0) process.exitCode = 1;
}
