/**
 * StackDeployer over AWS CloudFormation, always through change sets: a plan is a change
 * set that is described and deleted; a deploy executes it and follows the stack's events
 * until the stack settles. Polling backs off, honours the AbortSignal, and its interval is
 * injectable so tests run without waiting.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Change,
  type CloudFormationClient,
  type Stack,
  type StackEvent as CfnStackEvent,
} from '@aws-sdk/client-cloudformation';
import { InterruptedError, ServiceError } from '../errors.js';
import type { DeployRequest, DeployResult, ResourceChange, StackDeployer, StackEvent, StackInfo } from '../ports.js';

export interface CloudFormationPolling {
  /** First wait between polls; grows by half each poll up to `maxIntervalMs`. */
  intervalMs: number;
  maxIntervalMs: number;
}

const DEFAULT_POLLING: CloudFormationPolling = { intervalMs: 2_000, maxIntervalMs: 10_000 };

/** CloudFormation takes at most this many bytes of inline TemplateBody; beyond, TemplateURL (S3) is required. */
export const TEMPLATE_BODY_LIMIT = 51_200;

const SUCCESS_STATUSES = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);
/** A stack whose creation failed can be neither updated nor planned against: it must be deleted first. */
const CREATION_FAILURES = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED']);
/** Messages of a change set that FAILED only because there was nothing to change. */
const NO_CHANGE_REASONS = [/didn't contain changes/i, /No updates are to be performed/i];
const STACK_RESOURCE_TYPE = 'AWS::CloudFormation::Stack';

function isTerminal(status: string): boolean {
  return !status.endsWith('_IN_PROGRESS');
}

function isMissingStack(err: unknown): boolean {
  return (err as Error).name === 'ValidationError' && /does not exist/i.test((err as Error).message);
}

function toStackInfo(stack: Stack): StackInfo {
  const info: StackInfo = {
    name: stack.StackName ?? '',
    status: stack.StackStatus ?? 'UNKNOWN',
    outputs: (stack.Outputs ?? []).map((o) => {
      const output: StackInfo['outputs'][number] = { key: o.OutputKey ?? '', value: o.OutputValue ?? '' };
      if (o.Description !== undefined) output.description = o.Description;
      return output;
    }),
  };
  if (stack.StackStatusReason !== undefined) info.statusReason = stack.StackStatusReason;
  const updatedAt = stack.LastUpdatedTime ?? stack.CreationTime;
  if (updatedAt !== undefined) info.updatedAt = updatedAt;
  return info;
}

function toStackEvent(event: CfnStackEvent): StackEvent {
  const out: StackEvent = {
    timestamp: event.Timestamp ?? new Date(0),
    logicalId: event.LogicalResourceId ?? '',
    resourceType: event.ResourceType ?? '',
    status: event.ResourceStatus ?? '',
  };
  if (event.ResourceStatusReason !== undefined) out.reason = event.ResourceStatusReason;
  return out;
}

const ACTIONS: ReadonlySet<string> = new Set<ResourceChange['action']>(['Add', 'Modify', 'Remove', 'Import', 'Dynamic']);

function toResourceChange(change: Change): ResourceChange[] {
  const rc = change.ResourceChange;
  if (change.Type !== 'Resource' || !rc) return [];
  // SyncWithActual (drift-aware change sets) changes a resource in place: closest is Modify.
  const action = rc.Action !== undefined && ACTIONS.has(rc.Action) ? (rc.Action as ResourceChange['action']) : 'Modify';
  const out: ResourceChange = { action, logicalId: rc.LogicalResourceId ?? '', resourceType: rc.ResourceType ?? '' };
  if (rc.Replacement !== undefined) out.replacement = rc.Replacement;
  return [out];
}

/**
 * The failed resources of an operation. The stack's own *_FAILED event only summarises
 * them ("The following resource(s) failed to delete: [Bucket]"), so it is listed only
 * when no resource failed (e.g. UPDATE_ROLLBACK_FAILED on a stack-level problem).
 */
function failuresOf(events: StackEvent[], stackName: string): StackEvent[] {
  const failed = events.filter((e) => e.status.endsWith('_FAILED'));
  const resources = failed.filter((e) => !(e.resourceType === STACK_RESOURCE_TYPE && e.logicalId === stackName));
  return resources.length > 0 ? resources : failed;
}

function interrupted(stackName: string): InterruptedError {
  return new InterruptedError(`interrupted while waiting for stack ${stackName}`, {
    hint: 'CloudFormation carries on without lake; follow it with `lake status` or the CloudFormation console',
  });
}

function sleep(ms: number, signal: AbortSignal | undefined, stackName: string): Promise<void> {
  if (signal?.aborted) return Promise.reject(interrupted(stackName));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted(stackName));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface ChangeSetOutcome {
  changeSetId: string;
  stackId: string;
  noChange: boolean;
  changes: ResourceChange[];
}

export class CloudFormationStackDeployer implements StackDeployer {
  private readonly polling: CloudFormationPolling;

  constructor(
    private readonly getClient: () => Promise<CloudFormationClient>,
    options: { polling?: Partial<CloudFormationPolling> } = {},
  ) {
    this.polling = { ...DEFAULT_POLLING, ...options.polling };
  }

  async describe(stackName: string): Promise<StackInfo | undefined> {
    const stack = await this.describeStack(stackName);
    return stack ? toStackInfo(stack) : undefined;
  }

  async plan(request: DeployRequest): Promise<ResourceChange[]> {
    const existing = await this.describeStack(request.stackName);
    if (existing && CREATION_FAILURES.has(existing.StackStatus ?? '')) {
      throw new ServiceError(`stack ${request.stackName} is in ${existing.StackStatus}: its creation failed and it cannot be updated`, {
        service: 'cloudformation',
        code: 'StackCreationFailed',
        hint: '`lake deploy` deletes the failed stack and creates it again',
      });
    }
    this.assertNotBusy(request.stackName, existing);
    const outcome = await this.createChangeSet(request, existing);
    await this.discardChangeSet(outcome, existing, request.signal);
    return outcome.changes;
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    let existing = await this.describeStack(request.stackName);
    if (existing && CREATION_FAILURES.has(existing.StackStatus ?? '')) {
      // As the CDK does: a stack that never got created holds nothing worth keeping.
      const { stack } = await this.deleteAndWait(existing, request.signal, request.onEvent);
      if (stack.StackStatus !== 'DELETE_COMPLETE') {
        throw new ServiceError(`stack ${request.stackName} failed to create earlier and could not be deleted (${stack.StackStatus ?? 'unknown status'})`, {
          service: 'cloudformation',
          code: 'StackCreationFailed',
          hint: 'delete it in the CloudFormation console, then deploy again',
        });
      }
      existing = undefined;
    }
    this.assertNotBusy(request.stackName, existing);
    const outcome = await this.createChangeSet(request, existing);
    if (outcome.noChange) {
      await this.discardChangeSet(outcome, existing, request.signal);
      // Only an update can come back unchanged: a CREATE change set always adds something.
      const stack = existing ?? { StackName: request.stackName, StackStatus: 'REVIEW_IN_PROGRESS', CreationTime: undefined };
      return { changed: false, changes: [], stack: toStackInfo(stack), failures: [] };
    }

    const client = await this.getClient();
    const marker = await this.latestEventId(outcome.stackId);
    await client.send(new ExecuteChangeSetCommand({ ChangeSetName: outcome.changeSetId, ClientRequestToken: `lake-${randomUUID()}` }));
    const { stack, events } = await this.follow(request.stackName, outcome.stackId, marker, request.signal, request.onEvent);
    const succeeded = SUCCESS_STATUSES.has(stack.StackStatus ?? '');
    return {
      changed: true,
      changes: outcome.changes,
      stack: toStackInfo(stack),
      failures: succeeded ? [] : failuresOf(events, request.stackName),
    };
  }

  async destroy(stackName: string, options: { keepData?: boolean; signal?: AbortSignal; onEvent?: (event: StackEvent) => void } = {}): Promise<void> {
    // keepData needs nothing here: the template gives the data bucket DeletionPolicy Retain
    // when asked to, so CloudFormation leaves it behind on its own.
    const existing = await this.describeStack(stackName);
    if (!existing) return;
    const { stack, events } = await this.deleteAndWait(existing, options.signal, options.onEvent);
    if (stack.StackStatus !== 'DELETE_COMPLETE') {
      const failures = failuresOf(events, stackName);
      const detail = failures.map((e) => `${e.logicalId} (${e.resourceType}): ${e.reason ?? 'no reason given'}`).join('; ');
      throw new ServiceError(`stack ${stackName} could not be deleted (${stack.StackStatus ?? 'unknown status'})${detail ? `: ${detail}` : ''}`, {
        service: 'cloudformation',
        code: stack.StackStatus ?? 'DELETE_FAILED',
        hint: 'fix or empty the resources named (a bucket must be empty to be deleted), then run `lake destroy` again',
      });
    }
  }

  // ------------------------------------------------------------------ helpers

  /** DescribeStacks; a stack that does not exist is undefined, not an error. */
  private async describeStack(nameOrId: string): Promise<Stack | undefined> {
    const client = await this.getClient();
    try {
      const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: nameOrId }));
      return Stacks?.[0];
    } catch (err) {
      if (isMissingStack(err)) return undefined;
      throw err;
    }
  }

  private assertNotBusy(stackName: string, stack: Stack | undefined): void {
    const status = stack?.StackStatus;
    // REVIEW_IN_PROGRESS is a stack that only holds change sets: a CREATE change set may target it.
    if (status && status !== 'REVIEW_IN_PROGRESS' && !isTerminal(status)) {
      throw new ServiceError(`stack ${stackName} is busy (${status})`, {
        service: 'cloudformation',
        code: 'StackBusy',
        hint: 'wait for the operation under way to finish (`lake status`), then try again',
      });
    }
  }

  private async createChangeSet(request: DeployRequest, existing: Stack | undefined): Promise<ChangeSetOutcome> {
    const size = Buffer.byteLength(request.template, 'utf8');
    if (size > TEMPLATE_BODY_LIMIT) {
      throw new ServiceError(`the rendered template is ${size} bytes; CloudFormation takes at most ${TEMPLATE_BODY_LIMIT} inline`, {
        service: 'cloudformation',
        code: 'TemplateTooLarge',
      });
    }
    const client = await this.getClient();
    const update = existing !== undefined && existing.StackStatus !== 'REVIEW_IN_PROGRESS';
    const created = await client.send(
      new CreateChangeSetCommand({
        StackName: request.stackName,
        ChangeSetName: `lake-${randomUUID()}`,
        ChangeSetType: update ? 'UPDATE' : 'CREATE',
        TemplateBody: request.template,
        Parameters: Object.entries(request.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
        Tags: request.tags ? Object.entries(request.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
        ClientToken: randomUUID(),
        Description: 'lake deploy',
      }),
      { abortSignal: request.signal },
    );
    const changeSetId = created.Id;
    const stackId = created.StackId;
    if (!changeSetId || !stackId) {
      throw new ServiceError('CreateChangeSet returned no change set or stack id', { service: 'cloudformation', code: 'NoChangeSetId', requestId: created.$metadata?.requestId });
    }
    try {
      return { changeSetId, stackId, ...(await this.waitForChangeSet(request.stackName, changeSetId, request.signal)) };
    } catch (err) {
      await this.discardChangeSet({ changeSetId, stackId }, existing, undefined).catch(() => undefined);
      throw err;
    }
  }

  /** Polls until the change set is ready (or failed), then reads every page of its changes. */
  private async waitForChangeSet(stackName: string, changeSetId: string, signal: AbortSignal | undefined): Promise<{ noChange: boolean; changes: ResourceChange[] }> {
    const client = await this.getClient();
    let interval = this.polling.intervalMs;
    for (;;) {
      const out = await client.send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId }), { abortSignal: signal });
      if (out.Status === 'FAILED') {
        const reason = out.StatusReason ?? '';
        if (NO_CHANGE_REASONS.some((re) => re.test(reason))) return { noChange: true, changes: [] };
        throw new ServiceError(`change set for stack ${stackName} failed: ${reason || 'no reason given'}`, { service: 'cloudformation', code: 'ChangeSetFailed' });
      }
      if (out.Status === 'CREATE_COMPLETE') {
        const changes = (out.Changes ?? []).flatMap(toResourceChange);
        let nextToken = out.NextToken;
        while (nextToken) {
          const page = await client.send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId, NextToken: nextToken }), { abortSignal: signal });
          changes.push(...(page.Changes ?? []).flatMap(toResourceChange));
          nextToken = page.NextToken;
        }
        return { noChange: false, changes };
      }
      await sleep(interval, signal, stackName);
      interval = this.nextInterval(interval);
    }
  }

  /**
   * Deletes a change set that will not be executed. A CREATE change set for a stack that
   * did not exist leaves a REVIEW_IN_PROGRESS stack behind; that is deleted too, so a plan
   * leaves the account as it found it.
   */
  private async discardChangeSet(outcome: { changeSetId: string; stackId: string }, existing: Stack | undefined, signal: AbortSignal | undefined): Promise<void> {
    const client = await this.getClient();
    await client.send(new DeleteChangeSetCommand({ ChangeSetName: outcome.changeSetId }));
    if (existing === undefined) {
      const stack = await this.describeStack(outcome.stackId);
      if (stack && stack.StackStatus === 'REVIEW_IN_PROGRESS') await this.deleteAndWait(stack, signal, undefined);
    }
  }

  private async deleteAndWait(stack: Stack, signal: AbortSignal | undefined, onEvent: ((event: StackEvent) => void) | undefined): Promise<{ stack: Stack; events: StackEvent[] }> {
    const client = await this.getClient();
    const stackId = stack.StackId ?? stack.StackName ?? '';
    const stackName = stack.StackName ?? stackId;
    const marker = await this.latestEventId(stackId);
    await client.send(new DeleteStackCommand({ StackName: stackId, ClientRequestToken: `lake-${randomUUID()}` }));
    return this.follow(stackName, stackId, marker, signal, onEvent);
  }

  /** The newest event before an operation: events after it belong to the operation. */
  private async latestEventId(stackId: string): Promise<string | undefined> {
    const client = await this.getClient();
    const out = await client.send(new DescribeStackEventsCommand({ StackName: stackId }));
    return out.StackEvents?.[0]?.EventId;
  }

  /**
   * Follows an operation until the stack settles, passing each new event on in order. The
   * stack's own events tell when it settled: a DescribeStacks read right after an
   * operation starts may still show the status from before it, which must not be taken
   * for the outcome. The final status is then read by id, which still answers once the
   * stack is deleted.
   */
  private async follow(
    stackName: string,
    stackId: string,
    marker: string | undefined,
    signal: AbortSignal | undefined,
    onEvent: ((event: StackEvent) => void) | undefined,
  ): Promise<{ stack: Stack; events: StackEvent[] }> {
    const seen = new Set<string>();
    const events: StackEvent[] = [];
    let stackStatus: string | undefined;
    let interval = this.polling.intervalMs;
    for (;;) {
      if (signal?.aborted) throw interrupted(stackName);
      for (const event of await this.newEvents(stackId, marker, seen)) {
        if (event.ResourceType === STACK_RESOURCE_TYPE && event.PhysicalResourceId === stackId) stackStatus = event.ResourceStatus;
        const mapped = toStackEvent(event);
        events.push(mapped);
        onEvent?.(mapped);
      }
      if (stackStatus !== undefined && isTerminal(stackStatus)) {
        const stack = await this.describeStack(stackId);
        if (!stack) return { stack: { StackName: stackName, StackId: stackId, StackStatus: 'DELETE_COMPLETE', CreationTime: undefined }, events };
        if (isTerminal(stack.StackStatus ?? '')) return { stack, events };
      }
      await sleep(interval, signal, stackName);
      interval = this.nextInterval(interval);
    }
  }

  /** Events newer than `marker` not yet seen, oldest first. DescribeStackEvents pages newest first. */
  private async newEvents(stackId: string, marker: string | undefined, seen: Set<string>): Promise<CfnStackEvent[]> {
    const client = await this.getClient();
    const fresh: CfnStackEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: nextToken }));
      for (const event of page.StackEvents ?? []) {
        if (event.EventId === marker || (event.EventId !== undefined && seen.has(event.EventId))) return record(fresh, seen);
        fresh.push(event);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return record(fresh, seen);
  }

  private nextInterval(interval: number): number {
    return Math.min(Math.max(interval * 1.5, interval + 1), this.polling.maxIntervalMs);
  }
}

function record(fresh: CfnStackEvent[], seen: Set<string>): CfnStackEvent[] {
  for (const event of fresh) if (event.EventId !== undefined) seen.add(event.EventId);
  return fresh.reverse();
}
