/**
 * DeliveryStream over Amazon Data Firehose. PutRecordBatch answers HTTP 200 even when
 * records failed: the per-record results are passed through in request order, and a
 * record is reported accepted only when Firehose gave it a RecordId. Retrying failed
 * records is `lake send`'s job; the SDK still retries a call that failed as a whole.
 */
import { DescribeDeliveryStreamCommand, PutRecordBatchCommand, type FirehoseClient, type PutRecordBatchResponseEntry } from '@aws-sdk/client-firehose';
import { ServiceError } from '../errors.js';
import type { DeliveryStream, PutRecordBatchResult, PutRecordResponse, StreamInfo } from '../ports.js';

/** PutRecordBatch limits (AWS-FACTS.md "Firehose"). */
export const FIREHOSE_LIMITS = { recordsPerCall: 500, bytesPerRecord: 1000 * 1024, bytesPerCall: 4 * 1024 * 1024 } as const;

function toResponse(entry: PutRecordBatchResponseEntry | undefined): PutRecordResponse {
  if (entry?.ErrorCode) return { errorCode: entry.ErrorCode, errorMessage: entry.ErrorMessage ?? '' };
  if (entry?.RecordId) return { recordId: entry.RecordId };
  // Neither an id nor an error: not evidence of delivery, so it counts as a failure.
  return { errorCode: 'MissingResponse', errorMessage: 'Firehose returned no result for this record' };
}

function validate(records: Uint8Array[]): void {
  const fail = (message: string) => new ServiceError(message, { service: 'firehose', code: 'ValidationException' });
  if (records.length > FIREHOSE_LIMITS.recordsPerCall) throw fail(`PutRecordBatch takes at most ${FIREHOSE_LIMITS.recordsPerCall} records a call, got ${records.length}`);
  let total = 0;
  records.forEach((record, i) => {
    if (record.byteLength > FIREHOSE_LIMITS.bytesPerRecord) throw fail(`record ${i} is ${record.byteLength} bytes; Firehose takes at most ${FIREHOSE_LIMITS.bytesPerRecord} a record`);
    total += record.byteLength;
  });
  if (total > FIREHOSE_LIMITS.bytesPerCall) throw fail(`PutRecordBatch takes at most ${FIREHOSE_LIMITS.bytesPerCall} bytes a call, got ${total}`);
}

export class FirehoseDeliveryStream implements DeliveryStream {
  constructor(
    private readonly getClient: () => Promise<FirehoseClient>,
    private readonly streamName: string,
  ) {}

  async describe(signal?: AbortSignal): Promise<StreamInfo | undefined> {
    const client = await this.getClient();
    try {
      const { DeliveryStreamDescription: d } = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: this.streamName }), { abortSignal: signal });
      if (!d) return undefined;
      const info: StreamInfo = { name: d.DeliveryStreamName ?? this.streamName, status: d.DeliveryStreamStatus ?? 'UNKNOWN' };
      if (d.DeliveryStreamType !== undefined) info.sourceType = d.DeliveryStreamType;
      const destination = d.Destinations?.find((dest) => dest.ExtendedS3DestinationDescription)?.ExtendedS3DestinationDescription;
      const hints = destination?.BufferingHints;
      if (hints?.SizeInMBs !== undefined) info.bufferingSizeMiB = hints.SizeInMBs;
      if (hints?.IntervalInSeconds !== undefined) info.bufferingIntervalSeconds = hints.IntervalInSeconds;
      return info;
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  async putRecordBatch(records: Uint8Array[], signal?: AbortSignal): Promise<PutRecordBatchResult> {
    validate(records);
    // Firehose rejects an empty batch; sending nothing succeeds trivially.
    if (records.length === 0) return { failedPutCount: 0, responses: [] };
    const client = await this.getClient();
    const out = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: this.streamName, Records: records.map((Data) => ({ Data })) }),
      { abortSignal: signal },
    );
    const entries = out.RequestResponses ?? [];
    if (entries.length !== records.length) {
      throw new ServiceError(`PutRecordBatch answered ${entries.length} results for ${records.length} records; cannot tell which were accepted`, {
        service: 'firehose',
        code: 'MismatchedResponse',
        requestId: out.$metadata?.requestId,
      });
    }
    const responses = entries.map(toResponse);
    // Counted from the entries rather than FailedPutCount, so the count always matches
    // the list the caller retries from.
    const failedPutCount = responses.filter((r) => r.errorCode !== undefined).length;
    return { failedPutCount, responses };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
