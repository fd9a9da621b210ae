/**
 * Trino (Athena engine 3) functions that DuckDB lacks, spells differently or gives other
 * semantics, as DuckDB macros. They are TEMP macros, created on each connection: a temp
 * macro shadows a built-in of the same name, and the built-in stays reachable as
 * `system.main.<name>` for the macros that wrap it.
 *
 * Trino semantics kept here (see test/unit/athena-compat.test.ts, one test per function with
 * the value Trino's documentation gives): split_part and regexp_extract return NULL where
 * DuckDB returns '', regexp_replace replaces every match and takes `$1` group references,
 * date_diff counts whole units elapsed (DuckDB's date_diff counts boundaries), element_at is
 * 1-based with negative indexes and NULL past the end, array_position returns 0 when absent.
 */

/** A function Athena SQL can call, and the DuckDB macro (with overloads) that provides it. */
export interface AthenaFunction {
  name: string;
  /** `(params) AS body` overloads, joined with `, ` in CREATE MACRO. */
  overloads: string[];
}

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

type Replacements = readonly (readonly [string, string])[];

/**
 * MySQL date format (Trino's date_format/date_parse) to DuckDB strftime/strptime. `%%` is
 * parked on a control character first; `%M` (month name) is rewritten before `%i`
 * (minutes) produces a `%M`.
 */
const MYSQL_FORMAT: Replacements = [
  ['%%', '\u0001'],
  ['%M', '%B'],
  ['%W', '%A'],
  ['%c', '%-m'],
  ['%e', '%-d'],
  ['%h', '%I'],
  ['%k', '%-H'],
  ['%l', '%-I'],
  ['%r', '%I:%M:%S %p'],
  ['%T', '%H:%M:%S'],
  ['%i', '%M'],
  ['%s', '%S'],
  ['%v', '%V'],
  ['%x', '%G'],
  ['\u0001', '%%'],
];

/**
 * Joda pattern (Trino's format_datetime/parse_datetime) to strftime. Each pattern letter
 * run is first parked on its own private-use character, so letters produced by one replacement
 * are never read as pattern letters by the next; quotes around literals are dropped.
 */
const JODA_RUNS: readonly [string, string][] = [
  ['yyyy', '%Y'],
  ['yy', '%y'],
  ['MMMM', '%B'],
  ['MMM', '%b'],
  ['MM', '%m'],
  ['M', '%-m'],
  ['dd', '%d'],
  ['d', '%-d'],
  ['HH', '%H'],
  ['H', '%-H'],
  ['hh', '%I'],
  ['h', '%-I'],
  ['mm', '%M'],
  ['m', '%-M'],
  ['ss', '%S'],
  ['s', '%-S'],
  ['SSSSSS', '%f'],
  ['SSS', '%g'],
  ['EEEE', '%A'],
  ['EEE', '%a'],
  ['a', '%p'],
  ['ZZ', '%z'],
  ['Z', '%z'],
];
const JODA_FORMAT: Replacements = [
  ['%', '%%'],
  ...JODA_RUNS.map(([pattern], i) => [pattern, String.fromCharCode(0xe000 + i)] as const),
  ["'", ''],
  ...JODA_RUNS.map(([, spec], i) => [String.fromCharCode(0xe000 + i), spec] as const),
];

export type DateFormatDialect = 'mysql' | 'joda';

const DIALECTS: Record<DateFormatDialect, Replacements> = { mysql: MYSQL_FORMAT, joda: JODA_FORMAT };

/**
 * Trino functions whose second argument is a date format: the SQL rewrite converts it to
 * DuckDB's strftime spelling at the call site (DuckDB's strptime takes only a constant
 * format, which a macro body cannot compute).
 */
export const DATE_FORMAT_ARGUMENT: Readonly<Record<string, DateFormatDialect>> = {
  date_parse: 'mysql',
  date_format: 'mysql',
  parse_datetime: 'joda',
  format_datetime: 'joda',
};

/** A format literal's text, converted. */
export function convertDateFormat(dialect: DateFormatDialect, format: string): string {
  return DIALECTS[dialect].reduce((acc, [from, to]) => acc.split(from).join(to), format);
}

/** A format given by an expression: the same conversion as nested `replace(...)` SQL. */
export function convertDateFormatSql(dialect: DateFormatDialect, expression: string): string {
  return DIALECTS[dialect].reduce((acc, [from, to]) => `replace(${acc}, ${sqlString(from)}, ${sqlString(to)})`, expression);
}

