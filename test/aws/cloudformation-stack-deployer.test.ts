import {
  CloudFormationClient,
  CloudFormationServiceException,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Change,
  type CreateChangeSetInput,
  type Stack,
  type StackEvent as CfnStackEvent,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudFormationStackDeployer } from '../../src/lib/aws/cloudformation-stack-deployer.js';
import { InterruptedError, ServiceError } from '../../src/lib/errors.js';
import type { StackEvent } from '../../src/lib/ports.js';

// ---------------------------------------------------------------- a stateful CloudFormation

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, string>;
}
interface FakeStack {
  id: string;
  name: string;
  status: string;
  reason?: string;
  resources: Record<string, Resource>;
  outputs: Record<string, string>;
  parameters: Record<string, string>;
  events: CfnStackEvent[];
  /** What the stack does on each later DescribeStacks: one step a poll. */
  steps: (() => void)[];
  createdAt: Date;
  updatedAt?: Date;
  /** A status DescribeStacks reports instead of the real one for `staleSteps` more steps (eventual consistency). */
  stale?: string;
  staleSteps?: number;
}
interface FakeChangeSet {
  id: string;
  stackId: string;
  template: Template;
  parameters: Record<string, string>;
  changes: Change[];
  failure?: string;
  /** DescribeChangeSet calls left before the change set is ready. */
  pendingPolls: number;
}

const BASE = Date.parse('2024-05-17T12:00:00.000Z');
const at = (second: number) => new Date(BASE + second * 1000);
const STACK_TYPE = 'AWS::CloudFormation::Stack';
const NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set.";

