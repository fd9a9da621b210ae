/**
 * What a command file gets to register itself: `app.action(run)` wraps a command's run
 * function, building the LakeContext from the global options and printing the outcome.
 * Commands return data; they never print or exit.
 */
import type { Command } from 'commander';
import type { LakeContext } from '../lib/context.js';
import type { LakeError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';

export interface Outcome<T = unknown> {
  data: T;
  /** How the data reads as a table/csv/ndjson; JSON output is always the data itself. */
  view?(data: T): View;
  /** Printed after the result: a non-zero exit that still has a result (partial, errors found). */
  exit?: LakeError;
}

export type RunFunction<O> = (ctx: LakeContext, options: O, args: string[], command: Command) => Promise<Outcome | undefined>;

export interface CommandApp {
  action<O>(run: RunFunction<O>): (...commanderArgs: unknown[]) => Promise<void>;
}

export type Registrar = (parent: Command, app: CommandApp) => void;

/** Help text listing examples, appended after a command's options. */
export function examples(...lines: [string, string][]): string {
  return `\nExamples:\n${lines.map(([cmd, what]) => `  $ ${cmd}\n      ${what}`).join('\n')}\n`;
}
