// A stateful CloudFormation for the command tests of `lake deploy`/`destroy`/`status`: stacks,
// change sets and events over the rendered YAML templates, and the data bucket whose objects
// make a stack deletion fail as on AWS.
import { CloudFormationServiceException, type CreateChangeSetInput, type Change, type Stack, type StackEvent as CfnStackEvent } from '@aws-sdk/client-cloudformation';
import { FakeBucket } from '../helpers/fake-aws.js';

// ---------------------------------------------------------------- a stateful CloudFormation

interface Resource {
  type: string;
  /** The resource's lines of the template: what a change is compared on. */
  block: string;
}

/** The resources and outputs of a rendered YAML template, read from its layout. */
function readTemplate(body: string): { resources: Map<string, Resource>; outputs: Map<string, string> } {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of body.split('\n')) {
    const top = /^([A-Za-z]+):/.exec(line);
    if (top) sections.set(top[1]!, (current = []));
    else current.push(line);
  }
  const entries = (lines: string[] = []) => {
    const out = new Map<string, string>();
    let id: string | undefined;
    for (const line of lines) {
      const start = /^ {2}([A-Za-z0-9]+):\s*$/.exec(line);
      if (start) out.set((id = start[1]!), '');
      else if (id && !/^\s*#/.test(line) && line.trim() !== '') out.set(id, `${out.get(id)}${line}\n`);
    }
    return out;
  };
  const resources = new Map([...entries(sections.get('Resources'))].map(([id, block]) => [id, { type: /^ {4}Type: (\S+)/m.exec(block)![1]!, block }]));
  const outputs = new Map([...entries(sections.get('Outputs'))].map(([id, block]) => [id, /^ {4}Value: (.+)$/m.exec(block)![1]!]));
  return { resources, outputs };
}

interface FakeStack {
  id: string;
  name: string;
  status: string;
  reason?: string;
  resources: Map<string, Resource>;
  outputs: Record<string, string>;
  parameters: string;
  events: CfnStackEvent[];
  steps: (() => void)[];
  createdAt: Date;
}

const STACK_TYPE = 'AWS::CloudFormation::Stack';
const BASE = Date.parse('2024-05-17T12:00:00.000Z');

