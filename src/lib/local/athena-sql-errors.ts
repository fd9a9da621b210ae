/** DuckDB's errors, reworded with Trino's error names and `line L:C:` positions, as Athena words them. */
import { ServiceError } from '../errors.js';
import { AthenaSqlError, identifierName, nextSignificant, tokenize } from './athena-sql.js';

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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failure before the query runs (planning an estimate) as the InvalidRequestException Athena answers with. */
export function asServiceError(err: unknown, sql: string, database: string): Error {
  if (err instanceof ServiceError) return err;
  const failure = err instanceof AthenaSqlError ? { reason: err.message } : translateDuckdbError(errorMessage(err), sql, database);
  return new ServiceError(failure.reason, { service: 'athena', code: 'InvalidRequestException', cause: err });
}
