// The CloudFormation template: the template engine, what a configuration renders to (the
// three reviewed fixtures), and the security properties every rendering must keep.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kinesisStreamName } from '../../src/lib/aws/kinesis-source-stream.js';
import { TEMPLATE_BODY_LIMIT } from '../../src/lib/aws/cloudformation-stack-deployer.js';
import { type LakeConfig, validateConfig } from '../../src/lib/config.js';
import { firehosePrefixes, validatePrefixes } from '../../src/lib/firehose-prefix.js';
import { tableDefFromConfig } from '../../src/lib/table-def.js';
import { TemplateError, renderTemplate } from '../../src/lib/template/engine.js';
import { renderStack, sourceStreamName } from '../../src/lib/template/index.js';
import { yamlAfterKey, yamlScalar } from '../../src/lib/template/yaml.js';

// ---------------------------------------------------------------- reading YAML with CloudFormation's tags

interface JsYaml {
  load(text: string, options: { schema: unknown }): unknown;
  Type: new (tag: string, options: { kind: 'scalar' | 'sequence'; construct: (data: never) => unknown }) => unknown;
  DEFAULT_SCHEMA: { extend(types: unknown[]): unknown };
}
// js-yaml (a dependency of eslint) reads the YAML; its tags give CloudFormation's long forms.
const JS_YAML = 'js-yaml';
const yaml = (await import(JS_YAML)) as JsYaml;
const fn = (name: string) => (data: unknown) => ({ [name]: data });
const CFN_SCHEMA = yaml.DEFAULT_SCHEMA.extend([
  new yaml.Type('!Ref', { kind: 'scalar', construct: (data: string) => ({ Ref: data }) }),
  new yaml.Type('!Sub', { kind: 'scalar', construct: fn('Fn::Sub') }),
  new yaml.Type('!Sub', { kind: 'sequence', construct: fn('Fn::Sub') }),
  new yaml.Type('!GetAtt', { kind: 'scalar', construct: (data: string) => ({ 'Fn::GetAtt': [data.slice(0, data.indexOf('.')), data.slice(data.indexOf('.') + 1)] }) }),
  new yaml.Type('!GetAtt', { kind: 'sequence', construct: fn('Fn::GetAtt') }),
  ...['If', 'Equals', 'Not', 'And', 'Or', 'Join', 'Select', 'Split'].map((name) => new yaml.Type(`!${name}`, { kind: 'sequence', construct: fn(`Fn::${name}`) })),
]);

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
const parse = (text: string) => yaml.load(text, { schema: CFN_SCHEMA }) as Obj & { Resources: Record<string, Obj & { Type: string; Properties: Obj }> };

// ---------------------------------------------------------------- configurations

const COLUMNS = [
  { name: 'source', type: 'string' },
  { name: 'status', type: 'int' },
  { name: 'bytes', type: 'bigint' },
  { name: 'path', type: 'string' },
  { name: 'ts', type: 'timestamp' },
];
const config = (raw: Record<string, unknown>): LakeConfig => validateConfig({ name: 'weblogs', columns: COLUMNS, ...raw }).config;

/** The three reviewed renderings, kept in test/fixtures/templates. */
const FIXTURES: Record<string, LakeConfig> = {
  'arrival-hive': config({}),
  'event-time-hive': config({ partitioning: { time: 'ts' }, backupPrefix: 'raw/', kinesisSource: true }),
  'firehose-projection': config({ partitioning: { layout: 'firehose', projection: true }, api: true, bytesScannedCutoff: '10GB', serde: { columnToJsonKeyMappings: { path: 'request.path' } } }),
};
/** Every option at once, and the odd corners. */
const VARIANTS: Record<string, LakeConfig> = {
  ...FIXTURES,
  'everything': config({ partitioning: { time: 'ts', keys: ['year', 'month', 'day'] }, backupPrefix: 'raw/', kinesisSource: true, api: true, bytesScannedCutoff: '1TB', buffering: { sizeMiB: 128, intervalSeconds: 900 } }),
  'api-direct-put-event-time': config({ partitioning: { time: 'ts' }, api: true }),
  'other-prefixes': config({ prefix: 'lake/data/', errorPrefix: 'lake/errors/', resultsPrefix: 'query-results/', backupPrefix: 'lake/raw/' }),
};
const rendered = Object.fromEntries(await Promise.all(Object.entries(VARIANTS).map(async ([name, c]) => [name, await renderStack(c)] as const)));
const templates = Object.fromEntries(Object.entries(rendered).map(([name, r]) => [name, parse(r.body)]));

