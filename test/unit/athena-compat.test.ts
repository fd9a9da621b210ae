/**
 * Athena (Trino) compatibility of the local engine. Expected values are the ones Trino's
 * documentation gives (docs/src/main/sphinx/functions/*.md in trinodb/trino, quoted in
 * each test name as `doc:`), rendered as Athena's GetQueryResults shows them; where the
 * docs give no example, the value follows from the documented definition (`def:`).
 */
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATHENA_FUNCTIONS, athenaFunctionStatements, ATHENA_SESSION_SETTINGS, convertDateFormat } from '../../src/lib/local/athena-functions.js';
import { parseAthenaCsv, toAthenaCsv } from '../../src/lib/local/athena-result-files.js';
import { athenaCellReader, athenaColumn, athenaRenderer, decimalText, javaDoubleString, javaFloatString, TYPE_ID } from '../../src/lib/local/athena-results.js';
import { rewriteForDuckdb } from '../../src/lib/local/athena-rewrite.js';
import { AthenaSqlError, bindParameters, singleStatement } from '../../src/lib/local/athena-sql.js';
import { translateDuckdbError } from '../../src/lib/local/athena-sql-errors.js';
import { parseStatement, statementTypeOf } from '../../src/lib/local/athena-statements.js';
import { encodeHiveValue } from '../../src/lib/local/duckdb-lake-views.js';
import { collectScans, columnsRead, fileScanBytes, footerFromMetadata, identifiersIn } from '../../src/lib/local/scan-stats.js';

let conn: DuckDBConnection;

beforeAll(async () => {
  const instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  for (const statement of [...ATHENA_SESSION_SETTINGS, ...athenaFunctionStatements()]) await conn.run(statement);
});

afterAll(() => conn.closeSync());

/**
 * The value of one Athena SQL expression, as Athena's GetQueryResults renders it; read
 * both from the value and straight from the chunk's vector (as the engine reads results),
 * which must agree.
 */
async function value(expression: string): Promise<string | null> {
  const result = await conn.run(rewriteForDuckdb(`SELECT ${expression}`));
  const type = result.columnTypes()[0]!;
  const chunk = (await result.fetchChunk())!;
  const fromValue = athenaRenderer(type)(chunk.getColumnValues(0)[0]!);
  expect(athenaCellReader(type)(chunk.getColumnVector(0), 0)).toBe(fromValue);
  return fromValue;
}

async function athenaType(expression: string): Promise<string> {
  const result = await conn.runAndReadAll(rewriteForDuckdb(`SELECT ${expression}`));
  return athenaColumn('x', result.columnTypes()[0]!).type;
}

