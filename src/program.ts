/**
 * The commander program, built fresh by a factory for every run (no module-level state).
 * Global options of DESIGN.md, each with its LAKE_* environment fallback; one registrar a
 * command.
 *
 * Startup stays cheap: a command's module (and what it imports) loads only when the command
 * line names it. The others are listed from COMMANDS, so `lake --help` and `lake --version`
 * import no command at all; a test keeps each entry's help line equal to its command's.
 */
import { Command, Help, Option } from 'commander';
import { type CommandApp, type Registrar, examples } from './commands/command.js';
import { LakeError } from './lib/errors.js';
import { OUTPUT_FORMATS } from './lib/output/render.js';

export interface CommandEntry {
  name: string;
  /** How `lake --help` lists it: name, [options], arguments. */
  term: string;
  description: string;
  load(): Promise<Registrar>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: 'init',
    term: 'init [options]',
    description: 'write lake.config.json and the CloudFormation template; on local, create the lake',
    load: async () => (await import('./commands/init.js')).registerInit,
  },
  {
    name: 'deploy',
    term: 'deploy [options]',
    description: 'create or update the stack from lake.config.json through a CloudFormation change set',
    load: async () => (await import('./commands/deploy.js')).registerDeploy,
  },
  {
    name: 'destroy',
    term: 'destroy [options]',
    description: 'delete the stack and, unless --keep-data, every object in the lake bucket',
    load: async () => (await import('./commands/destroy.js')).registerDestroy,
  },
  {
    name: 'status',
    term: 'status',
    description: 'stack, stream, newest delivery, registered vs unregistered partitions, error records in the last 24 h',
    load: async () => (await import('./commands/status.js')).registerStatus,
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'run the whole pipeline on the local backend with sample data, in a temporary folder',
    load: async () => (await import('./commands/demo.js')).registerDemo,
  },
  {
    name: 'config',
    term: 'config',
    description: 'print the resolved configuration and where each value came from (flag, env, file, default)',
    load: async () => (await import('./commands/config.js')).registerConfig,
  },
  {
    name: 'partitions',
    term: 'partitions',
    description: "register, repair and list the table's partitions",
    load: async () => (await import('./commands/partitions/index.js')).registerPartitions,
  },
  {
    name: 'query',
    term: 'query [options] [sql]',
    description: 'run SQL on Athena (or locally on DuckDB): typed rows, scanned bytes, billed bytes and cost; --estimate predicts before running',
    load: async () => (await import('./commands/query.js')).registerQuery,
  },
  {
    name: 'send',
    term: 'send [options] [files...]',
    description: 'replay CSV, JSON or NDJSON files (or stdin) into the delivery stream: checked, batched, retried, resumable',
    load: async () => (await import('./commands/send.js')).registerSend,
  },
  {
    name: 'errors',
    term: 'errors [options]',
    description: 'list, group and explain the records Firehose could not deliver; --fail-on-errors for CI; --redrive re-sends them',
    load: async () => (await import('./commands/errors.js')).registerErrors,
  },
  {
    name: 'completion',
    term: 'completion <shell>',
    description: 'print a bash or zsh completion script for every command and option',
    load: async () => (await import('./commands/completion.js')).registerCompletion,
  },
];

/**
 * The commands an argument list may run or ask help for: every word naming one. A word that
 * only looks like a command (a value, a file) loads one module too many, never one too few.
 * `completion` needs the whole tree.
 */
export function commandsNamedIn(argv: string[]): (name: string) => boolean {
  const words = new Set(argv);
  if (words.has('completion')) return () => true;
  return (name) => words.has(name);
}

/** The program; `load(name)` says which commands get their full definition (all by default). */
export async function createProgram(app: CommandApp, version: string, load: (name: string) => boolean = () => true): Promise<Command> {
  const program = new Command('lake')
    .description('Operate the serverless data lake: Firehose -> Parquet on S3 -> Glue -> Athena, on AWS or locally.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .option('-c, --config <file>', 'configuration file (default: lake.config.json found upward) [env: LAKE_CONFIG]')
    .option('--profile <name>', 'AWS profile [env: LAKE_PROFILE]')
    .option('--region <region>', 'AWS region [env: LAKE_REGION; below the config file: AWS_REGION, AWS_DEFAULT_REGION]')
    .option('--endpoint-url <url>', 'custom endpoint: LocalStack, MinIO, a mock [env: LAKE_ENDPOINT_URL]')
    .addOption(new Option('-o, --output <format>', 'result format (default: table on a terminal, else json) [env: LAKE_OUTPUT]').choices(OUTPUT_FORMATS))
    .option('-q, --quiet', 'only the result and errors [env: LAKE_QUIET]')
    .option('--no-progress', 'no progress display [env: LAKE_NO_PROGRESS]')
    .option('--no-color', 'no colours [env: LAKE_NO_COLOR, NO_COLOR]')
    .option('--debug', 'stack traces and SDK calls, credentials redacted [env: LAKE_DEBUG]')
    .option('-y, --yes', 'answer yes to confirmations [env: LAKE_YES]')
    .addHelpText(
      'after',
      examples(
        ['lake demo', 'run the whole pipeline on the local backend with sample data'],
        ['lake config -o json', 'show the resolved configuration and where each value came from'],
        ['lake help config', 'help for one command'],
      ) +
        '\nExit codes: 0 ok, 1 failed, 2 usage/config/input, 3 partial, 4 refused by a cost guard,\n5 credentials, 130 interrupted.\n',
    );

  const registrars = await Promise.all(COMMANDS.map((entry) => (load(entry.name) ? entry.load() : undefined)));
  const stubTerms = new Map<Command, string>();
  COMMANDS.forEach((entry, i) => {
    const register = registrars[i];
    if (register) {
      register(program, app);
      return;
    }
    const stub = program
      .command(entry.name)
      .description(entry.description)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        // commandsNamedIn loads every command whose name is on the command line.
        throw new LakeError(`internal error: the ${entry.name} command was not loaded`);
      });
    stubTerms.set(stub, entry.term);
  });
  if (stubTerms.size > 0) {
    program.configureHelp({
      subcommandTerm(this: Help, cmd: Command): string {
        return stubTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
      },
    });
  }
  return program;
}
