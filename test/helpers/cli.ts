import { Readable } from 'node:stream';
import { main, type MainOptions } from '../../src/main.js';
import type { IO, OutStream } from '../../src/lib/output/io.js';

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture implements OutStream {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs lake in-process with captured streams. */
export async function runCli(
  argv: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; tty?: boolean; main?: MainOptions } = { cwd: process.cwd() },
): Promise<CapturedRun> {
  const stdout = new Capture(options.tty ?? false);
  const stderr = new Capture(options.tty ?? false);
  const io: IO = { stdout, stderr, stdin: Readable.from([]), env: options.env ?? {}, cwd: options.cwd };
  const code = await main(argv, io, { handleSignals: false, ...options.main });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
