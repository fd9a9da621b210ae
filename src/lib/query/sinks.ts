/**
 * Where result rows go as they arrive: stdout as CSV, NDJSON or one streamed JSON document,
 * or a file (`--out`). Each batch is formatted and written before the next is read, and a
 * file waits for the disk to drain, so memory holds one batch whatever the result's size.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { InputError } from '../errors.js';
import { csvField, toJson } from '../output/render.js';
import type { ResultColumn } from '../ports.js';
import type { CsvRow } from './athena-csv.js';
import { jsonScalarFor, type JsonScalar, rowConverter, type Value, valueJson } from './values.js';

export type RowFormat = 'csv' | 'ndjson' | 'json';

export interface RowSink {
  write(rows: Value[][]): Promise<void>;
  end(): Promise<void>;
}

/** A sink that also takes rows as Athena's text, converting them itself (JSON and NDJSON). */
export interface TextRowSink extends RowSink {
  writeText?(rows: readonly CsvRow[]): void;
}

/**
 * Keys for row objects: the column names, with a suffix where a name repeats
 * (`SELECT a.id, b.id` gives `id` and `id_2`), so no value is lost in an object.
 */
export function uniqueNames(columns: readonly ResultColumn[]): string[] {
  const seen = new Map<string, number>();
  const taken = new Set(columns.map((c) => c.name));
  return columns.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    if (n === 1) return c.name;
    let candidate = `${c.name}_${n}`;
    while (taken.has(candidate)) candidate += '_';
    taken.add(candidate);
    return candidate;
  });
}

/**
 * One row object as JSON text, as toJson would write it (bigint as a number while safe, as a
 * string beyond), without a replacer call for every value: rows are the bulk of the output.
 */
function rowJson(keys: readonly string[], row: readonly Value[]): string {
  let text = '{';
  for (let i = 0; i < keys.length; i++) text += (i === 0 ? '' : ',') + keys[i] + valueJson(row[i] ?? null);
  return text + '}';
}

export function rowObject(names: readonly string[], row: readonly Value[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  names.forEach((name, i) => (out[name] = row[i] ?? null));
  return out;
}

function csvCell(value: Value): string {
  return csvField(value !== null && typeof value === 'object' ? toJson(value) : (value as string | number | bigint | boolean | null));
}

/** Text for rows in one format; `first` tells the JSON array whether a comma is due. */
export class RowFormatter {
  private count = 0;
  /** `"name":` for each column, quoted once. */
  private readonly keys: string[];
  /** Whether an object with these keys keeps them in column order. */
  private readonly plainKeys: boolean;
  constructor(
    readonly format: RowFormat,
    private readonly names: readonly string[],
  ) {
    this.keys = names.map((n) => `${JSON.stringify(n)}:`);
    this.plainKeys = names.every((n) => !/^(?:0|[1-9]\d*)$/.test(n) && n !== '__proto__');
  }

  header(): string {
    if (this.format === 'csv') return `${this.names.map((n) => csvField(n)).join(',')}\r\n`;
    if (this.format === 'json') return '[';
    return '';
  }

  rows(rows: readonly Value[][]): string {
    if (rows.length === 0) return '';
    const lines = new Array<string>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      lines[r] = this.format === 'csv' ? row.map(csvCell).join(',') : this.objectJson(row);
    }
    return this.joined(lines.join(this.format === 'csv' ? '\r\n' : this.format === 'ndjson' ? '\n' : ','), lines.length);
  }

  /**
   * JSON or NDJSON rows from Athena's text, the same text `rows` writes for the converted
   * rows. A row of scalars is one object of JSON-ready values, without typed rows between;
   * a JSON batch of them is one native JSON.stringify of the array (several times faster
   * than one call per row and a join), NDJSON one call per row, for its line breaks.
   */
  textRows(rows: readonly CsvRow[], columns: readonly ResultColumn[]): string {
    if (rows.length === 0) return '';
    const scalars = this.plainKeys && this.keys.length > 0 ? columns.map(jsonScalarFor) : [];
    if (scalars.length === 0 || scalars.some((f) => f === undefined)) return this.rows(rows.map(rowConverter(columns)));
    const names = this.names;
    const objects = new Array<Record<string, JsonScalar>>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const object: Record<string, JsonScalar> = {};
      for (let i = 0; i < scalars.length; i++) object[names[i]!] = scalars[i]!(row[i] ?? null);
      objects[r] = object;
    }
    if (this.format === 'json') return this.joined(JSON.stringify(objects).slice(1, -1), objects.length);
    return this.joined(objects.map((o) => JSON.stringify(o)).join('\n'), objects.length);
  }

  /** Rows' text, `body`, joined by the format's separator, with what goes before and after. */
  private joined(body: string, count: number): string {
    const first = this.count === 0;
    this.count += count;
    if (this.format === 'csv') return body + '\r\n';
    if (this.format === 'ndjson') return body + '\n';
    return first ? body : ',' + body;
  }

  /**
   * A row object as JSON. Rows of scalars go through one native JSON.stringify of an object,
   * when the names keep their order as object keys (none is an array index) and none is
   * `__proto__`; the rest are written value by value.
   */
  private objectJson(row: readonly Value[]): string {
    if (!this.plainKeys) return rowJson(this.keys, row);
    const object: Record<string, Value> = {};
    for (let i = 0; i < this.names.length; i++) {
      const v = row[i] ?? null;
      if (typeof v === 'bigint' || (v !== null && typeof v === 'object')) return rowJson(this.keys, row);
      object[this.names[i]!] = v;
    }
    return JSON.stringify(object);
  }

  footer(): string {
    if (this.format !== 'json') return '';
    return ']';
  }
}

/** Rows to a writer of text (stdout); `trailer` follows a JSON array (`,\n` inside a document). */
export function textSink(write: (text: string) => void, formatter: RowFormatter, trailer = '\n', columns?: readonly ResultColumn[]): TextRowSink {
  let started = false;
  const put = (text: string) => {
    text = (started ? '' : formatter.header()) + text;
    started = true;
    if (text) write(text);
  };
  return {
    write(rows) {
      put(formatter.rows(rows));
      return Promise.resolve();
    },
    ...(columns && formatter.format !== 'csv' ? { writeText: (rows: readonly CsvRow[]) => put(formatter.textRows(rows, columns)) } : {}),
    end() {
      write((started ? '' : formatter.header()) + formatter.footer() + (formatter.format === 'json' ? trailer : ''));
      return Promise.resolve();
    },
  };
}

/** `--out FILE`: CSV, or NDJSON for .ndjson/.jsonl, or a JSON array for .json. */
export function fileFormat(path: string): RowFormat {
  if (/\.(ndjson|jsonl)$/i.test(path)) return 'ndjson';
  if (/\.json$/i.test(path)) return 'json';
  return 'csv';
}

export async function fileSink(path: string, columns: readonly ResultColumn[]): Promise<RowSink & { path: string }> {
  const stream: WriteStream = createWriteStream(path);
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new InputError(`--out: cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const formatter = new RowFormatter(fileFormat(path), uniqueNames(columns));
  const put = async (text: string) => {
    if (text && !stream.write(text)) await once(stream, 'drain');
  };
  let started = false;
  return {
    path,
    async write(rows) {
      await put((started ? '' : formatter.header()) + formatter.rows(rows));
      started = true;
    },
    async end() {
      await put((started ? '' : formatter.header()) + formatter.footer() + (formatter.format === 'json' ? '\n' : ''));
      stream.end();
      await once(stream, 'finish');
    },
  };
}
