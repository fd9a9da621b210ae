/**
 * The output host: the only writer to stdout and stderr. Results go to stdout; logs,
 * warnings, progress and errors go to stderr. Routes by level and honours --quiet,
 * --debug, --no-color and the output format.
 */
import type { LakeError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Colors, makeColors } from './color.js';
import type { IO } from './io.js';
import { type OutputFormat, type View, documentRows, renderView, toJson } from './render.js';
import { type Progress, type ProgressOptions, createProgress } from './progress.js';

export interface OutputSettings {
  format: OutputFormat;
  /** The user asked for JSON (-o json or LAKE_OUTPUT): errors are JSON on stderr too. */
  jsonErrors: boolean;
  quiet: boolean;
  debug: boolean;
  color: boolean;
  progress: boolean;
}

/** Decides defaults the way DESIGN.md says: table on a terminal, JSON otherwise; colour only on a terminal. */
export function outputSettings(io: IO, flags: { output?: string; quiet?: boolean; debug?: boolean; color?: boolean; progress?: boolean }): OutputSettings {
  const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  return {
    format: (flags.output as OutputFormat | undefined) ?? (io.stdout.isTTY ? 'table' : 'json'),
    jsonErrors: flags.output === 'json',
    quiet: flags.quiet ?? false,
    debug: flags.debug ?? false,
    color: flags.color !== false && !noColorEnv && io.stderr.isTTY === true && io.env.TERM !== 'dumb',
    progress: flags.progress !== false && !(flags.quiet ?? false),
  };
}

export class OutputHost implements Logger {
  readonly colors: Colors;
  /** Colours for stdout, which may be a terminal when stderr is not (and the reverse). */
  private readonly stdoutColor: boolean;

  constructor(
    readonly io: IO,
    readonly settings: OutputSettings,
  ) {
    this.colors = makeColors(settings.color);
    this.stdoutColor = settings.color && io.stdout.isTTY === true;
  }

  get format(): OutputFormat {
    return this.settings.format;
  }

  /** Prints a command's result: the data as JSON, or its view in the chosen format. */
  async result(data: unknown, view?: (data: never) => View): Promise<void> {
    if (this.settings.format === 'json') {
      this.io.stdout.write(`${toJson(data, 2)}\n`);
      return;
    }
    const v: View = view
      ? view(data as never)
      : { kind: 'rows', columns: ['field', 'value'], rows: documentRows((data ?? {}) as Record<string, unknown>) };
    this.io.stdout.write(await renderView(v, this.settings.format, { color: this.stdoutColor, width: this.io.stdout.columns }));
  }

  /** Raw text on stdout (streamed results: csv/ndjson rows written as they come). */
  write(text: string): void {
    this.io.stdout.write(text);
  }

  debug(message: string): void {
    if (this.settings.debug) this.io.stderr.write(`${this.colors.dim(`debug: ${message}`)}\n`);
  }

  info(message: string): void {
    if (!this.settings.quiet) this.io.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    this.io.stderr.write(`${this.colors.yellow('warning:')} ${message}\n`);
  }

  /** The one error line (and hint) for a failed run; JSON on stderr with -o json. */
  error(err: LakeError): void {
    if (this.settings.jsonErrors) {
      const body: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.hint) body.hint = err.hint;
      if (err.requestId) body.requestId = err.requestId;
      body.exitCode = err.exitCode;
      this.io.stderr.write(`${toJson({ error: body })}\n`);
    } else {
      const lines = err.message.split('\n');
      this.io.stderr.write(`${this.colors.red('lake:')} ${lines.join('\n      ')}\n`);
      if (err.requestId) this.io.stderr.write(`request id: ${err.requestId}\n`);
      if (err.hint) this.io.stderr.write(`${this.colors.dim('hint:')} ${err.hint}\n`);
    }
    if (this.settings.debug && err.stack) {
      this.io.stderr.write(`${err.stack}\n`);
      if (err.cause instanceof Error && err.cause.stack) this.io.stderr.write(`caused by: ${err.cause.stack}\n`);
    }
  }

  progress(options: ProgressOptions): Progress {
    return createProgress(this.io.stderr, options, {
      mode: !this.settings.progress ? 'none' : this.io.stderr.isTTY ? 'live' : 'lines',
      colors: this.colors,
    });
  }
}
