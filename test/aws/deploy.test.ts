// `lake deploy`, `lake destroy` and `lake status` on AWS: the commands run in-process over the
// real adapters (CloudFormationStackDeployer, S3ObjectStore, GlueCatalog,
// FirehoseDeliveryStream), whose clients aws-sdk-client-mock answers from stateful fakes.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  type CreateChangeSetInput,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { GetPartitionsCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudFormationStackDeployer } from '../../src/lib/aws/cloudformation-stack-deployer.js';
import { FirehoseDeliveryStream } from '../../src/lib/aws/firehose-delivery-stream.js';
import { GlueCatalog } from '../../src/lib/aws/glue-catalog.js';
import { S3ObjectStore } from '../../src/lib/aws/s3-object-store.js';
import { formatConversionErrorJson } from '../../src/lib/error-records.js';
import type { Backend, QueryEngine } from '../../src/lib/ports.js';
import { runCli } from '../helpers/cli.js';
import { FakeGlue } from '../helpers/fake-aws.js';
import { FakeCloudFormation, FakeS3 } from './fake-cloudformation.js';

// ---------------------------------------------------------------- wiring

// The SDK's warning about Node 20 would land on stderr; lake's own client factory silences it the same way.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const cfnClient = new CloudFormationClient({ region: 'us-east-1', credentials });
const s3Client = new S3Client({ region: 'us-east-1', credentials });
const glueClient = new GlueClient({ region: 'us-east-1', credentials });
const firehoseClient = new FirehoseClient({ region: 'us-east-1', credentials });
const cfn = mockClient(cfnClient);
const s3 = mockClient(s3Client);
const glue = mockClient(glueClient);
const firehose = mockClient(firehoseClient);

let fakeS3: FakeS3;
let fake: FakeCloudFormation;
let fakeGlue: FakeGlue | undefined;
let dir: string;

const COLUMNS = [
  { name: 'source', type: 'string' },
  { name: 'ts', type: 'timestamp' },
];
const writeConfig = (extra: Record<string, unknown> = {}) => writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({ name: 'weblogs', backend: 'aws', bucket: 'weblogs-data', columns: COLUMNS, ...extra }));

const engine = {} as QueryEngine;
const backend = (): Backend => ({
  kind: 'aws',
  store: new S3ObjectStore(() => Promise.resolve(s3Client)),
  catalog: new GlueCatalog(() => Promise.resolve(glueClient)),
  stream: new FirehoseDeliveryStream(() => Promise.resolve(firehoseClient), 'weblogs-ingest'),
  engine,
  deployer: new CloudFormationStackDeployer(() => Promise.resolve(cfnClient), { polling: { intervalMs: 0, maxIntervalMs: 0 } }),
  close: () => Promise.resolve(),
});
const NOW = new Date('2024-05-17T13:00:00Z');
const lake = (argv: string[], options: { tty?: boolean } = {}) => runCli(argv, { cwd: dir, tty: options.tty, main: { backendFactory: () => Promise.resolve(backend()), now: () => NOW } });
const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