function validationError(message: string): CloudFormationServiceException {
  return new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

/**
 * Keeps stacks, change sets and events, and moves a stack one step each time its events
 * are read, as the real service moves on between polls. Resources whose properties say
 * `FailCreate` or `FailDelete` fail with that reason.
 */
class FakeCloudFormation {
  readonly stacks: FakeStack[] = [];
  readonly changeSets = new Map<string, FakeChangeSet>();
  /** When set, the first read after ExecuteChangeSet still shows the stack as it was. */
  lagAfterExecute = false;
  private clock = 0;
  private polls = 0;
  private ids = 0;

  byName(name: string): FakeStack | undefined {
    return this.stacks.find((s) => s.name === name && s.status !== 'DELETE_COMPLETE');
  }

  private find(nameOrId: string): FakeStack | undefined {
    return this.stacks.find((s) => s.id === nameOrId) ?? this.byName(nameOrId);
  }

  private event(stack: FakeStack, logicalId: string, type: string, status: string, reason?: string): void {
    stack.events.push({
      StackId: stack.id,
      StackName: stack.name,
      EventId: `event-${++this.clock}`,
      LogicalResourceId: logicalId,
      PhysicalResourceId: type === STACK_TYPE && logicalId === stack.name ? stack.id : `${logicalId}-physical`,
      ResourceType: type,
      Timestamp: at(this.clock),
      ResourceStatus: status as CfnStackEvent['ResourceStatus'],
      ResourceStatusReason: reason,
    });
  }

  private stackEvent(stack: FakeStack, status: string, reason?: string): void {
    stack.status = status;
    stack.reason = reason;
    this.event(stack, stack.name, STACK_TYPE, status, reason);
  }

  createChangeSet(input: CreateChangeSetInput) {
    const name = input.StackName!;
    let stack = this.byName(name);
    if (input.ChangeSetType === 'CREATE') {
      if (stack && stack.status !== 'REVIEW_IN_PROGRESS') throw validationError(`Stack [${name}] already exists`);
      if (!stack) {
        stack = { id: `arn:aws:cloudformation:us-east-1:111111111111:stack/${name}/${++this.ids}`, name, status: '', resources: {}, outputs: {}, parameters: {}, events: [], steps: [], createdAt: at(this.clock + 1) };
        this.stacks.push(stack);
        this.stackEvent(stack, 'REVIEW_IN_PROGRESS', 'User Initiated');
      }
    } else if (!stack || stack.status === 'REVIEW_IN_PROGRESS') {
      throw validationError(`Stack [${name}] does not exist`);
    }
    const template = JSON.parse(input.TemplateBody!) as Template;
    const parameters = Object.fromEntries((input.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue!]));
    const changes: Change[] = [];
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const before = stack.resources[logicalId];
      if (!before) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: logicalId, ResourceType: resource.Type } });
      else if (JSON.stringify(before) !== JSON.stringify(resource)) {
        changes.push({ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: logicalId, ResourceType: resource.Type, Replacement: 'False' } });
      }
    }
    for (const [logicalId, resource] of Object.entries(stack.resources)) {
      if (!template.Resources[logicalId]) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: logicalId, ResourceType: resource.Type } });
    }
    const unchanged = changes.length === 0 && JSON.stringify(parameters) === JSON.stringify(stack.parameters);
    const id = `arn:aws:cloudformation:us-east-1:111111111111:changeSet/${input.ChangeSetName}/${++this.ids}`;
    this.changeSets.set(id, { id, stackId: stack.id, template, parameters, changes, failure: unchanged ? NO_CHANGES : undefined, pendingPolls: 1 });
    return { Id: id, StackId: stack.id };
  }

  describeChangeSet(input: { ChangeSetName?: string; NextToken?: string }) {
    const cs = this.changeSets.get(input.ChangeSetName!);
    if (!cs) throw new CloudFormationServiceException({ name: 'ChangeSetNotFoundException', $fault: 'client', $metadata: {}, message: `ChangeSet [${input.ChangeSetName}] does not exist` });
    if (cs.pendingPolls > 0) {
      cs.pendingPolls--;
      return { ChangeSetId: cs.id, StackId: cs.stackId, Status: 'CREATE_IN_PROGRESS' as const, ExecutionStatus: 'UNAVAILABLE' as const };
    }
    if (cs.failure) return { ChangeSetId: cs.id, StackId: cs.stackId, Status: 'FAILED' as const, StatusReason: cs.failure, ExecutionStatus: 'UNAVAILABLE' as const };
    // Two changes a page, so paging is exercised.
    const start = Number(input.NextToken ?? '0');
    return {
      ChangeSetId: cs.id,
      StackId: cs.stackId,
      Status: 'CREATE_COMPLETE' as const,
      ExecutionStatus: 'AVAILABLE' as const,
      Changes: cs.changes.slice(start, start + 2),
      NextToken: start + 2 < cs.changes.length ? String(start + 2) : undefined,
    };
  }

  deleteChangeSet(input: { ChangeSetName?: string }) {
    this.changeSets.delete(input.ChangeSetName!);
    return {};
  }

  executeChangeSet(input: { ChangeSetName?: string }) {
    const cs = this.changeSets.get(input.ChangeSetName!);
    if (!cs || cs.failure || cs.pendingPolls > 0) throw new CloudFormationServiceException({ name: 'InvalidChangeSetStatusException', $fault: 'client', $metadata: {}, message: 'ChangeSet is not AVAILABLE' });
    const stack = this.find(cs.stackId)!;
    for (const [id, other] of this.changeSets) if (other.stackId === stack.id) this.changeSets.delete(id);
    const creating = stack.status === 'REVIEW_IN_PROGRESS';
    const verb = creating ? 'CREATE' : 'UPDATE';
    if (this.lagAfterExecute) {
      stack.stale = stack.status;
      stack.staleSteps = 2;
      stack.steps.push(() => this.stackEvent(stack, `${verb}_IN_PROGRESS`, 'User Initiated'));
    } else {
      this.stackEvent(stack, `${verb}_IN_PROGRESS`, 'User Initiated');
    }
    const created: string[] = [];
    for (const change of cs.changes) {
      const rc = change.ResourceChange!;
      const resource = cs.template.Resources[rc.LogicalResourceId!];
      if (rc.Action === 'Remove') continue;
      const action = rc.Action === 'Add' ? 'CREATE' : 'UPDATE';
      const failure = resource?.Properties?.FailCreate as string | undefined;
      stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, `${action}_IN_PROGRESS`));
      if (failure) {
        stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, `${action}_FAILED`, failure));
        const rollback = creating ? 'ROLLBACK' : 'UPDATE_ROLLBACK';
        const what = creating ? 'create' : 'update';
        stack.steps.push(() => this.stackEvent(stack, `${rollback}_IN_PROGRESS`, `The following resource(s) failed to ${what}: [${rc.LogicalResourceId}]. Rollback requested by user.`));
        for (const logicalId of created) {
          const type = cs.template.Resources[logicalId]!.Type;
          stack.steps.push(() => this.event(stack, logicalId, type, 'DELETE_COMPLETE'));
        }
        stack.steps.push(() => this.stackEvent(stack, `${rollback}_COMPLETE`, stack.reason));
        return {};
      }
      stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, `${action}_COMPLETE`));
      created.push(rc.LogicalResourceId!);
    }
    const removals = cs.changes.filter((c) => c.ResourceChange!.Action === 'Remove').map((c) => c.ResourceChange!);
    if (removals.length > 0) {
      stack.steps.push(() => this.stackEvent(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'));
      for (const rc of removals) stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, 'DELETE_COMPLETE'));
    }
    stack.steps.push(() => {
      stack.resources = cs.template.Resources;
      stack.outputs = cs.template.Outputs ?? {};
      stack.parameters = cs.parameters;
      if (!creating) stack.updatedAt = at(this.clock + 1);
      this.stackEvent(stack, `${verb}_COMPLETE`);
    });
    return {};
  }

  deleteStack(input: { StackName?: string }) {
    const stack = this.find(input.StackName!);
    if (!stack || stack.status === 'DELETE_COMPLETE') return {};
    this.stackEvent(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
    let failed: string | undefined;
    for (const [logicalId, resource] of Object.entries(stack.resources).reverse()) {
      const failure = resource.Properties?.FailDelete as string | undefined;
      stack.steps.push(() => this.event(stack, logicalId, resource.Type, 'DELETE_IN_PROGRESS'));
      stack.steps.push(() => this.event(stack, logicalId, resource.Type, failure ? 'DELETE_FAILED' : 'DELETE_COMPLETE', failure));
      if (failure) failed = logicalId;
    }
    stack.steps.push(() => (failed ? this.stackEvent(stack, 'DELETE_FAILED', `The following resource(s) failed to delete: [${failed}]. `) : this.stackEvent(stack, 'DELETE_COMPLETE')));
    return {};
  }

  describeStacks(input: { StackName?: string }) {
    const stack = this.find(input.StackName!);
    if (!stack) throw validationError(`Stack with id ${input.StackName} does not exist`);
    const shown = stack.stale ?? stack.status;
    const out: Stack = {
      StackId: stack.id,
      StackName: stack.name,
      StackStatus: shown as Stack['StackStatus'],
      StackStatusReason: stack.reason,
      CreationTime: stack.createdAt,
      LastUpdatedTime: stack.updatedAt,
      Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    };
    return { Stacks: [out] };
  }

  describeStackEvents(input: { StackName?: string; NextToken?: string }) {
    const stack = this.find(input.StackName!);
    if (!stack) throw validationError(`Stack [${input.StackName}] does not exist`);
    // Time passes between polls: each first page read moves the stack one step on.
    if (input.NextToken === undefined) {
      if (++this.polls > 1000) throw new Error('the deployer never stopped polling');
      const step = stack.steps.shift();
      if (step) {
        if (stack.staleSteps !== undefined && --stack.staleSteps <= 0) stack.stale = undefined;
        step();
      }
    }
    // Newest first, three a page.
    const newestFirst = [...stack.events].reverse();
    const start = Number(input.NextToken ?? '0');
    return { StackEvents: newestFirst.slice(start, start + 3), NextToken: start + 3 < newestFirst.length ? String(start + 3) : undefined };
  }
}

