// The rendered templates checked as CloudFormation checks them: references, and, against the
// CloudFormation resource specification (the AWS CDK's service database, npm
// `@aws-cdk/aws-service-spec`), every resource type, property, required property and attribute.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type LakeConfig, validateConfig } from '../../src/lib/config.js';
import { renderStack } from '../../src/lib/template/index.js';
import { type SpecIndex, specIndex, subVariables, validateTemplate } from '../../src/lib/template/validate.js';
import { type CfnTemplate, parseTemplate } from '../fixtures/templates/cfn-yaml.js';
import { FIXTURES, VARIANTS as OTHER_VARIANTS, templates as otherTemplates } from '../fixtures/templates/variants.js';

// ---------------------------------------------------------------- renderings

const COLUMNS = [
  { name: 'source', type: 'string' },
  { name: 'ts', type: 'timestamp' },
  { name: 'tags', type: 'array<string>' },
];
const config = (raw: Record<string, unknown>): LakeConfig => validateConfig({ name: 'weblogs', columns: COLUMNS, ...raw }).config;
const VARIANTS: Record<string, LakeConfig> = {
  'arrival, hive': config({}),
  'event time, hive, backup, kinesis source': config({ partitioning: { time: 'ts' }, backupPrefix: 'raw/', kinesisSource: true }),
  'firehose layout, projection, api, cutoff, key mappings': config({ partitioning: { layout: 'firehose', projection: true }, api: true, bytesScannedCutoff: '10GB', serde: { columnToJsonKeyMappings: { source: 'Source.Name' } } }),
  'everything': config({ partitioning: { time: 'ts', keys: ['year', 'month'] }, backupPrefix: 'raw/', kinesisSource: true, api: true, bytesScannedCutoff: '1TB' }),
};
const templates = Object.fromEntries(await Promise.all(Object.entries(VARIANTS).map(async ([name, c]) => [name, parseTemplate((await renderStack(c)).body)] as const)));
const retained = parseTemplate((await renderStack(VARIANTS.everything!, { retainData: true })).body);
const clone = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------- references (no specification needed)

describe('references in rendered templates', () => {
  it.each(Object.keys(VARIANTS))('%s: every Ref, GetAtt, Sub variable, condition and DependsOn points at something defined', (name) => {
    expect(validateTemplate(templates[name])).toEqual([]);
  });

  it('the template with retained data is as sound', () => {
    expect(validateTemplate(retained)).toEqual([]);
  });

  it('reads the variables of a Sub string, leaving ${!Literal} alone', () => {
    expect(subVariables('arn:${AWS::Partition}:s3:::${DataBucket}/${!year}/${ DataBucket.Arn }')).toEqual(['AWS::Partition', 'DataBucket', 'DataBucket.Arn']);
  });

  it('names a Ref to nothing, with the nearest real name', () => {
    const t = clone(templates['arrival, hive']!);
    t.Resources.DataKeyAlias!.Properties.TargetKeyId = { Ref: 'DataKy' };
    expect(validateTemplate(t)).toEqual(["Resources.DataKeyAlias.Properties.TargetKeyId.Ref: 'DataKy' is neither a parameter, a resource nor a pseudo parameter (did you mean 'DataKey'?)"]);
  });

  it('names a GetAtt of a missing resource, and a Sub variable that names nothing', () => {
    const t = clone(templates['arrival, hive']!);
    t.Resources.DeliveryStream!.Properties.ExtendedS3DestinationConfiguration = { ...(t.Resources.DeliveryStream!.Properties.ExtendedS3DestinationConfiguration as object), BucketARN: { 'Fn::GetAtt': ['Bucket', 'Arn'] } };
    t.Resources.AthenaWorkGroup!.Properties.Description = { 'Fn::Sub': 's3://${DataBuckett}/' };
    expect(validateTemplate(t)).toEqual([
      "Resources.DeliveryStream.Properties.ExtendedS3DestinationConfiguration.BucketARN.Fn::GetAtt: no resource named 'Bucket'",
      "Resources.AthenaWorkGroup.Properties.Description.Fn::Sub: ${DataBuckett} names no parameter, resource or variable (did you mean 'DataBucket'?)",
    ]);
  });

  it('refuses a resource that exists only under a condition used where the condition is not known', () => {
    const t = clone(templates['firehose layout, projection, api, cutoff, key mappings']!);
    // The usage plan key is conditional on UseApiKey; an unconditional output of it would fail the stack.
    (t.Outputs as Record<string, unknown>).Key = { Value: { Ref: 'IngestApiKey' } };
    t.Resources.IngestUsagePlanKey!.Condition = 'UseApiKeys';
    expect(validateTemplate(t)).toEqual([
      "Resources.IngestUsagePlanKey.Condition: no condition named 'UseApiKeys' (did you mean 'UseApiKey'?)",
      "Resources.IngestUsagePlanKey.Properties.KeyId.Ref: 'IngestApiKey' exists only when UseApiKey is true, but is used where that is not known",
      "Resources.IngestUsagePlanKey.Properties.UsagePlanId.Ref: 'IngestUsagePlan' exists only when UseApiKey is true, but is used where that is not known",
      "Outputs.Key.Value.Ref: 'IngestApiKey' exists only when UseApiKey is true, but is used where that is not known",
    ]);
  });

  it('names an unknown DependsOn target, an unknown section and a bad deletion policy', () => {
    const t = clone(templates['arrival, hive']!) as CfnTemplate & Record<string, unknown>;
    (t.Resources.GlueTable as Record<string, unknown>).DependsOn = ['GlueDatabase', 'GlueDb'];
    (t.Resources.DataBucket as Record<string, unknown>).DeletionPolicy = 'Keep';
    t.Output = {};
    expect(validateTemplate(t)).toEqual([
      "Output: not a template section (did you mean 'Outputs'?)",
      "Resources.DataBucket.DeletionPolicy: 'Keep' is not one of Delete, Retain, Snapshot, RetainExceptOnCreate",
      "Resources.GlueTable.DependsOn: no resource named 'GlueDb'",
    ]);
  });
});