describe('Trino functions: date and time', () => {
  it.each([
    ["date_parse('2022/10/20/05', '%Y/%m/%d/%H')", '2022-10-20 05:00:00.000', 'doc: 2022-10-20 05:00:00.000'],
    ["date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')", '10-20-2022 05', 'doc: 10-20-2022 05'],
    ["date_format(TIMESTAMP '2022-10-20 05:10:00', '%M %e, %Y %h:%i %p')", 'October 20, 2022 05:10 AM', 'def: %M month name, %e day, %h 12-hour, %i minutes'],
    ["from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')", '2020-05-11 10:15:05.055 UTC', 'doc: 2020-05-11 11:15:05.055 +01:00, the same instant shown in UTC'],
    ["from_iso8601_timestamp('2020-05-11')", '2020-05-11 00:00:00.000 UTC', 'doc: 2020-05-11 00:00:00.000 in the session zone, UTC on Athena'],
    ["from_iso8601_date('2020-05-11')", '2020-05-11', 'doc: 2020-05-11'],
    ["from_iso8601_date('2020-W10')", '2020-03-02', 'doc: 2020-03-02'],
    ["from_iso8601_date('2020-123')", '2020-05-02', 'doc: 2020-05-02'],
    ["date_add('second', 86, TIMESTAMP '2020-03-01 00:00:00')", '2020-03-01 00:01:26.000', 'doc: 2020-03-01 00:01:26.000'],
    ["date_add('hour', 9, TIMESTAMP '2020-03-01 00:00:00')", '2020-03-01 09:00:00.000', 'doc: 2020-03-01 09:00:00.000'],
    ["date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00')", '86400', 'doc: 86400'],
    ["date_diff('day', DATE '2020-03-01', DATE '2020-03-02')", '1', 'doc: 1'],
    ["date_diff('millisecond', TIMESTAMP '2020-06-01 12:30:45.000000000', TIMESTAMP '2020-06-02 12:30:45.123456789')", '86400123', 'doc: 86400123'],
    ["date_diff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00')", '0', 'def: whole days elapsed (DuckDB counts the midnight crossed: 1)'],
    ["date_trunc('month', TIMESTAMP '2022-10-20 05:10:00')", '2022-10-01 00:00:00.000', 'doc: 2022-10-01 00:00:00.000'],
    ["extract(YEAR FROM TIMESTAMP '2022-10-20 05:10:00')", '2022', 'doc: 2022'],
    ["year(TIMESTAMP '2022-10-20 05:10:00')", '2022', 'def: year of x'],
    ["month(TIMESTAMP '2022-10-20 05:10:00')", '10', 'def: month of x'],
    ["day(TIMESTAMP '2022-10-20 05:10:00')", '20', 'def: day of month'],
    ["hour(TIMESTAMP '2022-10-20 05:10:00')", '5', 'def: hour 0-23'],
    ["day_of_week(DATE '2024-05-19')", '7', 'def: ISO day of week, 7 = Sunday'],
    ["dow(DATE '2024-05-20')", '1', 'def: alias of day_of_week, 1 = Monday'],
    ["day_of_year(DATE '2021-02-01')", '32', 'def: day of the year 1-366'],
    ["week_of_year(DATE '2021-01-01')", '53', 'def: ISO week'],
    ["year_of_week(DATE '2021-01-01')", '2020', 'def: year of the ISO week'],
    ["millisecond(TIMESTAMP '2001-08-22 03:04:05.321')", '321', 'def: millisecond of the second (doc truncation example input)'],
    ["last_day_of_month(DATE '2024-02-10')", '2024-02-29', 'def: last day of the month'],
    ['from_unixtime(1589196905)', '2020-05-11 11:35:05.000 UTC', 'def: seconds since 1970-01-01 00:00:00 UTC'],
    ["to_unixtime(TIMESTAMP '2020-05-11 11:35:05')", '1.589196905E9', 'def: a double, shown as Java prints it'],
    ["to_iso8601(TIMESTAMP '2020-05-11 11:15:05')", '2020-05-11T11:15:05.000', 'def: ISO 8601 of a timestamp(3)'],
    ["to_iso8601(DATE '2020-05-11')", '2020-05-11', 'def: ISO 8601 of a date'],
    ["format_datetime(TIMESTAMP '2022-10-20 05:10:00', 'yyyy-MM-dd HH:mm:ss')", '2022-10-20 05:10:00', 'def: Joda pattern'],
    ["format_datetime(TIMESTAMP '2022-10-20 05:10:00', 'EEEE, MMMM d')", 'Thursday, October 20', 'def: Joda text fields'],
    ["parse_datetime('2022-10-20 05:10', 'yyyy-MM-dd HH:mm')", '2022-10-20 05:10:00.000 UTC', 'def: timestamp with time zone'],
    ["date('2024-05-17')", '2024-05-17', 'doc: alias for CAST(x AS date)'],
    ['current_timezone()', 'UTC', "def: the session zone, Athena's is UTC"],
  ])('%s = %s (%s)', async (expression, expected) => {
    expect(await value(expression)).toBe(expected);
  });

  it('current_timestamp is a timestamp with time zone (doc), rendered in UTC', async () => {
    expect(await athenaType('current_timestamp')).toBe('timestamp with time zone');
    expect(await value('current_timestamp')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC$/);
  });
});

