/** `lake deploy`: render the template from lake.config.json and apply it through a change set. */
import type { LakeContext } from '../lib/context.js';
import { UsageError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';
import type { ResourceChange } from '../lib/ports.js';
import { type ApplyOutcome, applyDepsFrom, applyStack, deploymentFailed, succeeded } from '../lib/template/apply.js';
import { renderStack, renderedTemplatePath, writeRenderedTemplate } from '../lib/template/index.js';
import { type Outcome, type Registrar, examples } from './command.js';

export interface DeployFlags {
  plan?: boolean;
  parameter?: string[];
}

export type DeployReport =
  | { stack: string; plan: true; changes: ResourceChange[]; template: string }
  | (ApplyOutcome & { plan: false; template: string });

/** `--parameter Key=Value`, repeatable: values for the template's parameters (retention days, alarm topic, API auth). */
export function parseParameters(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--parameter: expected KEY=VALUE, got '${pair}'`, { hint: 'e.g. --parameter AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:alerts' });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export async function runDeploy(ctx: LakeContext, flags: DeployFlags): Promise<Outcome<DeployReport>> {
  const { config, path } = ctx.resolvedConfig();
  const parameters = parseParameters(flags.parameter);
  const rendered = await renderStack(config);
  for (const note of rendered.notes) ctx.out.warn(note);
  // The committed copy always shows what was deployed.
  const template = renderedTemplatePath(path!);
  const written = await writeRenderedTemplate(template, rendered.body);
  if (written !== 'unchanged') ctx.out.info(`${written} ${template}`);
  const { deployer } = await ctx.backend();
  const request = { stackName: config.stackName, template: rendered.body, parameters, tags: { lake: config.name } };

  if (flags.plan) {
    const changes = await deployer.plan({ ...request, signal: ctx.signal });
    if (changes.length === 0) ctx.out.info(`stack ${config.stackName} is up to date: no changes`);
    return { data: { stack: config.stackName, plan: true, changes, template }, view: renderDeploy };
  }
  const outcome = await applyStack(applyDepsFrom(ctx, deployer), request, { assumeYes: ctx.globals.yes === true });
  if (!outcome.changed) ctx.out.info(`stack ${config.stackName} is up to date: nothing to deploy`);
  return { data: { ...outcome, plan: false, template }, view: renderDeploy, exit: succeeded(outcome) ? undefined : deploymentFailed(outcome) };
}

export function renderDeploy(report: DeployReport): View {
  const changes: View = {
    kind: 'rows',
    title: report.plan ? `plan for stack ${report.stack}` : `stack ${report.stack}: ${report.status}`,
    columns: ['action', 'resource', 'type', 'replacement'],
    rows: report.changes.map((c) => ({ action: c.action, resource: c.logicalId, type: c.resourceType, replacement: c.replacement ?? '' })),
    footer: [report.changes.length === 0 ? 'no changes' : `${report.changes.length} change${report.changes.length === 1 ? '' : 's'}`],
  };
  if (report.plan) return changes;
  const sections: View[] = [changes];
  if (report.failures.length > 0) {
    sections.push({ kind: 'rows', title: `failed (${report.status})`, columns: ['resource', 'type', 'status', 'reason'], rows: report.failures.map((f) => ({ resource: f.logicalId, type: f.resourceType, status: f.status, reason: f.reason ?? '' })) });
  } else if (Object.keys(report.outputs).length > 0) {
    sections.push({ kind: 'rows', title: 'outputs', columns: ['output', 'value'], rows: Object.entries(report.outputs).map(([output, value]) => ({ output, value })) });
  }
  return { kind: 'sections', sections };
}

export const registerDeploy: Registrar = (parent, app) => {
  parent
    .command('deploy')
    .description('create or update the stack from lake.config.json through a CloudFormation change set')
    .option('--plan', 'print the resource changes and stop')
    .option('--parameter <key=value>', 'a template parameter (repeatable): ErrorRetentionDays, BackupRetentionDays, ResultsRetentionDays, AlarmTopicArn, ApiAuth', (v: string, all: string[] = []) => [...all, v])
    .addHelpText(
      'after',
      examples(
        ['lake deploy --plan', 'what would change, without changing anything'],
        ['lake deploy', 'apply; asks before anything is replaced or removed (--yes answers)'],
        ['lake deploy --yes --parameter AlarmTopicArn=arn:aws:sns:eu-west-1:123456789012:alerts', 'in CI, with the alarm sent to a topic'],
      ),
    )
    .action(app.action<DeployFlags>((ctx, flags) => runDeploy(ctx, flags)));
};
