import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  errorTypeFromKey,
  formatConversionErrorJson,
  genericErrorJson,
  parseErrorRecords,
  streamErrorRecords,
  type ErrorRecordProblem,
} from '../../src/lib/error-records.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/error-records/${name}`, import.meta.url)));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const TABLE = {
  catalogId: null,
  databaseName: 'shop',
  tableName: 'events',
  region: 'us-east-1',
  versionId: 'LATEST',
  roleArn: 'arn:aws:iam::123456789012:role/lake-shop-firehose',
};

describe('writing error records', () => {
  it('writes format-conversion-failed objects in the key order AWS uses', () => {
    const json = formatConversionErrorJson({
      arrivalTimestamp: 1709622489046,
      code: 'DataFormatConversion.MalformedData',
      message: 'Data does not match the schema. For input string: "abc"',
      attemptEndingTimestamp: 1709622550112,
      rawData: new TextEncoder().encode('{"id":"a2","qty":"abc"}'),
      sequenceNumber: '49647891234567890123456789012345678901234567890123456790',
      subSequenceNumber: null,
      dataCatalogTable: TABLE,
    });
    // Byte for byte the second object of the fixture.
    expect(json).toBe(text(fixture('format-conversion-failed.json')).slice(text(fixture('format-conversion-failed.json')).indexOf('}{') + 1));
    expect(Object.keys(JSON.parse(json) as object)).toEqual([
      'attemptsMade',
      'arrivalTimestamp',
      'lastErrorCode',
      'lastErrorMessage',
      'attemptEndingTimestamp',
      'rawData',
      'sequenceNumber',
      'subSequenceNumber',
      'dataCatalogTable',
    ]);
    expect(Object.keys((JSON.parse(json) as { dataCatalogTable: object }).dataCatalogTable)).toEqual(['catalogId', 'databaseName', 'tableName', 'region', 'versionId', 'roleArn']);
  });

  it('writes the shared fields with errorCode/errorMessage for other types', () => {
    expect(genericErrorJson({ arrivalTimestamp: 1, code: 'DynamicPartitioning.MetadataExtractionFailed', message: 'm', attemptEndingTimestamp: 2, rawData: new Uint8Array([104, 105]) })).toBe(
      '{"attemptsMade":1,"arrivalTimestamp":1,"errorCode":"DynamicPartitioning.MetadataExtractionFailed","errorMessage":"m","attemptEndingTimestamp":2,"rawData":"aGk="}',
    );
  });
});

