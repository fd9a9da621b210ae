/**
 * The entry: main(argv, io) runs lake and returns the exit code. The one place where
 * errors become exit codes, and the only code that may end the process (a second Ctrl-C).
 */
import { type Command, CommanderError } from 'commander';
import type { CommandApp, Outcome, RunFunction } from './commands/command.js';
import type { GlobalOptions, GlobalSources, LakeContext } from './lib/context.js';
import type { BackendDeps } from './lib/backend.js';
import { ExitCode, LakeError, UsageError, toLakeError } from './lib/errors.js';
import { OutputHost, outputSettings } from './lib/output/host.js';
import { type IO, processIO } from './lib/output/io.js';
import { OUTPUT_FORMATS, type OutputFormat } from './lib/output/render.js';
import type { Backend } from './lib/ports.js';
import { commandsNamedIn, createProgram } from './program.js';
import { nearest } from './lib/suggest.js';

export const VERSION = __LAKE_VERSION__;

export interface MainOptions {
  /** Tests pass a backend built from fakes. */
  backendFactory?: (deps: BackendDeps) => Promise<Backend>;
  now?: () => Date;
  /** Defaults to true for the real process; in-process tests leave signals alone. */
  handleSignals?: boolean;
}

export async function main(argv: string[], io: IO = processIO(), options: MainOptions = {}): Promise<number> {
  const controller = new AbortController();
  const handleSignals = options.handleSignals ?? io.stdout === process.stdout;
  let out = new OutputHost(io, outputSettings(io, sniffGlobals(argv, io.env)));
  let context: LakeContext | undefined;

  const onSigint = () => {
    if (controller.signal.aborted) {
      // Second Ctrl-C: the user wants out now, whatever is still settling.
      io.stderr.write('lake: interrupted again, exiting now\n');
      process.exit(ExitCode.interrupted);
      return;
    }
    io.stderr.write('\nlake: stopping (press Ctrl-C again to exit at once)...\n');
    controller.abort(new DOMException('interrupted', 'AbortError'));
  };
  if (handleSignals) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
  }

  const app: CommandApp = {
    action: <O>(run: RunFunction<O>) => async (...commanderArgs: unknown[]) => {
      const command = commanderArgs[commanderArgs.length - 1] as Command;
      const opts = commanderArgs[commanderArgs.length - 2] as O;
      const args = commanderArgs.slice(0, -2).flatMap((a) => (Array.isArray(a) ? (a as string[]) : a === undefined ? [] : [String(a)]));
      const { globals, sources } = readGlobals(command, io.env);
      out = new OutputHost(io, outputSettings(io, globals));
      // The context (config, backend factory) loads with the first command that runs.
      const { LakeContext } = await import('./lib/context.js');
      context = new LakeContext({ io, out, globals, sources, signal: controller.signal, version: VERSION, now: options.now, backendFactory: options.backendFactory });
      const outcome: Outcome | undefined = await run(context, opts, args, command);
      if (outcome) {
        await out.result(outcome.data, outcome.view as ((data: never) => never) | undefined);
        if (outcome.exit) throw outcome.exit;
      }
    },
  };

  // The reader of stdout may go away early (`lake query ... | head -1`): stop the work and
  // exit 0 without a word, as the AWS CLI does for a closed pipe. Node ignores SIGPIPE, so
  // without this the write's EPIPE would end lake with a stack trace.
  let outputClosed = false;
  let outputFailure: NodeJS.ErrnoException | undefined;
  const stopListeningOut = onStreamError(io.stdout, (err) => {
    if (err.code === 'EPIPE') outputClosed = true;
    else outputFailure ??= err;
    controller.abort(new DOMException('standard output closed', 'AbortError'));
  });
  // Nothing is left to tell a closed stderr; the result and exit code still count.
  const stopListeningErr = onStreamError(io.stderr, () => {});
  const cannotWrite = () => {
    out.error(new LakeError(`cannot write to standard output: ${outputFailure!.message}`, { cause: outputFailure }));
    return ExitCode.failed;
  };

  let helpText = '';
  let program: Command | undefined;
  try {
    program = await createProgram(app, VERSION, commandsNamedIn(argv));
    configureAll(program, io, (text) => {
      helpText += text;
    });
    await program.parseAsync(expandHelp(argv, program.commands.map((c) => c.name())), { from: 'user' });
    return outputFailure ? cannotWrite() : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError && program) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
        io.stderr.write(helpText);
        return ExitCode.usage;
      }
      out.error(fromCommanderError(err, program));
      return ExitCode.usage;
    }
    const lakeError = toLakeError(err);
    if (controller.signal.aborted && lakeError.exitCode === ExitCode.interrupted) {
      // Stopped because the output went away: the reader has what it wanted.
      if (outputClosed) return ExitCode.ok;
      if (outputFailure) return cannotWrite();
    }
    if (controller.signal.aborted && !(err instanceof LakeError)) {
      out.error(toLakeError(new DOMException('interrupted', 'AbortError')));
      return ExitCode.interrupted;
    }
    out.error(lakeError);
    return lakeError.exitCode;
  } finally {
    await context?.close().catch((err: unknown) => out.debug(`closing the backend failed: ${String(err)}`));
    stopListeningOut();
    stopListeningErr();
    if (handleSignals) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  }
}

