/**
 * Athena SQL text, before DuckDB sees it: a small tokenizer (strings, quoted identifiers and
 * comments are never rewritten), ExecutionParameters binding, the statement type Athena
 * reports, the few rewrites Trino syntax needs, and DuckDB errors reworded the way Athena
 * words them.
 */

import { convertDateFormat, convertDateFormatSql, DATE_FORMAT_ARGUMENT, sqlString } from './athena-functions.js';

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

function significant(tokens: Token[]): Token[] {
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

export type StatementType = 'DDL' | 'DML' | 'UTILITY';

/** What the statement is, from its first words. */
export type StatementKind =
  | { kind: 'query' }
  | { kind: 'explain'; analyze: boolean; body: string }
  | { kind: 'show-partitions'; table: string[] }
  | { kind: 'show-columns'; table: string[] }
  | { kind: 'describe'; table: string[] }
  | { kind: 'show-create-table'; table: string[] }
  | { kind: 'add-partitions'; table: string[]; ifNotExists: boolean; partitions: { values: Record<string, string>; location?: string }[] }
  | { kind: 'drop-partitions'; table: string[]; ifExists: boolean; partitions: Record<string, string>[] }
  | { kind: 'msck-repair'; table: string[] }
  | { kind: 'unsupported'; statementType: StatementType; what: string };

/**
 * Athena's StatementType: DDL for CREATE/DROP/ALTER/MSCK, DML for queries and for statements
 * that write data (CTAS, INSERT), UTILITY for SHOW, DESCRIBE and EXPLAIN. The API reference
 * names SHOW CREATE TABLE and DESCRIBE TABLE as UTILITY, so they are here too.
 */
export function statementTypeOf(sql: string): StatementType {
  const words = significant(tokenize(sql))
    .filter((t) => t.kind === 'word' || t.kind === 'punct')
    .slice(0, 8)
    .map((t) => t.text.toUpperCase());
  const first = words.find((w) => w !== '(');
  switch (first) {
    case 'SHOW':
    case 'DESCRIBE':
    case 'DESC':
    case 'EXPLAIN':
    case 'USE':
      return 'UTILITY';
    case 'CREATE': {
      // CREATE TABLE ... AS SELECT writes data: Athena counts CTAS as DML.
      const tokens = tokenize(sql);
      const ctas = words.includes('TABLE') && tokens.some((t, i) => t.kind === 'word' && t.text.toUpperCase() === 'AS' && ['SELECT', 'WITH'].includes(nextWord(tokens, i) ?? ''));
      return ctas ? 'DML' : 'DDL';
    }
    case 'DROP':
    case 'ALTER':
    case 'MSCK':
      return 'DDL';
    default:
      return 'DML';
  }
}

function nextWord(tokens: Token[], index: number): string | undefined {
  for (let j = index + 1; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.kind === 'space' || t.kind === 'comment' || (t.kind === 'punct' && t.text === '(')) continue;
    return t.text.toUpperCase();
  }
  return undefined;
}