beforeEach(() => {
  for (const mock of [cfn, s3, glue, firehose]) mock.reset();
  fakeS3 = new FakeS3();
  fake = new FakeCloudFormation(fakeS3);
  fakeGlue = undefined;
  dir = mkdtempSync(join(tmpdir(), 'lake-deploy-'));
  writeConfig();
  cfn.on(CreateChangeSetCommand).callsFake((input: CreateChangeSetInput) => fake.createChangeSet(input));
  cfn.on(DescribeChangeSetCommand).callsFake((input) => fake.describeChangeSet(input));
  cfn.on(DeleteChangeSetCommand).callsFake((input) => fake.deleteChangeSet(input));
  cfn.on(ExecuteChangeSetCommand).callsFake((input) => fake.executeChangeSet(input));
  cfn.on(DeleteStackCommand).callsFake((input) => fake.deleteStack(input));
  cfn.on(DescribeStacksCommand).callsFake((input) => fake.describeStacks(input));
  cfn.on(DescribeStackEventsCommand).callsFake((input) => fake.describeStackEvents(input));
  s3.on(ListObjectsV2Command).callsFake((input) => {
    const page = fakeS3.bucket.list(input);
    return { ...page, Contents: page.Contents?.map((c) => ({ ...c, LastModified: fakeS3.modified.get(c.Key) })) };
  });
  s3.on(DeleteObjectsCommand).callsFake((input: { Delete?: { Objects?: { Key?: string }[] } }) => {
    const keys = (input.Delete?.Objects ?? []).map((o) => o.Key!);
    for (const key of keys) fakeS3.bucket.delete(key);
    return { Deleted: keys.map((Key) => ({ Key })) };
  });
  s3.on(GetObjectCommand).callsFake((input: { Key?: string }) => ({ Body: Readable.from([fakeS3.bodies.get(input.Key!) ?? Buffer.alloc(0)]) }));
  glue.on(GetTableCommand).callsFake(() => {
    if (!fakeGlue) throw Object.assign(new Error('Table not found'), { name: 'EntityNotFoundException', $metadata: { httpStatusCode: 400 } });
    return fakeGlue.getTable();
  });
  glue.on(GetPartitionsCommand).callsFake((input) => fakeGlue!.getPartitions(input));
  firehose.on(DescribeDeliveryStreamCommand).resolves({
    DeliveryStreamDescription: {
      DeliveryStreamName: 'weblogs-ingest',
      DeliveryStreamARN: 'arn:aws:firehose:us-east-1:111111111111:deliverystream/weblogs-ingest',
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      VersionId: '1',
      HasMoreDestinations: false,
      Destinations: [{ DestinationId: 'destinationId-000000000001', ExtendedS3DestinationDescription: { BucketARN: 'arn:aws:s3:::weblogs-data', RoleARN: 'arn:aws:iam::111111111111:role/r', BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 }, CompressionFormat: 'UNCOMPRESSED', EncryptionConfiguration: {} } }],
    },
  });
});

const RESOURCES = ['DataKey', 'DataKeyAlias', 'DataBucket', 'DataBucketPolicy', 'GlueDatabase', 'GlueTable', 'DeliveryLogGroup', 'DeliveryLogStream', 'DeliveryRole', 'DeliveryStream', 'FailedConversionAlarm', 'AthenaWorkGroup'];
const OUTPUTS = { Bucket: 'weblogs-data', DeliveryStream: 'weblogs-ingest', Database: 'weblogs', Table: 'events', WorkGroup: 'weblogs', DataKeyArn: 'arn:aws:fake:us-east-1:111111111111:DataKey' };

// ---------------------------------------------------------------- deploy