describe('Trino functions: aggregates', () => {
  it.each([
    ['approx_distinct(x)', '(VALUES (1), (2), (2), (3)) t(x)', '3', 'def: approximates count(DISTINCT x)'],
    ['approx_distinct(x)', '(VALUES (CAST(NULL AS INTEGER))) t(x)', '0', 'doc: zero if all input values are null'],
    ['approx_percentile(x, 0.5)', 'range(1, 10) t(x)', '5', 'def: an input value at the percentile'],
    ['every(x)', '(VALUES (true), (false)) t(x)', 'false', 'doc: alias for bool_and'],
    ['count_if(x > 1)', 'range(4) t(x)', '2', 'doc: count(CASE WHEN x THEN 1 END)'],
    ['max_by(x, y)', "(VALUES ('a', 1), ('b', 3), ('c', 2)) t(x, y)", 'b', 'def: x at the maximum y'],
  ])('%s over %s = %s (%s)', async (aggregate, from, expected) => {
    expect(await value(`${aggregate} FROM ${from}`)).toBe(expected);
  });
});

describe('Trino functions: arrays and maps', () => {
  it.each<[string, string | null, string]>([
    ['ARRAY[1, 2, 4]', '[1, 2, 4]', 'doc: [1, 2, 4]'],
    ['ARRAY[1, 1.2, 4][2]', '1.2', 'doc: 1.2'],
    ["MAP(ARRAY['key1', 'key2', 'key3'], ARRAY[2373, 3463, 45837])", '{key1=2373, key2=3463, key3=45837}', 'doc: {key1=2373, key2=3463, key3=45837}'],
    ["MAP(ARRAY['key1', 'key2', 'key3'], ARRAY['v1', 'v2', 'v3'])['key2']", 'v2', 'doc: v2'],
    ['element_at(ARRAY[1, 2, 3], -1)', '3', 'doc: negative index counts from the end'],
    ['element_at(ARRAY[1, 2, 3], 5)', null, 'doc: NULL past the end'],
    ["element_at(MAP(ARRAY['a'], ARRAY[1]), 'b')", null, 'doc: NULL for a missing key'],
    ["element_at(MAP(ARRAY['a'], ARRAY[1]), 'a')", '1', 'doc: value for the key'],
    ['cardinality(ARRAY[1, 2, 3])', '3', 'doc: size of the array'],
    ["cardinality(MAP(ARRAY['k1', 'k2'], ARRAY[1, 2]))", '2', 'doc: size of the map'],
    ['contains(ARRAY[1, 2], 2)', 'true', 'doc: true if the array contains the element'],
    ["array_join(ARRAY['a', NULL, 'b'], ',')", 'a,b', 'doc: null elements are omitted'],
    ["array_join(ARRAY['a', NULL, 'b'], ',', 'x')", 'a,x,b', 'doc: optional null replacement'],
    ['array_position(ARRAY[1, 2], 3)', '0', 'doc: 0 if not found'],
    ['array_max(ARRAY[4, 9, 2])', '9', 'doc: maximum value'],
    ['array_min(ARRAY[4, 9, 2])', '2', 'doc: minimum value'],
    ['array_distinct(ARRAY[3, 1, 3, 2])', '[3, 1, 2]', 'doc: duplicates removed'],
    ['slice(ARRAY[1, 2, 3, 4], 2, 2)', '[2, 3]', 'doc: from start, length elements'],
    ['sequence(1, 5)', '[1, 2, 3, 4, 5]', 'doc: start to stop by 1'],
    ['transform(ARRAY[5, 6], x -> x + 1)', '[6, 7]', 'doc: [6, 7]'],
    ['filter(ARRAY[5, -6, NULL, 7], x -> x > 0)', '[5, 7]', 'doc: [5, 7]'],
    ['flatten(ARRAY[ARRAY[1, 2], ARRAY[3]])', '[1, 2, 3]', 'doc: concatenates the arrays'],
    ["map_keys(MAP(ARRAY['k1', 'k2'], ARRAY[1, 2]))", '[k1, k2]', 'doc: the keys'],
    ["CAST(ROW(1, 'a') AS ROW(x INTEGER, y VARCHAR))", '{x=1, y=a}', 'doc: rows render {name=value}'],
    ['CAST(ARRAY[1, 2] AS ARRAY(VARCHAR))', '[1, 2]', "def: Trino's ARRAY(T) cast syntax"],
  ])('%s = %s (%s)', async (expression, expected) => {
    expect(await value(expression)).toBe(expected);
  });
});