// ---------------------------------------------------------------- wiring

const client = new CloudFormationClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const cfn = mockClient(client);
let fake: FakeCloudFormation;
let deployer: CloudFormationStackDeployer;

beforeEach(() => {
  cfn.reset();
  fake = new FakeCloudFormation();
  cfn.on(CreateChangeSetCommand).callsFake((input: CreateChangeSetInput) => fake.createChangeSet(input));
  cfn.on(DescribeChangeSetCommand).callsFake((input) => fake.describeChangeSet(input));
  cfn.on(DeleteChangeSetCommand).callsFake((input) => fake.deleteChangeSet(input));
  cfn.on(ExecuteChangeSetCommand).callsFake((input) => fake.executeChangeSet(input));
  cfn.on(DeleteStackCommand).callsFake((input) => fake.deleteStack(input));
  cfn.on(DescribeStacksCommand).callsFake((input) => fake.describeStacks(input));
  cfn.on(DescribeStackEventsCommand).callsFake((input) => fake.describeStackEvents(input));
  deployer = new CloudFormationStackDeployer(() => Promise.resolve(client), { polling: { intervalMs: 0, maxIntervalMs: 0 } });
});

const template = (resources: Record<string, Resource>, outputs?: Record<string, string>) => JSON.stringify({ Resources: resources, Outputs: outputs });
const BUCKET: Resource = { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'weblogs-data' } };
const ROLE: Resource = { Type: 'AWS::IAM::Role', Properties: { RoleName: 'weblogs-firehose' } };
const TABLE: Resource = { Type: 'AWS::Glue::Table', Properties: { Name: 'events' } };
const STREAM: Resource = { Type: 'AWS::KinesisFirehose::DeliveryStream', Properties: { Name: 'weblogs-ingest' } };
const V1 = template({ Bucket: BUCKET, Role: ROLE }, { BucketName: 'weblogs-data' });
const request = (body: string, onEvent?: (e: StackEvent) => void) => ({ stackName: 'weblogs', template: body, parameters: { Env: 'dev' }, tags: { app: 'lake' }, onEvent });
const brief = (events: StackEvent[]) => events.map((e) => `${e.logicalId} ${e.status}`);