describe('lake deploy on AWS', () => {
  it('--plan lists the changes of a change set and leaves no stack behind', async () => {
    const run = await lake(['deploy', '--plan', '-o', 'json']);

    expect(run.code).toBe(0);
    const doc = json(run.stdout);
    expect(doc.plan).toBe(true);
    expect((doc.changes as { action: string; logicalId: string }[]).map((c) => `${c.action} ${c.logicalId}`)).toEqual(RESOURCES.map((id) => `Add ${id}`));
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(fake.byName('lake-weblogs')).toBeUndefined();
    expect(fake.changeSets.size).toBe(0);
  });

  it('--plan on a deployed stack lists what would change, as a table too, and changes nothing', async () => {
    expect((await lake(['deploy'])).code).toBe(0);
    const executed = cfn.commandCalls(ExecuteChangeSetCommand).length;
    writeConfig({ api: true, buffering: { sizeMiB: 128, intervalSeconds: 300 } });

    const run = await lake(['deploy', '--plan', '-o', 'json']);

    expect(run.code).toBe(0);
    expect(json(run.stdout)).toEqual({
      stack: 'lake-weblogs',
      plan: true,
      changes: [
        { action: 'Modify', logicalId: 'DeliveryStream', resourceType: 'AWS::KinesisFirehose::DeliveryStream', replacement: 'False' },
        ...['IngestApi', 'IngestRecordsResource', 'IngestApiRole', 'IngestPostMethod', 'IngestDeployment', 'IngestStage', 'IngestApiKey', 'IngestUsagePlan', 'IngestUsagePlanKey'].map((id) => ({ action: 'Add', logicalId: id, resourceType: expect.stringMatching(/^AWS::(ApiGateway|IAM)::/) as unknown })),
      ],
      template: join(dir, 'lake.template.yaml'),
    });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(executed);
    expect(fake.changeSets.size).toBe(0);
    expect(fake.stacks.map((s) => s.status)).toEqual(['CREATE_COMPLETE']);

    const table = await lake(['deploy', '--plan', '-o', 'table']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/plan for stack lake-weblogs/);
    expect(table.stdout).toMatch(/│ Modify +│ DeliveryStream +│ AWS::KinesisFirehose::DeliveryStream +│ False +│/);
    expect(table.stdout).toMatch(/│ Add +│ IngestApi +│ AWS::ApiGateway::RestApi +│ +│/);
    expect(table.stdout).toContain('10 changes');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(executed);
  });

  it('creates the stack from the rendered template, showing events, and prints the outputs', async () => {
    const run = await lake(['deploy', '-o', 'json', '--parameter', 'ErrorRetentionDays=14']);

    expect(run.code).toBe(0);
    const doc = json(run.stdout);
    expect([doc.stack, doc.changed, doc.status, doc.failures]).toEqual(['lake-weblogs', true, 'CREATE_COMPLETE', []]);
    expect(doc.outputs).toEqual(OUTPUTS);
    // What was deployed is the file left for review.
    const template = readFileSync(join(dir, 'lake.template.yaml'), 'utf8');
    const creates = cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input);
    expect(creates.at(-1)).toMatchObject({
      StackName: 'lake-weblogs',
      ChangeSetType: 'CREATE',
      TemplateBody: template,
      Parameters: [{ ParameterKey: 'ErrorRetentionDays', ParameterValue: '14' }],
      Tags: [{ Key: 'lake', Value: 'weblogs' }],
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
    });
    expect(run.stderr).toContain('created ');
    expect(run.stderr).toContain('creating stack lake-weblogs\n');
    // A new stack is created directly: one change set, no plan beforehand.
    expect(creates).toHaveLength(1);
    expect(run.stderr).toContain('  12:00:03  DataKey  AWS::KMS::Key  CREATE_IN_PROGRESS\n');
    expect(run.stderr).toContain('lake-weblogs  AWS::CloudFormation::Stack  CREATE_COMPLETE\n');
  });

  it('says so and exits 0 when nothing changed, executing nothing', async () => {
    expect((await lake(['deploy', '--yes'])).code).toBe(0);
    const executed = cfn.commandCalls(ExecuteChangeSetCommand).length;

    const run = await lake(['deploy', '-o', 'json']);

    expect(run.code).toBe(0);
    expect(json(run.stdout)).toEqual({ stack: 'lake-weblogs', changed: false, status: 'CREATE_COMPLETE', statusReason: null, changes: [], outputs: OUTPUTS, failures: [], plan: false, template: join(dir, 'lake.template.yaml') });
    expect(run.stderr).toBe('stack lake-weblogs is up to date: nothing to deploy\n');
    // The change set that found nothing was removed, and the stack is as it was.
    expect(fake.changeSets.size).toBe(0);
    expect(fake.stacks.map((s) => s.status)).toEqual(['CREATE_COMPLETE']);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(executed);
  });

  it('on a failed create prints the failing resources with their reasons and the rollback state, exit 1', async () => {
    fake.failCreate.set('DeliveryStream', 'Role arn:aws:iam::111111111111:role/x is not authorized to perform: glue:GetTable');

    const run = await lake(['deploy', '-o', 'json']);

    expect(run.code).toBe(1);
    const doc = json(run.stdout);
    expect([doc.status, doc.changed]).toEqual(['ROLLBACK_COMPLETE', true]);
    expect(doc.failures).toEqual([{ logicalId: 'DeliveryStream', resourceType: 'AWS::KinesisFirehose::DeliveryStream', status: 'CREATE_FAILED', reason: 'Role arn:aws:iam::111111111111:role/x is not authorized to perform: glue:GetTable' }]);
    const error = JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { error: Record<string, unknown> };
    expect(error.error).toEqual({
      code: 'ROLLBACK_COMPLETE',
      message: 'stack lake-weblogs failed to deploy and was rolled back (ROLLBACK_COMPLETE): DeliveryStream: Role arn:aws:iam::111111111111:role/x is not authorized to perform: glue:GetTable',
      hint: 'fix what the failed resources say, then run `lake deploy` again (it deletes the failed stack and creates it afresh)',
      exitCode: 1,
    });
    expect(run.stderr).toContain('DeliveryStream  AWS::KinesisFirehose::DeliveryStream  CREATE_FAILED  Role arn');

    // and when the cause is fixed, the next deploy replaces the failed stack
    fake.failCreate.clear();
    const again = await lake(['deploy', '-o', 'json']);
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toMatchObject({ status: 'CREATE_COMPLETE', failures: [] });
    expect(fake.stacks.map((s) => s.status)).toEqual(['DELETE_COMPLETE', 'CREATE_COMPLETE']);
    expect(again.stderr).toContain('stack lake-weblogs failed to create earlier (ROLLBACK_COMPLETE): deleting it and creating it afresh\n');
  });

  it('prints the failure as a table too', async () => {
    fake.failCreate.set('GlueTable', 'Database weblogs not found');
    const run = await lake(['deploy', '-o', 'table']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/failed \(ROLLBACK_COMPLETE\)[\s\S]*GlueTable[\s\S]*AWS::Glue::Table[\s\S]*CREATE_FAILED[\s\S]*Database weblogs not found/);
    expect(run.stderr).toContain('lake: stack lake-weblogs failed to deploy and was rolled back (ROLLBACK_COMPLETE): GlueTable: Database weblogs not found\n');
  });

  it('asks before replacing or removing resources: without a terminal it refuses, naming --yes', async () => {
    writeConfig({ api: true });
    expect((await lake(['deploy'])).code).toBe(0);
    writeConfig({ bucket: 'weblogs-data-2' });
    const executed = cfn.commandCalls(ExecuteChangeSetCommand).length;

    const refused = await lake(['deploy']);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('warning: stack lake-weblogs: this deployment replaces or removes resources:\n  Modify DataBucket AWS::S3::Bucket (replacement: True)\n');
    expect(refused.stderr).toContain('  Remove IngestApi AWS::ApiGateway::RestApi\n');
    expect(refused.stderr).not.toContain('GlueTable');
    expect(refused.stderr).toContain('lake: apply 11 changes to stack lake-weblogs needs confirmation, and there is no terminal to ask\nhint: pass --yes to confirm\n');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(executed);

    const confirmed = await lake(['deploy', '--yes', '-o', 'json']);
    expect(confirmed.code).toBe(0);
    expect(json(confirmed.stdout)).toMatchObject({ status: 'UPDATE_COMPLETE', changed: true });
  });
});

