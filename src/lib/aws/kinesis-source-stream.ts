/**
 * Sending into the Kinesis Data Stream that feeds the delivery stream (`kinesisSource`):
 * a Firehose with a Kinesis source refuses PutRecordBatch, so records go in through
 * PutRecords, which has its own limits (500 records, 1 MiB a record and 5 MiB a call,
 * partition keys included) and answers per record like PutRecordBatch (SequenceNumber, or
 * ErrorCode/ErrorMessage such as ProvisionedThroughputExceededException). Shaped as a
 * DeliveryStream so `lake send` retries it the same way.
 */
import { randomBytes } from 'node:crypto';
import { DescribeStreamSummaryCommand, type KinesisClient, PutRecordsCommand, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { ServiceError } from '../errors.js';
import type { DeliveryStream, PutRecordBatchResult, PutRecordResponse, StreamInfo } from '../ports.js';

/** Partition keys are this many hex characters: random, so records spread over every shard. */
const PARTITION_KEY_CHARS = 16;

/** PutRecords limits, in the shape `lake send` batches by. */
export const KINESIS_LIMITS = { recordsPerCall: 500, bytesPerCall: 5 * 1024 * 1024, bytesPerRecord: 1024 * 1024, overheadPerRecord: PARTITION_KEY_CHARS } as const;

function toResponse(entry: PutRecordsResultEntry | undefined): PutRecordResponse {
  if (entry?.ErrorCode) return { errorCode: entry.ErrorCode, errorMessage: entry.ErrorMessage ?? '' };
  if (entry?.SequenceNumber) return { recordId: entry.SequenceNumber };
  return { errorCode: 'MissingResponse', errorMessage: 'Kinesis returned no result for this record' };
}

/**
 * The data stream `lake send` writes to: the delivery stream's name with `-source`, as the
 * template names it (test/unit/template.test.ts checks the two agree).
 */
export function kinesisStreamName(deliveryStream: string): string {
  return `${deliveryStream}-source`;
}

export class KinesisSourceStream implements DeliveryStream {
  private counter: bigint;

  constructor(
    private readonly getClient: () => Promise<KinesisClient>,
    private readonly streamName: string,
  ) {
    this.counter = randomBytes(8).readBigUInt64BE();
  }

  private partitionKey(): string {
    this.counter = (this.counter + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    return this.counter.toString(16).padStart(PARTITION_KEY_CHARS, '0');
  }

  async describe(signal?: AbortSignal): Promise<StreamInfo | undefined> {
    const client = await this.getClient();
    try {
      const { StreamDescriptionSummary: s } = await client.send(new DescribeStreamSummaryCommand({ StreamName: this.streamName }), { abortSignal: signal });
      if (!s) return undefined;
      return { name: s.StreamName ?? this.streamName, status: s.StreamStatus ?? 'UNKNOWN', sourceType: 'KinesisDataStream' };
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  async putRecordBatch(records: Uint8Array[], signal?: AbortSignal): Promise<PutRecordBatchResult> {
    if (records.length === 0) return { failedPutCount: 0, responses: [] };
    const fail = (message: string) => new ServiceError(message, { service: 'kinesis', code: 'ValidationException' });
    if (records.length > KINESIS_LIMITS.recordsPerCall) throw fail(`PutRecords takes at most ${KINESIS_LIMITS.recordsPerCall} records a call, got ${records.length}`);
    let total = 0;
    const entries = records.map((Data, i) => {
      const size = Data.byteLength + PARTITION_KEY_CHARS;
      if (size > KINESIS_LIMITS.bytesPerRecord) throw fail(`record ${i} is ${size} bytes with its partition key; Kinesis takes at most ${KINESIS_LIMITS.bytesPerRecord}`);
      total += size;
      return { Data, PartitionKey: this.partitionKey() };
    });
    if (total > KINESIS_LIMITS.bytesPerCall) throw fail(`PutRecords takes at most ${KINESIS_LIMITS.bytesPerCall} bytes a call, got ${total}`);
    const client = await this.getClient();
    const out = await client.send(new PutRecordsCommand({ StreamName: this.streamName, Records: entries }), { abortSignal: signal });
    const results = out.Records ?? [];
    if (results.length !== records.length) {
      throw new ServiceError(`PutRecords answered ${results.length} results for ${records.length} records; cannot tell which were accepted`, {
        service: 'kinesis',
        code: 'MismatchedResponse',
        requestId: out.$metadata?.requestId,
      });
    }
    const responses = results.map(toResponse);
    return { failedPutCount: responses.filter((r) => r.errorCode !== undefined).length, responses };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