// ---------------------------------------------------------------- the tests

describe('CloudFormationStackDeployer.deploy', () => {
  it('creates a new stack through a CREATE change set and reports each event as it happens', async () => {
    // given no stack
    const events: StackEvent[] = [];

    // when deploying
    const result = await deployer.deploy(request(V1, (e) => events.push(e)));

    // then
    expect(result).toStrictEqual({
      changed: true,
      changes: [
        { action: 'Add', logicalId: 'Bucket', resourceType: 'AWS::S3::Bucket' },
        { action: 'Add', logicalId: 'Role', resourceType: 'AWS::IAM::Role' },
      ],
      stack: { name: 'weblogs', status: 'CREATE_COMPLETE', outputs: [{ key: 'BucketName', value: 'weblogs-data' }], updatedAt: at(1) },
      failures: [],
    });
    expect(brief(events)).toEqual([
      'weblogs CREATE_IN_PROGRESS',
      'Bucket CREATE_IN_PROGRESS',
      'Bucket CREATE_COMPLETE',
      'Role CREATE_IN_PROGRESS',
      'Role CREATE_COMPLETE',
      'weblogs CREATE_COMPLETE',
    ]);
    expect(events[0]).toStrictEqual({ timestamp: at(2), logicalId: 'weblogs', resourceType: STACK_TYPE, status: 'CREATE_IN_PROGRESS', reason: 'User Initiated' });
    const input = cfn.commandCalls(CreateChangeSetCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      StackName: 'weblogs',
      ChangeSetType: 'CREATE',
      TemplateBody: V1,
      Parameters: [{ ParameterKey: 'Env', ParameterValue: 'dev' }],
      Tags: [{ Key: 'app', Value: 'lake' }],
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
    });
    expect(input.ChangeSetName).toMatch(/^lake-[0-9a-f-]{36}$/);
    expect(fake.changeSets.size).toBe(0);
  });

  it('changes nothing when the template and parameters are unchanged: no execution, change set removed', async () => {
    await deployer.deploy(request(V1));
    cfn.resetHistory();

    const result = await deployer.deploy(request(V1));

    expect(result).toStrictEqual({
      changed: false,
      changes: [],
      stack: { name: 'weblogs', status: 'CREATE_COMPLETE', outputs: [{ key: 'BucketName', value: 'weblogs-data' }], updatedAt: at(1) },
      failures: [],
    });
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]!.args[0].input.ChangeSetType).toBe('UPDATE');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(fake.changeSets.size).toBe(0);
  });

  it('reports a failed create: the failing resource and its reason, and the stack rolled back', async () => {
    const reason = 'Resource handler returned message: "User: arn:aws:iam::111111111111:user/ci is not authorized to perform: iam:CreateRole"';
    const body = template({ Bucket: BUCKET, Role: { Type: 'AWS::IAM::Role', Properties: { FailCreate: reason } } });
    const events: StackEvent[] = [];

    const result = await deployer.deploy(request(body, (e) => events.push(e)));

    expect(result).toStrictEqual({
      changed: true,
      changes: [
        { action: 'Add', logicalId: 'Bucket', resourceType: 'AWS::S3::Bucket' },
        { action: 'Add', logicalId: 'Role', resourceType: 'AWS::IAM::Role' },
      ],
      stack: {
        name: 'weblogs',
        status: 'ROLLBACK_COMPLETE',
        statusReason: 'The following resource(s) failed to create: [Role]. Rollback requested by user.',
        outputs: [],
        updatedAt: at(1),
      },
      failures: [{ timestamp: at(6), logicalId: 'Role', resourceType: 'AWS::IAM::Role', status: 'CREATE_FAILED', reason }],
    });
    expect(brief(events)).toEqual([
      'weblogs CREATE_IN_PROGRESS',
      'Bucket CREATE_IN_PROGRESS',
      'Bucket CREATE_COMPLETE',
      'Role CREATE_IN_PROGRESS',
      'Role CREATE_FAILED',
      'weblogs ROLLBACK_IN_PROGRESS',
      'Bucket DELETE_COMPLETE',
      'weblogs ROLLBACK_COMPLETE',
    ]);
  });

  it('does not take the status from before the update for its outcome when the first read lags', async () => {
    await deployer.deploy(request(V1));
    fake.lagAfterExecute = true;
    const events: StackEvent[] = [];

    const result = await deployer.deploy(request(template({ Bucket: BUCKET, Role: ROLE, Table: TABLE }, { BucketName: 'weblogs-data' }), (e) => events.push(e)));

    expect(brief(events)).toEqual(['weblogs UPDATE_IN_PROGRESS', 'Table CREATE_IN_PROGRESS', 'Table CREATE_COMPLETE', 'weblogs UPDATE_COMPLETE']);
    expect(result.stack).toStrictEqual({ name: 'weblogs', status: 'UPDATE_COMPLETE', outputs: [{ key: 'BucketName', value: 'weblogs-data' }], updatedAt: at(11) });
  });

  it('reports a failed update that rolled back to UPDATE_ROLLBACK_COMPLETE, listing only the failed resource', async () => {
    await deployer.deploy(request(V1));
    const reason = 'Resource handler returned message: "Invalid principal in policy"';
    const body = template({ Bucket: BUCKET, Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'weblogs-firehose', FailCreate: reason } }, Table: TABLE });

    const result = await deployer.deploy(request(body));

    expect(result.changes).toStrictEqual([
      { action: 'Modify', logicalId: 'Role', resourceType: 'AWS::IAM::Role', replacement: 'False' },
      { action: 'Add', logicalId: 'Table', resourceType: 'AWS::Glue::Table' },
    ]);
    expect(result.stack.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(result.stack.statusReason).toBe('The following resource(s) failed to update: [Role]. Rollback requested by user.');
    expect(result.failures).toStrictEqual([{ timestamp: at(10), logicalId: 'Role', resourceType: 'AWS::IAM::Role', status: 'UPDATE_FAILED', reason }]);
  });

  it('deletes a stack whose creation failed, then creates it again', async () => {
    await deployer.deploy(request(template({ Bucket: { Type: 'AWS::S3::Bucket', Properties: { FailCreate: 'bucket name taken' } } })));
    expect(fake.byName('weblogs')!.status).toBe('ROLLBACK_COMPLETE');

    const result = await deployer.deploy(request(V1));

    expect(result.stack.status).toBe('CREATE_COMPLETE');
    expect(fake.stacks.map((s) => s.status)).toEqual(['DELETE_COMPLETE', 'CREATE_COMPLETE']);
    expect(cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input.ChangeSetType)).toEqual(['CREATE', 'CREATE']);
  });

  it('refuses to start while another operation is under way', async () => {
    await deployer.deploy(request(V1));
    fake.byName('weblogs')!.status = 'UPDATE_IN_PROGRESS';

    await expect(deployer.deploy(request(V1))).rejects.toMatchObject({ constructor: ServiceError, code: 'StackBusy', message: 'stack weblogs is busy (UPDATE_IN_PROGRESS)' });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it('stops waiting when interrupted, saying the operation goes on', async () => {
    const controller = new AbortController();
    const deploying = deployer.deploy({ ...request(V1, (e) => e.logicalId === 'Bucket' && controller.abort()), signal: controller.signal });

    await expect(deploying).rejects.toMatchObject({ constructor: InterruptedError, message: 'interrupted while waiting for stack weblogs' });
  });

  it('refuses a template too large to send inline, before any call', async () => {
    await expect(deployer.deploy(request(' '.repeat(51_201)))).rejects.toMatchObject({ code: 'TemplateTooLarge' });
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });
});