describe('Trino functions: strings and regular expressions', () => {
  it.each<[string, string | null, string]>([
    ["split_part('a,b,c', ',', 2)", 'b', 'doc: field index starts at 1'],
    ["split_part('a,b,c', ',', 4)", null, 'doc: null past the number of fields'],
    ["strpos('high', 'ig')", '2', 'doc: position starting at 1'],
    ["strpos('high', 'x')", '0', 'doc: 0 if not found'],
    ["levenshtein_distance('kitten', 'sitting')", '3', 'def: edit distance'],
    ["hamming_distance('abc', 'abd')", '1', 'def: positions that differ'],
    ["codepoint('A')", '65', 'def: Unicode code point'],
    ["translate('abcd', 'a', 'z')", 'zbcd', "doc: 'zbcd'"],
    ["regexp_like('1a 2b 14m', '\\d+b')", 'true', 'doc: true'],
    ["regexp_extract('1a 2b 14m', '\\d+')", '1', 'doc: 1'],
    ["regexp_extract('1a 2b 14m', '(\\d+)([a-z]+)', 2)", 'a', "doc: 'a'"],
    ["regexp_extract('abc', '\\d+')", null, 'def: NULL when nothing matches'],
    ["regexp_extract_all('1a 2b 14m', '\\d+')", '[1, 2, 14]', 'doc: [1, 2, 14]'],
    ["regexp_replace('1a 2b 14m', '\\d+[ab] ')", '14m', "doc: '14m'"],
    ["regexp_replace('1a 2b 14m', '(\\d+)([ab]) ', '3c$2 ')", '3ca 3cb 14m', "doc: '3ca 3cb 14m'"],
    ["regexp_count('1a 2b 14m', '\\s*[a-z]+\\s*')", '3', 'doc: 3'],
    ["regexp_split('1a 2b 14m', '\\s*[a-z]+\\s*')", '[1, 2, 14, ]', 'doc: [1, 2, 14, ]'],
    ["url_extract_protocol('http://localhost:8080/req_path')", 'http', 'doc: http'],
    ["url_extract_protocol('ftp://path/file')", 'ftp', 'doc: ftp'],
    ["url_extract_host('https://127.0.0.1:8080/req_path')", '127.0.0.1', 'def: the host'],
    ["url_extract_port('http://localhost:8080/req_path')", '8080', 'def: the port'],
    ["url_extract_path('http://localhost:8080/req_path?x=1#f')", '/req_path', 'def: the path'],
    ["url_extract_query('http://localhost:8080/req_path?x=1&y=2#f')", 'x=1&y=2', 'def: the query string'],
    ["url_extract_fragment('http://localhost:8080/req_path?x=1#frag')", 'frag', 'def: the fragment'],
    ["url_extract_parameter('http://x.com/p?a=1&b=c+d', 'b')", 'c d', 'def: first parameter named b, decoded'],
    ["url_encode('a b*~')", 'a+b*%7E', 'doc: space as +, * kept, other characters %XX'],
    ["url_decode('a+b%2A')", 'a b*', 'doc: inverse of url_encode'],
  ])('%s = %s (%s)', async (expression, expected) => {
    expect(await value(expression)).toBe(expected);
  });
});

