// Bundles src/ into dist/. Entry points stay small: adapters and renderers that pull in
// heavy packages are reached through dynamic import() and land in their own chunks, so
// `lake --help` parses only what it needs. Native and large SDK packages stay external.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
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
});