// ---------------------------------------------------------------- the validator against a specification

/** A specification in the service database's saved format, cut down to two types. */
const MINI_SPEC = specIndex({
  schema: {
    resource: {
      entities: [
        {
          cloudFormationType: 'AWS::S3::Bucket',
          properties: {
            BucketName: { type: { type: 'string' } },
            BucketEncryption: { type: { type: 'ref', reference: { $ref: 't1' } } },
            Tags: { type: { type: 'array', element: { type: 'tag' } } },
          },
          attributes: { Arn: { type: { type: 'string' } }, DomainName: { type: { type: 'string' } } },
        },
        { cloudFormationType: 'AWS::Glue::Database', properties: { CatalogId: { required: true, type: { type: 'string' } }, DatabaseInput: { required: true, type: { type: 'json' } } }, attributes: {} },
      ],
    },
    typeDefinition: {
      entities: [
        { $id: 't1', name: 'BucketEncryption', properties: { ServerSideEncryptionConfiguration: { required: true, type: { type: 'array', element: { type: 'ref', reference: { $ref: 't2' } } } } } },
        { $id: 't2', name: 'ServerSideEncryptionRule', properties: { BucketKeyEnabled: { type: { type: 'boolean' } }, ServerSideEncryptionByDefault: { type: { type: 'union', types: [{ type: 'string' }, { type: 'ref', reference: { $ref: 't3' } }] } } } },
        { $id: 't3', name: 'ServerSideEncryptionByDefault', properties: { SSEAlgorithm: { required: true, type: { type: 'string' } }, KMSMasterKeyID: { type: { type: 'string' } } } },
      ],
    },
  },
});