describe('Trino functions: JSON', () => {
  it.each<[string, string | null, string]>([
    ["json_extract_scalar('[1, 2, 3]', '$[2]')", '3', "doc example json_extract_scalar('[1, 2, 3]', '$[2]')"],
    ['json_extract_scalar(\'{"a": {"b": 1}}\', \'$.a\')', null, 'doc: the value must be a scalar'],
    ['json_extract(\'{"a": {"b": 1}}\', \'$.a\')', '{"b":1}', 'doc: the result as a JSON string'],
    ['json_size(\'{"x": {"a": 1, "b": 2}}\', \'$.x\')', '2', 'doc: 2'],
    ["json_size('{\"x\": [1, 2, 3]}', '$.x')", '3', 'doc: 3'],
    ['json_size(\'{"x": {"a": 1, "b": 2}}\', \'$.x.a\')', '0', 'doc: 0'],
    ["json_array_length('[1, 2, 3]')", '3', 'doc: 3'],
    ["json_array_contains('[1, 2, 3]', 2)", 'true', 'doc: true'],
    ["json_array_get('[\"a\", [3, 9], \"c\"]', 1)", '[3,9]', "doc: JSON '[3,9]'"],
    ["json_parse('[1, 2, 3]')", '[1,2,3]', "doc: JSON '[1,2,3]'"],
    ["json_format(json_parse('[1, 2, 3]'))", '[1,2,3]', "doc: '[1,2,3]'"],
    ["is_json_scalar('1')", 'true', 'doc: true'],
    ["is_json_scalar('[1, 2, 3]')", 'false', 'doc: false'],
  ])('%s = %s (%s)', async (expression, expected) => {
    expect(await value(expression)).toBe(expected);
  });
});

describe('Trino functions: math, bits, conversions', () => {
  it.each<[string, string | null, string]>([
    ['bitwise_and(19, 25)', '17', 'doc: 17'],
    ['bitwise_or(19, 25)', '27', 'doc: 27'],
    ['bitwise_xor(19, 25)', '10', 'doc: 10'],
    ['bitwise_not(19)', '-20', 'doc: NOT x = -x - 1'],
    ['truncate(-42.8e0)', '-42.0', 'def: drops the digits after the decimal point'],
    ['is_nan(nan())', 'true', 'def: NaN is NaN'],
    ['is_finite(infinity())', 'false', 'def: infinity is not finite'],
    ['is_infinite(infinity())', 'true', 'def: infinity is infinite'],
    ['infinity()', 'Infinity', 'def: positive infinity'],
    ['7 / 2', '3', 'def: integer division truncates'],
    ['-7 / 2', '-3', 'def: integer division truncates toward zero'],
    ["try(CAST('x' AS INTEGER))", null, 'def: try returns NULL on error'],
    ["try_cast('x' AS INTEGER)", null, 'def: NULL when the cast fails'],
    ["from_utf8(to_utf8('héllo'))", 'héllo', 'def: round trip through UTF-8'],
    ["to_utf8('hi')", '68 69', 'def: varbinary rendered as hex bytes'],
  ])('%s = %s (%s)', async (expression, expected) => {
    expect(await value(expression)).toBe(expected);
  });

  it('provides at least 25 Trino functions as macros', () => {
    expect(ATHENA_FUNCTIONS.length).toBeGreaterThanOrEqual(25);
  });
});

describe('date format conversion', () => {
  it.each([
    ['mysql', '%Y-%m-%d %H:%i:%s', '%Y-%m-%d %H:%M:%S'],
    ['mysql', '%M %i %% %T', '%B %M %% %H:%M:%S'],
    ['joda', "yyyy-MM-dd'T'HH:mm:ss.SSS", '%Y-%m-%dT%H:%M:%S.%g'],
    ['joda', 'd MMM yy, h:mm a', '%-d %b %y, %-I:%M %p'],
  ] as const)('%s %s -> %s', (dialect, format, expected) => {
    expect(convertDateFormat(dialect, format)).toBe(expected);
  });

  it('converts a non-literal format in SQL', () => {
    expect(rewriteForDuckdb("SELECT date_parse(s, f) FROM t")).toContain("date_parse(s, replace(replace(");
  });
});

