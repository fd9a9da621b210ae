// The CloudFormation template: the template engine, and what a configuration renders to (the
// three reviewed fixtures, and each part of the stack). Security: template-security.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kinesisStreamName } from '../../src/lib/aws/kinesis-source-stream.js';
import { TEMPLATE_BODY_LIMIT } from '../../src/lib/aws/cloudformation-stack-deployer.js';
import { firehosePrefixes } from '../../src/lib/firehose-prefix.js';
import { tableDefFromConfig } from '../../src/lib/table-def.js';
import { TemplateError, renderTemplate } from '../../src/lib/template/engine.js';
import { renderStack, sourceStreamName } from '../../src/lib/template/index.js';
import { yamlAfterKey, yamlScalar } from '../../src/lib/template/yaml.js';
import { type JsonObject, parseTemplate } from '../fixtures/templates/cfn-yaml.js';
import { COLUMNS, FIXTURES, VARIANTS, config, get, rendered, templates } from '../fixtures/templates/variants.js';

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

  it('writes strings a YAML 1.1 reader (as CloudFormation is) reads back unchanged', () => {
    const texts = ['parquet', 'org.apache.Foo', 'TRUE', 'yes', 'No', 'on', 'off', 'y', 'null', '~', '1', '0755', '1e3', '0x1F', '2024-05-17', '12:30', '', 'a: b', '!{x}', 's3://b/', 'a b', '#x', "it's", 'x"y', '-', '[a]', '{a}', '*a', '&a', '@x', '%x', '`x`'];
    const document = texts.map((text, i) => `k${i}: ${yamlScalar(text)}`).join('\n');
    expect(Object.values(parseTemplate(document))).toEqual(texts);
  });
});

// ---------------------------------------------------------------- the renderings

describe('rendered templates', () => {
  // After a deliberate change to templates/lake.yaml: UPDATE_TEMPLATE_FIXTURES=1 npx vitest run
  // test/unit/template.test.ts rewrites the fixtures; review their diff before committing.
  it.each(Object.keys(FIXTURES))('%s renders exactly as the reviewed fixture', (name) => {
    const file = new URL(`../fixtures/templates/${name}.yaml`, import.meta.url);
    if (process.env.UPDATE_TEMPLATE_FIXTURES === '1') writeFileSync(file, rendered[name]!.body);
    expect(rendered[name]!.body).toBe(readFileSync(file, 'utf8'));
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
      const s3 = get(templates[name]!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as JsonObject;
      const expected = firehosePrefixes(c);
      expect(s3.Prefix, name).toBe(expected.prefix);
      expect(s3.ErrorOutputPrefix, name).toBe(expected.errorOutputPrefix);
      const processors = get(s3, 'ProcessingConfiguration', 'Processors') as JsonObject[] | undefined;
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
    const s3 = get(templates['firehose-projection']!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as JsonObject;
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
    expect(get(parseTemplate(small.body).Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration', 'BufferingHints')).toEqual({ SizeInMBs: 64, IntervalInSeconds: 30 });
    expect(small.notes).toEqual(['buffering.sizeMiB 5 raised to 64: Firehose needs at least 64 MiB to convert to Parquet']);
    expect(get(templates.everything!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration', 'BufferingHints')).toEqual({ SizeInMBs: 128, IntervalInSeconds: 900 });
  });

  it('backs up the raw input, gzip, under backupPrefix, only when it is set', () => {
    const s3 = get(templates['event-time-hive']!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as JsonObject;
    expect(s3.S3BackupMode).toBe('Enabled');
    expect(get(s3, 'S3BackupConfiguration', 'Prefix')).toBe('raw/');
    expect(get(s3, 'S3BackupConfiguration', 'CompressionFormat')).toBe('GZIP');
    const plain = get(templates['arrival-hive']!.Resources.DeliveryStream!.Properties, 'ExtendedS3DestinationConfiguration') as JsonObject;
    expect(plain.S3BackupMode).toBeUndefined();
    expect(plain.S3BackupConfiguration).toBeUndefined();
  });

  it('expires error records (30 days), raw backup (30) and Athena results (7)', () => {
    const rules = (name: string) => get(templates[name]!.Resources.DataBucket!.Properties, 'LifecycleConfiguration', 'Rules') as JsonObject[];
    expect(rules('event-time-hive')).toEqual([
      { Id: 'expire-error-records', Prefix: 'errors/', Status: 'Enabled', ExpirationInDays: { Ref: 'ErrorRetentionDays' } },
      { Id: 'expire-raw-backup', Prefix: 'raw/', Status: 'Enabled', ExpirationInDays: { Ref: 'BackupRetentionDays' } },
      { Id: 'expire-athena-results', Prefix: 'athena-results/', Status: 'Enabled', ExpirationInDays: { Ref: 'ResultsRetentionDays' } },
      { Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
    const parameters = templates['event-time-hive']!.Parameters as Record<string, JsonObject>;
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
    // `lake init` writes a 10 GB cutoff; a configuration without one gets a workgroup without one.
    for (const name of Object.keys(FIXTURES)) expect(get(templates[name]!.Resources.AthenaWorkGroup!.Properties, 'WorkGroupConfiguration', 'BytesScannedCutoffPerQuery'), name).toBe(10_000_000_000);
    expect(get(templates['other-prefixes']!.Resources.AthenaWorkGroup!.Properties, 'WorkGroupConfiguration', 'BytesScannedCutoffPerQuery')).toBeUndefined();
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
    expect((t.Parameters as Record<string, JsonObject>).ApiAuth).toEqual({ Type: 'String', Default: 'API_KEY', AllowedValues: ['API_KEY', 'AWS_IAM'], Description: 'How callers of the ingest endpoint authenticate.' });
    expect(['IngestApiKey', 'IngestUsagePlan', 'IngestUsagePlanKey'].map((id) => t.Resources[id]!.Condition)).toEqual(['UseApiKey', 'UseApiKey', 'UseApiKey']);
    expect((t.Outputs as Record<string, JsonObject>).EndpointUrl!.Value).toEqual({ 'Fn::Sub': 'https://${IngestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${IngestStage}/records' });
    // With a Kinesis source the endpoint writes to the data stream, as Firehose then refuses PutRecord.
    const viaKinesis = get(templates.everything!.Resources.IngestPostMethod!.Properties, 'Integration', 'Uri');
    expect(viaKinesis).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}:kinesis:action/PutRecord' });
  });

  it('outputs the bucket, stream, database, table and workgroup under the names the local deployer uses', () => {
    for (const t of Object.values(templates)) {
      expect(Object.keys(t.Outputs as JsonObject)).toEqual(expect.arrayContaining(['Bucket', 'DeliveryStream', 'Database', 'Table', 'WorkGroup']));
    }
  });

  it('retains the bucket and key on stack deletion only when asked (destroy --keep-data)', async () => {
    const retained = parseTemplate((await renderStack(FIXTURES['arrival-hive']!, { retainData: true })).body);
    for (const id of ['DataBucket', 'DataKey']) {
      expect([templates['arrival-hive']!.Resources[id]!.DeletionPolicy, retained.Resources[id]!.DeletionPolicy], id).toEqual(['Delete', 'Retain']);
      expect(retained.Resources[id]!.UpdateReplacePolicy).toBe('Retain');
    }
  });
});
