/**
 * What Firehose's record format conversion (OpenX JSON SerDe in, Parquet out) does with
 * one record, against the table's columns: the rows it would write, or the error it would
 * write to the error prefix (code, message) plus lake's pointer to the column and value.
 *
 * Record-level rules (Firehose developer guide, "Convert input data format"): several
 * JSON objects may be concatenated in one record, with or without whitespace between
 * them, each giving a row; a JSON array at the top level is not valid input. Syntax is
 * checked for the whole record first, so a record that is malformed anywhere reports
 * ParseError even when an earlier object did not fit the schema. If any object fails,
 * the whole record fails (Firehose writes the record, not the object, to the error prefix).
 * JSON syntax is strict (Jackson's defaults); keys that repeat within an object after
 * lowercasing make the record malformed, as OpenX's JSONObject.putOnce does (Athena's
 * OpenX reports "JSONException: Duplicate key" for such rows).
 *
 * Per-value rules (what each Glue type accepts, and the failure texts) live in
 * converters.ts (with scalar-converters.ts, nested-converters.ts and object-binder.ts),
 * java-text.ts and temporal.ts, each citing its source.
 */
import type { LakeConfig } from '../config.js';
import { GlueTypeError, parseGlueType } from '../glue-types.js';
import { SchemaError, compileType } from './converters.js';
import { JsonCursor, LBRACE, LBRACKET, MALFORMED, QUOTE, isNumberStart } from './json-cursor.js';
import {
  EMPTY_RECORD_MESSAGE,
  INVALID_SCHEMA_PREFIX,
  PARSE_ERROR_MESSAGE,
  SCHEMA_MISMATCH_MESSAGE,
  TOP_LEVEL_PRIMITIVE_MESSAGE,
} from './messages.js';
import { type BinderField, ObjectBinder } from './object-binder.js';
import type { ConversionFailure, ConversionResult, Row, RowValue, SerdeSchema } from './types.js';

export type * from './types.js';
export {
  EMPTY_RECORD_MESSAGE,
  PARSE_ERROR_MESSAGE,
  SCHEMA_MISMATCH_MESSAGE,
  TOP_LEVEL_PRIMITIVE_MESSAGE,
  UNSUPPORTED_TYPE_MESSAGE,
} from './messages.js';

/** A schema compiled once; `convert` is the per-record call (not reentrant, not shared across threads). */
export interface SerdeConverter {
  convert(data: Uint8Array | string): ConversionResult;
  /**
   * The same conversion without building row objects: each row's values are handed to
   * `onRow` in column order as soon as its object is read (the array is reused: copy what
   * you keep). Returns null when the record converts, else its failure; rows already
   * handed over belong to the failed record then and must be dropped.
   */
  convertEach(data: Uint8Array | string, onRow: (values: readonly RowValue[]) => void): ConversionFailure | null;
}

const PARSE_FAILURE: ConversionFailure = Object.freeze({ ok: false, code: 'DataFormatConversion.ParseError', message: PARSE_ERROR_MESSAGE });
const EMPTY_FAILURE: ConversionFailure = Object.freeze({ ok: false, code: 'DataFormatConversion.MalformedData', message: EMPTY_RECORD_MESSAGE });
const PRIMITIVE_FAILURE: ConversionFailure = Object.freeze({ ok: false, code: 'DataFormatConversion.MalformedData', message: TOP_LEVEL_PRIMITIVE_MESSAGE });
const ARRAY_FAILURE: ConversionFailure = Object.freeze({ ok: false, code: 'DataFormatConversion.MalformedData', message: SCHEMA_MISMATCH_MESSAGE });

// Invalid UTF-8 fails the record as malformed JSON, as a JSON parser reading bytes would.
const utf8 = new TextDecoder('utf-8', { fatal: true });

class CompiledSerde implements SerdeConverter {
  private readonly cursor: JsonCursor;
  private readonly binder: ObjectBinder | null = null;
  private readonly schemaFailure: ConversionFailure | null = null;