describe('Athena result rendering', () => {
  it.each([
    [3, '3.0'],
    [0.001, '0.001'],
    [1e-4, '1.0E-4'],
    [1234567.5, '1234567.5'],
    [1e7, '1.0E7'],
    [12345678.9, '1.23456789E7'],
    [-0.5, '-0.5'],
    [Number.NaN, 'NaN'],
    [-Infinity, '-Infinity'],
  ])('double %d renders as Java does: %s', (x, expected) => {
    expect(javaDoubleString(x)).toBe(expected);
  });

  it('renders a decimal from its scaled integer, exactly, on both sides of 2^53', () => {
    expect([decimalText(-5, 2), decimalText(5n, 2), decimalText(12345n, 2), decimalText(-123450, 3), decimalText(0n, 2), decimalText(7n, 0)]).toEqual(['-0.05', '0.05', '123.45', '-123.450', '0.00', '7']);
    expect(decimalText(9007199254740991n, 4)).toBe('900719925474.0991');
    expect(decimalText(9007199254740993n, 4)).toBe('900719925474.0993');
    expect(decimalText(-12345678901234567890n, 2)).toBe('-123456789012345678.90');
    expect(decimalText(5n, 18)).toBe('0.000000000000000005');
    expect(decimalText(-99n, 15)).toBe('-0.000000000000099');
  });

  it('renders a real with float digits (Java Float.toString)', () => {
    expect(javaFloatString(0.1)).toBe('0.1');
    expect(javaFloatString(1.1)).toBe('1.1');
  });

  it.each<[string, string | null]>([
    ["TIMESTAMP '2024-05-17 13:45:00.123456'", '2024-05-17 13:45:00.123'],
    ["TIMESTAMP '1969-12-31 23:59:59.5'", '1969-12-31 23:59:59.500'],
    ["DATE '2024-05-17'", '2024-05-17'],
    ["CAST('12.5' AS DECIMAL(10,2))", '12.50'],
    ["CAST('-0.05' AS DECIMAL(10,2))", '-0.05'],
    ["CAST('0' AS DECIMAL(5,3))", '0.000'],
    ["CAST('-7' AS DECIMAL(4,0))", '-7'],
    ["CAST('-12345678901234567890123456.789' AS DECIMAL(38,3))", '-12345678901234567890123456.789'],
    // Each storage width: 16-, 32-, 64- and 128-bit scaled integers.
    ["CAST('-1.5' AS DECIMAL(4,1))", '-1.5'],
    ["CAST('12345.6789' AS DECIMAL(9,4))", '12345.6789'],
    ["CAST('-90071992547.40991' AS DECIMAL(18,5))", '-90071992547.40991'],
    ["CAST('999999999999999999.99' AS DECIMAL(20,2))", '999999999999999999.99'],
    ["CAST('0.000000000000000005' AS DECIMAL(18,18))", '0.000000000000000005'],
    ["INTERVAL '2' DAY + INTERVAL '3' HOUR", '2 03:00:00.000'],
    ["INTERVAL '3' YEAR + INTERVAL '5' MONTH", '3-5'],
    ['true', 'true'],
    ["ARRAY[1, NULL]", '[1, null]'],
    ["MAP(ARRAY['a'], ARRAY[ARRAY[1, 2]])", '{a=[1, 2]}'],
    ["{'x': 1, 'y': 'a'}", '{x=1, y=a}'],
    ['CAST(NULL AS VARCHAR)', null],
  ])('%s renders as %s', async (expression, expected) => {
    expect(await value(expression)).toBe(expected);
  });

  it.each([
    ['1', 'integer'],
    ['CAST(1 AS BIGINT)', 'bigint'],
    ['sum(CAST(x AS BIGINT)) FROM range(2) t(x)', 'bigint'],
    ['CAST(1 AS REAL)', 'float'],
    ['1e0', 'double'],
    ["'a'", 'varchar'],
    ["json_parse('1')", 'json'],
    ["CAST('1' AS DECIMAL(10,2))", 'decimal'],
    ["to_utf8('a')", 'varbinary'],
    ["TIMESTAMP '2024-05-17 00:00:00'", 'timestamp'],
  ])('the type of %s is %s', async (expression, expected) => {
    expect(await athenaType(expression)).toBe(expected);
  });

  it('gives decimal precision and scale', async () => {
    const result = await conn.runAndReadAll("SELECT CAST('1' AS DECIMAL(10,2)) AS p");
    expect(athenaColumn('p', result.columnTypes()[0]!)).toEqual({ name: 'p', type: 'decimal', precision: 10, scale: 2 });
  });

  it('keeps its type ids in step with DuckDB', () => {
    for (const [name, id] of Object.entries(TYPE_ID)) expect(DuckDBTypeId[name as keyof typeof DuckDBTypeId]).toBe(id);
  });

  it('writes and reads back Athena CSV: quoted values, "" is empty, an empty field is NULL', () => {
    const csv = toAthenaCsv(
      [
        { name: 'a', type: 'varchar' },
        { name: 'b', type: 'varchar' },
      ],
      [
        ['x"y', null],
        ['', 'line\nbreak'],
      ],
    );
    expect(csv).toBe('"a","b"\n"x""y",\n"","line\nbreak"\n');
    expect(parseAthenaCsv(csv)).toEqual([
      ['a', 'b'],
      ['x"y', null],
      ['', 'line\nbreak'],
    ]);
  });
});

