/**
 * Renderers for results. A command's result is data; a View says how it reads as rows or
 * text. JSON output is always the data itself, so scripts see DESIGN.md's documents.
 */

export type OutputFormat = 'table' | 'json' | 'csv' | 'ndjson';
export const OUTPUT_FORMATS: OutputFormat[] = ['table', 'json', 'csv', 'ndjson'];

export type Cell = string | number | bigint | boolean | null | undefined | Date | object;

export type View =
  | { kind: 'rows'; columns: string[]; rows: Record<string, Cell>[]; title?: string; footer?: string[] }
  | { kind: 'text'; text: string }
  /** Several labelled sections, e.g. a summary table and a list. */
  | { kind: 'sections'; sections: View[] };

/** JSON with bigint as number when exact, else as string; Dates as ISO strings. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v), indent);
}

export function cellText(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return toJson(value);
  return String(value);
}

/** RFC 4180: a field is quoted when it holds a comma, quote, CR or LF; quotes are doubled. */
export function csvField(value: Cell): string {
  const text = cellText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderCsv(columns: string[], rows: Record<string, Cell>[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function renderNdjson(rows: unknown[]): string {
  return rows.map((r) => `${toJson(r)}\n`).join('');
}

/** A document as key/value rows, for csv/table output of a non-tabular result. */
export function documentRows(doc: Record<string, unknown>, prefix = ''): Record<string, Cell>[] {
  const out: Record<string, Cell>[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
      out.push(...documentRows(value as Record<string, unknown>, name));
    } else out.push({ field: name, value: value as Cell });
  }
  return out;
}

export interface TableStyle {
  color: boolean;
  width?: number;
}

/** cli-table3 is loaded on first use: most runs never draw a table. */
export async function renderTable(columns: string[], rows: Record<string, Cell>[], style: TableStyle): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: columns,
    // compact: a rule under the header only, so long listings stay easy to scan.
    style: { head: style.color ? ['cyan'] : [], border: style.color ? ['grey'] : [], compact: true },
    wordWrap: true,
  });
  for (const row of rows) table.push(columns.map((c) => cellText(row[c])));
  return `${table.toString()}\n`;
}

/** Renders a view in a non-JSON format. */
export async function renderView(view: View, format: Exclude<OutputFormat, 'json'>, style: TableStyle): Promise<string> {
  switch (view.kind) {
    case 'text':
      return format === 'table' ? ensureNewline(view.text) : format === 'ndjson' ? renderNdjson([{ text: view.text }]) : renderCsv(['text'], [{ text: view.text }]);
    case 'sections': {
      const parts = await Promise.all(view.sections.map((s) => renderView(s, format, style)));
      return parts.join(format === 'table' ? '\n' : '');
    }
    case 'rows': {
      if (format === 'csv') return renderCsv(view.columns, view.rows);
      if (format === 'ndjson') return renderNdjson(view.rows.map((r) => Object.fromEntries(view.columns.map((c) => [c, r[c] ?? null]))));
      const title = view.title ? `${view.title}\n` : '';
      const body = view.rows.length === 0 ? '(no rows)\n' : await renderTable(view.columns, view.rows, style);
      const footer = view.footer?.length ? `${view.footer.join('\n')}\n` : '';
      return title + body + footer;
    }
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
