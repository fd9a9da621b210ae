// Bundles src/ into dist/. Entry points stay small: adapters and renderers that pull in
// heavy packages are reached through dynamic import() and land in their own chunks, so
// `lake --help` parses only what it needs. Native and large SDK packages stay external.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// Files are overwritten in place and stale ones removed afterwards, so a lake process started
// from dist/ while a build runs (a parallel test run) never finds its folder gone.
const result = await build({
  entryPoints: { main: 'src/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  jsx: 'automatic',
  // Dependencies load from node_modules at run time: the native DuckDB binding must, and
  // bundling the AWS SDK would only slow the build.
  packages: 'external',
  define: { __LAKE_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  metafile: true,
});
const fresh = new Set(Object.keys(result.metafile.outputs).map((f) => basename(f)));
const dist = new URL('../dist/', import.meta.url);
for (const f of readdirSync(dist)) if (!fresh.has(f)) rmSync(new URL(f, dist), { recursive: true, force: true });