const resourcesOfType = (t: ReturnType<typeof parse>, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const get = (value: Json | undefined, ...path: (string | number)[]): Json | undefined =>
  path.reduce<Json | undefined>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, Json>)[k] : undefined), value);

// ---------------------------------------------------------------- the engine

describe('the template engine', () => {
  const input = (values: Record<string, never | string | number | boolean | object>, flags: Record<string, boolean> = {}) => ({ values: values as never, flags });

  it('writes a whole-value marker as YAML: scalars on the line, lists and maps as blocks under the key', () => {
    // given
    const source = ["Name: '{{name}}'", 'Props:', "  Columns: '{{columns}}'", "  Params: '{{params}}'", "  - '{{size}}'"].join('\n');

    // when
    const out = renderTemplate(source, input({ name: 'events', columns: [{ Name: 'ts', Type: 'decimal(10,2)' }], params: { 'projection.enabled': 'true' }, size: 64 }));

    // then
    expect(out).toBe(['Name: events', 'Props:', '  Columns:', '    - Name: ts', '      Type: "decimal(10,2)"', '  Params:', '    projection.enabled: "true"', '  - 64'].join('\n'));
  });

  it('keeps or drops the lines between @if and @end, negated and nested', () => {
    const source = ['a: 1', '# @if api', 'b: 2', '  # @if !kinesis', 'c: 3', '  # @end', '# @end', '# @if !api', 'd: 4', '# @end'].join('\n');
    expect(renderTemplate(source, input({}, { api: true, kinesis: false }))).toBe('a: 1\nb: 2\nc: 3');
    expect(renderTemplate(source, input({}, { api: true, kinesis: true }))).toBe('a: 1\nb: 2');
    expect(renderTemplate(source, input({}, { api: false, kinesis: false }))).toBe('a: 1\nd: 4');
  });

  it("puts text inside single-quoted strings with quotes doubled, and escapes ${ on !Sub lines", () => {
    const source = ["A: 'alias/{{name}}'", "B: !Sub '${Bucket.Arn}/{{prefix}}*'", '# for {{name}}'];
    expect(renderTemplate(source.join('\n'), input({ name: "o'brien", prefix: 'p${x}/' }))).toBe(["A: 'alias/o''brien'", "B: !Sub '${Bucket.Arn}/p${!x}/*'", "# for o'brien"].join('\n'));
  });

  it('throws on an unknown value, an unknown flag, an unbalanced @if, and text outside quotes', () => {
    expect(() => renderTemplate("a: '{{nope}}'", input({}), 't.yaml')).toThrow(new TemplateError("t.yaml:1: no value for '{{nope}}'"));
    expect(() => renderTemplate('# @if nope\n# @end', input({}), 't.yaml')).toThrow(new TemplateError("t.yaml:1: unknown flag 'nope'"));
    expect(() => renderTemplate('# @if a\nx: 1', input({}, { a: true }), 't.yaml')).toThrow(new TemplateError('t.yaml:1: @if without @end'));
    expect(() => renderTemplate('# @end', input({}), 't.yaml')).toThrow(new TemplateError('t.yaml:1: @end without @if'));
    expect(() => renderTemplate('a: x{{name}}', input({ name: 'n' }), 't.yaml')).toThrow(new TemplateError("t.yaml:1: '{{name}}' must be inside a single-quoted string"));
  });

  it('leaves a string plain only when YAML 1.1 reads it back as the same string', () => {
    expect(yamlScalar('parquet')).toBe('parquet');
    expect(yamlScalar('org.apache.Foo')).toBe('org.apache.Foo');
    for (const text of ['TRUE', 'yes', 'No', 'on', 'null', '1', '0755', '', 'a: b', '!{x}', 's3://b/', 'a b', '#x']) expect(yamlScalar(text)).toBe(JSON.stringify(text));
    expect(yamlScalar(true)).toBe('true');
    expect(yamlScalar(10_000_000_000)).toBe('10000000000');
    expect(yamlAfterKey([], 2)).toBe(' []');
    expect(yamlAfterKey({}, 2)).toBe(' {}');
  });
});

// ---------------------------------------------------------------- the renderings

