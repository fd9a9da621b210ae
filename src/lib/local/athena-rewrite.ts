/** Trino syntax DuckDB spells differently, rewritten before DuckDB sees the SQL. */
import { convertDateFormat, convertDateFormatSql, DATE_FORMAT_ARGUMENT, sqlString } from './athena-functions.js';
import { nextSignificantIndex, significant, type Token, tokenize } from './athena-sql.js';

/**
 * Trino spellings DuckDB reads differently: `ARRAY(T)` and `ROW(a T)` in a CAST's type
 * become `T[]` and `STRUCT(a T)`; date format arguments (MySQL's `%i`, Joda's `HH:mm`) are
 * converted to strftime's; the lambda functions Trino names differently are renamed (a
 * macro cannot take a lambda argument).
 */
export function rewriteForDuckdb(sql: string): string {
  const tokens = tokenize(sql);
  return rewriteRange(tokens, 0, tokens.length);
}

function rewriteRange(tokens: Token[], from: number, to: number): string {
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    const open = t.kind === 'word' ? nextSignificantIndex(tokens, i, to) : undefined;
    if (open === undefined || tokens[open]!.text !== '(') {
      out.push(t.text);
      continue;
    }
    const close = matchingParen(tokens, open, to);
    const lower = t.text.toLowerCase();
    if (lower === 'cast' || lower === 'try_cast') {
      const as = topLevelWord(tokens, open + 1, close, 'AS');
      if (as !== undefined) {
        out.push(tokenText(tokens, i, open + 1), rewriteRange(tokens, open + 1, as), 'AS ', trinoTypeToDuckdb(tokens.slice(as + 1, close)), ')');
        i = close;
        continue;
      }
    }
    const dialect = DATE_FORMAT_ARGUMENT[lower];
    if (dialect) {
      const args = splitArguments(tokens, open + 1, close);
      if (args.length === 2) {
        const [value, format] = args as [[number, number], [number, number]];
        const formatTokens = significant(tokens.slice(format[0], format[1]));
        const literal = formatTokens.length === 1 && formatTokens[0]!.kind === 'string' ? formatTokens[0] : undefined;
        const converted = literal
          ? sqlString(convertDateFormat(dialect, literal.text.slice(1, -1).split("''").join("'")))
          : convertDateFormatSql(dialect, rewriteRange(tokens, format[0], format[1]));
        out.push(tokenText(tokens, i, open + 1), rewriteRange(tokens, value[0], value[1]), ', ', converted, ')');
        i = close;
        continue;
      }
    }
    out.push(LAMBDA_RENAMES[lower] ?? t.text);
  }
  return out.join('');
}

/** Trino functions taking lambdas, and their DuckDB names. */
const LAMBDA_RENAMES: Record<string, string> = {
  transform: 'list_transform',
  filter: 'list_filter',
};

function tokenText(tokens: Token[], from: number, to: number): string {
  return tokens
    .slice(from, to)
    .map((t) => t.text)
    .join('');
}

/** Index of the `)` closing the `(` at `open` (or `to` when unbalanced). */
function matchingParen(tokens: Token[], open: number, to: number): number {
  let depth = 0;
  for (let j = open; j < to; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    if (t.text === ')' && --depth === 0) return j;
  }
  return to;
}

function topLevelWord(tokens: Token[], from: number, to: number, word: string): number | undefined {
  let depth = 0;
  for (let j = from; j < to; j++) {
    const t = tokens[j]!;
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') depth--;
    if (depth === 0 && t.kind === 'word' && t.text.toUpperCase() === word) return j;
  }
  return undefined;
}

/** Token ranges of a call's arguments, split at top-level commas. */
function splitArguments(tokens: Token[], from: number, to: number): [number, number][] {
  const args: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let j = from; j < to; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'punct') continue;
    if (t.text === '(' || t.text === '[') depth++;
    if (t.text === ')' || t.text === ']') depth--;
    if (depth === 0 && t.text === ',') {
      args.push([start, j]);
      start = j + 1;
    }
  }
  if (significant(tokens.slice(start, to)).length > 0 || args.length > 0) args.push([start, to]);
  return args;
}

/** `ARRAY(VARCHAR)` -> `VARCHAR[]`, `ROW(a BIGINT)` -> `STRUCT(a BIGINT)`, recursively. */
function trinoTypeToDuckdb(tokens: Token[]): string {
  const sig = significant(tokens);
  let pos = 0;
  const parseType = (): string => {
    const t = sig[pos++];
    if (!t) return '';
    const upper = t.kind === 'word' ? t.text.toUpperCase() : '';
    if ((upper === 'ARRAY' || upper === 'ROW' || upper === 'MAP') && sig[pos]?.text === '(') {
      pos++;
      const parts: string[] = [];
      while (pos < sig.length && sig[pos]!.text !== ')') {
        if (sig[pos]!.text === ',') {
          pos++;
          continue;
        }
        if (upper === 'ROW' && (sig[pos]!.kind === 'word' || sig[pos]!.kind === 'quoted') && sig[pos + 1] && sig[pos + 1]!.text !== ',' && sig[pos + 1]!.text !== ')' && sig[pos + 1]!.text !== '(') {
          const name = sig[pos++]!.text;
          parts.push(`${name} ${parseType()}`);
        } else {
          parts.push(parseType());
        }
      }
      pos++;
      if (upper === 'ARRAY') return `${parts[0] ?? 'VARCHAR'}[]`;
      if (upper === 'ROW') return `STRUCT(${parts.join(', ')})`;
      return `MAP(${parts.join(', ')})`;
    }
    let text = t.text;
    // Parameterised primitives: varchar(10), decimal(10,2), timestamp(3).
    if (sig[pos]?.text === '(') {
      const start = pos;
      let depth = 0;
      do {
        if (sig[pos]!.text === '(') depth++;
        if (sig[pos]!.text === ')') depth--;
        pos++;
      } while (depth > 0 && pos < sig.length);
      const args = sig
        .slice(start, pos)
        .map((x) => x.text)
        .join('');
      // DuckDB timestamps have one precision; Trino's timestamp(3) is the same type here.
      text = upper === 'TIMESTAMP' || upper === 'TIME' ? text : text + args;
    }
    // `timestamp with time zone`, `double precision`: the trailing words belong to the type.
    while (sig[pos]?.kind === 'word') text += ' ' + sig[pos++]!.text;
    if (upper === 'VARBINARY') return 'BLOB';
    return text;
  };
  const result = parseType();
  return pos >= sig.length ? result : tokens.map((t) => t.text).join('').trim();
}
