/**
 * What the input readers produce: records with where they came from (line, byte offset)
 * so a rejected record can be named and an interrupted send can resume after it.
 */

export type RecordFormat = 'csv' | 'json' | 'ndjson';
export const RECORD_FORMATS: RecordFormat[] = ['csv', 'json', 'ndjson'];

/** How a JSON file holds its records: one array, or top-level values one after another. */
export type JsonLayout = 'array' | 'sequence';

export interface SourceRecord {
  /** 0-based position among the input's records (a CSV header is not a record). */
  seq: number;
  /** 1-based line where the record starts. */
  line: number;
  /** Byte offset (in the decompressed input) just after the record and its terminator. */
  end: number;
  /** Line number at `end`: where the next record's line count starts. */
  endLine: number;
  /** JSON and NDJSON: the record's text, passed through as it is. CSV: the row's original text. */
  raw: Buffer;
  /** CSV only: the fields; null for an empty unquoted field, '' for `""`. */
  fields?: (string | null)[];
  /** CSV only: why the row cannot be read (text after a closing quote). */
  malformed?: string;
}

/** Where a reader starts when resuming: just after the last record settled before. */
export interface ReadPosition {
  offset: number;
  line: number;
  seq: number;
}

/** A record larger than this cannot be sent anyway; a bigger one means the input is not what it claims. */
export const MAX_SCANNED_RECORD_BYTES = 16 * 1024 * 1024;
