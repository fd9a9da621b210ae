import { DescribeDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand, ResourceNotFoundException } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FirehoseDeliveryStream } from '../../src/lib/aws/firehose-delivery-stream.js';
import { ServiceError } from '../../src/lib/errors.js';

const client = new FirehoseClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
const firehose = mockClient(client);
const stream = new FirehoseDeliveryStream(() => Promise.resolve(client), 'weblogs-ingest');
const enc = (text: string) => new TextEncoder().encode(text);

beforeEach(() => {
  firehose.reset();
});

describe('FirehoseDeliveryStream.putRecordBatch', () => {
  it('passes per-record results through in request order and counts only the failed ones', async () => {
    // given Firehose accepts records 0 and 3 and throttles 1 and 2 (HTTP 200 all the same)
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 2,
      RequestResponses: [
        { RecordId: 'rec-0' },
        { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' },
        { RecordId: 'rec-3' },
      ],
    });
    const records = ['{"a":1}', '{"a":2}', '{"a":3}', '{"a":4}'].map(enc);

    // when the batch is sent
    const result = await stream.putRecordBatch(records);

    // then
    expect(result).toStrictEqual({
      failedPutCount: 2,
      responses: [
        { recordId: 'rec-0' },
        { errorCode: 'ServiceUnavailableException', errorMessage: 'Slow down.' },
        { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' },
        { recordId: 'rec-3' },
      ],
    });
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]!.args[0].input).toStrictEqual({
      DeliveryStreamName: 'weblogs-ingest',
      Records: records.map((Data) => ({ Data })),
    });
  });

  it('never reports an entry without a RecordId, or with an error code, as accepted', async () => {
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 0,
      RequestResponses: [{ RecordId: 'rec-0' }, {}, { RecordId: 'rec-2', ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }],
    });

    const result = await stream.putRecordBatch([enc('{}'), enc('{}'), enc('{}')]);

    expect(result).toStrictEqual({
      failedPutCount: 2,
      responses: [
        { recordId: 'rec-0' },
        { errorCode: 'MissingResponse', errorMessage: 'Firehose returned no result for this record' },
        { errorCode: 'InternalFailure', errorMessage: 'Internal service failure.' },
      ],
    });
  });

  it('fails when the answer does not line up with the request, rather than guess', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'rec-0' }] });
    await expect(stream.putRecordBatch([enc('{}'), enc('{}')])).rejects.toMatchObject({ constructor: ServiceError, code: 'MismatchedResponse' });
  });

  it('refuses more than 500 records, or a record over 1,000 KiB, without a call; sends nothing for an empty batch', async () => {
    await expect(stream.putRecordBatch(Array.from({ length: 501 }, () => enc('{}')))).rejects.toMatchObject({
      constructor: ServiceError,
      code: 'ValidationException',
      message: 'PutRecordBatch takes at most 500 records a call, got 501',
    });
    await expect(stream.putRecordBatch([new Uint8Array(1_024_001)])).rejects.toMatchObject({
      message: 'record 0 is 1024001 bytes; Firehose takes at most 1024000 a record',
    });
    expect(await stream.putRecordBatch([])).toStrictEqual({ failedPutCount: 0, responses: [] });
    expect(firehose.calls()).toHaveLength(0);
  });
});

describe('FirehoseDeliveryStream.describe', () => {
  it('reports status, source type and the extended S3 destination buffering hints', async () => {
    firehose.on(DescribeDeliveryStreamCommand).resolves({
      DeliveryStreamDescription: {
        DeliveryStreamName: 'weblogs-ingest',
        DeliveryStreamARN: 'arn:aws:firehose:us-east-1:111111111111:deliverystream/weblogs-ingest',
        DeliveryStreamStatus: 'ACTIVE',
        DeliveryStreamType: 'DirectPut',
        VersionId: '3',
        HasMoreDestinations: false,
        Destinations: [
          {
            DestinationId: 'destinationId-000000000001',
            ExtendedS3DestinationDescription: {
              RoleARN: 'arn:aws:iam::111111111111:role/lake',
              BucketARN: 'arn:aws:s3:::weblogs-data',
              BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
              CompressionFormat: 'UNCOMPRESSED',
              EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
            },
          },
        ],
      },
    });

    expect(await stream.describe()).toStrictEqual({ name: 'weblogs-ingest', status: 'ACTIVE', sourceType: 'DirectPut', bufferingSizeMiB: 64, bufferingIntervalSeconds: 60 });
    expect(firehose.commandCalls(DescribeDeliveryStreamCommand)[0]!.args[0].input).toStrictEqual({ DeliveryStreamName: 'weblogs-ingest' });
  });

  it('answers undefined when the stream does not exist', async () => {
    firehose.on(DescribeDeliveryStreamCommand).rejects(new ResourceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Firehose weblogs-ingest not found.' }));
    expect(await stream.describe()).toBeUndefined();
  });
});