describe('CloudFormationStackDeployer.plan', () => {
  it('lists Add, Modify and Remove across change set pages, then deletes the change set and leaves the stack alone', async () => {
    await deployer.deploy(request(template({ Bucket: BUCKET, Role: ROLE, Table: TABLE })));
    cfn.resetHistory();
    const next = template({ Bucket: { ...BUCKET, Properties: { BucketName: 'weblogs-data', Versioning: 'Enabled' } }, Table: TABLE, Stream: STREAM });

    const changes = await deployer.plan(request(next));

    expect(changes).toStrictEqual([
      { action: 'Modify', logicalId: 'Bucket', resourceType: 'AWS::S3::Bucket', replacement: 'False' },
      { action: 'Add', logicalId: 'Stream', resourceType: 'AWS::KinesisFirehose::DeliveryStream' },
      { action: 'Remove', logicalId: 'Role', resourceType: 'AWS::IAM::Role' },
    ]);
    expect(cfn.commandCalls(DescribeChangeSetCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, undefined, '2']);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(fake.changeSets.size).toBe(0);
    expect(fake.byName('weblogs')!.status).toBe('CREATE_COMPLETE');
  });

  it('plans a new stack as all Add and removes the REVIEW_IN_PROGRESS stack the change set created', async () => {
    const changes = await deployer.plan(request(V1));

    expect(changes).toStrictEqual([
      { action: 'Add', logicalId: 'Bucket', resourceType: 'AWS::S3::Bucket' },
      { action: 'Add', logicalId: 'Role', resourceType: 'AWS::IAM::Role' },
    ]);
    expect(await deployer.describe('weblogs')).toBeUndefined();
    expect(fake.stacks.map((s) => s.status)).toEqual(['DELETE_COMPLETE']);
    expect(fake.changeSets.size).toBe(0);
  });

  it('plans nothing for an unchanged stack', async () => {
    await deployer.deploy(request(V1));
    expect(await deployer.plan(request(V1))).toStrictEqual([]);
  });
});

