/**
 * What an Athena statement is, from its first words: the StatementType Athena reports, and
 * for the statements the local engine answers from the catalog (SHOW, DESCRIBE, partition
 * DDL, MSCK REPAIR), their parts. Queries are left for DuckDB to parse.
 */
import { AthenaSqlError, identifierName, significant, type Token, tokenize } from './athena-sql.js';

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
