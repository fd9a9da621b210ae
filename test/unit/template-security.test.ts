// The security properties every rendered template keeps: buckets encrypted with a rotating
// key of the stack, public access blocked, TLS only; no statement allowing every action, no
// Resource '*' where a narrower one exists; Firehose error prefixes that Firehose accepts.
// A checker finds what breaks them (and is shown to catch each break), and the exact
// policies are asserted per rendering.
import { describe, expect, it } from 'vitest';
import { validatePrefixes } from '../../src/lib/firehose-prefix.js';
import type { CfnTemplate, Json, JsonObject } from '../fixtures/templates/cfn-yaml.js';
import { VARIANTS, get, resourcesOfType, templates } from '../fixtures/templates/variants.js';

// ---------------------------------------------------------------- the checker

type PolicyKind = 'key' | 'trust' | 'identity' | 'bucket';

/** Every policy document of a template, with where it is. */
function policyDocuments(t: CfnTemplate): { where: string; kind: PolicyKind; statements: JsonObject[] }[] {
  const out: { where: string; kind: PolicyKind; statements: JsonObject[] }[] = [];
  const list = (s: Json | undefined) => (Array.isArray(s) ? s : s ? [s] : []) as JsonObject[];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::KMS::Key') out.push({ where: id, kind: 'key', statements: list(get(r.Properties, 'KeyPolicy', 'Statement')) });
    if (r.Type === 'AWS::S3::BucketPolicy') out.push({ where: id, kind: 'bucket', statements: list(get(r.Properties, 'PolicyDocument', 'Statement')) });
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') out.push({ where: id, kind: 'identity', statements: list(get(r.Properties, 'PolicyDocument', 'Statement')) });
    if (r.Type === 'AWS::IAM::Role') {
      out.push({ where: `${id} trust`, kind: 'trust', statements: list(get(r.Properties, 'AssumeRolePolicyDocument', 'Statement')) });
      for (const p of (r.Properties.Policies ?? []) as JsonObject[]) out.push({ where: `${id} ${String(p.PolicyName)}`, kind: 'identity', statements: list(get(p, 'PolicyDocument', 'Statement')) });
    }
  }
  return out;
}

const same = (a: Json | undefined, b: Json) => JSON.stringify(a) === JSON.stringify(b);
const asList = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The logical id a `!Ref X` or `!GetAtt X.Arn` names. */
function target(value: Json | undefined): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const att = value['Fn::GetAtt'];
  return Array.isArray(att) && typeof att[0] === 'string' ? att[0] : undefined;
}

