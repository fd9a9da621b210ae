/**
 * Applying a rendered template through the StackDeployer port, for `lake deploy` and
 * `lake init`: the plan, the question before anything is replaced or removed, the stack
 * events as progress, and the outcome as data (failed resources with their reasons and
 * the state the stack was left in).
 */
import type { LakeContext } from '../context.js';
import { LakeError, ServiceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Progress, ProgressOptions } from '../output/progress.js';
import type { ResourceChange, StackDeployer, StackEvent, StackInfo } from '../ports.js';

export const SUCCESS_STATUSES = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE'];

export interface StackRequest {
  stackName: string;
  template: string;
  parameters: Record<string, string>;
  tags: Record<string, string>;
}

export interface FailedResource {
  logicalId: string;
  resourceType: string;
  status: string;
  reason: string | null;
}

export interface ApplyOutcome {
  stack: string;
  changed: boolean;
  /** The stack's state afterwards: CREATE_COMPLETE, UPDATE_COMPLETE, ROLLBACK_COMPLETE, ... */
  status: string;
  statusReason: string | null;
  changes: ResourceChange[];
  outputs: Record<string, string>;
  failures: FailedResource[];
}

export interface ApplyDeps {
  deployer: StackDeployer;
  log: Logger;
  progress(options: ProgressOptions): Progress;
  /** Stack events as lines on stderr (false while a live progress line is drawn there). */
  eventLines: boolean;
  signal?: AbortSignal;
  /** Asked before resources are replaced or removed; throws when it cannot ask. */
  confirm(question: string): Promise<boolean>;
}

/** Changes that can lose data or interrupt service: removals and replacements. */
export function riskyChanges(changes: ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => c.action === 'Remove' || (c.action === 'Modify' && c.replacement !== undefined && c.replacement !== 'False'));
}

export function describeChange(change: ResourceChange): string {
  const replacement = change.action === 'Modify' && change.replacement && change.replacement !== 'False' ? ` (replacement: ${change.replacement})` : '';
  return `${change.action} ${change.logicalId} ${change.resourceType}${replacement}`;
}

function outputsOf(stack: StackInfo | undefined): Record<string, string> {
  return Object.fromEntries((stack?.outputs ?? []).map((o) => [o.key, o.value]));
}

export function eventLine(event: StackEvent): string {
  const time = event.timestamp.toISOString().slice(11, 19);
  return `  ${time}  ${event.logicalId}  ${event.resourceType}  ${event.status}${event.reason ? `  ${event.reason}` : ''}`;
}

/** A stack whose creation failed holds nothing: the deployer deletes it and creates it again. */
const FAILED_CREATION = ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED'];

/**
 * Deploys and follows the events. An existing stack is planned first: no changes deploy
 * nothing, and replacing or removing resources needs a yes (unless `assumeYes`). A new
 * stack (or one whose creation failed) only gains resources, so it is created directly.
 */
export async function applyStack(deps: ApplyDeps, request: StackRequest, options: { assumeYes: boolean }): Promise<ApplyOutcome> {
  const { deployer, log } = deps;
  const existing = await deployer.describe(request.stackName);
  const creating = !existing || existing.status === 'REVIEW_IN_PROGRESS' || FAILED_CREATION.includes(existing.status);
  let planned: ResourceChange[] | undefined;
  if (creating) {
    if (existing && FAILED_CREATION.includes(existing.status)) log.info(`stack ${request.stackName} failed to create earlier (${existing.status}): deleting it and creating it afresh`);
    else log.info(`creating stack ${request.stackName}`);
  } else {
    planned = await deployer.plan({ ...request, signal: deps.signal });
    if (planned.length === 0) {
      return { stack: request.stackName, changed: false, status: existing.status, statusReason: existing.statusReason ?? null, changes: [], outputs: outputsOf(existing), failures: [] };
    }
    const risky = riskyChanges(planned);
    if (risky.length > 0 && !options.assumeYes) {
      log.warn(`stack ${request.stackName}: this deployment replaces or removes resources:\n${risky.map((c) => `  ${describeChange(c)}`).join('\n')}`);
      if (!(await deps.confirm(`apply ${planned.length} change${planned.length === 1 ? '' : 's'} to stack ${request.stackName}`))) {
        throw new LakeError(`deployment of stack ${request.stackName} cancelled: nothing was changed`);
      }
    }
    log.info(`stack ${request.stackName}: ${planned.length} change${planned.length === 1 ? '' : 's'}`);
  }
  const changing = planned ? new Set(planned.map((c) => c.logicalId)) : undefined;
  const progress = deps.progress({ label: `deploying ${request.stackName}`, total: planned?.length, unit: 'resources' });
  let settled = 0;
  const onEvent = (event: StackEvent) => {
    if (deps.eventLines) log.info(eventLine(event));
    const resource = changing ? changing.has(event.logicalId) : event.resourceType !== 'AWS::CloudFormation::Stack';
    if (resource && /_(COMPLETE|FAILED)$/.test(event.status)) settled++;
    progress.update(planned ? Math.min(settled, planned.length) : settled, { last: `${event.logicalId} ${event.status}` });
  };
  let result;
  try {
    result = await deployer.deploy({ ...request, signal: deps.signal, onEvent });
  } finally {
    await progress.finish();
  }
  return {
    stack: request.stackName,
    changed: result.changed,
    status: result.stack.status,
    statusReason: result.stack.statusReason ?? null,
    changes: result.changes.length > 0 ? result.changes : (planned ?? []),
    outputs: outputsOf(result.stack),
    failures: result.failures.map((f) => ({ logicalId: f.logicalId, resourceType: f.resourceType, status: f.status, reason: f.reason ?? null })),
  };
}

export function succeeded(outcome: ApplyOutcome): boolean {
  return !outcome.changed || SUCCESS_STATUSES.includes(outcome.status);
}

/** The exit error of a deployment that failed: the stack's state and where to look. */
export function deploymentFailed(outcome: ApplyOutcome): ServiceError {
  const rolledBack = /ROLLBACK/.test(outcome.status);
  const first = outcome.failures[0];
  return new ServiceError(
    `stack ${outcome.stack} failed to deploy${rolledBack ? ' and was rolled back' : ''} (${outcome.status})${first ? `: ${first.logicalId}: ${first.reason ?? first.status}` : ''}`,
    {
      service: 'cloudformation',
      code: outcome.status,
      hint:
        outcome.status === 'ROLLBACK_COMPLETE'
          ? 'fix what the failed resources say, then run `lake deploy` again (it deletes the failed stack and creates it afresh)'
          : 'fix what the failed resources say, then run `lake deploy` again; `lake status` shows the stack state',
    },
  );
}

/** ApplyDeps from a command's context: progress and logs on stderr, the question on the terminal. */
export function applyDepsFrom(ctx: LakeContext, deployer: StackDeployer): ApplyDeps {
  return {
    deployer,
    log: ctx.out,
    progress: (options) => ctx.out.progress(options),
    eventLines: !(ctx.out.settings.progress && ctx.io.stderr.isTTY === true),
    signal: ctx.signal,
    confirm: (question) => ctx.confirm(question, '--yes'),
  };
}
