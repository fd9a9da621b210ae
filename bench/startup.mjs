// startup: cold start of `lake --version` beside `node -e 0`, measured in the same run,
// interleaved so both see the same machine load. Target: median ratio at most 1.6.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const lake = fileURLToPath(new URL('../bin/lake', import.meta.url));
const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 30);

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Warm the file cache for both, then measure alternately.
time(['-e', '0']);
time([lake, '--version']);
const node = [];
const lakeTimes = [];
for (let i = 0; i < runs; i++) {
  node.push(time(['-e', '0']));
  lakeTimes.push(time([lake, '--version']));
}
const n = median(node);
const l = median(lakeTimes);
const round = (x) => Math.round(x * 100) / 100;
console.log(JSON.stringify({ name: 'startup.node_ms', value: round(n), unit: 'ms' }));
console.log(JSON.stringify({ name: 'startup.lake_version_ms', value: round(l), unit: 'ms', baseline: round(n) }));
console.log(JSON.stringify({ name: 'startup.ratio', value: round(l / n), unit: 'x', target: 1.6 }));