  constructor(schema: SerdeSchema) {
    const options = {
      caseInsensitive: schema.options.caseInsensitive,
      convertDotsInJsonKeysToUnderscores: schema.options.convertDotsInJsonKeysToUnderscores,
    };
    this.cursor = new JsonCursor(options.caseInsensitive);
    const mappings = schema.options.columnToJsonKeyMappings;
    const fields: BinderField[] = [];
    for (const column of schema.columns) {
      try {
        const jsonKey = Object.hasOwn(mappings, column.name) ? mappings[column.name]! : column.name;
        fields.push({ name: column.name, jsonKey, convert: compileType(parseGlueType(column.type), options) });
      } catch (err) {
        if (err instanceof SchemaError) {
          this.schemaFailure = Object.freeze({ ok: false, code: 'DataFormatConversion.InvalidSchema', message: err.message, column: column.name });
          return;
        }
        if (err instanceof GlueTypeError) {
          // lake's wording: Firehose's own text for an unparseable Glue type is not known.
          this.schemaFailure = Object.freeze({ ok: false, code: 'DataFormatConversion.InvalidSchema', message: `${INVALID_SCHEMA_PREFIX} ${err.message}`, column: column.name });
          return;
        }
        throw err;
      }
    }
    this.binder = new ObjectBinder(fields, options, true);
  }

  convert(data: Uint8Array | string): ConversionResult {
    const rows: Row[] = [];
    const failure = this.run(data, rows, null);
    return failure ?? { ok: true, rows };
  }

  convertEach(data: Uint8Array | string, onRow: (values: readonly RowValue[]) => void): ConversionFailure | null {
    return this.run(data, null, onRow);
  }

  /** Converts a record, each row either pushed to `rows` as an object or handed to `onRow` as values. */
  private run(data: Uint8Array | string, rows: Row[] | null, onRow: ((values: readonly RowValue[]) => void) | null): ConversionFailure | null {
    const binder = this.binder;
    if (binder === null) return this.schemaFailure!;
    let text: string;
    if (typeof data === 'string') text = data.charCodeAt(0) === 0xfeff ? data.slice(1) : data;
    else {
      try {
        text = utf8.decode(data);
      } catch {
        return PARSE_FAILURE;
      }
    }
    const p = this.cursor;
    p.reset(text);
    let c = p.ws();
    if (c < 0) return EMPTY_FAILURE;

    let failure: ConversionFailure | null = null;
    try {
      while (c >= 0) {
        if (c === LBRACE) {
          if (failure !== null) p.skipValue();
          else {
            binder.bind(p);
            if (binder.failField >= 0) failure = { ok: false, code: 'DataFormatConversion.MalformedData', message: p.failMessage, column: p.failPath, value: p.failValue };
            else if (rows !== null) rows.push(binder.toObject());
            else onRow!(binder.values);
          }
        } else if (c === LBRACKET) {
          p.skipValue();
          failure ??= ARRAY_FAILURE;
        } else {
          skipTopLevelScalar(p, c);
          failure ??= PRIMITIVE_FAILURE;
        }
        c = p.ws();
      }
    } catch (err) {
      if (err === MALFORMED) return PARSE_FAILURE;
      throw err;
    }
    return failure;
  }
}

/** A root-level number or literal must be followed by whitespace or the end, as in Jackson. */
function skipTopLevelScalar(p: JsonCursor, c: number): void {
  p.skipValue();
  if (c === QUOTE) return;
  const next = p.src.charCodeAt(p.i);
  if (Number.isNaN(next) || next === 32 || next === 10 || next === 13 || next === 9) return;
  if (isNumberStart(c) || /[A-Za-z0-9_$]/.test(p.src.charAt(p.i))) throw MALFORMED;
}

/** Compiles the schema once; call `convert` per record. */
export function compileSchema(schema: SerdeSchema): SerdeConverter {
  return new CompiledSerde(schema);
}

const compiled = new WeakMap<SerdeSchema, SerdeConverter>();

/**
 * Converts one Firehose record. The compiled form is cached per schema object, so reuse
 * the same SerdeSchema (and do not mutate it) across calls.
 */
export function convertRecord(data: Uint8Array | string, schema: SerdeSchema): ConversionResult {
  let converter = compiled.get(schema);
  if (converter === undefined) {
    converter = compileSchema(schema);
    compiled.set(schema, converter);
  }
  return converter.convert(data);
}

export function serdeSchemaFromConfig(config: Pick<LakeConfig, 'columns' | 'serde'>): SerdeSchema {
  return {
    columns: config.columns.map((c) => ({ ...c })),
    options: {
      convertDotsInJsonKeysToUnderscores: config.serde.convertDotsInJsonKeysToUnderscores,
      caseInsensitive: config.serde.caseInsensitive,
      columnToJsonKeyMappings: { ...config.serde.columnToJsonKeyMappings },
    },
  };
}
