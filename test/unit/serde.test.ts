/**
 * The serde as a specification: each case is one Firehose record against a table schema,
 * with the exact rows Firehose would write or the exact error it would record.
 */
import { describe, expect, it } from 'vitest';
import { compileSchema, convertRecord, serdeSchemaFromConfig } from '../../src/lib/serde/index.js';
import type { ConversionResult, Row, RowValue, SerdeOptions, SerdeSchema } from '../../src/lib/serde/types.js';
import { defaultConfig } from '../../src/lib/config.js';

interface Case {
  given: string;
  when: string;
  then: string;
  schema: SerdeSchema;
  input: string | Uint8Array;
  expected: ConversionResult;
}

const DEFAULT_OPTIONS: SerdeOptions = { caseInsensitive: true, convertDotsInJsonKeysToUnderscores: false, columnToJsonKeyMappings: {} };

function cols(spec: Record<string, string>, options: Partial<SerdeOptions> = {}): SerdeSchema {
  return { columns: Object.entries(spec).map(([name, type]) => ({ name, type })), options: { ...DEFAULT_OPTIONS, ...options } };
}

/** A table with one column `v` of the given type. */
const one = (type: string): SerdeSchema => cols({ v: type });

const rows = (...r: Row[]): ConversionResult => ({ ok: true, rows: r });
const v = (value: RowValue): ConversionResult => rows({ v: value });

const PARSE_ERROR: ConversionResult = { ok: false, code: 'DataFormatConversion.ParseError', message: 'Encountered malformed JSON.' };
const EMPTY: ConversionResult = { ok: false, code: 'DataFormatConversion.MalformedData', message: 'The record was empty or contained only whitespace.' };
const TOP_LEVEL_ARRAY: ConversionResult = { ok: false, code: 'DataFormatConversion.MalformedData', message: 'Data does not match the schema.' };
const PRIMITIVE: ConversionResult = {
  ok: false,
  code: 'DataFormatConversion.MalformedData',
  message: 'The input JSON contained a primitive at the top level. The top level must be an object or array.',
};

function mismatch(column: string, value: string, cause?: string): ConversionResult {
  return {
    ok: false,
    code: 'DataFormatConversion.MalformedData',
    message: cause === undefined ? 'Data does not match the schema.' : `Data does not match the schema. ${cause}`,
    column,
    value,
  };
}