describe('rendered templates', () => {
  it.each(Object.keys(FIXTURES))('%s renders exactly as the reviewed fixture', (name) => {
    const fixture = readFileSync(new URL(`../fixtures/templates/${name}.yaml`, import.meta.url), 'utf8');
    expect(rendered[name]!.body).toBe(fixture);
  });

  it.each(Object.keys(VARIANTS))('%s parses as YAML and fits in an inline TemplateBody', (name) => {
    expect(templates[name]!.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(Buffer.byteLength(rendered[name]!.body)).toBeLessThan(TEMPLATE_BODY_LIMIT);
  });

  it('gives the Glue table exactly the table the local deployer creates', () => {
    const c = FIXTURES['firehose-projection']!;
    const table = tableDefFromConfig(c);
    const input = get(templates['firehose-projection']!.Resources.GlueTable!.Properties, 'TableInput');
    expect(input).toEqual({
      Name: 'events',
      TableType: 'EXTERNAL_TABLE',
      Parameters: table.parameters,
      PartitionKeys: table.partitionKeys.map((k) => ({ Name: k.name, Type: k.type })),
      StorageDescriptor: {
        Location: 's3://weblogs-data/data/',
        InputFormat: table.inputFormat,
        OutputFormat: table.outputFormat,
        SerdeInfo: { SerializationLibrary: table.serializationLibrary, Parameters: { 'serialization.format': '1' } },
        Columns: COLUMNS.map((col) => ({ Name: col.name, Type: col.type })),
      },
    });
    expect(table.parameters['projection.enabled']).toBe('true');
  });

  it('gives Firehose the prefixes and the JQ query of firehose-prefix.ts, as the local emulator evaluates them', () => {
    for (const [name, c] of Object.entries(VARIANTS)) {
      const s3 = get(templates[name]!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as Obj;
      const expected = firehosePrefixes(c);
      expect(s3.Prefix, name).toBe(expected.prefix);
      expect(s3.ErrorOutputPrefix, name).toBe(expected.errorOutputPrefix);
      const processors = get(s3, 'ProcessingConfiguration', 'Processors') as Obj[] | undefined;
      if (expected.dynamicPartitioning) {
        expect(s3.DynamicPartitioningConfiguration, name).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
        expect(processors, name).toEqual([
          { Type: 'RecordDeAggregation', Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }] },
          {
            Type: 'MetadataExtraction',
            Parameters: [
              { ParameterName: 'MetadataExtractionQuery', ParameterValue: expected.dynamicPartitioning.jqQuery },
              { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
            ],
          },
        ]);
        // ProcessorParameter values are at most 5,120 characters.
        expect(expected.dynamicPartitioning.jqQuery.length).toBeLessThanOrEqual(5120);
      } else {
        expect(s3.DynamicPartitioningConfiguration, name).toBeUndefined();
        expect(processors, name).toBeUndefined();
      }
    }
  });

  it('converts JSON with the OpenX SerDe to Snappy Parquet against the Glue table, S3 compression off', () => {
    const s3 = get(templates['firehose-projection']!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as Obj;
    expect(s3.CompressionFormat).toBe('UNCOMPRESSED');
    expect(s3.DataFormatConversionConfiguration).toEqual({
      Enabled: true,
      InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { CaseInsensitive: true, ConvertDotsInJsonKeysToUnderscores: false, ColumnToJsonKeyMappings: { path: 'request.path' } } } },
      OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
      SchemaConfiguration: { CatalogId: { Ref: 'AWS::AccountId' }, DatabaseName: { Ref: 'GlueDatabase' }, TableName: { Ref: 'GlueTable' }, Region: { Ref: 'AWS::Region' }, RoleARN: { 'Fn::GetAtt': ['DeliveryRole', 'Arn'] }, VersionId: 'LATEST' },
    });
    expect(s3.CloudWatchLoggingOptions).toEqual({ Enabled: true, LogGroupName: { Ref: 'DeliveryLogGroup' }, LogStreamName: { Ref: 'DeliveryLogStream' } });
  });

  it('buffers at least 64 MiB, raising a smaller configured size and saying so', async () => {
    const small = await renderStack(config({ buffering: { sizeMiB: 5, intervalSeconds: 30 } }));
    expect(get(parse(small.body).Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration', 'BufferingHints')).toEqual({ SizeInMBs: 64, IntervalInSeconds: 30 });
    expect(small.notes).toEqual(['buffering.sizeMiB 5 raised to 64: Firehose needs at least 64 MiB to convert to Parquet']);
    expect(get(templates.everything!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration', 'BufferingHints')).toEqual({ SizeInMBs: 128, IntervalInSeconds: 900 });
  });

  it('backs up the raw input, gzip, under backupPrefix, only when it is set', () => {
    const s3 = get(templates['event-time-hive']!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as Obj;
    expect(s3.S3BackupMode).toBe('Enabled');
    expect(get(s3, 'S3BackupConfiguration', 'Prefix')).toBe('raw/');
    expect(get(s3, 'S3BackupConfiguration', 'CompressionFormat')).toBe('GZIP');
    const plain = get(templates['arrival-hive']!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as Obj;
    expect(plain.S3BackupMode).toBeUndefined();
    expect(plain.S3BackupConfiguration).toBeUndefined();
  });

  it('expires error records (30 days), raw backup (30) and Athena results (7)', () => {
    const rules = (name: string) => get(templates[name]!.Resources.DataBucket!.Properties, 'LifecycleConfiguration', 'Rules') as Obj[];
    expect(rules('event-time-hive')).toEqual([
      { Id: 'expire-error-records', Prefix: 'errors/', Status: 'Enabled', ExpirationInDays: { Ref: 'ErrorRetentionDays' } },
      { Id: 'expire-raw-backup', Prefix: 'raw/', Status: 'Enabled', ExpirationInDays: { Ref: 'BackupRetentionDays' } },
      { Id: 'expire-athena-results', Prefix: 'athena-results/', Status: 'Enabled', ExpirationInDays: { Ref: 'ResultsRetentionDays' } },
      { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
    const parameters = templates['event-time-hive']!.Parameters as Record<string, Obj>;
    expect([parameters.ErrorRetentionDays!.Default, parameters.BackupRetentionDays!.Default, parameters.ResultsRetentionDays!.Default]).toEqual([30, 30, 7]);
    expect(rules('other-prefixes').map((r) => r.Prefix)).toEqual(['lake/errors/', 'lake/raw/', 'query-results/', undefined]);
    expect(rules('arrival-hive').map((r) => r.Id)).toEqual(['expire-error-records', 'expire-athena-results', 'abort-incomplete-uploads']);
  });

  it('enforces the workgroup: results under resultsPrefix, encrypted, and the configured cutoff', () => {
    expect(get(templates['firehose-projection']!.Resources.AthenaWorkGroup!.Properties, 'WorkGroupConfiguration')).toEqual({
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: 10_000_000_000,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: { OutputLocation: { 'Fn::Sub': 's3://${DataBucket}/athena-results/' }, EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': ['DataKey', 'Arn'] } } },
    });
    expect(get(templates['arrival-hive']!.Resources.AthenaWorkGroup!.Properties, 'WorkGroupConfiguration', 'BytesScannedCutoffPerQuery')).toBeUndefined();
  });

  it('alarms on FailedConversion.Records, notifying the SNS topic parameter only when one is given', () => {
    const alarm = templates['arrival-hive']!.Resources.FailedConversionAlarm!.Properties;
    expect([alarm.Namespace, alarm.MetricName, alarm.Statistic, alarm.Threshold, alarm.ComparisonOperator]).toEqual(['AWS/Firehose', 'FailedConversion.Records', 'Sum', 0, 'GreaterThanThreshold']);
    expect(alarm.Dimensions).toEqual([{ Name: 'DeliveryStreamName', Value: { Ref: 'DeliveryStream' } }]);
    expect(alarm.AlarmActions).toEqual({ 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] });
  });

  it('--kinesis-source puts an encrypted on-demand data stream, named as `lake send` expects, in front of Firehose', () => {
    const t = templates['event-time-hive']!;
    expect(t.Resources.SourceStream!.Properties).toEqual({
      Name: 'weblogs-ingest-source',
      RetentionPeriodHours: 24,
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] } },
    });
    expect(sourceStreamName(FIXTURES['event-time-hive']!)).toBe(kinesisStreamName('weblogs-ingest'));
    expect(t.Resources.DeliveryStream!.Properties.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(t.Resources.DeliveryStream!.Properties.KinesisStreamSourceConfiguration).toEqual({ KinesisStreamARN: { 'Fn::GetAtt': ['SourceStream', 'Arn'] }, RoleARN: { 'Fn::GetAtt': ['DeliveryRole', 'Arn'] } });
    expect(templates['arrival-hive']!.Resources.DeliveryStream!.Properties.DeliveryStreamType).toBe('DirectPut');
    expect(templates['arrival-hive']!.Resources.SourceStream).toBeUndefined();
  });

  it('--api adds POST /records proxying to PutRecord, with an API key or IAM auth, and outputs the endpoint URL', () => {
    const t = templates['firehose-projection']!;
    const method = t.Resources.IngestPostMethod!.Properties;
    expect([method.HttpMethod, method.AuthorizationType, method.ApiKeyRequired]).toEqual(['POST', { 'Fn::If': ['UseIamAuth', 'AWS_IAM', 'NONE'] }, { 'Fn::If': ['UseApiKey', true, false] }]);
    expect(get(method, 'Integration', 'Uri')).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}:firehose:action/PutRecord' });
    expect(get(method, 'Integration', 'RequestTemplates', 'application/json')).toEqual({ 'Fn::Sub': `{"DeliveryStreamName": "\${DeliveryStream}", "Record": {"Data": "$util.base64Encode($input.json('$'))"}}` });
    expect((t.Parameters as Record<string, Obj>).ApiAuth).toEqual({ Type: 'String', Default: 'API_KEY', AllowedValues: ['API_KEY', 'AWS_IAM'], Description: 'How callers of the ingest endpoint authenticate.' });
    expect(['IngestApiKey', 'IngestUsagePlan', 'IngestUsagePlanKey'].map((id) => t.Resources[id]!.Condition)).toEqual(['UseApiKey', 'UseApiKey', 'UseApiKey']);
    expect((t.Outputs as Record<string, Obj>).EndpointUrl!.Value).toEqual({ 'Fn::Sub': 'https://${IngestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${IngestStage}/records' });
    // With a Kinesis source the endpoint writes to the data stream, as Firehose then refuses PutRecord.
    const viaKinesis = get(templates.everything!.Resources.IngestPostMethod!.Properties, 'Integration', 'Uri');
    expect(viaKinesis).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}:kinesis:action/PutRecord' });
  });

  it('outputs the bucket, stream, database, table and workgroup under the names the local deployer uses', () => {
    for (const t of Object.values(templates)) {
      expect(Object.keys(t.Outputs as Obj)).toEqual(expect.arrayContaining(['Bucket', 'DeliveryStream', 'Database', 'Table', 'WorkGroup']));
    }
  });

  it('retains the bucket and key on stack deletion only when asked (destroy --keep-data)', async () => {
    const retained = parse((await renderStack(FIXTURES['arrival-hive']!, { retainData: true })).body);
    for (const id of ['DataBucket', 'DataKey']) {
      expect([templates['arrival-hive']!.Resources[id]!.DeletionPolicy, retained.Resources[id]!.DeletionPolicy], id).toEqual(['Delete', 'Retain']);
      expect(retained.Resources[id]!.UpdateReplacePolicy).toBe('Retain');
    }
  });
});

// ---------------------------------------------------------------- security

/** Every policy document of a template, with where it is. */
function policyDocuments(t: ReturnType<typeof parse>): { where: string; kind: 'key' | 'trust' | 'identity' | 'bucket'; statements: Obj[] }[] {
  const out: { where: string; kind: 'key' | 'trust' | 'identity' | 'bucket'; statements: Obj[] }[] = [];
  const list = (s: Json | undefined) => (Array.isArray(s) ? s : s ? [s] : []) as Obj[];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::KMS::Key') out.push({ where: id, kind: 'key', statements: list(get(r.Properties, 'KeyPolicy', 'Statement')) });
    if (r.Type === 'AWS::S3::BucketPolicy') out.push({ where: id, kind: 'bucket', statements: list(get(r.Properties, 'PolicyDocument', 'Statement')) });
    if (r.Type === 'AWS::IAM::Role') {
      out.push({ where: `${id} trust`, kind: 'trust', statements: list(get(r.Properties, 'AssumeRolePolicyDocument', 'Statement')) });
      for (const p of (r.Properties.Policies ?? []) as Obj[]) out.push({ where: `${id} ${String(p.PolicyName)}`, kind: 'identity', statements: list(get(p, 'PolicyDocument', 'Statement')) });
    }
  }
  return out;
}

describe.each(Object.keys(VARIANTS))('security of the %s rendering', (name) => {
  const t = templates[name]!;

  it('encrypts every bucket with the KMS key, which rotates', () => {
    const buckets = resourcesOfType(t, 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThan(0);
    for (const [, bucket] of buckets) {
      expect(get(bucket.Properties, 'BucketEncryption', 'ServerSideEncryptionConfiguration')).toEqual([
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['DataKey', 'Arn'] } }, BucketKeyEnabled: true },
      ]);
    }
    expect(t.Resources.DataKey!.Properties.EnableKeyRotation).toBe(true);
  });

  it('blocks all public access to every bucket', () => {
    for (const [, bucket] of resourcesOfType(t, 'AWS::S3::Bucket')) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
  });

  it('gives every bucket a policy denying anything not over TLS, on the bucket and its objects', () => {
    for (const [id] of resourcesOfType(t, 'AWS::S3::Bucket')) {
      const policies = resourcesOfType(t, 'AWS::S3::BucketPolicy').filter(([, p]) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id }));
      const statements = policies.flatMap(([, p]) => get(p.Properties, 'PolicyDocument', 'Statement') as Obj[]);
      expect(statements, id).toContainEqual({
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Sub': `\${${id}.Arn}/*` }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    }
  });

  it('has no statement allowing every action', () => {
    for (const doc of policyDocuments(t)) {
      for (const s of doc.statements) {
        const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
        expect(actions, doc.where).not.toContain('*');
        expect(s.NotAction, doc.where).toBeUndefined();
      }
    }
  });

  it("uses Resource '*' only in the key policy, where the resource is the key itself", () => {
    for (const doc of policyDocuments(t)) {
      for (const s of doc.statements) {
        const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
        if (doc.kind === 'key') continue;
        expect(resources, doc.where).not.toContain('*');
        for (const r of resources) if (typeof r === 'string') expect(r, doc.where).not.toMatch(/(^|:)\*$/);
      }
    }
    expect(policyDocuments(t).filter((d) => d.kind === 'key').flatMap((d) => d.statements)).toEqual([
      { Sid: 'AccountIamPoliciesGrantUse', Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }, Action: 'kms:*', Resource: '*' },
    ]);
  });

  it('scopes the Firehose role to the lake prefixes, its Glue table, its key and its log streams', () => {
    const c = VARIANTS[name]!;
    const statements = policyDocuments(t).find((d) => d.where === 'DeliveryRole delivery')!.statements;
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid as string, s]));
    const prefixes = [c.prefix, c.errorPrefix, ...(c.backupPrefix ? [c.backupPrefix] : [])];
    expect(bySid.WriteUnderTheLakePrefixes!.Resource).toEqual(prefixes.map((p) => ({ 'Fn::Sub': `\${DataBucket.Arn}/${p}*` })));
    expect(bySid.FindTheBucket!.Resource).toEqual({ 'Fn::GetAtt': ['DataBucket', 'Arn'] });
    expect(bySid.ReadTheTableSchema!.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${GlueDatabase}' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${GlueDatabase}/${GlueTable}' },
    ]);
    expect(bySid.UseTheDataKey!.Resource).toEqual({ 'Fn::GetAtt': ['DataKey', 'Arn'] });
    expect(bySid.LogDeliveryErrors!.Action).toBe('logs:PutLogEvents');
    const trust = policyDocuments(t).find((d) => d.where === 'DeliveryRole trust')!.statements;
    expect(trust).toEqual([{ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } }]);
  });

  it('has an ErrorOutputPrefix holding !{firehose:error-output-type} whenever a Prefix has expressions', () => {
    const destinations = resourcesOfType(t, 'AWS::KinesisFirehose::DeliveryStream').flatMap(([, r]) => {
      const s3 = r.Properties.ExtendedS3DestinationConfiguration as Obj;
      return [s3, ...(s3.S3BackupConfiguration ? [s3.S3BackupConfiguration as Obj] : [])];
    });
    for (const d of destinations) {
      const prefix = d.Prefix as string;
      if (!prefix.includes('!{')) continue;
      expect(d.ErrorOutputPrefix, prefix).toMatch(/!\{firehose:error-output-type\}/);
      expect(validatePrefixes({ prefix, errorOutputPrefix: d.ErrorOutputPrefix as string, dynamicPartitioning: d.DynamicPartitioningConfiguration !== undefined })).toEqual([]);
    }
  });
});