describe('Athena SQL text', () => {
  it('binds ExecutionParameters in order, outside strings and comments', () => {
    expect(bindParameters("SELECT '?' AS q, x FROM t WHERE a = ? -- ?\nAND b = ?", ["'abc'", '12'])).toBe("SELECT '?' AS q, x FROM t WHERE a = 'abc' -- ?\nAND b = 12");
  });

  it('refuses a parameter count that does not match', () => {
    expect(() => bindParameters('SELECT ?', [])).toThrow('INVALID_PARAMETER_USAGE: Incorrect number of parameters: expected 1 but found 0');
  });

  it('allows one statement, with a trailing semicolon', () => {
    expect(singleStatement('SELECT 1;  ')).toBe('SELECT 1');
    expect(() => singleStatement('SELECT 1; SELECT 2')).toThrow(AthenaSqlError);
  });

  it.each([
    ['SELECT 1', 'DML'],
    ['WITH a AS (SELECT 1) SELECT * FROM a', 'DML'],
    ['CREATE TABLE t AS SELECT 1', 'DML'],
    ['INSERT INTO t SELECT 1', 'DML'],
    ['CREATE EXTERNAL TABLE t (a int)', 'DDL'],
    ['ALTER TABLE t ADD PARTITION (a=1)', 'DDL'],
    ['DROP TABLE t', 'DDL'],
    ['MSCK REPAIR TABLE t', 'DDL'],
    ['SHOW PARTITIONS t', 'UTILITY'],
    ['SHOW CREATE TABLE t', 'UTILITY'],
    ['DESCRIBE t', 'UTILITY'],
    ['EXPLAIN SELECT 1', 'UTILITY'],
  ])('%s is %s', (sql, type) => {
    expect(statementTypeOf(sql)).toBe(type);
  });

  it('reads ALTER TABLE ADD PARTITION with locations', () => {
    expect(parseStatement("ALTER TABLE db.t ADD IF NOT EXISTS PARTITION (year='2024', month='05') LOCATION 's3://b/x/' PARTITION (year='2024', month='06')")).toEqual({
      kind: 'add-partitions',
      table: ['db', 't'],
      ifNotExists: true,
      partitions: [{ values: { year: '2024', month: '05' }, location: 's3://b/x/' }, { values: { year: '2024', month: '06' } }],
    });
  });

  it.each([
    ['Catalog Error: Table with name nope does not exist!\nDid you mean "n"?', 'SELECT * FROM nope', "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.nope' does not exist"],
    ['Catalog Error: Table with name nope does not exist!', 'SELECT *\nFROM other.nope', "TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.other.nope' does not exist"],
    ['Catalog Error: Table with name "x.nope" does not exist because schema "x" does not exist.', 'SELECT * FROM x.nope', "SCHEMA_NOT_FOUND: line 1:15: Schema 'x' does not exist"],
    ['Binder Error: Referenced column "nocol" not found in FROM clause!', 'SELECT nocol FROM t', "COLUMN_NOT_FOUND: line 1:8: Column 'nocol' cannot be resolved"],
    ['Catalog Error: Scalar Function with name nofn does not exist!', 'SELECT nofn(1)', "FUNCTION_NOT_FOUND: line 1:8: Function 'nofn' not registered"],
    ['Parser Error: syntax error at or near "SELEC"\n\nLINE 1: SELEC 1\n        ^', 'SELEC 1', "SYNTAX_ERROR: line 1:1: mismatched input 'SELEC'"],
    ["Conversion Error: Could not convert string 'x' to INT32", "SELECT CAST('x' AS INTEGER)", "INVALID_CAST_ARGUMENT: Could not convert string 'x' to INT32"],
  ])('rewords %j as Athena does', (message, sql, expected) => {
    expect(translateDuckdbError(message, sql, 'db')).toEqual({ reason: expected, category: 2 });
  });
});