/** Reads the statement's kind; queries are left for DuckDB to parse. */
export function parseStatement(sql: string): StatementKind {
  const tokens = significant(tokenize(sql));
  const reader = new TokenReader(tokens);
  const first = reader.peekWord();
  if (first === undefined || first === 'SELECT' || first === 'WITH' || first === 'VALUES' || first === 'TABLE' || reader.peekPunct('(')) {
    return { kind: 'query' };
  }
  if (first === 'EXPLAIN') {
    reader.next();
    let analyze = false;
    if (reader.peekWord() === 'ANALYZE') {
      reader.next();
      analyze = true;
    }
    // Trino's options list, e.g. EXPLAIN (TYPE IO, FORMAT JSON): DuckDB has its own.
    if (reader.peekPunct('(') && reader.peekWordAt(1) !== 'SELECT' && reader.peekWordAt(1) !== 'WITH') reader.skipParens();
    return { kind: 'explain', analyze, body: sql.slice(reader.offset(sql.length)) };
  }
  if (first === 'SHOW') {
    reader.next();
    const what = reader.peekWord();
    if (what === 'PARTITIONS') {
      reader.next();
      return { kind: 'show-partitions', table: reader.qualifiedName() };
    }
    if (what === 'COLUMNS') {
      reader.next();
      reader.expectWord('FROM', 'IN');
      const table = reader.qualifiedName();
      if (reader.peekWord() === 'FROM' || reader.peekWord() === 'IN') {
        reader.next();
        const db = reader.qualifiedName();
        return { kind: 'show-columns', table: [...db, ...table] };
      }
      return { kind: 'show-columns', table };
    }
    if (what === 'CREATE' && reader.peekWordAt(1) === 'TABLE') {
      reader.next();
      reader.next();
      return { kind: 'show-create-table', table: reader.qualifiedName() };
    }
    return { kind: 'unsupported', statementType: 'UTILITY', what: `SHOW ${what ?? ''}`.trim() };
  }
  if (first === 'DESCRIBE' || first === 'DESC') {
    reader.next();
    if (reader.peekWord() === 'FORMATTED' || reader.peekWord() === 'EXTENDED') reader.next();
    return { kind: 'describe', table: reader.qualifiedName() };
  }
  if (first === 'MSCK') {
    reader.next();
    reader.expectWord('REPAIR');
    reader.expectWord('TABLE');
    return { kind: 'msck-repair', table: reader.qualifiedName() };
  }
  if (first === 'ALTER' && reader.peekWordAt(1) === 'TABLE') {
    reader.next();
    reader.next();
    const table = reader.qualifiedName();
    const action = reader.peekWord();
    if (action === 'ADD') {
      reader.next();
      const ifNotExists = reader.optionalWords('IF', 'NOT', 'EXISTS');
      const partitions: { values: Record<string, string>; location?: string }[] = [];
      while (reader.peekWord() === 'PARTITION') {
        reader.next();
        const values = reader.partitionSpec();
        let location: string | undefined;
        if (reader.peekWord() === 'LOCATION') {
          reader.next();
          location = reader.stringLiteral();
        }
        partitions.push({ values, location });
      }
      if (partitions.length > 0 && reader.done()) return { kind: 'add-partitions', table, ifNotExists, partitions };
    }
    if (action === 'DROP') {
      reader.next();
      const ifExists = reader.optionalWords('IF', 'EXISTS');
      const partitions: Record<string, string>[] = [];
      do {
        reader.optionalPunct(',');
        reader.expectWord('PARTITION');
        partitions.push(reader.partitionSpec());
      } while (reader.peekPunct(','));
      if (reader.done()) return { kind: 'drop-partitions', table, ifExists, partitions };
    }
    return { kind: 'unsupported', statementType: 'DDL', what: `ALTER TABLE ${action ?? ''}`.trim() };
  }
  const statementType = statementTypeOf(sql);
  const what = tokens
    .slice(0, 3)
    .filter((t) => t.kind === 'word')
    .map((t) => t.text.toUpperCase())
    .join(' ');
  return { kind: 'unsupported', statementType, what };
}

