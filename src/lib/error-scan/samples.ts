/**
 * Decoding and explaining error records: `rawData` as text, and for records that failed
 * format conversion, the record run through the serde again against the table's schema,
 * which names the column and the value Firehose could not convert (Firehose's own message
 * does not). A record that converts now is said so: the schema changed since it failed.
 */
import type { ErrorRecord } from '../error-records.js';
import { type SerdeSchema, convertRecord } from '../serde/index.js';
import type { LocatedRecord } from './groups.js';

export interface ErrorSample {
  key: string;
  arrival: string;
  /** rawData as UTF-8 text (base64 when it is not UTF-8), cut to SAMPLE_CHARS. */
  data: string;
  encoding?: 'base64';
  truncated?: boolean;
  bytes: number;
  message: string;
  /** The column that does not convert, when the serde can tell. */
  column?: string;
  value?: string;
  /** The serde converts the record with today's schema. */
  convertsNow?: boolean;
}

export const SAMPLE_CHARS = 300;
const VALUE_CHARS = 100;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** rawData as text: UTF-8 when it is, else base64. */
export function decodeRawData(bytes: Uint8Array): { text: string; encoding?: 'base64' } {
  try {
    return { text: utf8.decode(bytes) };
  } catch {
    return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), encoding: 'base64' };
  }
}

/** Whether the serde is the reason this record failed (and so can explain it). */
export function failedConversion(record: ErrorRecord): boolean {
  return record.type === 'format-conversion-failed' || (record.code?.startsWith('DataFormatConversion.') ?? false);
}

export function explainRecord(located: LocatedRecord, schema: SerdeSchema | undefined): ErrorSample {
  const { record } = located;
  const decoded = decodeRawData(record.rawData);
  const sample: ErrorSample = {
    key: located.key,
    arrival: new Date(located.time).toISOString(),
    data: cut(decoded.text, SAMPLE_CHARS),
    bytes: record.rawData.length,
    message: record.message ?? '',
  };
  if (decoded.encoding) sample.encoding = decoded.encoding;
  if (decoded.text.length > SAMPLE_CHARS) sample.truncated = true;
  if (schema && failedConversion(record)) {
    const result = convertRecord(record.rawData, schema);
    if (result.ok) sample.convertsNow = true;
    else {
      if (result.column !== undefined) sample.column = result.column;
      if (result.value !== undefined) sample.value = cut(result.value, VALUE_CHARS);
    }
  }
  return sample;
}

export function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

/** One `--raw` line: the record as Firehose wrote it, with rawData decoded, and where it was found. */
export function rawLine(located: LocatedRecord): Record<string, unknown> {
  const { record } = located;
  const decoded = decodeRawData(record.rawData);
  const line: Record<string, unknown> = { key: located.key, type: record.type ?? null };
  for (const [field, value] of Object.entries(record.fields)) {
    if (field === 'rawData' || field === 'RawData') {
      line.rawData = decoded.text;
      if (decoded.encoding) line.rawDataEncoding = decoded.encoding;
    } else line[field] = value;
  }
  return line;
}