describe('CloudFormationStackDeployer.destroy and describe', () => {
  it('deletes the stack, following its events to DELETE_COMPLETE', async () => {
    await deployer.deploy(request(V1));
    const events: StackEvent[] = [];

    await deployer.destroy('weblogs', { onEvent: (e) => events.push(e) });

    expect(brief(events)).toEqual([
      'weblogs DELETE_IN_PROGRESS',
      'Role DELETE_IN_PROGRESS',
      'Role DELETE_COMPLETE',
      'Bucket DELETE_IN_PROGRESS',
      'Bucket DELETE_COMPLETE',
      'weblogs DELETE_COMPLETE',
    ]);
    expect(await deployer.describe('weblogs')).toBeUndefined();
  });

  it('does nothing for a stack that does not exist', async () => {
    await deployer.destroy('weblogs');
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('reports DELETE_FAILED with the resource and its reason', async () => {
    const notEmpty = 'The bucket you tried to delete is not empty (Service: S3, Status Code: 409)';
    await deployer.deploy(request(template({ Bucket: { Type: 'AWS::S3::Bucket', Properties: { FailDelete: notEmpty } } })));

    await expect(deployer.destroy('weblogs')).rejects.toMatchObject({
      constructor: ServiceError,
      code: 'DELETE_FAILED',
      message: `stack weblogs could not be deleted (DELETE_FAILED): Bucket (AWS::S3::Bucket): ${notEmpty}`,
    });
  });

  it('describes a stack with its outputs', async () => {
    await deployer.deploy(request(V1));
    expect(await deployer.describe('weblogs')).toStrictEqual({
      name: 'weblogs',
      status: 'CREATE_COMPLETE',
      outputs: [{ key: 'BucketName', value: 'weblogs-data' }],
      updatedAt: at(1),
    });
  });
});