describe('scan statistics', () => {
  const footer = footerFromMetadata(500, 10, ['id', 'info', 'name'], [
    { path: 'id', bytes: 100 },
    { path: 'info, x', bytes: 30 },
    { path: 'info, y', bytes: 20 },
    { path: 'name', bytes: 7 },
  ]);

  it('bills the footer (metadata + 8 bytes) and the chunks of the columns read', () => {
    expect(fileScanBytes(footer, [])).toBe(508);
    expect(fileScanBytes(footer, [{ column: 'id', fields: [] }])).toBe(608);
    expect(fileScanBytes(footer, [{ column: 'info', fields: [] }])).toBe(558);
    expect(fileScanBytes(footer, [{ column: 'info', fields: [['y']] }])).toBe(528);
  });

  it('reads a lake scan from the plan: marker, projections, filter columns, file filters', () => {
    const plan = [
      {
        name: 'HASH_GROUP_BY',
        children: [
          {
            name: 'READ_PARQUET',
            children: [],
            extra_info: {
              Function: 'READ_PARQUET',
              Projections: ['name', 'info.y', 'month'],
              Filters: ['file_index!=1000000007', "id>5 AND \"name\"='x'"],
              'File Filters': "(month = '05')",
              'Scanning Files': '1/3',
            },
          },
          { name: 'READ_PARQUET', children: [], extra_info: { Function: 'READ_PARQUET', Projections: 'x' } },
        ],
      },
    ];
    const scans = collectScans(plan);
    expect(scans).toEqual([{ marker: 1000000007, projections: ['name', 'info.y', 'month'], filters: ["id>5 AND \"name\"='x'"], fileFilters: "(month = '05')", scanningFiles: { selected: 1, total: 3 } }]);
    expect(columnsRead(scans[0]!, new Set(['id', 'info', 'name']))).toEqual([
      { column: 'id', fields: [] },
      { column: 'info', fields: [['y']] },
      { column: 'name', fields: [] },
    ]);
  });

  it('finds identifiers (keywords too; callers keep data columns) outside string literals', () => {
    expect(identifiersIn("(\"Odd Name\" = 'status') AND amount>5")).toEqual(['odd name', 'and', 'amount']);
  });

  it("encodes partition values so DuckDB's hive parsing gives them back exactly", () => {
    expect(encodeHiveValue('05')).toBe('05');
    expect(encodeHiveValue('2024/05/17')).toBe('2024%2F05%2F17');
    expect(encodeHiveValue('a b=é')).toBe('a%20b%3D%C3%A9');
    expect(encodeHiveValue('NULL')).toBe('%4EULL');
  });
});
