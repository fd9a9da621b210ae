/**
 * The commander program, built fresh by a factory for every run (no module-level state).
 * Global options of DESIGN.md, each with its LAKE_* environment fallback; one registrar a
 * command.
 */
import { Command, Option } from 'commander';
import { type CommandApp, type Registrar, examples } from './commands/command.js';
import { registerConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDestroy } from './commands/destroy.js';
import { registerErrors } from './commands/errors.js';
import { registerInit } from './commands/init.js';
import { registerPartitions } from './commands/partitions/index.js';
import { registerQuery } from './commands/query.js';
import { registerSend } from './commands/send.js';
import { registerStatus } from './commands/status.js';
import { OUTPUT_FORMATS } from './lib/output/render.js';

const REGISTRARS: Registrar[] = [registerInit, registerDeploy, registerDestroy, registerStatus, registerDemo, registerConfig, registerPartitions, registerQuery, registerSend, registerErrors];

export function createProgram(app: CommandApp, version: string): Command {
  const program = new Command('lake')
    .description('Operate the serverless data lake: Firehose -> Parquet on S3 -> Glue -> Athena, on AWS or locally.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .option('-c, --config <file>', 'configuration file (default: lake.config.json found upward) [env: LAKE_CONFIG]')
    .option('--profile <name>', 'AWS profile [env: LAKE_PROFILE]')
    .option('--region <region>', 'AWS region [env: LAKE_REGION]')
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
  for (const register of REGISTRARS) register(program, app);
  return program;
}