describe('validateTemplate against a specification', () => {
  const template = (bucket: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    Resources: { B: { Type: 'AWS::S3::Bucket', Properties: bucket }, ...extra },
    Outputs: { Arn: { Value: { 'Fn::GetAtt': ['B', 'Arn'] } } },
  });
  const good = { BucketName: 'x', BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { Ref: 'AWS::NoValue' } }, BucketKeyEnabled: 'true' }] }, Tags: [{ Key: 'a', Value: 'b' }] };

  it('accepts a template that fits', () => {
    expect(validateTemplate(template(good), MINI_SPEC)).toEqual([]);
  });

  it('fails a misspelled property, naming the path and the nearest real property', () => {
    const bad = { ...good, BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgoritm: 'aws:kms' } }] } };
    expect(validateTemplate(template(bad), MINI_SPEC)).toEqual([
      "Resources.B.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault: unknown property 'SSEAlgoritm' (did you mean 'SSEAlgorithm'?)",
      "Resources.B.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault: required property 'SSEAlgorithm' is missing",
    ]);
  });

  it('fails a missing required property, a wrong shape, an unknown type and an unknown attribute', () => {
    const t = template({ BucketName: ['x'], BucketEncryption: {} }, { D: { Type: 'AWS::Glue::Database', Properties: { CatalogId: '1' } }, Q: { Type: 'AWS::S3::Bukket', Properties: {} } });
    (t.Outputs as Record<string, unknown>).Arn = { Value: { 'Fn::GetAtt': ['B', 'Arnn'] } };
    expect(validateTemplate(t, MINI_SPEC)).toEqual([
      'Resources.B.Properties.BucketName: expected a string, got a list',
      "Resources.B.Properties.BucketEncryption: required property 'ServerSideEncryptionConfiguration' is missing",
      "Resources.D.Properties: required property 'DatabaseInput' is missing",
      "Resources.Q.Type: 'AWS::S3::Bukket' is not a resource type of the CloudFormation specification",
      "Outputs.Arn.Value.Fn::GetAtt: AWS::S3::Bucket has no attribute 'Arnn' (did you mean 'Arn'?)",
    ]);
  });

  it('checks both branches of an Fn::If, skipping AWS::NoValue', () => {
    const t = template({ BucketName: { 'Fn::If': ['C', 'x', { Ref: 'AWS::NoValue' }] }, BucketEncryption: { 'Fn::If': ['C', { Nope: 1 }, { Ref: 'AWS::NoValue' }] } });
    (t as Record<string, unknown>).Conditions = { C: { 'Fn::Equals': ['a', 'b'] } };
    expect(validateTemplate(t, MINI_SPEC)).toEqual([
      "Resources.B.Properties.BucketEncryption: unknown property 'Nope'",
      "Resources.B.Properties.BucketEncryption: required property 'ServerSideEncryptionConfiguration' is missing",
    ]);
  });
});

// ---------------------------------------------------------------- the real specification

/** The AWS CDK's service database (devDependency `@aws-cdk/aws-service-spec`), read raw: its `db.json.gz`. */
function loadServiceSpec(): SpecIndex {
  const root = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/aws-service-spec')), '..');
  return specIndex(JSON.parse(gunzipSync(readFileSync(join(root, 'db.json.gz'))).toString('utf8')));
}
const SPEC = loadServiceSpec();

describe('rendered templates against the CloudFormation resource specification (@aws-cdk/aws-service-spec)', () => {
  it.each(Object.keys(VARIANTS))('%s: every type and property exists, required ones are present, attributes exist', (name) => {
    expect(validateTemplate(templates[name], SPEC)).toEqual([]);
  });

  it('with retained data too', () => {
    expect(validateTemplate(retained, SPEC)).toEqual([]);
  });

  it.each(Object.keys(FIXTURES))('the reviewed fixture %s.yaml, as committed', (name) => {
    const fixture = parseTemplate(readFileSync(new URL(`../fixtures/templates/${name}.yaml`, import.meta.url), 'utf8'));
    expect(validateTemplate(fixture)).toEqual([]);
    expect(validateTemplate(fixture, SPEC)).toEqual([]);
  });

  it.each(Object.keys(OTHER_VARIANTS))('the %s rendering of the other template tests', (name) => {
    expect(validateTemplate(otherTemplates[name], SPEC)).toEqual([]);
  });

  it('fails a rendered template with a misspelled property', () => {
    const t = clone(templates.everything!);
    const s3 = t.Resources.DeliveryStream!.Properties.ExtendedS3DestinationConfiguration as Record<string, unknown>;
    s3.ErrorOutputPrefx = s3.ErrorOutputPrefix;
    delete s3.ErrorOutputPrefix;
    t.Resources.DataBucket!.Properties.PublicAccessBlockConfiguration = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBucket: true };
    expect(validateTemplate(t, SPEC)).toEqual([
      "Resources.DataBucket.Properties.PublicAccessBlockConfiguration: unknown property 'RestrictPublicBucket' (did you mean 'RestrictPublicBuckets'?)",
      "Resources.DeliveryStream.Properties.ExtendedS3DestinationConfiguration: unknown property 'ErrorOutputPrefx' (did you mean 'ErrorOutputPrefix'?)",
    ]);
  });

  it('fails a missing required property and an unknown attribute', () => {
    const t = clone(templates['arrival, hive']!);
    delete t.Resources.GlueTable!.Properties.CatalogId;
    t.Resources.DataKeyAlias!.Properties.TargetKeyId = { 'Fn::GetAtt': ['DataKey', 'Arnn'] };
    expect(validateTemplate(t, SPEC)).toEqual([
      "Resources.DataKeyAlias.Properties.TargetKeyId.Fn::GetAtt: AWS::KMS::Key has no attribute 'Arnn' (did you mean 'Arn'?)",
      "Resources.GlueTable.Properties: required property 'CatalogId' is missing",
    ]);
  });
});
