/** `lake init`: write lake.config.json and the rendered template; on local, create the lake too. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, relative, resolve } from 'node:path';
import { Option } from 'commander';
import { regionFromSharedConfig } from '../lib/aws-shared-config.js';
import { CONFIG_FILE, awsRegionFromEnv } from '../lib/config.js';
import type { LakeContext } from '../lib/context.js';
import { UsageError } from '../lib/errors.js';
import { type Inference, inferSchema } from '../lib/infer.js';
import type { View } from '../lib/output/render.js';
import type { Column } from '../lib/ports.js';
import { type ApplyOutcome, applyDepsFrom, applyStack, deploymentFailed, succeeded } from '../lib/template/apply.js';
import { renderStack, renderedTemplatePath, writeRenderedTemplate } from '../lib/template/index.js';
import { nameFromFolder, parsePartitionBy, readSchemaFile, scaffoldConfig } from '../lib/template/scaffold.js';
import { type Outcome, type Registrar, examples } from './command.js';

export interface InitFlags {
  backend?: 'local' | 'aws';
  name?: string;
  schema?: string;
  infer?: string;
  timeField?: string;
  partitionBy?: string;
  layout?: 'hive' | 'firehose';
  projection?: boolean;
  api?: boolean;
  kinesisSource?: boolean;
  deploy?: boolean;
  force?: boolean;
}

export interface InitReport {
  config: string;
  template: string;
  name: string;
  backend: 'local' | 'aws';
  stack: string;
  bucket: string;
  columns: Column[];
  inferred: (Omit<Inference, 'columns'> & { sample: string; columns: Inference['columns'] }) | null;
  deployed: Pick<ApplyOutcome, 'changed' | 'status' | 'outputs' | 'failures'> | null;
  notes: string[];
}

export async function runInit(ctx: LakeContext, flags: InitFlags): Promise<Outcome<InitReport>> {
  const configPath = resolve(ctx.cwd, ctx.globals.config ?? CONFIG_FILE);
  const shown = relative(ctx.cwd, configPath) || CONFIG_FILE;
  if (existsSync(configPath) && !flags.force) throw new UsageError(`${shown} already exists`, { hint: 'pass --force to overwrite it (data already in the lake is kept)' });
  if (flags.schema && flags.infer) throw new UsageError('--schema and --infer cannot be used together', { hint: 'give the columns with --schema FILE, or have them proposed with --infer SAMPLE' });
  const name = flags.name ?? nameFromFolder(dirname(configPath));
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) throw new UsageError(`--name: expected lowercase letters, digits and '-', starting with a letter, at most 40 characters, got '${name}'`);
  const backend = flags.backend ?? 'local';

  let columns: Column[] = [];
  let inference: Inference | undefined;
  if (flags.schema) columns = readSchemaFile(resolve(ctx.cwd, flags.schema), flags.schema).columns;
  if (flags.infer) {
    inference = await inferSchema(flags.infer, { cwd: ctx.cwd, stdin: ctx.io.stdin });
    columns = inference.columns.map((c) => ({ name: c.name, type: c.type }));
  }
  const keyMappings = Object.fromEntries((inference?.columns ?? []).filter((c) => c.key !== undefined).map((c) => [c.name, c.key!]));
  const { document, config } = scaffoldConfig({
    name,
    backend,
    // The region in effect now: the flag or LAKE_REGION, else the AWS CLI's variables, else the profile's.
    region: ctx.globals.region ?? awsRegionFromEnv(ctx.io.env)?.value ?? regionFromSharedConfig(ctx.globals.profile ?? (ctx.io.env.AWS_PROFILE?.trim() || 'default'), ctx.io.env)?.value,
    columns,
    keyMappings,
    timeField: flags.timeField,
    partitionBy: flags.partitionBy === undefined ? undefined : parsePartitionBy(flags.partitionBy),
    layout: flags.layout,
    projection: flags.projection,
    api: flags.api,
    kinesisSource: flags.kinesisSource,
    // Bucket names are global on AWS: a random suffix keeps two lakes of the same name apart.
    bucketSuffix: backend === 'aws' ? randomBytes(4).toString('hex') : undefined,
  });
  const rendered = await renderStack(config);
  const notes = [...rendered.notes];
  if (inference && inference.timeCandidates.length > 0 && !flags.timeField) {
    notes.push(`${inference.timeCandidates.join(', ')} look${inference.timeCandidates.length === 1 ? 's' : ''} like event time: \`lake init --time-field ${inference.timeCandidates[0]} --force\` partitions by it instead of arrival time`);
  }

  await mkdir(dirname(configPath), { recursive: true });
  await writeFile(configPath, `${JSON.stringify(document, null, 2)}\n`, { flag: flags.force ? 'w' : 'wx' });
  const templatePath = renderedTemplatePath(configPath);
  await writeRenderedTemplate(templatePath, rendered.body);

  // Deploying locally is instant, free and what `send` needs; on AWS the template is reviewed first.
  let deployed: ApplyOutcome | undefined;
  if (flags.deploy ?? backend === 'local') {
    const { deployer } = await ctx.backend();
    deployed = await applyStack(applyDepsFrom(ctx, deployer), { stackName: config.stackName, template: rendered.body, parameters: {}, tags: { lake: name } }, { assumeYes: ctx.globals.yes === true });
  }
  const report: InitReport = {
    config: configPath,
    template: templatePath,
    name,
    backend,
    stack: config.stackName,
    bucket: config.bucket,
    columns: config.columns,
    inferred: inference ? { sample: flags.infer!, ...inference } : null,
    deployed: deployed ? { changed: deployed.changed, status: deployed.status, outputs: deployed.outputs, failures: deployed.failures } : null,
    notes,
  };
  return { data: report, view: renderInit, exit: deployed && !succeeded(deployed) ? deploymentFailed(deployed) : undefined };
}

export function renderInit(report: InitReport): View {
  const lines = [`wrote ${report.config}`, `wrote ${report.template} (the CloudFormation template: review and commit it)`];
  if (report.deployed) lines.push(`stack ${report.stack}: ${report.deployed.status}${report.deployed.changed ? '' : ' (unchanged)'}`);
  lines.push(...report.notes.map((n) => `note: ${n}`));
  lines.push('', 'next:', report.deployed ? '  lake send FILE      put records into the lake' : '  lake deploy         create the stack (--plan shows what it would do)', '  lake status         see how the lake is doing');
  const sections: View[] = [{ kind: 'text', text: lines.join('\n') }];
  if (report.inferred) {
    const inferred = report.inferred;
    sections.unshift({
      kind: 'rows',
      title: `columns inferred from ${inferred.rows} ${inferred.format} record${inferred.rows === 1 ? '' : 's'} of ${inferred.sample}`,
      columns: ['column', 'type', 'why'],
      rows: inferred.columns.map((c) => ({ column: c.key ? `${c.name} (from '${c.key}')` : c.name, type: c.type, why: c.reason })),
      footer: inferred.skipped.map((s) => `skipped ${s.key}: ${s.reason}`),
    });
  }
  return { kind: 'sections', sections };
}

export const registerInit: Registrar = (parent, app) => {
  parent
    .command('init')
    .description('write lake.config.json and the CloudFormation template; on local, create the lake')
    .addOption(new Option('--backend <kind>', 'where the lake lives').choices(['local', 'aws']).default(undefined, 'local'))
    .option('--name <name>', 'the lake name (default: the folder name)')
    .option('--schema <file>', 'columns from a JSON file: [{"name": "id", "type": "bigint"}, ...]')
    .option('--infer <sample>', 'propose columns from the first rows of a CSV, JSON or NDJSON sample')
    .option('--time-field <column>', 'partition by this timestamp column (event time) instead of arrival time')
    .option('--partition-by <keys>', 'partition keys, in order: year,month,day,hour (may stop early)')
    .addOption(new Option('--layout <layout>', 'partition paths: hive (year=2024/) or firehose (2024/)').choices(['hive', 'firehose']))
    .option('--projection', 'use Athena partition projection (no partition registration)')
    .option('--api', 'add an HTTP ingest endpoint (API Gateway -> Firehose)')
    .option('--kinesis-source', 'put a Kinesis Data Stream in front of Firehose')
    .option('--deploy', 'deploy the stack now (default on local)')
    .option('--no-deploy', 'only write the files')
    .option('--force', 'overwrite an existing lake.config.json')
    .addHelpText(
      'after',
      examples(
        ['lake init --infer events.csv', 'a local lake with columns proposed from a sample, ready for `lake send`'],
        ['lake init --backend aws --region eu-west-1 --schema schema.json --time-field ts', 'an AWS lake partitioned by event time; then `lake deploy`'],
        ['lake init --layout firehose --projection --api', "Firehose's default layout, projected, with an HTTP endpoint"],
      ) + '\nGlobal --region sets the region written to the configuration.\n',
    )
    .action(app.action<InitFlags>((ctx, flags) => runInit(ctx, flags)));
};