/** Global options that take a value: the word after them is not a command. */
const GLOBAL_VALUE_FLAGS = new Set(['-c', '--config', '--profile', '--region', '--endpoint-url', '-o', '--output']);

/**
 * `lake help partitions sync` as `lake partitions sync --help`: commander's help command
 * takes one command name, and would show the help of `partitions`.
 */
export function expandHelp(argv: string[], commandNames: string[]): string[] {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) i += GLOBAL_VALUE_FLAGS.has(argv[i]!) ? 2 : 1;
  if (argv[i] !== 'help') return argv;
  const rest = argv.slice(i + 1);
  if (rest.filter((a) => !a.startsWith('-')).length < 2 || !commandNames.includes(rest[0]!)) return argv;
  return [...argv.slice(0, i), ...rest, '--help'];
}

/** Per stream, the runs listening for its write errors (runs nest: `lake demo` runs steps). */
const streamErrorListeners = new WeakMap<object, Set<(err: NodeJS.ErrnoException) => void>>();

/**
 * Listens for write errors on a stream that can report them (process streams do; test
 * captures do not) until the returned function is called. One listener a stream stays for
 * good: an EPIPE can surface after main() has returned, and an unheard 'error' event would
 * end the process with a stack trace.
 */
function onStreamError(stream: object, listener: (err: NodeJS.ErrnoException) => void): () => void {
  const emitter = stream as Partial<Pick<NodeJS.EventEmitter, 'on'>>;
  if (typeof emitter.on !== 'function') return () => {};
  let listeners = streamErrorListeners.get(stream);
  if (!listeners) {
    const runs = new Set<(err: NodeJS.ErrnoException) => void>();
    emitter.on.call(stream, 'error', (err: NodeJS.ErrnoException) => {
      for (const run of runs) run(err);
    });
    streamErrorListeners.set(stream, runs);
    listeners = runs;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Routes commander's own writing: help and version to stdout, its error text to us. */
function configureAll(command: Command, io: IO, captureErr: (text: string) => void): void {
  command.exitOverride();
  command.showSuggestionAfterError(true);
  command.configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: captureErr,
    outputError: () => {},
    getOutHelpWidth: () => io.stdout.columns ?? 100,
    getErrHelpWidth: () => io.stderr.columns ?? 100,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  for (const sub of command.commands) configureAll(sub, io, captureErr);
}

/**
 * The environment fallbacks of the global options. Read from io.env (not by commander from
 * process.env) so in-process runs see the environment they were given.
 */
const GLOBAL_ENV: Record<keyof GlobalOptions, { env: string; kind: 'string' | 'flag' | 'negated' }> = {
  config: { env: 'LAKE_CONFIG', kind: 'string' },
  profile: { env: 'LAKE_PROFILE', kind: 'string' },
  region: { env: 'LAKE_REGION', kind: 'string' },
  endpointUrl: { env: 'LAKE_ENDPOINT_URL', kind: 'string' },
  output: { env: 'LAKE_OUTPUT', kind: 'string' },
  quiet: { env: 'LAKE_QUIET', kind: 'flag' },
  progress: { env: 'LAKE_NO_PROGRESS', kind: 'negated' },
  color: { env: 'LAKE_NO_COLOR', kind: 'negated' },
  debug: { env: 'LAKE_DEBUG', kind: 'flag' },
  yes: { env: 'LAKE_YES', kind: 'flag' },
};

/** An environment switch is on unless empty, 0 or false. */
const envSwitch = (value: string | undefined) => value !== undefined && !/^(|0|false|no)$/i.test(value.trim());

export function readGlobals(command: Command, env: Record<string, string | undefined>): { globals: GlobalOptions; sources: GlobalSources } {
  const globals = command.optsWithGlobals() as GlobalOptions & Record<string, unknown>;
  const sources: GlobalSources = {};
  for (const [key, spec] of Object.entries(GLOBAL_ENV) as [keyof GlobalOptions, (typeof GLOBAL_ENV)[keyof GlobalOptions]][]) {
    if (command.getOptionValueSourceWithGlobals(key) === 'cli') {
      sources[key] = 'flag';
      continue;
    }
    const value = env[spec.env];
    if (value === undefined) continue;
    if (spec.kind === 'string') {
      if (value === '') continue;
      if (key === 'output' && !OUTPUT_FORMATS.includes(value as OutputFormat)) {
        throw new UsageError(`${spec.env}: '${value}' is not an output format`, { hint: `use one of ${OUTPUT_FORMATS.join(', ')}` });
      }
      (globals as Record<string, unknown>)[key] = value;
    } else if (envSwitch(value)) {
      (globals as Record<string, unknown>)[key] = spec.kind === 'flag';
    } else continue;
    sources[key] = `env:${spec.env}`;
  }
  return { globals, sources };
}

/** Commander's messages, reworded as lake's: what went wrong, then the suggestion as a hint. */
function fromCommanderError(err: CommanderError, program: Command): UsageError {
  const lines = err.message.replace(/^error: /, '').split('\n');
  const didYouMean = lines.find((l) => /^\(Did you mean/.test(l));
  const message = lines.filter((l) => l !== didYouMean && l.trim() !== '').join(' ');
  let hint = didYouMean ? didYouMean.replace(/^\(Did you mean (.*)\?\)$/, 'did you mean $1?') : undefined;
  if (!hint && err.code === 'commander.unknownCommand') {
    const word = /'([^']+)'/.exec(message)?.[1];
    const best = word ? nearest(word, program.commands.map((c) => c.name())) : undefined;
    if (best) hint = `did you mean ${best}?`;
  }
  hint ??= err.code === 'commander.unknownCommand' || err.code === 'commander.unknownOption' ? 'run `lake --help` for the commands and options' : undefined;
  return new UsageError(message, { hint });
}

/**
 * The output flags, read before commander parses, so that even a parse error is reported in
 * the format the user asked for (JSON on stderr with -o json).
 */
export function sniffGlobals(argv: string[], env: Record<string, string | undefined>): { output?: string; quiet?: boolean; debug?: boolean; color?: boolean; progress?: boolean } {
  let output = env.LAKE_OUTPUT;
  let debug = env.LAKE_DEBUG !== undefined;
  let color: boolean | undefined = env.LAKE_NO_COLOR !== undefined ? false : undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '-o' || a === '--output') output = argv[i + 1];
    else if (a.startsWith('--output=')) output = a.slice('--output='.length);
    else if (/^-o[a-z]+$/.test(a)) output = a.slice(2);
    else if (a === '--debug') debug = true;
    else if (a === '--no-color') color = false;
  }
  const valid = output === 'json' || output === 'table' || output === 'csv' || output === 'ndjson' ? output : undefined;
  return { output: valid, debug, color };
}