/** What a reviewer would refuse in a template, one line each; [] for none. */
function securityProblems(t: CfnTemplate): string[] {
  const problems: string[] = [];
  for (const [id, key] of resourcesOfType(t, 'AWS::KMS::Key')) if (key.Properties.EnableKeyRotation !== true) problems.push(`${id}: key rotation is off`);

  for (const [id, bucket] of resourcesOfType(t, 'AWS::S3::Bucket')) {
    const rules = asList(get(bucket.Properties, 'BucketEncryption', 'ServerSideEncryptionConfiguration'));
    const byDefault = rules.map((r) => get(r, 'ServerSideEncryptionByDefault'));
    const key = byDefault.map((d) => target(get(d, 'KMSMasterKeyID')))[0];
    if (!byDefault.some((d) => get(d, 'SSEAlgorithm') === 'aws:kms') || key === undefined || t.Resources[key]?.Type !== 'AWS::KMS::Key') problems.push(`${id}: not encrypted with a KMS key of the stack`);

    const block = bucket.Properties.PublicAccessBlockConfiguration;
    const open = ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].filter((flag) => get(block, flag) !== true);
    if (open.length > 0) problems.push(`${id}: public access not blocked (${open.join(', ')})`);

    const statements = resourcesOfType(t, 'AWS::S3::BucketPolicy')
      .filter(([, p]) => target(p.Properties.Bucket) === id)
      .flatMap(([, p]) => asList(get(p.Properties, 'PolicyDocument', 'Statement')));
    const tlsOnly = statements.some(
      (s) =>
        get(s, 'Effect') === 'Deny' &&
        same(get(s, 'Principal'), '*') &&
        asList(get(s, 'Action')).includes('s3:*') &&
        asList(get(s, 'Resource')).some((r) => same(r, { 'Fn::GetAtt': [id, 'Arn'] })) &&
        asList(get(s, 'Resource')).some((r) => same(r, { 'Fn::Sub': `\${${id}.Arn}/*` })) &&
        String(get(s, 'Condition', 'Bool', 'aws:SecureTransport')) === 'false',
    );
    if (!tlsOnly) problems.push(`${id}: no bucket policy denies requests without TLS on the bucket and its objects`);
  }

  for (const doc of policyDocuments(t)) {
    doc.statements.forEach((s, i) => {
      const where = `${doc.where} statement ${typeof s.Sid === 'string' ? s.Sid : i}`;
      if (asList(s.Action).includes('*') || s.NotAction !== undefined) problems.push(`${where}: allows every action`);
      // In a key policy the resource is the key itself, so '*' is the only way to write it.
      if (doc.kind === 'key' || doc.kind === 'trust') return;
      if (s.NotResource !== undefined || asList(s.Resource).some((r) => typeof r === 'string' && /(^|:)\*$/.test(r))) problems.push(`${where}: applies to every resource`);
    });
  }

  for (const [id, stream] of resourcesOfType(t, 'AWS::KinesisFirehose::DeliveryStream')) {
    const s3 = stream.Properties.ExtendedS3DestinationConfiguration as JsonObject | undefined;
    const destinations: [string, JsonObject][] = s3 ? [[`${id}.ExtendedS3DestinationConfiguration`, s3]] : [];
    if (s3?.S3BackupConfiguration) destinations.push([`${id}.ExtendedS3DestinationConfiguration.S3BackupConfiguration`, s3.S3BackupConfiguration as JsonObject]);
    for (const [where, d] of destinations) {
      const prefix = typeof d.Prefix === 'string' ? d.Prefix : '';
      const errors = typeof d.ErrorOutputPrefix === 'string' ? d.ErrorOutputPrefix : undefined;
      if (prefix.includes('!{') && errors === undefined) problems.push(`${where}: Prefix has expressions but there is no ErrorOutputPrefix`);
      else if (errors !== undefined && (prefix.includes('!{') || errors.includes('!{')) && !errors.includes('!{firehose:error-output-type}')) problems.push(`${where}: ErrorOutputPrefix lacks !{firehose:error-output-type}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- every rendering passes

describe('the security checker', () => {
  it.each(Object.keys(VARIANTS))('finds nothing to refuse in the %s rendering', (name) => {
    expect(securityProblems(templates[name]!)).toEqual([]);
  });

  it('finds every break, naming where', () => {
    // given the richest rendering, with each property broken once
    const t = structuredClone(templates.everything!);
    const bucket = t.Resources.DataBucket!.Properties;
    t.Resources.DataKey!.Properties.EnableKeyRotation = false;
    bucket.BucketEncryption = { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] };
    (bucket.PublicAccessBlockConfiguration as JsonObject).RestrictPublicBuckets = false;
    (get(t.Resources.DataBucketPolicy!.Properties, 'PolicyDocument', 'Statement', 0, 'Condition', 'Bool') as JsonObject)['aws:SecureTransport'] = 'true';
    const delivery = get(t.Resources.DeliveryRole!.Properties, 'Policies', 0, 'PolicyDocument', 'Statement') as JsonObject[];
    delivery.find((s) => s.Sid === 'ReadTheTableSchema')!.Resource = 'arn:aws:glue:us-east-1:111111111111:*';
    delivery.find((s) => s.Sid === 'UseTheDataKey')!.Action = '*';
    const ingest = get(t.Resources.IngestApiRole!.Properties, 'Policies', 0, 'PolicyDocument', 'Statement') as JsonObject[];
    ingest[0]!.Resource = '*';
    const s3 = t.Resources.DeliveryStream!.Properties.ExtendedS3DestinationConfiguration as JsonObject;
    s3.ErrorOutputPrefix = 'errors/!{timestamp:yyyy}/';
    (s3.S3BackupConfiguration as JsonObject).Prefix = 'raw/!{timestamp:yyyy}/';

    // when / then
    expect(securityProblems(t)).toEqual([
      'DataKey: key rotation is off',
      'DataBucket: not encrypted with a KMS key of the stack',
      'DataBucket: public access not blocked (RestrictPublicBuckets)',
      'DataBucket: no bucket policy denies requests without TLS on the bucket and its objects',
      'DeliveryRole delivery statement ReadTheTableSchema: applies to every resource',
      'DeliveryRole delivery statement UseTheDataKey: allows every action',
      'IngestApiRole ingest statement PutIntoTheSourceStream: applies to every resource',
      'DeliveryStream.ExtendedS3DestinationConfiguration: ErrorOutputPrefix lacks !{firehose:error-output-type}',
      'DeliveryStream.ExtendedS3DestinationConfiguration.S3BackupConfiguration: Prefix has expressions but there is no ErrorOutputPrefix',
    ]);
  });

  it('finds a missing bucket policy and a NotAction', () => {
    const t = structuredClone(templates['arrival-hive']!);
    delete t.Resources.DataBucketPolicy;
    const trust = get(t.Resources.DeliveryRole!.Properties, 'AssumeRolePolicyDocument', 'Statement', 0) as JsonObject;
    trust.NotAction = 'iam:*';
    expect(securityProblems(t)).toEqual(['DataBucket: no bucket policy denies requests without TLS on the bucket and its objects', 'DeliveryRole trust statement 0: allows every action']);
  });
});

// ---------------------------------------------------------------- the exact policies, per rendering

describe.each(Object.keys(VARIANTS))('security of the %s rendering', (name) => {
  const t = templates[name]!;
  const c = VARIANTS[name]!;

  it('encrypts its one bucket with the data key, which rotates, and blocks all public access', () => {
    expect(resourcesOfType(t, 'AWS::S3::Bucket').map(([id]) => id)).toEqual(['DataBucket']);
    const bucket = t.Resources.DataBucket!.Properties;
    expect(get(bucket, 'BucketEncryption', 'ServerSideEncryptionConfiguration')).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['DataKey', 'Arn'] } }, BucketKeyEnabled: true },
    ]);
    expect(t.Resources.DataKey!.Properties.EnableKeyRotation).toBe(true);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
  });

  it('has a bucket policy denying anything not over TLS, and nothing else', () => {
    expect(get(t.Resources.DataBucketPolicy!.Properties, 'PolicyDocument', 'Statement')).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['DataBucket', 'Arn'] }, { 'Fn::Sub': '${DataBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it("has Resource '*' only in the key policy, where the resource is the key itself", () => {
    expect(policyDocuments(t).filter((d) => d.kind === 'key').flatMap((d) => d.statements)).toEqual([
      { Sid: 'AccountIamPoliciesGrantUse', Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }, Action: 'kms:*', Resource: '*' },
    ]);
    const elsewhere = policyDocuments(t).filter((d) => d.kind !== 'key').flatMap((d) => d.statements.flatMap((s) => asList(s.Resource)));
    expect(elsewhere.filter((r) => typeof r === 'string')).toEqual([]);
  });

  it('scopes the Firehose role to the lake prefixes, its Glue table, its key and its log streams', () => {
    const statements = policyDocuments(t).find((d) => d.where === 'DeliveryRole delivery')!.statements;
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid as string, s]));
    const backup = c.backupPrefix !== null;
    expect(Object.keys(bySid)).toEqual(['FindTheBucket', 'WriteUnderTheLakePrefixes', 'ReadTheTableSchema', 'UseTheDataKey', ...(c.kinesisSource ? ['ReadTheSourceStream'] : []), 'LogDeliveryErrors']);
    const prefixes = [c.prefix, c.errorPrefix, ...(backup ? [c.backupPrefix] : [])];
    expect(bySid.WriteUnderTheLakePrefixes!.Resource).toEqual(prefixes.map((p) => ({ 'Fn::Sub': `\${DataBucket.Arn}/${p}*` })));
    expect(bySid.WriteUnderTheLakePrefixes!.Action).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject']);
    expect(bySid.FindTheBucket!.Resource).toEqual({ 'Fn::GetAtt': ['DataBucket', 'Arn'] });
    expect(bySid.ReadTheTableSchema!.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:catalog' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:database/${GlueDatabase}' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${GlueDatabase}/${GlueTable}' },
    ]);
    expect(bySid.UseTheDataKey).toEqual({
      Sid: 'UseTheDataKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': ['DataKey', 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': [{ 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' }, ...(c.kinesisSource ? [{ 'Fn::Sub': 'kinesis.${AWS::Region}.amazonaws.com' }] : [])] } },
    });
    const logStream = (id: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${DeliveryLogGroup}:log-stream:\${${id}}` });
    expect(bySid.LogDeliveryErrors).toEqual({ Sid: 'LogDeliveryErrors', Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: [logStream('DeliveryLogStream'), ...(backup ? [logStream('BackupLogStream')] : [])] });
    if (c.kinesisSource) expect(bySid.ReadTheSourceStream!.Resource).toEqual({ 'Fn::GetAtt': ['SourceStream', 'Arn'] });
    const trust = policyDocuments(t).find((d) => d.where === 'DeliveryRole trust')!.statements;
    expect(trust).toEqual([{ Effect: 'Allow', Principal: { Service: 'firehose.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } }]);
  });

  it('lets the ingest endpoint put into its stream only', () => {
    const ingest = policyDocuments(t).find((d) => d.where === 'IngestApiRole ingest');
    if (!c.api) return void expect(ingest).toBeUndefined();
    expect(ingest!.statements).toEqual(
      c.kinesisSource
        ? [
            { Sid: 'PutIntoTheSourceStream', Effect: 'Allow', Action: ['kinesis:PutRecord', 'kinesis:PutRecords'], Resource: { 'Fn::GetAtt': ['SourceStream', 'Arn'] } },
            {
              Sid: 'EncryptForTheSourceStream',
              Effect: 'Allow',
              Action: 'kms:GenerateDataKey',
              Resource: { 'Fn::GetAtt': ['DataKey', 'Arn'] },
              Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'kinesis.${AWS::Region}.amazonaws.com' } } },
            },
          ]
        : [{ Sid: 'PutIntoTheDeliveryStream', Effect: 'Allow', Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Resource: { 'Fn::GetAtt': ['DeliveryStream', 'Arn'] } }],
    );
  });

  it('has an ErrorOutputPrefix holding !{firehose:error-output-type}, as its Prefix has expressions', () => {
    const s3 = t.Resources.DeliveryStream!.Properties.ExtendedS3DestinationConfiguration as JsonObject;
    const prefix = s3.Prefix as string;
    // Every layout spells its time partitions as expressions.
    expect(prefix).toMatch(/!\{(timestamp|partitionKeyFromQuery):/);
    expect(s3.ErrorOutputPrefix).toBe(`${c.errorPrefix}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`);
    expect(validatePrefixes({ prefix, errorOutputPrefix: s3.ErrorOutputPrefix as string, dynamicPartitioning: s3.DynamicPartitioningConfiguration !== undefined })).toEqual([]);
    // The raw backup goes under a plain prefix: Firehose adds the time, and needs no error prefix.
    if (s3.S3BackupConfiguration) expect(get(s3, 'S3BackupConfiguration', 'Prefix')).toBe(c.backupPrefix);
  });
});