class TokenReader {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  next(): Token | undefined {
    return this.tokens[this.pos++];
  }
  done(): boolean {
    return this.pos >= this.tokens.length;
  }
  offset(end: number): number {
    return this.tokens[this.pos]?.start ?? end;
  }
  peekWord(): string | undefined {
    return this.peekWordAt(0);
  }
  peekWordAt(ahead: number): string | undefined {
    const t = this.tokens[this.pos + ahead];
    return t?.kind === 'word' ? t.text.toUpperCase() : undefined;
  }
  peekPunct(text: string): boolean {
    const t = this.tokens[this.pos];
    return t?.kind === 'punct' && t.text === text;
  }
  optionalPunct(text: string): void {
    if (this.peekPunct(text)) this.pos++;
  }
  optionalWords(...words: string[]): boolean {
    if (!words.every((w, i) => this.peekWordAt(i) === w)) return false;
    this.pos += words.length;
    return true;
  }
  expectWord(...options: string[]): void {
    const word = this.peekWord();
    if (word === undefined || !options.includes(word)) this.fail(options.join(' or '));
    this.pos++;
  }
  skipParens(): void {
    let depth = 0;
    do {
      const t = this.next();
      if (!t) return;
      if (t.kind === 'punct' && t.text === '(') depth++;
      if (t.kind === 'punct' && t.text === ')') depth--;
    } while (depth > 0);
  }
  qualifiedName(): string[] {
    const parts: string[] = [];
    for (;;) {
      const t = this.tokens[this.pos];
      if (!t || (t.kind !== 'word' && t.kind !== 'quoted')) this.fail('a table name');
      parts.push(identifierName(t));
      this.pos++;
      if (!this.peekPunct('.')) return parts;
      this.pos++;
    }
  }
  stringLiteral(): string {
    const t = this.tokens[this.pos];
    if (t?.kind !== 'string') this.fail('a string literal');
    this.pos++;
    return t.text.slice(1, -1).split("''").join("'");
  }
  partitionSpec(): Record<string, string> {
    if (!this.peekPunct('(')) this.fail("'('");
    this.pos++;
    const spec: Record<string, string> = {};
    for (;;) {
      const key = this.tokens[this.pos];
      if (!key || (key.kind !== 'word' && key.kind !== 'quoted')) this.fail('a partition key');
      this.pos++;
      if (!this.peekPunct('=')) this.fail("'='");
      this.pos++;
      const value = this.tokens[this.pos];
      if (!value || (value.kind !== 'string' && value.kind !== 'number')) this.fail('a partition value');
      this.pos++;
      spec[identifierName(key)] = value.kind === 'string' ? value.text.slice(1, -1).split("''").join("'") : value.text;
      if (this.peekPunct(',')) {
        this.pos++;
        continue;
      }
      if (!this.peekPunct(')')) this.fail("')'");
      this.pos++;
      return spec;
    }
  }
  private fail(expected: string): never {
    const t = this.tokens[this.pos];
    throw new AthenaSqlError(`SYNTAX_ERROR: mismatched input '${t ? t.text : '<EOF>'}'. Expecting: ${expected}`);
  }
}

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

function nextSignificantIndex(tokens: Token[], index: number, to: number): number | undefined {
  for (let j = index + 1; j < to; j++) {
    const t = tokens[j]!;
    if (t.kind !== 'space' && t.kind !== 'comment') return j;
  }
  return undefined;
}

