/**
 * The contract of the serde: Firehose's record format conversion (OpenX JSON SerDe in,
 * Parquet out) against a Glue schema. Shared by the local delivery emulator, `lake send`'s
 * pre-flight check and `lake errors`' explanation of failed records.
 */
import type { Column } from '../ports.js';

export interface SerdeOptions {
  /** OpenX `convert.dots.in.json.keys.to.underscores`. */
  convertDotsInJsonKeysToUnderscores: boolean;
  /** OpenX `case.insensitive` (Firehose default true: keys are lowercased). */
  caseInsensitive: boolean;
  /** OpenX `ColumnToJsonKeyMappings`: column name -> JSON key. */
  columnToJsonKeyMappings: Record<string, string>;
}

export interface SerdeSchema {
  columns: Column[];
  options: SerdeOptions;
}

/**
 * A converted row, keyed by column name, every column present (null when absent).
 * Value representation per Glue type, chosen so the Parquet writer can append it directly:
 *   string/char/varchar -> string; boolean -> boolean;
 *   tinyint/smallint/int -> number; bigint -> bigint;
 *   float/double -> number; decimal(p,s) -> string with exactly s fraction digits ("12.30");
 *   date -> number (days since 1970-01-01); timestamp -> bigint (microseconds since epoch, UTC);
 *   binary -> Uint8Array; array -> RowValue[]; map -> Map<string|number|bigint|boolean, RowValue>;
 *   struct -> { [field]: RowValue } with every field present.
 */
export type RowValue =
  | null
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | RowValue[]
  | Map<string | number | bigint | boolean, RowValue>
  | { [field: string]: RowValue };
export type Row = Record<string, RowValue>;

/** Firehose's error codes for format conversion. */
export type ConversionErrorCode =
  | 'DataFormatConversion.ParseError'
  | 'DataFormatConversion.MalformedData'
  | 'DataFormatConversion.InvalidSchema'
  | 'DataFormatConversion.EntityNotFound';

export interface ConversionFailure {
  ok: false;
  code: ConversionErrorCode;
  /** Firehose's message, as it would appear in lastErrorMessage. */
  message: string;
  /** The column that failed, when known (lake's addition, for explanations). */
  column?: string;
  /** The offending JSON value as text, when known. */
  value?: string;
}

export interface ConversionSuccess {
  ok: true;
  /** One row per JSON object in the record (a record may hold several concatenated objects). */
  rows: Row[];
}

export type ConversionResult = ConversionSuccess | ConversionFailure;
