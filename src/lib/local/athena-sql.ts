/**
 * Athena SQL text, before DuckDB sees it: a small tokenizer (strings, quoted identifiers and
 * comments are never rewritten), ExecutionParameters binding, the one-statement rule and
 * the functions a statement calls. Statement kinds are in athena-statements.ts, Trino
 * rewrites in athena-rewrite.ts, errors worded as Athena's in athena-sql-errors.ts.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'punct' | 'space' | 'comment';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset in the SQL text. */
  start: number;
}

/** Splits SQL into tokens; concatenating every token's text gives back the input. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(ch)) {
      let j = i + 1;
      while (j < sql.length && /\s/.test(sql[j]!)) j++;
      push('space', j);
    } else if (ch === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      push('comment', j < 0 ? sql.length : j);
    } else if (ch === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      push('comment', j < 0 ? sql.length : j + 2);
    } else if (ch === "'" || ch === '"' || ch === '`') {
      push(ch === "'" ? 'string' : 'quoted', closingQuote(sql, i, ch));
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      push('word', j);
    } else if (/[0-9]/.test(ch) || (ch === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i + 1;
      while (j < sql.length && /[0-9.]/.test(sql[j]!)) j++;
      if ((sql[j] === 'e' || sql[j] === 'E') && /[-+0-9]/.test(sql[j + 1] ?? '')) {
        j += 2;
        while (j < sql.length && /[0-9]/.test(sql[j]!)) j++;
      }
      push('number', j);
    } else if (ch === '?') {
      push('param', i + 1);
    } else {
      push('punct', i + 1);
    }
  }
  return tokens;
}

function closingQuote(sql: string, start: number, quote: string): number {
  let j = start + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

export function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** The unquoted, lowercased name of a word or quoted-identifier token. */
export function identifierName(token: Token): string {
  if (token.kind === 'quoted') {
    const q = token.text[0]!;
    return token.text.slice(1, -1).split(q + q).join(q);
  }
  return token.text.toLowerCase();
}

/** An error in the SQL text itself, worded as Athena words it. */
export class AthenaSqlError extends Error {
  constructor(
    message: string,
    readonly category: 1 | 2 | 3 = 2,
  ) {
    super(message);
    this.name = 'AthenaSqlError';
  }
}

/**
 * ExecutionParameters: each `?` outside strings, identifiers and comments is replaced, in
 * order, by the literal text given (`'abc'`, `12`, `DATE '2024-05-17'`), as Athena does.
 */
export function bindParameters(sql: string, params: readonly string[] = []): string {
  const tokens = tokenize(sql);
  const found = tokens.filter((t) => t.kind === 'param').length;
  if (found !== params.length) {
    throw new AthenaSqlError(`INVALID_PARAMETER_USAGE: Incorrect number of parameters: expected ${found} but found ${params.length}`);
  }
  if (found === 0) return sql;
  let n = 0;
  return tokens.map((t) => (t.kind === 'param' ? params[n++]! : t.text)).join('');
}

/** Lowercased names of the functions the SQL calls (a word followed by `(`). */
export function calledFunctions(sql: string): Set<string> {
  const tokens = significant(tokenize(sql));
  const names = new Set<string>();
  tokens.forEach((t, i) => {
    if (t.kind === 'word' && tokens[i + 1]?.text === '(' && tokens[i - 1]?.text !== '.') names.add(t.text.toLowerCase());
  });
  return names;
}

/** The SQL without a trailing `;`; more than one statement is refused, as Athena does. */
export function singleStatement(sql: string): string {
  const tokens = tokenize(sql);
  const semicolon = tokens.findIndex((t) => t.kind === 'punct' && t.text === ';');
  if (semicolon < 0) return sql;
  const rest = significant(tokens.slice(semicolon + 1)).filter((t) => t.text !== ';');
  if (rest.length > 0) throw new AthenaSqlError('INVALID_INPUT: Only one sql statement is allowed.');
  return tokens
    .slice(0, semicolon)
    .map((t) => t.text)
    .join('');
}

export function nextSignificantIndex(tokens: Token[], index: number, to: number): number | undefined {
  for (let j = index + 1; j < to; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'space' && t.kind !== 'comment') return j;
  }
  return undefined;
}

export function nextSignificant(tokens: Token[], index: number): Token | undefined {
  const j = nextSignificantIndex(tokens, index, tokens.length);
  return j === undefined ? undefined : tokens[j];
}