const URL_PARTS = "'^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://(?:[^@/?#]*@)?([^:/?#]*)(?::([0-9]+))?)?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$'";

/** The URL part `group` of RFC 2396's `[protocol:][//host[:port]][path][?query][#fragment]`. */
function urlPart(group: number): string {
  return `CASE WHEN regexp_matches(url, ${URL_PARTS}) THEN nullif(regexp_extract(url, ${URL_PARTS}, ${group}), '') END`;
}

const JSON_KIND = (j: string, p: string) => `json_type(json_extract(${j}, ${p}))`;

export const ATHENA_FUNCTIONS: readonly AthenaFunction[] = [
  // ------------------------------------------------------------ date and time
  // The format arguments of these four arrive converted (see DATE_FORMAT_ARGUMENT).
  { name: 'date_parse', overloads: ['(s, fmt) AS strptime(s, fmt)'] },
  { name: 'date_format', overloads: ['(ts, fmt) AS strftime(ts, fmt)'] },
  { name: 'format_datetime', overloads: ['(ts, fmt) AS strftime(ts, fmt)'] },
  { name: 'parse_datetime', overloads: ['(s, fmt) AS CAST(strptime(s, fmt) AS TIMESTAMPTZ)'] },
  { name: 'from_iso8601_timestamp', overloads: ['(s) AS CAST(s AS TIMESTAMPTZ)'] },
  {
    name: 'from_iso8601_date',
    overloads: [
      `(s) AS CASE
        WHEN regexp_matches(s, '^[0-9]{4}-W[0-9]{2}(-[1-7])?$') THEN make_date(CAST(left(s, 4) AS INTEGER), 1, 4)
          + CAST(1 - isodow(make_date(CAST(left(s, 4) AS INTEGER), 1, 4))
            + (CAST(substr(s, 7, 2) AS INTEGER) - 1) * 7
            + coalesce(CAST(nullif(substr(s, 10, 1), '') AS INTEGER) - 1, 0) AS INTEGER)
        WHEN regexp_matches(s, '^[0-9]{4}-[0-9]{3}$') THEN make_date(CAST(left(s, 4) AS INTEGER), 1, 1) + CAST(substr(s, 6, 3) AS INTEGER) - 1
        ELSE CAST(s AS DATE) END`,
    ],
  },
  {
    name: 'to_iso8601',
    overloads: [
      `(x) AS CASE typeof(x)
        WHEN 'DATE' THEN strftime(x, '%Y-%m-%d')
        WHEN 'TIMESTAMP WITH TIME ZONE' THEN strftime(x, '%Y-%m-%dT%H:%M:%S.%gZ')
        ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%g') END`,
    ],
  },
  { name: 'from_unixtime', overloads: ['(x) AS to_timestamp(CAST(x AS DOUBLE))'] },
  { name: 'to_unixtime', overloads: ['(ts) AS epoch(ts)'] },
  // Trino counts whole units elapsed; DuckDB's date_diff counts unit boundaries crossed.
  { name: 'date_diff', overloads: ['(unit, a, b) AS date_sub(unit, a, b)'] },
  { name: 'date_add', overloads: ["(unit, n, ts) AS ts + CAST(CAST(n AS VARCHAR) || ' ' || unit AS INTERVAL)"] },
  { name: 'day_of_week', overloads: ['(x) AS isodow(x)'] },
  { name: 'dow', overloads: ['(x) AS isodow(x)'] },
  { name: 'day_of_year', overloads: ['(x) AS dayofyear(x)'] },
  { name: 'doy', overloads: ['(x) AS dayofyear(x)'] },
  { name: 'day_of_month', overloads: ['(x) AS day(x)'] },
  { name: 'week_of_year', overloads: ['(x) AS week(x)'] },
  { name: 'year_of_week', overloads: ['(x) AS isoyear(x)'] },
  { name: 'yow', overloads: ['(x) AS isoyear(x)'] },
  // DuckDB's millisecond() includes the seconds (0-59999); Trino's is the millisecond of the second.
  { name: 'millisecond', overloads: ['(x) AS system.main.millisecond(x) % 1000'] },
  { name: 'last_day_of_month', overloads: ['(x) AS last_day(x)'] },
  { name: 'current_timezone', overloads: ["() AS current_setting('TimeZone')"] },
  { name: 'date', overloads: ['(x) AS CAST(x AS DATE)'] },
  // ------------------------------------------------------------ aggregates
  { name: 'approx_distinct', overloads: ['(x) AS approx_count_distinct(x)', '(x, e) AS approx_count_distinct(x)'] },
  // An element of the input, as Trino's q-digest returns (DuckDB's approx_quantile interpolates).
  { name: 'approx_percentile', overloads: ['(x, p) AS quantile_disc(x, p)'] },
  { name: 'every', overloads: ['(x) AS bool_and(x)'] },
  // ------------------------------------------------------------ arrays and maps
  { name: 'element_at', overloads: ['(x, k) AS x[k]'] },
  {
    name: 'cardinality',
    // One macro body must bind for both lists and maps: JSON's array length / key count does.
    overloads: ["(x) AS CASE json_type(to_json(x)) WHEN 'ARRAY' THEN json_array_length(to_json(x)) WHEN 'OBJECT' THEN len(json_keys(to_json(x))) END"],
  },
  {
    name: 'array_join',
    overloads: ['(x, d) AS array_to_string(x, d)', '(x, d, r) AS array_to_string(list_transform(x, e -> coalesce(CAST(e AS VARCHAR), r)), d)'],
  },
  { name: 'array_position', overloads: ['(x, e) AS coalesce(list_position(x, e), 0)'] },
  { name: 'array_max', overloads: ['(x) AS list_max(x)'] },
  { name: 'array_min', overloads: ['(x) AS list_min(x)'] },
  // Trino keeps the first occurrence's order; list_distinct does not.
  { name: 'array_distinct', overloads: ['(x) AS list_filter(x, (e, i) -> list_position(x, e) = i)'] },
  { name: 'slice', overloads: ['(x, start, n) AS list_slice(x, start, CASE WHEN start < 0 THEN len(x) + start + n ELSE start + n - 1 END)'] },
  { name: 'sequence', overloads: ['(a, b) AS generate_series(a, b, CASE WHEN a <= b THEN 1 ELSE -1 END)', '(a, b, step) AS generate_series(a, b, step)'] },
  // ------------------------------------------------------------ strings and regular expressions
  { name: 'split_part', overloads: ['(s, d, i) AS CASE WHEN i > len(string_split(s, d)) THEN NULL ELSE system.main.split_part(s, d, i) END'] },
  { name: 'levenshtein_distance', overloads: ['(a, b) AS levenshtein(a, b)'] },
  { name: 'hamming_distance', overloads: ['(a, b) AS hamming(a, b)'] },
  { name: 'codepoint', overloads: ['(s) AS unicode(s)'] },
  { name: 'to_utf8', overloads: ['(s) AS encode(s)'] },
  { name: 'from_utf8', overloads: ['(b) AS decode(b)'] },
  { name: 'regexp_like', overloads: ['(s, p) AS regexp_matches(s, p)'] },
  {
    name: 'regexp_extract',
    overloads: ['(s, p) AS CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p) END', '(s, p, g) AS CASE WHEN regexp_matches(s, p) THEN system.main.regexp_extract(s, p, g) END'],
  },
  {
    name: 'regexp_replace',
    overloads: ["(s, p) AS system.main.regexp_replace(s, p, '', 'g')", "(s, p, r) AS system.main.regexp_replace(s, p, system.main.regexp_replace(r, '\\$(\\d)', '\\\\\\1', 'g'), 'g')"],
  },
  { name: 'regexp_count', overloads: ['(s, p) AS len(regexp_extract_all(s, p))'] },
  { name: 'regexp_split', overloads: ['(s, p) AS regexp_split_to_array(s, p)'] },
  // ------------------------------------------------------------ JSON
  { name: 'json_extract_scalar', overloads: [`(j, p) AS CASE WHEN ${JSON_KIND('j', 'p')} NOT IN ('OBJECT', 'ARRAY') THEN json_extract_string(j, p) END`] },
  {
    name: 'json_size',
    overloads: [`(j, p) AS CASE ${JSON_KIND('j', 'p')} WHEN 'OBJECT' THEN len(json_keys(json_extract(j, p))) WHEN 'ARRAY' THEN json_array_length(json_extract(j, p)) ELSE 0 END`],
  },
  { name: 'json_parse', overloads: ['(s) AS json(s)'] },
  { name: 'json_format', overloads: ['(j) AS CAST(json(j) AS VARCHAR)'] },
  { name: 'is_json_scalar', overloads: ["(j) AS json_type(json(j)) NOT IN ('OBJECT', 'ARRAY')"] },
  { name: 'json_array_contains', overloads: ['(j, v) AS list_contains(CAST(json(j) AS JSON[]), to_json(v))'] },
  { name: 'json_array_get', overloads: ["(j, i) AS json_extract(j, CASE WHEN i < 0 THEN '$[#' || i || ']' ELSE '$[' || i || ']' END)"] },
  // ------------------------------------------------------------ URLs
  { name: 'url_extract_protocol', overloads: [`(url) AS ${urlPart(1)}`] },
  { name: 'url_extract_host', overloads: [`(url) AS ${urlPart(2)}`] },
  { name: 'url_extract_port', overloads: [`(url) AS CAST(${urlPart(3)} AS BIGINT)`] },
  { name: 'url_extract_path', overloads: [`(url) AS ${urlPart(4)}`] },
  { name: 'url_extract_query', overloads: [`(url) AS ${urlPart(5)}`] },
  { name: 'url_extract_fragment', overloads: [`(url) AS ${urlPart(6)}`] },
  {
    name: 'url_extract_parameter',
    overloads: [
      "(url, name) AS url_decode(regexp_extract(regexp_extract(url, '\\?([^#]*)', 1), '(?:^|&)' || regexp_escape(name) || '=([^&]*)', 1))",
    ],
  },
  // Trino encodes a space as `+`, keeps `*` and escapes `~`; DuckDB follows RFC 3986.
  { name: 'url_encode', overloads: ["(v) AS replace(replace(replace(system.main.url_encode(v), '%20', '+'), '~', '%7E'), '%2A', '*')"] },
  { name: 'url_decode', overloads: ["(v) AS system.main.url_decode(replace(v, '+', ' '))"] },
  // ------------------------------------------------------------ math and bits
  { name: 'truncate', overloads: ['(x) AS trunc(x)'] },
  { name: 'is_nan', overloads: ['(x) AS isnan(x)'] },
  { name: 'is_finite', overloads: ['(x) AS isfinite(x)'] },
  { name: 'is_infinite', overloads: ['(x) AS isinf(x)'] },
  { name: 'infinity', overloads: ["() AS CAST('Infinity' AS DOUBLE)"] },
  { name: 'nan', overloads: ["() AS CAST('NaN' AS DOUBLE)"] },
  { name: 'bitwise_and', overloads: ['(a, b) AS a & b'] },
  { name: 'bitwise_or', overloads: ['(a, b) AS a | b'] },
  { name: 'bitwise_xor', overloads: ['(a, b) AS xor(a, b)'] },
  { name: 'bitwise_not', overloads: ['(a) AS ~a'] },
];

