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
import { InterruptedError, ServiceError, UsageError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';
import { demoFiles, demoSteps } from '../lib/demo/script.js';
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
  /** With -o json: the step's own JSON document (its stdout), so scripts see every count. */
  result?: unknown;
}

export interface DemoReport {
  dir: string;
  rows: number;
  steps: DemoStep[];
  totalMs: number;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export async function runDemo(ctx: LakeContext, flags: DemoFlags): Promise<Outcome<DemoReport>> {
  const rows = Number(flags.rows);
  if (!Number.isInteger(rows) || rows < 100 || rows > 10_000_000) throw new UsageError(`--rows: expected a whole number from 100 to 10000000, got '${flags.rows}'`);
  const dir = flags.dir ? resolve(ctx.cwd, flags.dir) : mkdtempSync(join(tmpdir(), 'lake-demo-'));
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  for (const [name, content] of demoFiles(rows)) writeFileSync(join(dir, name), content);

  const { main } = await import('../main.js');
  const json = ctx.out.format === 'json';
  const report: DemoReport = { dir, rows, steps: [], totalMs: 0 };
  ctx.out.info(`lake demo: a local lake in ${dir}`);
  for (const step of demoSteps(dir)) {
    const command = `lake ${step.args.map(shellQuote).join(' ')}`;
    ctx.out.info(`\n# ${step.about}\n$ ${command}`);
    // With -o json the demo's stdout is one document: each step's own is kept in the report.
    let captured = '';
    const stdout = json ? { write: (chunk: string) => ((captured += chunk), true) } : ctx.io.stdout;
    const stepStart = Date.now();
    const exitCode = await main([...step.args, '-o', json ? 'json' : 'table', '--no-progress'], {
      ...ctx.io,
      cwd: dir,
      stdout,
      env: { ...ctx.io.env, LAKE_BACKEND: 'local', LAKE_CONFIG: '' },
    }, { handleSignals: false });
    report.steps.push({ command, exitCode, expectedExitCode: step.expectedExitCode, ms: Date.now() - stepStart, ...(json && captured.trim() ? { result: JSON.parse(captured) as unknown } : {}) });
    // Ctrl-C reaches the demo, not the step running in-process: stop once that step is done.
    if (ctx.signal.aborted) throw new InterruptedError(`demo stopped after: ${command}`, { hint: `the lake is kept in ${dir}; run the remaining commands there by hand` });
    if (exitCode !== step.expectedExitCode) {
      throw new ServiceError(`demo step failed (exit ${exitCode}, expected ${step.expectedExitCode}): ${command}`, { hint: `the lake is kept in ${dir} to look at` });
    }
    if (step.after) ctx.out.info(step.after);
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
