/**
 * Glue's GetPartitions `Expression` language, compiled to a predicate over partition values.
 * Pure: no I/O, so the local catalog and anything else that filters partitions can share it.
 */
import { ServiceError } from './errors.js';
import type { Column } from './ports.js';

type Literal = { text: string; numeric: boolean };
type Comparison = '=' | '<>' | '<' | '<=' | '>' | '>=';
type ExprNode =
  | { kind: 'and' | 'or'; left: ExprNode; right: ExprNode }
  | { kind: 'not'; node: ExprNode }
  | { kind: 'cmp'; key: string; op: Comparison; value: Literal }
  | { kind: 'between'; key: string; low: Literal; high: Literal }
  | { kind: 'in'; key: string; values: Literal[] }
  | { kind: 'like'; key: string; pattern: string };

type Token = { type: 'word' | 'ident' | 'string' | 'number' | 'op' | 'punct'; text: string; at: number };

function expressionError(expression: string, why: string): ServiceError {
  return new ServiceError(`invalid partition expression ${JSON.stringify(expression)}: ${why}`, { code: 'InvalidInputException', service: 'glue', hint: undefined });
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= expression.length) throw expressionError(expression, `unterminated string at ${i}`);
        if (expression[j] === "'") {
          if (expression[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += expression[j];
        j++;
      }
      tokens.push({ type: 'string', text, at: i });
      i = j + 1;
    } else if (c === '`' || c === '"') {
      const end = expression.indexOf(c, i + 1);
      if (end < 0) throw expressionError(expression, `unterminated quoted name at ${i}`);
      tokens.push({ type: 'ident', text: expression.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(expression.slice(i));
      if (!m) throw expressionError(expression, `unexpected "${c}" at ${i}`);
      tokens.push({ type: 'number', text: m[0], at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i)) as RegExpExecArray;
      tokens.push({ type: 'word', text: m[0], at: i });
      i += m[0].length;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', text: c, at: i });
      i++;
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(expression.slice(i));
      if (!m) throw expressionError(expression, `unexpected "${c}" at ${i}`);
      tokens.push({ type: 'op', text: m[0] === '!=' ? '<>' : m[0], at: i });
      i += m[0].length;
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'LIKE']);

class ExpressionParser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(private readonly expression: string) {
    this.tokens = tokenize(expression);
  }

  parse(): ExprNode {
    const node = this.or();
    const extra = this.tokens[this.pos];
    if (extra) throw this.fail(`unexpected "${extra.text}" at ${extra.at}`);
    return node;
  }

  private fail(why: string): ServiceError {
    return expressionError(this.expression, why);
  }

  private isWord(word: string): boolean {
    const t = this.tokens[this.pos];
    return t?.type === 'word' && t.text.toUpperCase() === word;
  }

  private isPunct(p: string): boolean {
    const t = this.tokens[this.pos];
    return t?.type === 'punct' && t.text === p;
  }

  private expectWord(word: string): void {
    if (!this.isWord(word)) throw this.fail(`expected ${word}${this.where()}`);
    this.pos++;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw this.fail(`expected "${p}"${this.where()}`);
    this.pos++;
  }

  private where(): string {
    const t = this.tokens[this.pos];
    return t ? ` at ${t.at}, found "${t.text}"` : ' at the end';
  }

  private or(): ExprNode {
    let left = this.and();
    while (this.isWord('OR')) {
      this.pos++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): ExprNode {
    let left = this.not();
    while (this.isWord('AND')) {
      this.pos++;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): ExprNode {
    if (this.isWord('NOT')) {
      this.pos++;
      return { kind: 'not', node: this.not() };
    }
    if (this.isPunct('(')) {
      this.pos++;
      const node = this.or();
      this.expectPunct(')');
      return node;
    }
    return this.predicate();
  }

  private predicate(): ExprNode {
    const t = this.tokens[this.pos];
    if (!t || !(t.type === 'ident' || (t.type === 'word' && !KEYWORDS.has(t.text.toUpperCase())))) {
      throw this.fail(`expected a partition key${this.where()}`);
    }
    this.pos++;
    const key = t.text.toLowerCase();
    const negated = this.isWord('NOT');
    if (negated) this.pos++;
    let node: ExprNode;
    if (this.isWord('BETWEEN')) {
      this.pos++;
      const low = this.literal();
      this.expectWord('AND');
      node = { kind: 'between', key, low, high: this.literal() };
    } else if (this.isWord('IN')) {
      this.pos++;
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.isPunct(',')) {
        this.pos++;
        values.push(this.literal());
      }
      this.expectPunct(')');
      node = { kind: 'in', key, values };
    } else if (this.isWord('LIKE')) {
      this.pos++;
      node = { kind: 'like', key, pattern: this.literal().text };
    } else {
      if (negated) throw this.fail(`expected BETWEEN, IN or LIKE after NOT${this.where()}`);
      const op = this.tokens[this.pos];
      if (op?.type !== 'op') throw this.fail(`expected a comparison${this.where()}`);
      this.pos++;
      node = { kind: 'cmp', key, op: op.text as Comparison, value: this.literal() };
    }
    return negated ? { kind: 'not', node } : node;
  }

  private literal(): Literal {
    const t = this.tokens[this.pos];
    if (t?.type === 'string' || t?.type === 'number') {
      this.pos++;
      return { text: t.text, numeric: t.type === 'number' };
    }
    throw this.fail(`expected a value${this.where()}`);
  }
}

const INTEGRAL = new Set(['tinyint', 'smallint', 'int', 'integer', 'bigint']);
const FRACTIONAL = /^(float|double|real|decimal)\b/;

/** Orders a partition value against a literal as Glue does for the key's type. */
function comparatorFor(type: string): (value: string, literal: string) => number | undefined {
  const t = type.trim().toLowerCase();
  if (INTEGRAL.has(t)) {
    return (value, literal) => {
      if (!/^-?[0-9]+$/.test(value) || !/^-?[0-9]+$/.test(literal)) return undefined;
      const a = BigInt(value);
      const b = BigInt(literal);
      return a === b ? 0 : a < b ? -1 : 1;
    };
  }
  if (FRACTIONAL.test(t)) {
    return (value, literal) => {
      const a = Number(value);
      const b = Number(literal);
      if (Number.isNaN(a) || Number.isNaN(b) || value.trim() === '' || literal.trim() === '') return undefined;
      return a === b ? 0 : a < b ? -1 : 1;
    };
  }
  return (value, literal) => (value === literal ? 0 : value < literal ? -1 : 1);
}

function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (const c of pattern) {
    if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/**
 * Compiles a GetPartitions `Expression` into a predicate over partition values, for the
 * subset lake uses: comparisons, BETWEEN, IN, LIKE, NOT, AND, OR and parentheses. String
 * keys compare as strings; integer and fractional keys compare as numbers.
 */
export function compilePartitionExpression(expression: string, partitionKeys: Column[]): (values: string[]) => boolean {
  const ast = new ExpressionParser(expression).parse();
  const keys = new Map(partitionKeys.map((k, i) => [k.name.toLowerCase(), { index: i, compare: comparatorFor(k.type) }]));
  const keyOf = (name: string) => {
    const key = keys.get(name);
    if (!key) throw expressionError(expression, `unknown partition key "${name}" (keys: ${partitionKeys.map((k) => k.name).join(', ') || 'none'})`);
    return key;
  };
  const compile = (node: ExprNode): ((values: string[]) => boolean) => {
    switch (node.kind) {
      case 'and': {
        const [l, r] = [compile(node.left), compile(node.right)];
        return (v) => l(v) && r(v);
      }
      case 'or': {
        const [l, r] = [compile(node.left), compile(node.right)];
        return (v) => l(v) || r(v);
      }
      case 'not': {
        const inner = compile(node.node);
        return (v) => !inner(v);
      }
      case 'cmp': {
        const { index, compare } = keyOf(node.key);
        const { op, value } = node;
        return (v) => {
          const c = compare(v[index] ?? '', value.text);
          if (c === undefined) return false;
          switch (op) {
            case '=':
              return c === 0;
            case '<>':
              return c !== 0;
            case '<':
              return c < 0;
            case '<=':
              return c <= 0;
            case '>':
              return c > 0;
            case '>=':
              return c >= 0;
          }
        };
      }
      case 'between': {
        const { index, compare } = keyOf(node.key);
        const { low, high } = node;
        return (v) => {
          const a = compare(v[index] ?? '', low.text);
          const b = compare(v[index] ?? '', high.text);
          return a !== undefined && b !== undefined && a >= 0 && b <= 0;
        };
      }
      case 'in': {
        const { index, compare } = keyOf(node.key);
        const values = node.values;
        return (v) => values.some((l) => compare(v[index] ?? '', l.text) === 0);
      }
      case 'like': {
        const { index } = keyOf(node.key);
        const re = likeToRegExp(node.pattern);
        return (v) => re.test(v[index] ?? '');
      }
    }
  };
  return compile(ast);
}