const BY_NAME = new Map(ATHENA_FUNCTIONS.map((f) => [f.name, f]));

/** The statement installing one function, or undefined for a name that is not one of them. */
export function athenaFunctionStatement(name: string): string | undefined {
  const f = BY_NAME.get(name.toLowerCase());
  return f && `CREATE OR REPLACE TEMP MACRO ${f.name}${f.overloads.join(', ')}`;
}

/** The statements that install every function on a connection. */
export function athenaFunctionStatements(): string[] {
  return ATHENA_FUNCTIONS.map((f) => athenaFunctionStatement(f.name)!);
}

/** Functions whose macro calls another of these macros: that one is installed first. */
export function athenaFunctionDependencies(name: string): string[] {
  const f = BY_NAME.get(name.toLowerCase());
  if (!f) return [];
  const body = f.overloads.join(' ');
  return ATHENA_FUNCTIONS.filter((g) => g.name !== f.name && new RegExp(`(?<![.\\w])${g.name}\\s*\\(`, 'i').test(body)).map((g) => g.name);
}

/**
 * Session settings for Trino semantics: `/` on integers truncates, and timestamps with time
 * zone are in UTC (an Athena session's zone).
 */
export const ATHENA_SESSION_SETTINGS: readonly string[] = ["SET integer_division = true", "SET TimeZone = 'UTC'"];
