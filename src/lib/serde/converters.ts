/**
 * One converter per Glue type, compiled once per schema. A converter reads exactly one
 * JSON value at the cursor and returns the Row representation documented in types.ts;
 * when the value does not fit it records the failure on the cursor and returns null.
 *
 * Which JSON values each type accepts follows OpenX's object inspectors: every scalar is
 * its text (see java-text.ts); true/false are booleans; an object or array where a scalar
 * is expected is a ClassCastException in OpenX, i.e. the bare "Data does not match the
 * schema."; a string column takes anything, objects and arrays as compact JSON.
 *
 * This file maps each Glue type to its converter, once per schema: scalar-converters.ts
 * holds the scalar ones, nested-converters.ts array/map/struct, object-binder.ts the
 * binding of object members to fields.
 */
import type { GlueType } from '../glue-types.js';
import { parseDecimal, parseJavaBoolean, parseJavaDouble, parseJavaInteger } from './java-text.js';
import { type Invalid, UNSUPPORTED_TYPE_MESSAGE } from './messages.js';
import { type MapKey, arrayConverter, mapConverter, structConverter } from './nested-converters.js';
import { type CompileOptions, ObjectBinder } from './object-binder.js';
import {
  type Converter,
  PLAIN,
  type TextParser,
  fitString,
  floatingConverter,
  integerConverter,
  readBoolean,
  stringConverter,
  textConverter,
} from './scalar-converters.js';
import { parseDate, parseTimestamp } from './temporal.js';

export type { CompileOptions } from './object-binder.js';
export type { MapKey } from './nested-converters.js';
export type { Converter } from './scalar-converters.js';

/** A schema Firehose cannot use: every record fails with DataFormatConversion.InvalidSchema. */
export class SchemaError extends Error {}

export function compileType(type: GlueType, options: CompileOptions): Converter {
  switch (type.kind) {
    case 'string':
      return stringConverter(Infinity, false);
    case 'varchar':
      return stringConverter(type.length, false);
    case 'char':
      return stringConverter(type.length, true);
    case 'boolean':
      return readBoolean;
    case 'tinyint':
      return integerConverter(8);
    case 'smallint':
      return integerConverter(16);
    case 'int':
      return integerConverter(32);
    case 'bigint':
      return integerConverter(64);
    case 'float':
      return floatingConverter(true);
    case 'double':
      return floatingConverter(false);
    case 'decimal': {
      const { precision, scale } = type;
      return textConverter((text) => parseDecimal(text, precision, scale));
    }
    case 'date':
      return textConverter(parseDate);
    case 'timestamp':
      return textConverter(parseTimestamp);
    case 'binary':
      // OpenX has no reader for binary; Firehose rejects such a schema outright.
      throw new SchemaError(UNSUPPORTED_TYPE_MESSAGE);
    case 'array':
      return arrayConverter(compileType(type.element, options));
    case 'map':
      return mapConverter(keyParser(type.key), compileType(type.value, options));
    case 'struct':
      return structConverter(
        new ObjectBinder(
          type.fields.map((f) => ({ name: f.name, jsonKey: f.name, convert: compileType(f.type, options) })),
          options,
          false,
        ),
      );
  }
}

/** Map keys are read from their JSON key text as the (primitive) key type. */
function keyParser(type: GlueType): (text: string) => MapKey | Invalid {
  const primitive = (parse: TextParser) => (text: string) => {
    const v = parse(text);
    return v === null ? PLAIN : (v as MapKey | Invalid);
  };
  switch (type.kind) {
    case 'string':
      return (text) => text;
    case 'char':
    case 'varchar':
      return fitString(type.length, type.kind === 'char');
    case 'boolean':
      return parseJavaBoolean;
    case 'tinyint':
      return (text) => parseJavaInteger(text, 8);
    case 'smallint':
      return (text) => parseJavaInteger(text, 16);
    case 'int':
      return (text) => parseJavaInteger(text, 32);
    case 'bigint':
      return (text) => parseJavaInteger(text, 64);
    case 'float':
      return (text) => {
        const v = parseJavaDouble(text);
        return typeof v === 'number' ? Math.fround(v) : v;
      };
    case 'double':
      return parseJavaDouble;
    case 'decimal': {
      const { precision, scale } = type;
      return primitive((text) => parseDecimal(text, precision, scale));
    }
    case 'date':
      return parseDate;
    case 'timestamp':
      return parseTimestamp;
    default:
      // Hive map keys are primitive; OpenX has no inspector for anything else (binary included).
      throw new SchemaError(UNSUPPORTED_TYPE_MESSAGE);
  }
}

