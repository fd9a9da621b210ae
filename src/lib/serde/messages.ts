/**
 * Firehose's error texts for format conversion, and the Java exception texts it appends.
 *
 * Sources:
 * - "The record was empty or contained only whitespace." is copied from a real error
 *   object (MalformedData, empty rawData).
 * - "Encountered malformed JSON." (ParseError) and "Data does not match the schema."
 *   (MalformedData) are the texts lake's AWS-FACTS and other emulators that probed AWS
 *   agree on; a probe of a non-numeric string in a double column showed the message
 *   "Data does not match the schema. For input string: \"oops\"", i.e. the Java
 *   exception text is appended, which is what `withCause` reproduces.
 * - The top-level primitive message and the InvalidSchema message for types OpenX cannot
 *   read (binary) come from public code that recorded them from Firehose.
 */

export const PARSE_ERROR_MESSAGE = 'Encountered malformed JSON.';
export const EMPTY_RECORD_MESSAGE = 'The record was empty or contained only whitespace.';
export const TOP_LEVEL_PRIMITIVE_MESSAGE = 'The input JSON contained a primitive at the top level. The top level must be an object or array.';
export const SCHEMA_MISMATCH_MESSAGE = 'Data does not match the schema.';
export const UNSUPPORTED_TYPE_MESSAGE = 'The schema is invalid. One or more columns have types that are not supported by org.openx.data.JsonSerDe';
export const INVALID_SCHEMA_PREFIX = 'The schema is invalid.';

/** "Data does not match the schema. <cause>", the shape of a value that failed to convert. */
export function withCause(cause: string): string {
  return `${SCHEMA_MISMATCH_MESSAGE} ${cause}`;
}

/** java.lang.NumberFormatException.forInputString, as Java 11+ words it. */
export function forInputString(text: string, radix = 10): string {
  return radix === 10 ? `For input string: "${text}"` : `For input string: "${text}" under radix ${radix}`;
}

/** Byte.parseByte / Short.parseShort when the int parses but does not fit. */
export function valueOutOfRange(text: string, radix: number): string {
  return `Value out of range. Value:"${text}" Radix:${radix}`;
}

/** java.sql.Timestamp.valueOf's IllegalArgumentException. */
export const TIMESTAMP_FORMAT_MESSAGE = 'Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]';

/** Double.parseDouble on an empty or blank string. */
export const EMPTY_STRING_MESSAGE = 'empty String';

/**
 * A text that did not convert to the column's type, with the Java exception text to
 * append to "Data does not match the schema." (none: the bare message). Only failures
 * allocate one, so successful conversions return plain values.
 */
export class Invalid {
  constructor(readonly cause?: string) {}

  get message(): string {
    return this.cause === undefined ? SCHEMA_MISMATCH_MESSAGE : withCause(this.cause);
  }
}