// ---------------------------------------------------------------- destroy

describe('lake destroy on AWS', () => {
  beforeEach(async () => {
    expect((await lake(['deploy'])).code).toBe(0);
    for (let i = 0; i < 1500; i++) fakeS3.put(`data/year=2024/month=05/day=17/hour=12/part-${String(i).padStart(4, '0')}.parquet`, 10);
    fakeS3.put('errors/format-conversion-failed/2024/05/17/x', 5);
  });

  it('without a terminal and without --yes refuses, exit 2, touching nothing', async () => {
    const run = await lake(['destroy']);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('lake: destroy stack lake-weblogs and delete every object in bucket weblogs-data needs confirmation, and there is no terminal to ask\nhint: pass --yes to confirm\n');
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it('--yes empties the bucket a thousand keys a call, then deletes the stack', async () => {
    const run = await lake(['destroy', '--yes', '-o', 'json']);

    expect(run.code).toBe(0);
    expect(json(run.stdout)).toEqual({ stack: 'lake-weblogs', destroyed: true, keptData: false, bucket: 'weblogs-data', deletedObjects: 1501, deletedBytes: 15005 });
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete!.Objects!.length)).toEqual([1000, 501]);
    expect(fake.stacks[0]!.status).toBe('DELETE_COMPLETE');
    expect(run.stderr).toContain('DataBucket  AWS::S3::Bucket  DELETE_COMPLETE\n');
  });

  it('empties the bucket again and retries when an object arrived while the stack was being deleted', async () => {
    // A last Firehose flush lands after the bucket was emptied.
    let landed = false;
    cfn.on(DeleteStackCommand).callsFake((input) => {
      if (!landed) {
        landed = true;
        fakeS3.put('data/year=2024/month=05/day=17/hour=13/late.parquet', 7);
      }
      return fake.deleteStack(input);
    });

    const run = await lake(['destroy', '--yes', '-o', 'json']);

    expect(run.code).toBe(0);
    expect(json(run.stdout)).toMatchObject({ destroyed: true, deletedObjects: 1502, deletedBytes: 15012 });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(2);
    expect(run.stderr).toContain('DataBucket  AWS::S3::Bucket  DELETE_FAILED  The bucket you tried to delete is not empty\n');
    expect(fake.stacks[0]!.status).toBe('DELETE_COMPLETE');
  });

  it('--keep-data marks the bucket and key Retain, then deletes the stack, deleting no object', async () => {
    const run = await lake(['destroy', '--yes', '--keep-data', '-o', 'json']);

    expect(run.code).toBe(0);
    expect(json(run.stdout)).toEqual({ stack: 'lake-weblogs', destroyed: true, keptData: true, bucket: 'weblogs-data', deletedObjects: 0, deletedBytes: 0 });
    expect(s3.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
    const update = cfn.commandCalls(CreateChangeSetCommand).at(-1)!.args[0].input;
    expect(update.ChangeSetType).toBe('UPDATE');
    expect(update.TemplateBody).toContain('  DataBucket:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n');
    expect(update.TemplateBody).toContain('  DataKey:\n    Type: AWS::KMS::Key\n    DeletionPolicy: Retain\n');
    expect(run.stderr).toContain('DataBucket  AWS::S3::Bucket  DELETE_SKIPPED\n');
    expect(run.stderr).toContain('DataKey  AWS::KMS::Key  DELETE_SKIPPED\n');
    expect(fake.stacks[0]!.status).toBe('DELETE_COMPLETE');
    expect(fakeS3.bucket.list({}).KeyCount).toBe(1000);
  });

  it('says there is nothing to destroy when the stack does not exist', async () => {
    expect((await lake(['destroy', '--yes'])).code).toBe(0);
    const run = await lake(['destroy', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(json(run.stdout)).toMatchObject({ destroyed: false });
    expect(run.stderr).toBe('stack lake-weblogs does not exist: nothing to destroy\n');
  });
});

// ---------------------------------------------------------------- status

describe('lake status on AWS', () => {
  it("reports the stack, the stream, partitions registered and not, the newest object, the day's error records and stored bytes", async () => {
    // given a deployed lake with three partitions in storage, two of them registered, and two error records today
    expect((await lake(['deploy'])).code).toBe(0);
    fakeGlue = new FakeGlue({ DatabaseName: 'weblogs', Name: 'events', Location: 's3://weblogs-data/data/', keys: ['year', 'month', 'day', 'hour'] });
    for (const hour of ['10', '11', '12']) fakeS3.put(`data/year=2024/month=05/day=17/hour=${hour}/weblogs-ingest-1-2024-05-17-${hour}-00-00-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.parquet`, 1000, new Date(`2024-05-17T${hour}:01:00Z`));
    for (const hour of ['10', '11']) fakeGlue.register(['2024', '05', '17', hour], `s3://weblogs-data/data/year=2024/month=05/day=17/hour=${hour}/`);
    const record = (at: number) =>
      formatConversionErrorJson({
        arrivalTimestamp: at,
        attemptEndingTimestamp: at + 1000,
        code: 'DataFormatConversion.ParseError',
        message: 'Encountered malformed JSON.',
        rawData: Buffer.from('{oops'),
        sequenceNumber: null,
        subSequenceNumber: null,
        dataCatalogTable: { catalogId: null, databaseName: 'weblogs', tableName: 'events', region: 'us-east-1', versionId: 'LATEST', roleArn: 'arn:aws:iam::111111111111:role/r' },
      });
    fakeS3.put('errors/format-conversion-failed/2024/05/17/weblogs-ingest-1-2024-05-17-12-10-00-1a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d', Buffer.from(record(Date.parse('2024-05-17T12:05:00Z')) + record(Date.parse('2024-05-17T12:06:00Z'))));
    fakeS3.put('athena-results/q1.csv', 50);

    // when
    const run = await lake(['status', '-o', 'json']);

    // then
    expect(run.code).toBe(0);
    const doc = json(run.stdout);
    expect(doc).toMatchObject({
      backend: 'aws',
      stack: { name: 'lake-weblogs', status: 'CREATE_COMPLETE', outputs: OUTPUTS },
      stream: { name: 'weblogs-ingest', status: 'ACTIVE', sourceType: 'DirectPut', bufferingSizeMiB: 64, bufferingIntervalSeconds: 60 },
      partitions: { found: 3, registered: 2, unregistered: 1, projection: false },
      newestObject: '2024-05-17T12:01:00.000Z',
      errorsLast24h: 2,
      storedBytes: 3000,
      problems: [],
      deployed: true,
      hint: null,
    });
    expect(doc.storage).toEqual({ data: { objects: 3, bytes: 3000 }, errors: { objects: 1, bytes: (doc.storage as { errors: { bytes: number } }).errors.bytes }, backup: null, results: { objects: 1, bytes: 50 }, other: { objects: 0, bytes: 0 } });
  });

  it('reports a lake that is not deployed yet without failing', async () => {
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }));
    firehose.on(DescribeDeliveryStreamCommand).rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));

    const run = await lake(['status', '-o', 'json']);

    expect(run.code).toBe(0);
    const empty = { objects: 0, bytes: 0 };
    expect(json(run.stdout)).toEqual({
      backend: 'aws',
      deployed: false,
      stack: null,
      stream: null,
      partitions: { found: 0, registered: 0, unregistered: 0, projection: false },
      newestObject: null,
      errorsLast24h: 0,
      storedBytes: 0,
      storage: { data: empty, errors: empty, backup: null, results: empty, other: empty },
      problems: [],
      hint: 'the lake is not deployed: run `lake deploy` to create it',
    });
    expect(run.stderr).toBe('hint: the lake is not deployed: run `lake deploy` to create it\n');
    // No stack, no stream of the lake's: the stream is not asked after.
    expect(firehose.commandCalls(DescribeDeliveryStreamCommand)).toHaveLength(0);
  });

  it('reports a stack whose creation failed as not deployed, saying how to start afresh', async () => {
    fake.failCreate.set('GlueTable', 'Database weblogs not found');
    expect((await lake(['deploy'])).code).toBe(1);

    const run = await lake(['status', '-o', 'json']);

    expect(run.code).toBe(0);
    expect(json(run.stdout)).toMatchObject({ deployed: false, stack: { name: 'lake-weblogs', status: 'ROLLBACK_COMPLETE' }, stream: null, hint: 'stack lake-weblogs is ROLLBACK_COMPLETE and holds nothing: run `lake deploy` to create it afresh' });
    expect(firehose.commandCalls(DescribeDeliveryStreamCommand)).toHaveLength(0);
  });

  it('exits 5 on a credentials problem rather than reporting half a status', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException', $metadata: { httpStatusCode: 403 } }));
    const run = await lake(['status']);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
  });
});