function validationError(message: string): CloudFormationServiceException {
  return new CloudFormationServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

/**
 * Stacks, change sets and events, moving one step each time a stack's events are read.
 * `failCreate` makes a resource fail to create; deleting a bucket that still holds objects
 * in `s3` fails, as on AWS, unless the template retains it.
 */
export class FakeCloudFormation {
  readonly stacks: FakeStack[] = [];
  readonly changeSets = new Map<string, { stackId: string; resources: Map<string, Resource>; outputs: Map<string, string>; parameters: string; changes: Change[]; noChange: boolean }>();
  readonly failCreate = new Map<string, string>();
  private clock = 0;
  private ids = 0;

  constructor(private readonly s3: FakeS3) {}

  byName(name: string): FakeStack | undefined {
    return this.stacks.find((s) => s.name === name && s.status !== 'DELETE_COMPLETE');
  }

  private find(nameOrId: string): FakeStack | undefined {
    return this.stacks.find((s) => s.id === nameOrId) ?? this.byName(nameOrId);
  }

  private event(stack: FakeStack, logicalId: string, type: string, status: string, reason?: string): void {
    this.clock++;
    stack.events.push({
      StackId: stack.id,
      StackName: stack.name,
      EventId: `event-${this.clock}`,
      LogicalResourceId: logicalId,
      PhysicalResourceId: type === STACK_TYPE ? stack.id : `${logicalId}-physical`,
      ResourceType: type,
      Timestamp: new Date(BASE + this.clock * 1000),
      ResourceStatus: status as CfnStackEvent['ResourceStatus'],
      ResourceStatusReason: reason,
    });
  }

  private stackStatus(stack: FakeStack, status: string, reason?: string): void {
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
        stack = { id: `arn:aws:cloudformation:us-east-1:111111111111:stack/${name}/${++this.ids}`, name, status: '', resources: new Map(), outputs: {}, parameters: '', events: [], steps: [], createdAt: new Date(BASE) };
        this.stacks.push(stack);
        this.stackStatus(stack, 'REVIEW_IN_PROGRESS', 'User Initiated');
      }
    } else if (!stack || stack.status === 'REVIEW_IN_PROGRESS') throw validationError(`Stack [${name}] does not exist`);
    const { resources, outputs } = readTemplate(input.TemplateBody!);
    const parameters = JSON.stringify(input.Parameters ?? []);
    const changes: Change[] = [];
    for (const [id, r] of resources) {
      const before = stack.resources.get(id);
      if (!before) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: id, ResourceType: r.type } });
      else if (before.block !== r.block) {
        const renamed = /Name: /.test(before.block) && before.block.match(/^ +\w*Name: .*$/gm)?.join() !== r.block.match(/^ +\w*Name: .*$/gm)?.join();
        changes.push({ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: id, ResourceType: r.type, Replacement: renamed ? 'True' : 'False' } });
      }
    }
    for (const [id, r] of stack.resources) if (!resources.has(id)) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: id, ResourceType: r.type } });
    const id = `arn:aws:cloudformation:us-east-1:111111111111:changeSet/${input.ChangeSetName}/${++this.ids}`;
    this.changeSets.set(id, { stackId: stack.id, resources, outputs, parameters, changes, noChange: changes.length === 0 && parameters === stack.parameters });
    return { Id: id, StackId: stack.id };
  }

  describeChangeSet(input: { ChangeSetName?: string }) {
    const cs = this.changeSets.get(input.ChangeSetName!)!;
    if (cs.noChange) return { Status: 'FAILED' as const, StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." };
    return { Status: 'CREATE_COMPLETE' as const, ExecutionStatus: 'AVAILABLE' as const, Changes: cs.changes };
  }

  deleteChangeSet(input: { ChangeSetName?: string }) {
    this.changeSets.delete(input.ChangeSetName!);
    return {};
  }

  executeChangeSet(input: { ChangeSetName?: string }) {
    const cs = this.changeSets.get(input.ChangeSetName!)!;
    this.changeSets.delete(input.ChangeSetName!);
    const stack = this.find(cs.stackId)!;
    const creating = stack.status === 'REVIEW_IN_PROGRESS';
    const verb = creating ? 'CREATE' : 'UPDATE';
    this.stackStatus(stack, `${verb}_IN_PROGRESS`, 'User Initiated');
    const done: string[] = [];
    for (const change of cs.changes) {
      const rc = change.ResourceChange!;
      if (rc.Action === 'Remove') continue;
      const action = rc.Action === 'Add' ? 'CREATE' : 'UPDATE';
      stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, `${action}_IN_PROGRESS`));
      const failure = this.failCreate.get(rc.LogicalResourceId!);
      if (failure && creating) {
        stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, 'CREATE_FAILED', failure));
        stack.steps.push(() => this.stackStatus(stack, 'ROLLBACK_IN_PROGRESS', `The following resource(s) failed to create: [${rc.LogicalResourceId}]. Rollback requested by user.`));
        for (const id of done.reverse()) stack.steps.push(() => this.event(stack, id, cs.resources.get(id)!.type, 'DELETE_COMPLETE'));
        stack.steps.push(() => this.stackStatus(stack, 'ROLLBACK_COMPLETE'));
        return {};
      }
      stack.steps.push(() => this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, `${action}_COMPLETE`));
      done.push(rc.LogicalResourceId!);
    }
    for (const c of cs.changes.filter((c) => c.ResourceChange!.Action === 'Remove')) {
      stack.steps.push(() => this.event(stack, c.ResourceChange!.LogicalResourceId!, c.ResourceChange!.ResourceType!, 'DELETE_COMPLETE'));
    }
    stack.steps.push(() => {
      stack.resources = cs.resources;
      stack.parameters = cs.parameters;
      stack.outputs = Object.fromEntries([...cs.outputs].map(([key, value]) => [key, this.evaluate(value, cs.resources)]));
      this.stackStatus(stack, `${verb}_COMPLETE`);
    });
    return {};
  }

  /** An output's value: names for Ref, fake ARNs for GetAtt. */
  private evaluate(value: string, resources: Map<string, Resource>): string {
    const physical = (id: string) => /^ {6,}(?:BucketName|DeliveryStreamName|Name): (.+)$/m.exec(resources.get(id)?.block ?? '')?.[1]?.replace(/^['"]|['"]$/g, '') ?? `${id}-physical`;
    const ref = /^!Ref (\w+)$/.exec(value);
    if (ref) return physical(ref[1]!);
    const att = /^!GetAtt (\w+)\.(\w+)$/.exec(value);
    if (att) return `arn:aws:fake:us-east-1:111111111111:${att[1]}`;
    return value.replace(/^!Sub '(.*)'$/, '$1').replace(/\$\{(\w+)\}/g, (_m, id: string) => physical(id));
  }

  deleteStack(input: { StackName?: string }) {
    const stack = this.find(input.StackName!);
    if (!stack || stack.status === 'DELETE_COMPLETE') return {};
    this.stackStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
    const failed: string[] = [];
    for (const [id, r] of [...stack.resources].reverse()) {
      const retained = /^ {4}DeletionPolicy: Retain$/m.test(r.block);
      stack.steps.push(() => {
        if (retained) return this.event(stack, id, r.type, 'DELETE_SKIPPED');
        this.event(stack, id, r.type, 'DELETE_IN_PROGRESS');
        if (r.type === 'AWS::S3::Bucket' && this.s3.bucket.list({}).KeyCount > 0) {
          failed.push(id);
          return this.event(stack, id, r.type, 'DELETE_FAILED', 'The bucket you tried to delete is not empty');
        }
        this.event(stack, id, r.type, 'DELETE_COMPLETE');
      });
    }
    stack.steps.push(() => (failed.length > 0 ? this.stackStatus(stack, 'DELETE_FAILED', `The following resource(s) failed to delete: [${failed.join(', ')}]. `) : this.stackStatus(stack, 'DELETE_COMPLETE')));
    return {};
  }

  describeStacks(input: { StackName?: string }) {
    const stack = this.find(input.StackName!);
    if (!stack) throw validationError(`Stack with id ${input.StackName} does not exist`);
    const out: Stack = {
      StackId: stack.id,
      StackName: stack.name,
      StackStatus: stack.status as Stack['StackStatus'],
      StackStatusReason: stack.reason,
      CreationTime: stack.createdAt,
      Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    };
    return { Stacks: [out] };
  }

  describeStackEvents(input: { StackName?: string; NextToken?: string }) {
    const stack = this.find(input.StackName!);
    if (!stack) throw validationError(`Stack [${input.StackName}] does not exist`);
    stack.steps.shift()?.();
    return { StackEvents: [...stack.events].reverse() };
  }
}

/** The data bucket, with times for the listing and bodies for the error objects. */
export class FakeS3 {
  readonly bucket = new FakeBucket('weblogs-data');
  readonly bodies = new Map<string, Buffer>();
  readonly modified = new Map<string, Date>();

  put(key: string, body: Buffer | number, lastModified = new Date('2024-05-17T12:30:00Z')): void {
    const size = typeof body === 'number' ? body : body.length;
    this.bucket.put(key, size);
    if (typeof body !== 'number') this.bodies.set(key, body);
    this.modified.set(key, lastModified);
  }
}
