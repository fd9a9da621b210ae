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

describe('streaming error records: faults', () => {
  const records = (n: number, raw = (i: number) => `{"qty":"bad${i}"}`) =>
    Array.from({ length: n }, (_, i) =>
      formatConversionErrorJson({
        arrivalTimestamp: 1_715_940_000_000 + i,
        code: 'DataFormatConversion.MalformedData',
        message: `Data does not match the schema. For input string: "bad${i}"`,
        attemptEndingTimestamp: 1_715_940_001_000,
        rawData: Buffer.from(raw(i)),
        sequenceNumber: null,
        subSequenceNumber: null,
        dataCatalogTable: TABLE,
      }),
    ).join('');
  async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const transportError = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  /** Chunks of `size`, then the source fails with `error` once `cut` bytes are out. */
  async function* breaking(bytes: Uint8Array, size: number, cut: number, error: Error): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) {
      if (i >= cut) throw error;
      yield bytes.subarray(i, i + size);
    }
  }
  async function read(source: AsyncIterable<Uint8Array>): Promise<{ offsets: number[]; problems: ErrorRecordProblem[]; error?: unknown }> {
    const offsets: number[] = [];
    const problems: ErrorRecordProblem[] = [];
    try {
      for await (const record of streamErrorRecords(source, { onProblem: (p) => problems.push(p) })) offsets.push(record.offset);
    } catch (error) {
      return { offsets, problems, error };
    }
    return { offsets, problems };
  }

  it('throws a transport error of a gzip body as the source error, not as a gzip problem, after the records before it', async () => {
    const plain = new TextEncoder().encode(records(40));
    const expected = parseErrorRecords(plain).records.map((r) => r.offset);
    // Stored, not compressed, so the records before the cut are decompressed before it.
    const gz = new Uint8Array(gzipSync(plain, { level: 0 }));
    const error = transportError();
    const out = await read(breaking(gz, 512, 4096, error));
    expect(out.error).toBe(error);
    expect(out.problems).toEqual([]);
    expect(out.offsets.length).toBeGreaterThan(0);
    expect(out.offsets).toEqual(expected.slice(0, out.offsets.length));
    expect(out.offsets.length).toBeLessThan(expected.length);
  });

  it('throws a transport error of a gzip body that fails before its second chunk', async () => {
    const gz = new Uint8Array(gzipSync(records(5)));
    const error = transportError();
    const out = await read(breaking(gz, 16, 16, error));
    expect(out).toEqual({ offsets: [], problems: [], error });
  });

  it('throws a transport error of a plain body as the source error, after the records before it', async () => {
    const plain = new TextEncoder().encode(records(10));
    const expected = parseErrorRecords(plain).records.map((r) => r.offset);
    const error = transportError();
    const cut = expected[4]! + 64;
    const out = await read(breaking(plain, 64, cut, error));
    expect(out.error).toBe(error);
    expect(out.problems).toEqual([]);
    expect(out.offsets).toEqual(expected.slice(0, 4));
  });

  it('reports a truncated gzip body as a gzip problem and keeps the records before it', async () => {
    const plain = new TextEncoder().encode(records(3));
    const gz = gzipSync(plain);
    const out = await read(chunks(new Uint8Array(gz.subarray(0, gz.length - 8)), 100));
    expect(out.error).toBeUndefined();
    expect(out.offsets).toEqual(parseErrorRecords(plain).records.map((r) => r.offset));
    expect(out.problems).toEqual([{ offset: plain.length, message: `gzip data unreadable after ${plain.length} decompressed bytes: unexpected end of file` }]);
  });

  it('reports a corrupt gzip body (bad checksum) as a gzip problem with the records decompressed before it', async () => {
    const plain = new TextEncoder().encode(records(3));
    const gz = new Uint8Array(gzipSync(plain));
    gz[gz.length - 8]! ^= 0xff; // CRC-32 of the trailer
    const out = await read(chunks(gz, 100));
    expect(out.error).toBeUndefined();
    expect(out.offsets).toEqual(parseErrorRecords(plain).records.map((r) => r.offset));
    expect(out.problems).toEqual([{ offset: plain.length, message: `gzip data unreadable after ${plain.length} decompressed bytes: incorrect data check` }]);
  });

  it('reports broken JSON in a gzip body by offset and reads the objects after it', async () => {
    const good = records(2);
    const broken = '{"rawData":"aGk=","errorCode":}';
    const plain = new TextEncoder().encode(`${good}\n${broken}\n${good}`);
    const out = await read(chunks(new Uint8Array(gzipSync(plain)), 7));
    const second = good.length + 1 + broken.length + 1;
    const firstHalf = parseErrorRecords(new TextEncoder().encode(good)).records.map((r) => r.offset);
    expect(out.error).toBeUndefined();
    expect(out.offsets).toEqual([...firstHalf, ...firstHalf.map((o) => o + second)]);
    // The JSON parser's own words for the broken object (they differ between V8 versions).
    const parserMessage = (() => {
      try {
        JSON.parse(broken);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('the broken object parsed');
    })();
    expect(parserMessage).toMatch(/^Unexpected token/);
    expect(out.problems).toEqual([{ offset: good.length + 1, message: `unreadable error record at byte ${good.length + 1}: ${parserMessage}` }]);
  });

  it('finds object ends across chunk cuts inside strings full of escaped quotes and backslashes', async () => {
    // rawData is base64 and cannot hold them; the message can: \" and \\ in every arrangement.
    const tricky = ['\\', '"', '\\"', '\\\\', '"}{"', '\\\\"', '}'];
    const json = tricky.map((t, i) => `{"errorCode":"E${i}","errorMessage":${JSON.stringify(`a${t}b${t}${t}`)},"rawData":"aGk="}`).join('');
    const bytes = new TextEncoder().encode(json);
    const whole = parseErrorRecords(bytes);
    expect(whole.problems).toEqual([]);
    expect(whole.records.map((r) => r.message)).toEqual(tricky.map((t) => `a${t}b${t}${t}`));
    for (let size = 1; size <= 40; size++) {
      const out: string[] = [];
      for await (const record of streamErrorRecords(chunks(bytes, size))) out.push(`${record.code}:${record.message}`);
      expect(out).toEqual(whole.records.map((r) => `${r.code}:${r.message}`));
    }
  });

  it('reads a record far larger than a chunk (1,000 KiB of raw data) whole', async () => {
    const raw = 'x'.repeat(1_000 * 1024);
    const bytes = new TextEncoder().encode(records(3, (i) => (i === 1 ? raw : `{"i":${i}}`)));
    const out: string[] = [];
    for await (const record of streamErrorRecords(chunks(bytes, 1024))) out.push(text(record.rawData));
    expect(out).toEqual(['{"i":0}', raw, '{"i":2}']);
  });
});

