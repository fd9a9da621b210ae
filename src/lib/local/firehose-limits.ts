/**
 * PutRecordBatch's limits (Firehose API reference, "Amazon Data Firehose Quota") and the
 * checks the service makes on a call before it buffers anything.
 */
import { ServiceError } from '../errors.js';

export const MAX_BATCH_RECORDS = 500;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
export const MAX_RECORD_BYTES = 1_000 * 1024;

/**
 * PutRecordBatch's checks, in the service's order: the member constraints first (a
 * ValidationException naming every oversized record, 1-based, as AWS's message does), then
 * the request size (InvalidArgumentException). Either fails the whole call.
 */
export function validateBatch(records: Uint8Array[]): void {
  if (records.length === 0 || records.length > MAX_BATCH_RECORDS) {
    const bound = records.length === 0 ? 'greater than or equal to 1' : `less than or equal to ${MAX_BATCH_RECORDS}`;
    throw new ServiceError(`1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length ${bound} (got ${records.length} records)`, {
      code: 'ValidationException',
      service: 'firehose',
      hint: `PutRecordBatch takes 1 to ${MAX_BATCH_RECORDS} records; split the batch`,
    });
  }
  const oversized: string[] = [];
  let total = 0;
  records.forEach((record, i) => {
    total += record.length;
    if (record.length > MAX_RECORD_BYTES) {
      oversized.push(`Value 'java.nio.HeapByteBuffer[pos=0 lim=${record.length} cap=${record.length}]' at 'records.${i + 1}.member.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`);
    }
  });
  if (oversized.length > 0) {
    throw new ServiceError(`${oversized.length} validation error${oversized.length > 1 ? 's' : ''} detected: ${oversized.join('; ')}`, {
      code: 'ValidationException',
      service: 'firehose',
      hint: `a Firehose record holds at most ${MAX_RECORD_BYTES} bytes (1,000 KiB); split the record`,
    });
  }
  if (total > MAX_BATCH_BYTES) {
    throw new ServiceError(`Records size exceeds 4 MB limit (${total} bytes in ${records.length} records)`, {
      code: 'InvalidArgumentException',
      service: 'firehose',
      hint: `PutRecordBatch takes at most ${MAX_BATCH_BYTES} bytes (4 MiB) of record data; send fewer records per call`,
    });
  }
}
