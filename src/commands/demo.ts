/**
 * `lake demo`: the whole pipeline on the local backend, in a temporary folder, with bundled
 * sample data. Each step is a real lake command, printed before it runs so it can be repeated
 * by hand, and run in-process through main() as if typed.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { LakeContext } from '../lib/context.js';
import { ServiceError, UsageError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';
import { SAMPLE_COLUMNS, sampleCsv, sampleNdjson } from '../lib/demo/sample.js';
import { type CommandApp, type Outcome, examples } from './command.js';

export interface DemoFlags {
  dir?: string;
  rows: string;
}

export interface DemoStep {
  command: string;
  exitCode: number;
  expectedExitCode: number;
  ms: number;
}

export interface DemoReport {
  dir: string;
  rows: number;
  steps: DemoStep[];
  totalMs: number;
}

const DAY = '2024-05-17';

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export async function runDemo(ctx: LakeContext, flags: DemoFlags): Promise<Outcome<DemoReport>> {
  const rows = Number(flags.rows);
  if (!Number.isInteger(rows) || rows < 100 || rows > 10_000_000) throw new UsageError(`--rows: expected a whole number from 100 to 10000000, got '${flags.rows}'`);
  const dir = flags.dir ? resolve(ctx.cwd, flags.dir) : mkdtempSync(join(tmpdir(), 'lake-demo-'));
  mkdirSync(dir, { recursive: true });
  const started = Date.now();

  // Two files: web logs as CSV (checked before sending), and late arrivals as NDJSON with a
  // few malformed rows, sent unchecked as a plain producer would, so Firehose rejects them.
  const start = new Date(`${DAY}T00:00:00Z`);
  writeFileSync(join(dir, 'weblogs.csv'), sampleCsv({ rows, seed: 7, start, hours: 24, malformed: 0 }));
  writeFileSync(join(dir, 'late.ndjson'), sampleNdjson({ rows: Math.max(10, Math.floor(rows / 20)), seed: 11, start, hours: 24, malformed: 7 }));
  writeFileSync(join(dir, 'schema.json'), `${JSON.stringify(SAMPLE_COLUMNS, null, 2)}\n`);

  const steps: [string[], number][] = [
    [['init', '--name', 'weblogs', '--schema', 'schema.json', '--time-field', 'timestamp', '--partition-by', 'year,month,day,hour'], 0],
    [['send', 'weblogs.csv'], 0],
    [['send', 'late.ndjson', '--no-validate'], 0],
    [['partitions', 'sync'], 0],
    [['query', 'SELECT logtype, count(*) AS n FROM events GROUP BY logtype ORDER BY n DESC'], 0],
    [['query', `SELECT hour, count(*) AS errors FROM events WHERE logtype = 'ERROR' AND year = '2024' AND month = '05' AND day = '17' GROUP BY hour ORDER BY hour`], 0],
    [['errors'], 0],
  ];

  const { main } = await import('../main.js');
  const json = ctx.out.format === 'json';
  const report: DemoReport = { dir, rows, steps: [], totalMs: 0 };
  const sink = { write: () => true };
  ctx.out.info(`lake demo: a local lake in ${dir}`);
  for (const [args, expected] of steps) {
    const command = `lake ${args.map(shellQuote).join(' ')}`;
    ctx.out.info(`\n$ ${command}`);
    const stepStart = Date.now();
    const exitCode = await main([...args, '-o', json ? 'json' : 'table', '--no-progress'], {
      ...ctx.io,
      cwd: dir,
      // With -o json the demo's stdout is one document: the steps' own results are not shown.
      stdout: json ? sink : ctx.io.stdout,
      env: { ...ctx.io.env, LAKE_BACKEND: 'local', LAKE_CONFIG: '' },
    }, { handleSignals: false });
    report.steps.push({ command, exitCode, expectedExitCode: expected, ms: Date.now() - stepStart });
    if (exitCode !== expected) {
      throw new ServiceError(`demo step failed (exit ${exitCode}): ${command}`, { hint: `the lake is kept in ${dir} to look at` });
    }
  }
  report.totalMs = Date.now() - started;
  ctx.out.info(`\nThe lake is in ${dir}: cd there and run any of the commands above, or \`lake status\`.`);
  return { data: report, view: renderDemo };
}

export function renderDemo(r: DemoReport): View {
  return { kind: 'text', text: `\ndemo finished in ${(r.totalMs / 1000).toFixed(1)} s: ${r.steps.length} steps, ${r.rows.toLocaleString('en-US')} rows; lake in ${r.dir}` };
}

export function registerDemo(parent: Command, app: CommandApp): void {
  parent
    .command('demo')
    .description('run the whole pipeline on the local backend with sample data, in a temporary folder')
    .option('--dir <dir>', 'use this folder instead of a temporary one')
    .option('--rows <n>', 'sample web-log rows to generate', '50000')
    .addHelpText(
      'after',
      examples(
        ['lake demo', 'init, send, partitions sync, two queries and errors, each command printed first'],
        ['lake demo --dir ./demo-lake', 'keep the lake in ./demo-lake to explore afterwards'],
        ['lake demo -o json', 'one JSON summary of the steps, for scripts'],
      ),
    )
    .action(app.action<DemoFlags>((ctx, flags) => runDemo(ctx, flags)));
}
