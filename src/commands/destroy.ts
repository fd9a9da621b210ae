/** `lake destroy`: delete the stack; with --keep-data the bucket and its key stay. */
import type { LakeContext } from '../lib/context.js';
import { LakeError } from '../lib/errors.js';
import type { View } from '../lib/output/render.js';
import { applyDepsFrom, applyStack, deploymentFailed, eventLine, succeeded } from '../lib/template/apply.js';
import { renderStack } from '../lib/template/index.js';
import { deleteWithData } from '../lib/template/teardown.js';
import { type Outcome, type Registrar, examples } from './command.js';

export interface DestroyFlags {
  keepData?: boolean;
}

export interface DestroyReport {
  stack: string;
  destroyed: boolean;
  keptData: boolean;
  bucket: string;
  deletedObjects: number;
  deletedBytes: number;
}

export async function runDestroy(ctx: LakeContext, flags: DestroyFlags): Promise<Outcome<DestroyReport>> {
  const config = ctx.config;
  const keepData = flags.keepData === true;
  const report: DestroyReport = { stack: config.stackName, destroyed: false, keptData: keepData, bucket: config.bucket, deletedObjects: 0, deletedBytes: 0 };
  const backend = await ctx.backend();
  const stack = await backend.deployer.describe(config.stackName);
  if (!stack) {
    ctx.out.info(`stack ${config.stackName} does not exist: nothing to destroy`);
    return { data: report, view: renderDestroy };
  }
  const what = keepData ? `destroy stack ${config.stackName}, keeping bucket ${config.bucket} and its key` : `destroy stack ${config.stackName} and delete every object in bucket ${config.bucket}`;
  if (!(await ctx.confirm(what, '--yes'))) throw new LakeError(`${config.stackName} not destroyed: cancelled`);

  const eventLines = !(ctx.out.settings.progress && ctx.io.stderr.isTTY === true);
  const onEvent = eventLines ? (event: Parameters<typeof eventLine>[0]) => ctx.out.info(eventLine(event)) : undefined;
  if (keepData) {
    // Mark the bucket and key Retain first, so deleting the stack leaves them.
    const rendered = await renderStack(config, { retainData: true });
    const outcome = await applyStack(applyDepsFrom(ctx, backend.deployer), { stackName: config.stackName, template: rendered.body, parameters: {}, tags: { lake: config.name } }, { assumeYes: true });
    if (!succeeded(outcome)) throw deploymentFailed(outcome);
    await backend.deployer.destroy(config.stackName, { keepData: true, signal: ctx.signal, onEvent });
  } else {
    const progress = ctx.out.progress({ label: `emptying s3://${config.bucket}`, unit: 'objects' });
    try {
      const deleted = await deleteWithData({ store: backend.store, deployer: backend.deployer, log: ctx.out, signal: ctx.signal, onEvent, onDeleted: (n) => progress.update(n) }, config.stackName, config.bucket);
      report.deletedObjects = deleted.objects;
      report.deletedBytes = deleted.bytes;
    } finally {
      await progress.finish();
    }
  }
  report.destroyed = true;
  return { data: report, view: renderDestroy };
}

export function renderDestroy(report: DestroyReport): View {
  if (!report.destroyed) return { kind: 'text', text: `stack ${report.stack} does not exist: nothing destroyed` };
  const data = report.keptData
    ? `bucket ${report.bucket} and its KMS key were kept (deploying again needs another bucket name, or a CloudFormation import)`
    : `${report.deletedObjects} objects (${report.deletedBytes} bytes) deleted from ${report.bucket}`;
  return { kind: 'text', text: `stack ${report.stack} destroyed; ${data}` };
}

export const registerDestroy: Registrar = (parent, app) => {
  parent
    .command('destroy')
    .description('delete the stack and, unless --keep-data, every object in the lake bucket')
    .option('--keep-data', 'keep the bucket, its objects and the KMS key that encrypts them')
    .addHelpText(
      'after',
      examples(
        ['lake destroy', 'asks first; without a terminal it refuses unless --yes'],
        ['lake destroy --yes --keep-data', 'remove the pipeline, keep the data'],
      ),
    )
    .action(app.action<DestroyFlags>((ctx, flags) => runDestroy(ctx, flags)));
};
