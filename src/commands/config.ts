/** `lake config`: the resolved configuration and where each value came from. */
import type { LakeConfig, ValueSource } from '../lib/config.js';
import type { LakeContext } from '../lib/context.js';
import { toJson } from '../lib/output/render.js';
import type { View } from '../lib/output/render.js';
import { type Registrar, examples } from './command.js';

export interface ConfigReport {
  path: string | null;
  config: LakeConfig;
  sources: Record<string, ValueSource>;
}

export async function runConfig(ctx: LakeContext): Promise<ConfigReport> {
  const { config, path, sources } = ctx.resolvedConfig();
  return { path: path ?? null, config, sources };
}

export function renderConfig(report: ConfigReport): View {
  const rows = Object.entries(report.config).map(([field, value]) => ({
    field,
    value: typeof value === 'object' && value !== null ? toJson(value) : value === undefined ? '' : String(value),
    source: report.sources[field] ?? 'default',
  }));
  return { kind: 'rows', title: `configuration: ${report.path ?? '(none found: defaults)'}`, columns: ['field', 'value', 'source'], rows };
}

export const registerConfig: Registrar = (parent, app) => {
  parent
    .command('config')
    .description('print the resolved configuration and where each value came from (flag, env, file, default)')
    .addHelpText(
      'after',
      examples(
        ['lake config', 'the configuration as a table with each value\'s source'],
        ['lake config -o json | jq .config.bucket', 'one value, for scripts'],
        ['LAKE_REGION=eu-west-1 lake config', 'see an environment override take effect'],
      ),
    )
    .action(app.action(async (ctx) => ({ data: await runConfig(ctx), view: renderConfig })));
};