describe('reading error objects: an unreadable object among others', () => {
  it('reports each unreadable object with its key and problems, and still reads the others', async () => {
    const { MemoryStore } = await import('../fixtures/errors-cmd/memory-store.js');
    const { readErrorObjects } = await import('../../src/lib/error-scan/read.js');
    const store = new MemoryStore('shop-data');
    const good = fixture('format-conversion-failed.json');
    const gz = gzipSync(good);
    const objects = {
      'errors/a-good': good,
      'errors/b-truncated.gz': new Uint8Array(gz.subarray(0, gz.length - 8)),
      'errors/c-broken-json': new TextEncoder().encode('{"rawData":"aGk=","errorCode":"X"}{"rawData":'),
      'errors/d-corrupt.gz': (() => {
        const bad = new Uint8Array(gz);
        bad[bad.length - 8]! ^= 0xff;
        return bad;
      })(),
      'errors/e-good.gz': new Uint8Array(gz),
    };
    for (const [key, body] of Object.entries(objects)) store.putText(key, body);
    async function* refs() {
      for (const [key, body] of Object.entries(objects)) yield { key, size: body.length, lastModified: new Date(0), time: new Date(0) };
    }
    const seen: string[] = [];
    const results: { key: string; records: number; problems: ErrorRecordProblem[] }[] = [];
    const stats = await readErrorObjects(store, 'shop-data', refs(), {
      concurrency: 1,
      onRecord: (record, object) => seen.push(`${object.key}@${record.offset}`),
      onObject: (result) => results.push({ key: result.object.key, records: result.records, problems: result.problems }),
    });
    expect(results).toEqual([
      { key: 'errors/a-good', records: 2, problems: [] },
      { key: 'errors/b-truncated.gz', records: 2, problems: [{ offset: 1260, message: 'gzip data unreadable after 1260 decompressed bytes: unexpected end of file' }] },
      { key: 'errors/c-broken-json', records: 1, problems: [{ offset: 34, message: 'unreadable error record at byte 34: truncated (the file ends inside it)' }] },
      { key: 'errors/d-corrupt.gz', records: 2, problems: [{ offset: 1260, message: 'gzip data unreadable after 1260 decompressed bytes: incorrect data check' }] },
      { key: 'errors/e-good.gz', records: 2, problems: [] },
    ]);
    expect(seen).toEqual([
      'errors/a-good@0',
      'errors/a-good@707',
      'errors/b-truncated.gz@0',
      'errors/b-truncated.gz@707',
      'errors/c-broken-json@0',
      'errors/d-corrupt.gz@0',
      'errors/d-corrupt.gz@707',
      'errors/e-good.gz@0',
      'errors/e-good.gz@707',
    ]);
    expect(stats).toEqual({ objects: 5, records: 9, bytes: Object.values(objects).reduce((n, b) => n + b.length, 0), retried: 0 });
  });
});