function nextSignificant(tokens: Token[], index: number): Token | undefined {
  const j = nextSignificantIndex(tokens, index, tokens.length);
  return j === undefined ? undefined : tokens[j];
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

// ---------------------------------------------------------------- positions and errors

/** 1-based line and column of an offset, as Trino reports them. */
export function lineColumn(sql: string, offset: number): { line: number; column: number } {
  const before = sql.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/**
 * Where an identifier chain ending in `name` first appears (e.g. `db.t` or `"db"."t"` for
 * `t`); with `qualifier`, the chain's part before the name must match it.
 */
export function locateName(sql: string, name: string, options: { qualifier?: string; call?: boolean } = {}): { offset: number; parts: string[] } | undefined {
  const tokens = tokenize(sql);
  const target = name.toLowerCase();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if ((t.kind !== 'word' && t.kind !== 'quoted') || identifierName(t) !== target) continue;
    if (options.call && nextSignificant(tokens, i)?.text !== '(') continue;
    const parts = [identifierName(t)];
    let j = i;
    while (j >= 2 && tokens[j - 1]!.text === '.' && (tokens[j - 2]!.kind === 'word' || tokens[j - 2]!.kind === 'quoted')) {
      parts.unshift(identifierName(tokens[j - 2]!));
      j -= 2;
    }
    if (options.qualifier !== undefined && parts.at(-2) !== options.qualifier.toLowerCase()) continue;
    return { offset: tokens[j]!.start, parts };
  }
  return undefined;
}

export interface TranslatedError {
  /** Athena's StateChangeReason. */
  reason: string;
  /** 1 system, 2 user, 3 other. */
  category: 1 | 2 | 3;
}

/**
 * DuckDB's error, reworded with Trino's error name and `line L:C:` position, e.g.
 * `TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.t' does not exist`.
 */
export function translateDuckdbError(message: string, sql: string, database: string): TranslatedError {
  const firstLine = message.split('\n')[0]!.trim();
  const at = (offset: number | undefined) => {
    if (offset === undefined) return '';
    const { line, column } = lineColumn(sql, offset);
    return `line ${line}:${column}: `;
  };
  let m = /^Catalog Error: Table with name "?([^"!]+?)"? does not exist because schema "?([^"]+?)"? does not exist/.exec(firstLine);
  if (m) {
    const schema = m[2]!;
    const place = locateName(sql, schema);
    return { reason: `SCHEMA_NOT_FOUND: ${at(place?.offset)}Schema '${schema}' does not exist`, category: 2 };
  }
  m = /^Catalog Error: Table with name "?([^"!]+?)"? does not exist/.exec(firstLine);
  if (m) {
    const name = m[1]!.split('.').at(-1)!;
    const place = locateName(sql, name);
    const parts = place?.parts ?? [name];
    const qualified = parts.length >= 3 ? parts.slice(-3) : parts.length === 2 ? ['awsdatacatalog', ...parts] : ['awsdatacatalog', database, ...parts];
    return { reason: `TABLE_NOT_FOUND: ${at(place?.offset)}Table '${qualified.join('.')}' does not exist`, category: 2 };
  }
  m = /^Binder Error: Referenced column "?([^"]+?)"? not found/.exec(firstLine) ?? /^Binder Error: Values list "?[^"]*"? does not have a column named "?([^"]+?)"?/.exec(firstLine);
  if (m) {
    const place = locateName(sql, m[1]!);
    return { reason: `COLUMN_NOT_FOUND: ${at(place?.offset)}Column '${m[1]!}' cannot be resolved`, category: 2 };
  }
  m = /^Catalog Error: (?:Scalar |Aggregate |Table )?Function with name "?([^"!\s]+?)"? does not exist/.exec(firstLine);
  if (m) {
    const place = locateName(sql, m[1]!, { call: true });
    return { reason: `FUNCTION_NOT_FOUND: ${at(place?.offset)}Function '${m[1]!}' not registered`, category: 2 };
  }
  m = /^Parser Error: syntax error at or near "(.*)"$/.exec(firstLine);
  if (m) {
    const offset = caretOffset(message, sql) ?? locateToken(sql, m[1]!);
    return { reason: `SYNTAX_ERROR: ${at(offset)}mismatched input '${m[1]!}'`, category: 2 };
  }
  if (/^Parser Error: syntax error at end of input/.test(firstLine)) {
    return { reason: `SYNTAX_ERROR: ${at(sql.trimEnd().length)}mismatched input '<EOF>'`, category: 2 };
  }
  m = /^(\w[\w ]*?) Error: (.*)$/.exec(firstLine);
  const kind = m?.[1] ?? '';
  const text = m?.[2] ?? firstLine;
  switch (kind) {
    case 'Parser':
      return { reason: `SYNTAX_ERROR: ${text}`, category: 2 };
    case 'Binder':
      return { reason: `${/No function matches/.test(text) ? 'FUNCTION_NOT_FOUND' : 'TYPE_MISMATCH'}: ${text}`, category: 2 };
    case 'Catalog':
      return { reason: `NOT_FOUND: ${text}`, category: 2 };
    case 'Conversion':
      return { reason: `INVALID_CAST_ARGUMENT: ${text}`, category: 2 };
    case 'Invalid Input':
      return { reason: `INVALID_FUNCTION_ARGUMENT: ${text}`, category: 2 };
    case 'Out of Range':
      return { reason: `NUMERIC_VALUE_OUT_OF_RANGE: ${text}`, category: 2 };
    case 'Not implemented':
      return { reason: `NOT_SUPPORTED: ${text}`, category: 2 };
    case 'IO':
      return { reason: `HIVE_CANNOT_OPEN_SPLIT: ${text}`, category: 1 };
    case 'Out of Memory':
      return { reason: `EXCEEDED_LOCAL_MEMORY_LIMIT: ${text}`, category: 1 };
    default:
      return { reason: `GENERIC_INTERNAL_ERROR: ${firstLine}`, category: 1 };
  }
}

/** Offset of DuckDB's `^` under `LINE n: ...`, when the displayed line is the whole line. */
function caretOffset(message: string, sql: string): number | undefined {
  const m = /\nLINE (\d+): (.*)\n( *)\^/.exec(message);
  if (!m) return undefined;
  const lineNo = Number(m[1]);
  const shown = m[2]!;
  const lines = sql.split('\n');
  if (lines[lineNo - 1] !== shown) return undefined;
  const column = m[3]!.length - `LINE ${m[1]}: `.length;
  const lineStart = lines.slice(0, lineNo - 1).reduce((n, l) => n + l.length + 1, 0);
  return lineStart + column;
}

function locateToken(sql: string, text: string): number | undefined {
  return tokenize(sql).find((t) => t.text === text)?.start;
}