describe('parsing error records', () => {
  it('reads concatenated format-conversion-failed objects with no newline between them', () => {
    const { records, problems } = parseErrorRecords(fixture('format-conversion-failed.json'));
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.type, r.code, r.arrivalTimestamp, r.attemptEndingTimestamp, r.attemptsMade, text(r.rawData), r.offset])).toEqual([
      ['format-conversion-failed', 'DataFormatConversion.ParseError', 1709622489045, 1709622550112, 1, '{"id":"a1"}}', 0],
      ['format-conversion-failed', 'DataFormatConversion.MalformedData', 1709622489046, 1709622550112, 1, '{"id":"a2","qty":"abc"}', 707],
    ]);
    expect(records[0]!.message).toBe(
      "Encountered malformed JSON. Unexpected character ('}' (code 125)): was expecting a colon to separate field name and value\n at [Source: com.fasterxml.jackson.databind.util.ByteBufferBackedInputStream@6d3af739; line: 1, column: 12]",
    );
    expect(records[1]!.sequenceNumber).toBe('49647891234567890123456789012345678901234567890123456790');
    expect(records[1]!.subSequenceNumber).toBeNull();
    expect(records[1]!.dataCatalogTable).toEqual(TABLE);
  });

  it('reads processing failures with errorCode and either spelling of the Lambda ARN', () => {
    const { records, problems } = parseErrorRecords(fixture('processing-failed.json'));
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.type, r.code, r.message, r.attemptsMade, r.lambdaArn, text(r.rawData)])).toEqual([
      ['processing-failed', 'Lambda.ProcessingFailedStatus', 'ProcessingFailed status set for record', 1, 'arn:aws:lambda:us-east-1:123456789012:function:shop-transform:$LATEST', 'FAIL this one\n'],
      [
        'processing-failed',
        'Lambda.FunctionError',
        'The Lambda function was successfully invoked but it returned an error result.',
        4,
        'arn:aws:lambda:us-east-1:123456789012:function:shop-transform:$LATEST',
        '{"id":"p2"}',
      ],
    ]);
  });

  it('reads mixed types separated by newlines, CRLF or nothing, and the documented ErrorCode spelling', () => {
    const { records, problems } = parseErrorRecords(fixture('concatenated.json'));
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.type, r.code, r.message])).toEqual([
      ['format-conversion-failed', 'DataFormatConversion.ParseError', expect.stringMatching(/^Encountered malformed JSON\./) as unknown],
      ['processing-failed', 'Lambda.ProcessingFailedStatus', 'ProcessingFailed status set for record'],
      ['partitioning-failed', 'DynamicPartitioning.MetadataExtractionFailed', 'Non JSON record provided'],
      ['format-conversion-failed', 'DataFormatConversion.MalformedData', 'The record was empty or contained only whitespace.'],
    ]);
  });

  it('reads gzip objects like plain ones', () => {
    const plain = parseErrorRecords(fixture('format-conversion-failed.json'));
    expect(parseErrorRecords(fixture('format-conversion-failed.json.gz'))).toEqual(plain);
  });

  it('reads an empty object as no records and no problems', () => {
    expect(parseErrorRecords(fixture('empty.json'))).toEqual({ records: [], problems: [] });
    expect(parseErrorRecords(new Uint8Array(0))).toEqual({ records: [], problems: [] });
  });

  it('reports an empty JSON object as not an error record', () => {
    expect(parseErrorRecords(new TextEncoder().encode('{}'))).toEqual({ records: [], problems: [{ offset: 0, message: 'unreadable error record at byte 0: no rawData' }] });
  });

  it('reports corrupt and truncated objects with their byte offsets and keeps the readable ones', () => {
    const { records, problems } = parseErrorRecords(fixture('corrupt.json'));
    expect(records.map((r) => [r.code, r.offset])).toEqual([
      ['DataFormatConversion.MalformedData', 0],
      ['DynamicPartitioning.MetadataExtractionFailed', 619],
    ]);
    expect(problems).toEqual([
      { offset: 554, message: expect.stringMatching(/^unreadable error record at byte 554: Expected double-quoted property name/) as unknown },
      { offset: 836, message: 'unreadable error record at byte 836: truncated (the file ends inside it)' },
    ]);
  });

  it('reports garbage between objects and resumes at the next object', () => {
    const bytes = new TextEncoder().encode('garbage\n{"rawData":"aGk=","errorCode":"X"}');
    expect(parseErrorRecords(bytes)).toMatchObject({
      records: [{ code: 'X', offset: 8 }],
      problems: [{ offset: 0, message: "unreadable data at byte 0: expected '{' to start an error record" }],
    });
  });

  it('reports a truncated gzip object after the records it could read', () => {
    const gz = gzipSync(fixture('format-conversion-failed.json'));
    const { records, problems } = parseErrorRecords(gz.subarray(0, gz.length - 8));
    expect(records.map((r) => r.code)).toEqual(['DataFormatConversion.ParseError', 'DataFormatConversion.MalformedData']);
    expect(problems).toEqual([{ offset: 1260, message: 'gzip data unreadable after 1260 decompressed bytes: unexpected end of file' }]);
  });

  it('takes the type from the S3 key when given', () => {
    expect(errorTypeFromKey('errors/format-conversion-failed/2024/03/05/shop-ingest-1-2024-03-05-07-08-09-uuid')).toBe('format-conversion-failed');
    expect(errorTypeFromKey('errors/processing-failed2024/03/05/07/x')).toBe('processing-failed');
    expect(errorTypeFromKey('data/2024/x')).toBeUndefined();
    const { records } = parseErrorRecords(new TextEncoder().encode('{"rawData":"","errorCode":"X"}'), { type: 'decompression-failed' });
    expect(records[0]!.type).toBe('decompression-failed');
  });
});

describe('streaming error records', () => {
  async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  it('yields the same records from chunks of any size, gzip or not', async () => {
    const whole = parseErrorRecords(fixture('concatenated.json'));
    for (const size of [1, 7, 64, 100_000]) {
      for (const bytes of [fixture('concatenated.json'), new Uint8Array(gzipSync(fixture('concatenated.json')))]) {
        const out = [];
        for await (const record of streamErrorRecords(chunks(bytes, size))) out.push(record);
        expect(out).toEqual(whole.records);
      }
    }
  });

  it('reports problems through onProblem', async () => {
    const problems: ErrorRecordProblem[] = [];
    const out = [];
    for await (const record of streamErrorRecords(chunks(fixture('corrupt.json'), 50), { onProblem: (p) => problems.push(p) })) out.push(record.offset);
    expect(out).toEqual([0, 619]);
    expect(problems.map((p) => p.offset)).toEqual([554, 836]);
  });
});