const ID_NAME = cols({ id: 'int', name: 'string' });
const NULL_ROW = { id: null, name: null };
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const RECORD_CASES: Case[] = [
  { given: 'id int, name string', when: 'one object', then: 'one row', schema: ID_NAME, input: '{"id":1,"name":"a"}', expected: rows({ id: 1, name: 'a' }) },
  { given: 'id int, name string', when: 'two objects back to back', then: 'two rows', schema: ID_NAME, input: '{"id":1}{"id":2}', expected: rows({ id: 1, name: null }, { id: 2, name: null }) },
  { given: 'id int, name string', when: 'newline-separated objects', then: 'one row each', schema: ID_NAME, input: '{"id":1}\n{"id":2}\n', expected: rows({ id: 1, name: null }, { id: 2, name: null }) },
  { given: 'id int, name string', when: 'space-separated objects', then: 'one row each', schema: ID_NAME, input: ' {"id":1}  {"id":2} ', expected: rows({ id: 1, name: null }, { id: 2, name: null }) },
  { given: 'id int, name string', when: 'an empty record', then: 'MalformedData empty', schema: ID_NAME, input: '', expected: EMPTY },
  { given: 'id int, name string', when: 'only whitespace', then: 'MalformedData empty', schema: ID_NAME, input: '  \n\t\r ', expected: EMPTY },
  { given: 'id int, name string', when: 'text that is not JSON', then: 'ParseError', schema: ID_NAME, input: 'id=1,name=a', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a JSON array of objects', then: 'MalformedData', schema: ID_NAME, input: '[{"id":1},{"id":2}]', expected: TOP_LEVEL_ARRAY },
  { given: 'id int, name string', when: 'a number at the top level', then: 'MalformedData primitive', schema: ID_NAME, input: '42', expected: PRIMITIVE },
  { given: 'id int, name string', when: 'a string at the top level', then: 'MalformedData primitive', schema: ID_NAME, input: '"text"', expected: PRIMITIVE },
  { given: 'id int, name string', when: 'null at the top level', then: 'MalformedData primitive', schema: ID_NAME, input: 'null', expected: PRIMITIVE },
  { given: 'id int, name string', when: 'objects separated by a comma', then: 'ParseError', schema: ID_NAME, input: '{"id":1},{"id":2}', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a truncated object', then: 'ParseError', schema: ID_NAME, input: '{"id":1', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a trailing comma', then: 'ParseError', schema: ID_NAME, input: '{"id":1,}', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'single-quoted keys', then: 'ParseError', schema: ID_NAME, input: "{'id':1}", expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a number with a leading zero', then: 'ParseError', schema: ID_NAME, input: '{"id":01}', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a raw tab inside a string', then: 'ParseError', schema: ID_NAME, input: '{"name":"a\tb"}', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a bad value then broken JSON', then: 'ParseError wins', schema: ID_NAME, input: '{"id":"x"} {', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a bad second object', then: 'the whole record fails', schema: ID_NAME, input: '{"id":1}{"id":"x"}', expected: mismatch('id', '"x"', 'For input string: "x"') },
  { given: 'id int, name string', when: 'an empty object', then: 'a row of nulls', schema: ID_NAME, input: '{}', expected: rows(NULL_ROW) },
  { given: 'id int, name string', when: 'upper-case keys', then: 'they match (keys are lowercased)', schema: ID_NAME, input: '{"ID":1,"Name":"a"}', expected: rows({ id: 1, name: 'a' }) },
  { given: 'id int, name string', when: 'the same key in two cases', then: 'ParseError (duplicate key)', schema: ID_NAME, input: '{"id":1,"ID":2}', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a duplicate unknown key', then: 'ParseError (duplicate key)', schema: ID_NAME, input: '{"x":1,"X":2}', expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'keys that are not columns', then: 'they are dropped', schema: ID_NAME, input: '{"id":1,"other":{"deep":[1,{"x":null}]},"z":true}', expected: rows({ id: 1, name: null }) },
  { given: 'id int, name string', when: 'JSON nulls', then: 'null values', schema: ID_NAME, input: '{"id":null,"name":null}', expected: rows(NULL_ROW) },
  { given: 'id int, name string', when: 'UTF-8 bytes', then: 'decoded text', schema: ID_NAME, input: utf8('{"name":"héllo 😀"}'), expected: rows({ id: null, name: 'héllo 😀' }) },
  { given: 'id int, name string', when: 'bytes that are not UTF-8', then: 'ParseError', schema: ID_NAME, input: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), expected: PARSE_ERROR },
  { given: 'id int, name string', when: 'a byte order mark first', then: 'it is skipped', schema: ID_NAME, input: '\ufeff{"id":7}', expected: rows({ id: 7, name: null }) },
  { given: 'id int, name string', when: 'string escapes', then: 'they are decoded', schema: ID_NAME, input: '{"name":"a\\n\\"q\\" \\u00e9\\/"}', expected: rows({ id: null, name: 'a\n"q" é/' }) },
  { given: 'id int, name string', when: 'nesting deeper than 1,000', then: 'ParseError', schema: ID_NAME, input: `{"x":${'['.repeat(1001)}${']'.repeat(1001)}}`, expected: PARSE_ERROR },
  { given: 'two int columns a, b', when: 'both fail, b first in the record', then: 'the first column in schema order is reported', schema: cols({ a: 'int', b: 'int' }), input: '{"b":"x","a":"y"}', expected: mismatch('a', '"y"', 'For input string: "y"') },
];

const OPTION_CASES: Case[] = [
  { given: 'case-sensitive keys', when: 'ID and id', then: 'only id matches', schema: cols({ id: 'int' }, { caseInsensitive: false }), input: '{"ID":1,"id":2}', expected: rows({ id: 2 }) },
  { given: 'case-sensitive keys', when: 'Id only', then: 'null', schema: cols({ id: 'int' }, { caseInsensitive: false }), input: '{"Id":1}', expected: rows({ id: null }) },
  { given: 'dots to underscores on', when: 'key a.b', then: 'column a_b', schema: cols({ a_b: 'int' }, { convertDotsInJsonKeysToUnderscores: true }), input: '{"A.b":1}', expected: rows({ a_b: 1 }) },
  { given: 'dots to underscores off', when: 'key a.b', then: 'a_b is null', schema: cols({ a_b: 'int' }), input: '{"a.b":1}', expected: rows({ a_b: null }) },
  { given: 'dots to underscores on', when: 'both a.b and a_b', then: 'the exact key wins', schema: cols({ a_b: 'int' }, { convertDotsInJsonKeysToUnderscores: true }), input: '{"a.b":1,"a_b":2}', expected: rows({ a_b: 2 }) },
  { given: 'dots to underscores on', when: 'a_b before a.b', then: 'the exact key still wins', schema: cols({ a_b: 'int' }, { convertDotsInJsonKeysToUnderscores: true }), input: '{"a_b":2,"a.b":1}', expected: rows({ a_b: 2 }) },
  { given: 'dots to underscores on', when: 'a dotted key inside a struct', then: 'the struct field matches', schema: cols({ s: 'struct<x_y:int>' }, { convertDotsInJsonKeysToUnderscores: true }), input: '{"s":{"x.y":5}}', expected: rows({ s: { x_y: 5 } }) },
  { given: 'ts mapped to JSON key timestamp', when: 'key Timestamp', then: 'ts gets it', schema: cols({ ts: 'string' }, { columnToJsonKeyMappings: { ts: 'timestamp' } }), input: '{"Timestamp":"x"}', expected: rows({ ts: 'x' }) },
  { given: 'ts mapped to JSON key timestamp', when: 'key ts', then: 'ts is null', schema: cols({ ts: 'string' }, { columnToJsonKeyMappings: { ts: 'timestamp' } }), input: '{"ts":"x"}', expected: rows({ ts: null }) },
  { given: 'two columns mapped to one key', when: 'that key', then: 'both get it', schema: cols({ a: 'string', b: 'int' }, { columnToJsonKeyMappings: { a: 'k', b: 'k' } }), input: '{"k":"7"}', expected: rows({ a: '7', b: 7 }) },
];

const STRING_CASES: Case[] = [
  { given: 'a string column', when: 'a number', then: 'its source text', schema: one('string'), input: '{"v":12.50}', expected: v('12.50') },
  { given: 'a string column', when: 'a boolean', then: '"true"', schema: one('string'), input: '{"v":true}', expected: v('true') },
  { given: 'a string column', when: 'an object', then: 'compact JSON with lowercased keys', schema: one('string'), input: '{"v": {"B": 1, "c": [1, "x", null]}}', expected: v('{"b":1,"c":[1,"x",null]}') },
  { given: 'a varchar(3) column', when: 'a longer string', then: 'it is cut to 3', schema: one('varchar(3)'), input: '{"v":"abcdef"}', expected: v('abc') },
  { given: 'a char(4) column', when: 'a longer string', then: 'cut to 4, trailing spaces dropped', schema: one('char(4)'), input: '{"v":"ab  xyz"}', expected: v('ab') },
];

const INTEGER_CASES: Case[] = [
  { given: 'an int column', when: 'the string "12"', then: '12', schema: one('int'), input: '{"v":"12"}', expected: v(12) },
  { given: 'an int column', when: '-7', then: '-7', schema: one('int'), input: '{"v":-7}', expected: v(-7) },
  { given: 'an int column', when: '12.5', then: 'MalformedData', schema: one('int'), input: '{"v":12.5}', expected: mismatch('v', '12.5', 'For input string: "12.5"') },
  { given: 'a bigint column', when: '1.0', then: 'MalformedData (no fractions, even .0)', schema: one('bigint'), input: '{"v":1.0}', expected: mismatch('v', '1.0', 'For input string: "1.0"') },
  { given: 'an int column', when: '3000000000', then: 'MalformedData', schema: one('int'), input: '{"v":3000000000}', expected: mismatch('v', '3000000000', 'For input string: "3000000000"') },
  { given: 'a tinyint column', when: '128', then: 'MalformedData out of range', schema: one('tinyint'), input: '{"v":128}', expected: mismatch('v', '128', 'Value out of range. Value:"128" Radix:10') },
  { given: 'a tinyint column', when: '-128', then: '-128', schema: one('tinyint'), input: '{"v":-128}', expected: v(-128) },
  { given: 'a smallint column', when: '-32769', then: 'MalformedData out of range', schema: one('smallint'), input: '{"v":-32769}', expected: mismatch('v', '-32769', 'Value out of range. Value:"-32769" Radix:10') },
  { given: 'an int column', when: 'the hex string "0x1F"', then: '31', schema: one('int'), input: '{"v":"0x1F"}', expected: v(31) },
  { given: 'a tinyint column', when: 'the hex string "0xFF"', then: 'MalformedData out of range', schema: one('tinyint'), input: '{"v":"0xFF"}', expected: mismatch('v', '"0xFF"', 'Value out of range. Value:"FF" Radix:16') },
  { given: 'a bigint column', when: 'the largest long', then: 'exact bigint', schema: one('bigint'), input: '{"v":9223372036854775807}', expected: v(9223372036854775807n) },
  { given: 'a bigint column', when: 'one past the largest long', then: 'MalformedData', schema: one('bigint'), input: '{"v":9223372036854775808}', expected: mismatch('v', '9223372036854775808', 'For input string: "9223372036854775808"') },
  { given: 'a bigint column', when: 'a small number', then: 'a bigint', schema: one('bigint'), input: '{"v":42}', expected: v(42n) },
  { given: 'an int column', when: 'a string with a space', then: 'MalformedData', schema: one('int'), input: '{"v":" 12"}', expected: mismatch('v', '" 12"', 'For input string: " 12"') },
  { given: 'an int column', when: 'an exponent', then: 'MalformedData', schema: one('int'), input: '{"v":1e3}', expected: mismatch('v', '1e3', 'For input string: "1e3"') },
  { given: 'an int column', when: 'an empty string', then: 'MalformedData', schema: one('int'), input: '{"v":""}', expected: mismatch('v', '""', 'For input string: ""') },
  { given: 'an int column', when: 'true', then: 'MalformedData without a cause', schema: one('int'), input: '{"v":true}', expected: mismatch('v', 'true') },
  { given: 'an int column', when: 'an object', then: 'MalformedData without a cause', schema: one('int'), input: '{"v":{"a":1}}', expected: mismatch('v', '{"a":1}') },
];

const BOOLEAN_CASES: Case[] = [
  { given: 'a boolean column', when: 'false', then: 'false', schema: one('boolean'), input: '{"v":false}', expected: v(false) },
  { given: 'a boolean column', when: 'the string "TRUE"', then: 'true', schema: one('boolean'), input: '{"v":"TRUE"}', expected: v(true) },
  { given: 'a boolean column', when: 'the string "yes"', then: 'false (Boolean.parseBoolean)', schema: one('boolean'), input: '{"v":"yes"}', expected: v(false) },
  { given: 'a boolean column', when: 'the number 1', then: 'false (Boolean.parseBoolean)', schema: one('boolean'), input: '{"v":1}', expected: v(false) },
  { given: 'a boolean column', when: 'an array', then: 'MalformedData', schema: one('boolean'), input: '{"v":[true]}', expected: mismatch('v', '[true]') },
];

const FLOATING_CASES: Case[] = [
  { given: 'a double column', when: 'the string "1.5"', then: '1.5', schema: one('double'), input: '{"v":"1.5"}', expected: v(1.5) },
  { given: 'a double column', when: 'the string "oops"', then: 'MalformedData (probed message)', schema: one('double'), input: '{"v":"oops"}', expected: mismatch('v', '"oops"', 'For input string: "oops"') },
  { given: 'a double column', when: 'a padded string', then: 'trimmed like Double.parseDouble', schema: one('double'), input: '{"v":" 2.5 "}', expected: v(2.5) },
  { given: 'a double column', when: 'the string "NaN"', then: 'NaN', schema: one('double'), input: '{"v":"NaN"}', expected: v(Number.NaN) },
  { given: 'a double column', when: '1e400', then: 'Infinity', schema: one('double'), input: '{"v":1e400}', expected: v(Number.POSITIVE_INFINITY) },
  { given: 'a double column', when: 'an empty string', then: 'MalformedData empty String', schema: one('double'), input: '{"v":""}', expected: mismatch('v', '""', 'empty String') },
  { given: 'a double column', when: 'the string "1.5f"', then: '1.5 (Java suffix)', schema: one('double'), input: '{"v":"1.5f"}', expected: v(1.5) },
  { given: 'a float column', when: '0.1', then: 'the nearest float', schema: one('float'), input: '{"v":0.1}', expected: v(0.10000000149011612) },
  { given: 'a double column', when: 'a large integer', then: 'the nearest double', schema: one('double'), input: '{"v":12345678901234567890}', expected: v(Number('12345678901234567890')) },
];

const DECIMAL_CASES: Case[] = [
  { given: 'a decimal(5,2) column', when: '12.345', then: 'rounded half up', schema: one('decimal(5,2)'), input: '{"v":12.345}', expected: v('12.35') },
  { given: 'a decimal(5,2) column', when: 'the string "12.344"', then: 'rounded down', schema: one('decimal(5,2)'), input: '{"v":"12.344"}', expected: v('12.34') },
  { given: 'a decimal(5,2) column', when: '1234.5', then: 'null (too many digits)', schema: one('decimal(5,2)'), input: '{"v":1234.5}', expected: v(null) },
  { given: 'a decimal(5,2) column', when: '-0.005', then: 'rounded away from zero', schema: one('decimal(5,2)'), input: '{"v":-0.005}', expected: v('-0.01') },
  { given: 'a decimal(5,2) column', when: '1.5e2', then: '150.00', schema: one('decimal(5,2)'), input: '{"v":1.5e2}', expected: v('150.00') },
  { given: 'a decimal(5,2) column', when: 'the string "abc"', then: 'MalformedData', schema: one('decimal(5,2)'), input: '{"v":"abc"}', expected: mismatch('v', '"abc"', 'For input string: "abc"') },
  { given: 'a decimal(10,0) column', when: '12.5', then: '"13"', schema: one('decimal(10,0)'), input: '{"v":12.5}', expected: v('13') },
  { given: 'a decimal(38,2) column', when: 'a 25-digit number', then: 'every digit kept', schema: one('decimal(38,2)'), input: '{"v":1234567890123456789012345.6}', expected: v('1234567890123456789012345.60') },
];

const DATE_CASES: Case[] = [
  { given: 'a date column', when: '"2026-09-07"', then: 'days since 1970', schema: one('date'), input: '{"v":"2026-09-07"}', expected: v(20703) },
  { given: 'a date column', when: '"2026-9-7"', then: 'the same day', schema: one('date'), input: '{"v":"2026-9-7"}', expected: v(20703) },
  { given: 'a date column', when: '"2021-02-30"', then: 'rolls over to 2021-03-02', schema: one('date'), input: '{"v":"2021-02-30"}', expected: v(18688) },
  { given: 'a date column', when: 'a timestamp string', then: 'MalformedData', schema: one('date'), input: '{"v":"2026-09-07T00:00:00Z"}', expected: mismatch('v', '"2026-09-07T00:00:00Z"') },
  { given: 'a date column', when: 'a number of days', then: 'MalformedData', schema: one('date'), input: '{"v":20703}', expected: mismatch('v', '20703') },
  { given: 'a date column', when: 'month 13', then: 'MalformedData', schema: one('date'), input: '{"v":"2026-13-01"}', expected: mismatch('v', '"2026-13-01"') },
];

const FORMAT = 'Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]';
const TIMESTAMP_CASES: Case[] = [
  { given: 'a timestamp column', when: "yyyy-MM-dd'T'HH:mm:ss.SSSSS'Z'", then: 'microseconds UTC', schema: one('timestamp'), input: '{"v":"2017-02-07T15:13:01.39256Z"}', expected: v(1486480381392560n) },
  { given: 'a timestamp column', when: "yyyy-MM-dd'T'HH:mm:ss'Z'", then: 'whole seconds', schema: one('timestamp'), input: '{"v":"2017-02-07T15:13:01Z"}', expected: v(1486480381000000n) },
  { given: 'a timestamp column', when: 'nine fraction digits', then: 'truncated to microseconds', schema: one('timestamp'), input: '{"v":"2017-02-07T15:13:01.123456789Z"}', expected: v(1486480381123456n) },
  { given: 'a timestamp column', when: 'yyyy-MM-dd HH:mm:ss.SS', then: 'microseconds UTC', schema: one('timestamp'), input: '{"v":"2017-02-07 15:13:01.14"}', expected: v(1486480381140000n) },
  { given: 'a timestamp column', when: 'yyyy-M-d HH:mm:ss', then: 'accepted', schema: one('timestamp'), input: '{"v":"2017-2-7 15:13:01"}', expected: v(1486480381000000n) },
  { given: 'a timestamp column', when: 'one-digit hour, minute, second', then: 'accepted (probed)', schema: one('timestamp'), input: '{"v":"2026-09-07 1:2:3"}', expected: v(1788742923000000n) },
  { given: 'a timestamp column', when: 'epoch seconds', then: 'seconds', schema: one('timestamp'), input: '{"v":1518033528}', expected: v(1518033528000000n) },
  { given: 'a timestamp column', when: 'epoch milliseconds', then: 'milliseconds', schema: one('timestamp'), input: '{"v":1518033528123}', expected: v(1518033528123000n) },
  { given: 'a timestamp column', when: 'float epoch seconds', then: 'keeps the fraction', schema: one('timestamp'), input: '{"v":1518033528.123}', expected: v(1518033528123000n) },
  { given: 'a timestamp column', when: 'epoch seconds as a string', then: 'seconds', schema: one('timestamp'), input: '{"v":"1518033528"}', expected: v(1518033528000000n) },
  { given: 'a timestamp column', when: '999999999999', then: 'seconds wrapped to 64-bit nanos (2092, probed)', schema: one('timestamp'), input: '{"v":999999999999}', expected: v(3875820018684212n) },
  { given: 'a timestamp column', when: '1000000000000', then: 'milliseconds from 1e12', schema: one('timestamp'), input: '{"v":1000000000000}', expected: v(1000000000000000n) },
  { given: 'a timestamp column', when: '-1000', then: 'seconds before 1970', schema: one('timestamp'), input: '{"v":-1000}', expected: v(-1000000000n) },
  { given: 'a timestamp column', when: "a one-digit month in the 'T' form", then: 'MalformedData (probed)', schema: one('timestamp'), input: '{"v":"2026-9-7T12:00:02Z"}', expected: mismatch('v', '"2026-9-7T12:00:02Z"', FORMAT) },
  { given: 'a timestamp column', when: "the 'T' form without Z", then: 'MalformedData', schema: one('timestamp'), input: '{"v":"2017-02-07T15:13:01"}', expected: mismatch('v', '"2017-02-07T15:13:01"', FORMAT) },
  { given: 'a timestamp column', when: 'hour 25 in the Z form', then: 'MalformedData', schema: one('timestamp'), input: '{"v":"2017-02-07T25:00:00Z"}', expected: mismatch('v', '"2017-02-07T25:00:00Z"', FORMAT) },
  { given: 'a timestamp column', when: 'Feb 30 24:00 in the space form', then: 'rolls over to Mar 3', schema: one('timestamp'), input: '{"v":"2021-02-30 24:00:00"}', expected: v(1614729600000000n) },
  { given: 'a timestamp column', when: 'ten fraction digits', then: 'MalformedData', schema: one('timestamp'), input: '{"v":"2017-02-07 15:13:01.1234567890"}', expected: mismatch('v', '"2017-02-07 15:13:01.1234567890"', FORMAT) },
  { given: 'a timestamp column', when: 'a non-numeric hour', then: 'MalformedData from Integer.parseInt', schema: one('timestamp'), input: '{"v":"2017-02-07 1a:00:00"}', expected: mismatch('v', '"2017-02-07 1a:00:00"', 'For input string: "1a"') },
  { given: 'a timestamp column', when: 'a word', then: 'MalformedData', schema: one('timestamp'), input: '{"v":"yesterday"}', expected: mismatch('v', '"yesterday"', 'For input string: "yesterday"') },
  { given: 'a timestamp column', when: 'a date only', then: 'MalformedData', schema: one('timestamp'), input: '{"v":"2017-02-07"}', expected: mismatch('v', '"2017-02-07"', 'For input string: "2017-02-07"') },
  { given: 'a timestamp column', when: 'true', then: 'MalformedData', schema: one('timestamp'), input: '{"v":true}', expected: mismatch('v', 'true') },
];

const NESTED_CASES: Case[] = [
  { given: 'an array<int> column', when: 'numbers, a numeric string and null', then: 'converted elements', schema: one('array<int>'), input: '{"v":[1,"2",null]}', expected: v([1, 2, null]) },
  { given: 'an array<int> column', when: 'a bad element', then: 'MalformedData at v[1]', schema: one('array<int>'), input: '{"v":[1,"x"]}', expected: mismatch('v[1]', '"x"', 'For input string: "x"') },
  { given: 'an array<int> column', when: 'a scalar', then: 'MalformedData', schema: one('array<int>'), input: '{"v":"1"}', expected: mismatch('v', '"1"') },
  { given: 'an array<struct<a:int>> column', when: 'a bad field in the second element', then: 'MalformedData at v[1].a', schema: one('array<struct<a:int>>'), input: '{"v":[{"A":1},{"a":"bad"}]}', expected: mismatch('v[1].a', '"bad"', 'For input string: "bad"') },
  { given: 'a map<string,int> column', when: 'mixed-case keys', then: 'lowercased keys', schema: one('map<string,int>'), input: '{"v":{"K":1,"k2":null}}', expected: v(new Map<string, RowValue>([['k', 1], ['k2', null]])) },
  { given: 'a map<int,string> column', when: 'a key that is not an int', then: 'MalformedData at the key', schema: one('map<int,string>'), input: '{"v":{"1":"a","x":"b"}}', expected: mismatch('v["x"]', '"x"', 'For input string: "x"') },
  { given: 'a map<int,string> column', when: 'numeric keys', then: 'int keys', schema: one('map<int,string>'), input: '{"v":{"1":"a","2":"b"}}', expected: v(new Map<number, RowValue>([[1, 'a'], [2, 'b']])) },
  { given: 'a map<string,int> column', when: 'keys equal after lowercasing', then: 'ParseError (duplicate key)', schema: one('map<string,int>'), input: '{"v":{"a":1,"A":2}}', expected: PARSE_ERROR },
  { given: 'a map<string,int> column', when: 'an array', then: 'MalformedData', schema: one('map<string,int>'), input: '{"v":[]}', expected: mismatch('v', '[]') },
  { given: 'a struct<a:int,b:string> column', when: 'an object with an unknown key', then: 'every field present', schema: one('struct<a:int,b:string>'), input: '{"v":{"A":1,"extra":2}}', expected: v({ a: 1, b: null }) },
  { given: 'a struct<a:int,b:string> column', when: 'an array', then: 'fields by position (OpenX)', schema: one('struct<a:int,b:string>'), input: '{"v":[1,"x"]}', expected: v({ a: 1, b: 'x' }) },
  { given: 'a struct<a:int,b:string> column', when: 'an empty array', then: 'null (OpenX)', schema: one('struct<a:int,b:string>'), input: '{"v":[]}', expected: v(null) },
  { given: 'a struct<a:int,b:string> column', when: 'an empty string', then: 'null (OpenX)', schema: one('struct<a:int,b:string>'), input: '{"v":""}', expected: v(null) },
  { given: 'a struct<a:int,b:string> column', when: 'a string', then: 'MalformedData', schema: one('struct<a:int,b:string>'), input: '{"v":"x"}', expected: mismatch('v', '"x"') },
  { given: 'a struct<a:struct<b:int>> column', when: 'a bad nested value', then: 'MalformedData at v.a.b', schema: one('struct<a:struct<b:int>>'), input: '{"v":{"a":{"b":"z"}}}', expected: mismatch('v.a.b', '"z"', 'For input string: "z"') },
];

const UNSUPPORTED = 'The schema is invalid. One or more columns have types that are not supported by org.openx.data.JsonSerDe';
const SCHEMA_CASES: Case[] = [
  { given: 'a binary column', when: 'any record', then: 'InvalidSchema', schema: cols({ id: 'int', b: 'binary' }), input: '{"id":1}', expected: { ok: false, code: 'DataFormatConversion.InvalidSchema', message: UNSUPPORTED, column: 'b' } },
  { given: 'an array<binary> column', when: 'an empty record', then: 'InvalidSchema before anything else', schema: cols({ a: 'array<binary>' }), input: '', expected: { ok: false, code: 'DataFormatConversion.InvalidSchema', message: UNSUPPORTED, column: 'a' } },
  { given: 'a map with a struct key', when: 'any record', then: 'InvalidSchema', schema: cols({ m: 'map<struct<a:int>,int>' }), input: '{}', expected: { ok: false, code: 'DataFormatConversion.InvalidSchema', message: UNSUPPORTED, column: 'm' } },
];

const ALL: [string, Case[]][] = [
  ['records', RECORD_CASES],
  ['serde options', OPTION_CASES],
  ['string types', STRING_CASES],
  ['integer types', INTEGER_CASES],
  ['boolean', BOOLEAN_CASES],
  ['float and double', FLOATING_CASES],
  ['decimal', DECIMAL_CASES],
  ['date', DATE_CASES],
  ['timestamp', TIMESTAMP_CASES],
  ['nested types', NESTED_CASES],
  ['schema', SCHEMA_CASES],
];

describe.each(ALL)('convertRecord: %s', (_area, cases) => {
  it.each(cases.map((c) => [c.given, c.when, c.then, c] as const))('given %s, when %s, then %s', (_given, _when, _then, { schema, input, expected }) => {
    expect(convertRecord(input, schema)).toEqual(expected);
  });
});

describe('the case table', () => {
  it('holds at least 60 distinct inputs', () => {
    const distinct = new Set(ALL.flatMap(([, cases]) => cases.map((c) => `${JSON.stringify(c.schema)}|${typeof c.input === 'string' ? c.input : Array.from(c.input).join(',')}`)));
    expect(distinct.size).toBeGreaterThanOrEqual(60);
  });
});

describe('compileSchema', () => {
  it('given a compiled schema, when it converts records of different shapes in turn, then each gets its own keys', () => {
    const converter = compileSchema(cols({ a: 'int', b: 'string' }));

    const results = [converter.convert('{"a":1,"b":"x"}'), converter.convert('{"b":"y","a":2}'), converter.convert('{"a":3,"a2":9}'), converter.convert('{"a":4,"b":"z"}')];

    expect(results).toEqual([rows({ a: 1, b: 'x' }), rows({ a: 2, b: 'y' }), rows({ a: 3, b: null }), rows({ a: 4, b: 'z' })]);
  });

  it('given a record whose key needs an escape, when a plain record follows, then both convert', () => {
    const converter = compileSchema(cols({ ab: 'int' }));

    expect([converter.convert('{"a\\u0062":1}'), converter.convert('{"ab":2}')]).toEqual([rows({ ab: 1 }), rows({ ab: 2 })]);
  });

  it('given the same schema object, when convertRecord is called twice, then results do not share rows', () => {
    const schema = cols({ a: 'int' });

    const first = convertRecord('{"a":1}', schema);
    const second = convertRecord('{"a":2}', schema);

    expect([first, second]).toEqual([rows({ a: 1 }), rows({ a: 2 })]);
  });

  it('given a column named __proto__, when converted, then it is an own property', () => {
    const result = convertRecord('{"__proto__":1}', { columns: [{ name: '__proto__', type: 'int' }], options: DEFAULT_OPTIONS });

    expect(result.ok && Object.getOwnPropertyDescriptor(result.rows[0], '__proto__')?.value).toBe(1);
  });
});

describe('serdeSchemaFromConfig', () => {
  it('given a config, when converted, then columns and serde options are copied', () => {
    const config = defaultConfig('shop');
    config.columns = [{ name: 'ts', type: 'timestamp' }];
    config.serde = { convertDotsInJsonKeysToUnderscores: true, caseInsensitive: false, columnToJsonKeyMappings: { ts: 'time' } };

    const schema = serdeSchemaFromConfig(config);
    config.serde.columnToJsonKeyMappings.ts = 'changed';

    expect(schema).toEqual({
      columns: [{ name: 'ts', type: 'timestamp' }],
      options: { convertDotsInJsonKeysToUnderscores: true, caseInsensitive: false, columnToJsonKeyMappings: { ts: 'time' } },
    });
  });
});
