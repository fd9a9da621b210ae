/** `lake query SQL | --file F | -`: run SQL, print typed rows, report scanned bytes and cost. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseSize } from '../lib/config.js';
import type { LakeContext } from '../lib/context.js';
import { InputError, UsageError } from '../lib/errors.js';
import type { Guard } from '../lib/query/estimate.js';
import { runQuery } from '../lib/query/run.js';
import { type CommandApp, type Outcome, examples } from './command.js';

export interface QueryFlags {
  file?: string;
  database?: string;
  workgroup?: string;
  param?: string[];
  timeout?: string;
  out?: string;
  maxRows?: string;
  estimate?: boolean;
  maxBytes?: string;
  maxCost?: string;
}

export async function runQueryCommand(ctx: LakeContext, flags: QueryFlags, args: string[]): Promise<Outcome | undefined> {
  const sql = await readSql(ctx, args[0], flags.file);
  const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout: expected a number of seconds above 0, got '${flags.timeout}'`);
  const maxRows = flags.maxRows === undefined ? undefined : Number(flags.maxRows);
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0)) throw new UsageError(`--max-rows: expected a whole number, got '${flags.maxRows}'`);
  const config = ctx.config;
  const guard: Guard = {
    maxBytes: flags.maxBytes === undefined ? config.maxBytes : (parseSize(flags.maxBytes) ?? badFlag('--max-bytes', flags.maxBytes, 'a size like 500MB, 2GiB or a number of bytes')),
    maxCostUsd: flags.maxCost === undefined ? config.maxCostUsd : dollars(flags.maxCost),
    sources: { maxBytes: flags.maxBytes === undefined ? 'maxBytes (lake.config.json)' : '--max-bytes', maxCostUsd: flags.maxCost === undefined ? 'maxCostUsd (lake.config.json)' : '--max-cost' },
  };
  const backend = await ctx.backend();
  const outcome = await runQuery(
    { backend, config, log: ctx.out, write: (text) => ctx.out.write(text), signal: ctx.signal },
    {
      sql,
      database: flags.database ?? config.database,
      workgroup: flags.workgroup ?? config.workgroup,
      params: flags.param ?? [],
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      estimateOnly: flags.estimate ?? false,
      guard,
      format: ctx.out.format,
      maxRows,
      out: flags.out,
    },
  );
  return outcome.data === undefined && outcome.exit === undefined ? undefined : { data: outcome.data, view: outcome.view, exit: outcome.exit };
}

async function readSql(ctx: LakeContext, arg: string | undefined, file: string | undefined): Promise<string> {
  if (arg !== undefined && file !== undefined) throw new UsageError('give the SQL as an argument or with --file, not both');
  if (arg === undefined && file === undefined) throw new UsageError('no SQL given', { hint: "lake query 'SELECT ...', --file query.sql, or - to read standard input" });
  let sql: string;
  if (arg === '-' || file === '-') sql = await readStdin(ctx);
  else if (file !== undefined) sql = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => Promise.reject(new InputError(`--file: cannot read ${file}: ${err.code ?? err.message}`)));
  else sql = arg!;
  if (sql.trim() === '') throw new InputError('the SQL is empty');
  return sql.trim().replace(/;\s*$/, '');
}

async function readStdin(ctx: LakeContext): Promise<string> {
  if (ctx.io.stdin.isTTY) throw new UsageError('- reads the SQL from standard input, which is a terminal', { hint: "pipe the SQL in: echo 'SELECT 1' | lake query -" });
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function dollars(text: string): number {
  const value = Number(text.replace(/^\$/, ''));
  return Number.isFinite(value) && value >= 0 && text.trim() !== '' ? value : badFlag('--max-cost', text, 'an amount in US dollars, like 0.05');
}

function badFlag(flag: string, value: string, expected: string): never {
  throw new UsageError(`${flag}: expected ${expected}, got '${value}'`);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerQuery(parent: Command, app: CommandApp): void {
  parent
    .command('query')
    .argument('[sql]', "the SQL, or - to read it from standard input")
    .description('run SQL on Athena (or locally on DuckDB): typed rows, scanned bytes, billed bytes and cost; --estimate predicts before running')
    .option('-f, --file <file>', 'read the SQL from a file')
    .option('--database <name>', 'database (default: the configured one)')
    .option('--workgroup <name>', 'Athena workgroup (default: the configured one)')
    .option('--param <value>', 'a value for the next ? placeholder, as a SQL literal (repeatable)', collect)
    .option('--timeout <seconds>', 'stop the query (StopQueryExecution) after this long; exit 1')
    .option('--out <file>', 'write every row to a file: CSV, or NDJSON for .ndjson/.jsonl, or a JSON array for .json')
    .option('--max-rows <n>', 'print at most n rows on stdout (table default 100; says how many were left out)')
    .option('--estimate', 'predict scanned bytes and cost without running the query')
    .option('--max-bytes <size>', 'refuse (exit 4) when the estimate scans more than this (default: maxBytes in the config)')
    .option('--max-cost <usd>', 'refuse (exit 4) when the estimated cost is above this (default: maxCostUsd in the config)')
    .addHelpText(
      'after',
      examples(
        ["lake query \"SELECT source, count(*) FROM events WHERE year = '2024' AND month = '05' GROUP BY 1\"", 'rows as a table on a terminal; the cost line on stderr'],
        ['lake query --file daily.sql --estimate', 'what it would scan and cost, without running it'],
        ['lake query --file daily.sql --max-cost 0.01 -o csv > daily.csv', 'refused (exit 4) if the estimate costs more than a cent; rows streamed as CSV'],
      ) + '\nCost: bytes scanned rounded up to the next MB (10^6 bytes), 10 MB minimum, at pricePerTiB dollars per TiB (2^40 bytes).\nFailed queries and DDL are free. Ctrl-C stops the query on the engine and reports what it billed (exit 130).\n',
    )
    .action(app.action<QueryFlags>((ctx, flags, args) => runQueryCommand(ctx, flags, args)));
}
