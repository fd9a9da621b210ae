/**
 * Glue/Hive column types, parsed into a tree. Used to validate the config, by the serde
 * (to coerce JSON values as Firehose would) and by the engines (to map to DuckDB types).
 */

export type GlueType =
  | { kind: 'string' | 'boolean' | 'tinyint' | 'smallint' | 'int' | 'bigint' | 'float' | 'double' | 'date' | 'timestamp' | 'binary' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'char' | 'varchar'; length: number }
  | { kind: 'array'; element: GlueType }
  | { kind: 'map'; key: GlueType; value: GlueType }
  | { kind: 'struct'; fields: { name: string; type: GlueType }[] };

const PRIMITIVES = new Set([
  'string',
  'boolean',
  'tinyint',
  'smallint',
  'int',
  'bigint',
  'float',
  'double',
  'date',
  'timestamp',
  'binary',
]);
const ALIASES: Record<string, string> = { integer: 'int', bool: 'boolean', long: 'bigint', short: 'smallint', byte: 'tinyint', real: 'float' };

export class GlueTypeError extends Error {}

/** Parses `decimal(10,2)`, `array<struct<a:int,b:string>>`, ... Throws GlueTypeError. */
export function parseGlueType(text: string): GlueType {
  const parser = new TypeParser(text);
  const type = parser.parseType();
  parser.expectEnd();
  return type;
}

export function formatGlueType(type: GlueType): string {
  switch (type.kind) {
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'char':
    case 'varchar':
      return `${type.kind}(${type.length})`;
    case 'array':
      return `array<${formatGlueType(type.element)}>`;
    case 'map':
      return `map<${formatGlueType(type.key)},${formatGlueType(type.value)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${formatGlueType(f.type)}`).join(',')}>`;
    default:
      return type.kind;
  }
}

class TypeParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseType(): GlueType {
    const word = this.word().toLowerCase();
    const name = ALIASES[word] ?? word;
    if (name === 'decimal') {
      if (!this.peek('(')) return { kind: 'decimal', precision: 10, scale: 0 };
      this.expect('(');
      const precision = this.integer();
      let scale = 0;
      if (this.peek(',')) {
        this.expect(',');
        scale = this.integer();
      }
      this.expect(')');
      if (precision < 1 || precision > 38) this.fail(`decimal precision must be 1 to 38, got ${precision}`);
      if (scale > precision) this.fail(`decimal scale ${scale} is larger than precision ${precision}`);
      return { kind: 'decimal', precision, scale };
    }
    if (name === 'char' || name === 'varchar') {
      this.expect('(');
      const length = this.integer();
      this.expect(')');
      return { kind: name, length };
    }
    if (name === 'array') {
      this.expect('<');
      const element = this.parseType();
      this.expect('>');
      return { kind: 'array', element };
    }
    if (name === 'map') {
      this.expect('<');
      const key = this.parseType();
      this.expect(',');
      const value = this.parseType();
      this.expect('>');
      return { kind: 'map', key, value };
    }
    if (name === 'struct') {
      this.expect('<');
      const fields: { name: string; type: GlueType }[] = [];
      do {
        if (fields.length > 0) this.expect(',');
        const fieldName = this.word();
        this.expect(':');
        fields.push({ name: fieldName.toLowerCase(), type: this.parseType() });
      } while (this.peek(','));
      this.expect('>');
      return { kind: 'struct', fields };
    }
    if (PRIMITIVES.has(name)) return { kind: name } as GlueType;
    return this.fail(`unknown type '${word}'`);
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.text.slice(this.pos)}'`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private word(): string {
    this.skipSpace();
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos));
    if (!match) return this.fail(this.pos >= this.text.length ? 'type expected' : `type expected at '${this.text.slice(this.pos)}'`);
    this.pos += match[0].length;
    return match[0];
  }

  private integer(): number {
    this.skipSpace();
    const match = /^\d+/.exec(this.text.slice(this.pos));
    if (!match) return this.fail('number expected');
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private peek(char: string): boolean {
    this.skipSpace();
    return this.text[this.pos] === char;
  }

  private expect(char: string): void {
    if (!this.peek(char)) this.fail(`'${char}' expected`);
    this.pos++;
  }

  private fail(message: string): never {
    throw new GlueTypeError(`${message} in '${this.text}'`);
  }
}

/** DuckDB's spelling of a Glue type, for views, casts and Parquet writing. */
export function toDuckdbType(type: GlueType): string {
  switch (type.kind) {
    case 'string':
    case 'char':
    case 'varchar':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'tinyint':
      return 'TINYINT';
    case 'smallint':
      return 'SMALLINT';
    case 'int':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'float':
      return 'FLOAT';
    case 'double':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'binary':
      return 'BLOB';
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'array':
      return `${toDuckdbType(type.element)}[]`;
    case 'map':
      return `MAP(${toDuckdbType(type.key)}, ${toDuckdbType(type.value)})`;
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `"${f.name.replace(/"/g, '""')}" ${toDuckdbType(f.type)}`).join(', ')})`;
  }
}
