/**
 * Athena's result objects: CSV for queries (header, every value double-quoted, NULL as an
 * empty unquoted field), tab-separated text for DDL and SHOW statements; written to the
 * store and read back exactly; and the NextToken that pages GetQueryResults over them.
 */
import { ServiceError } from '../errors.js';
import type { ObjectStore, ResultColumn } from '../ports.js';

export type ResultFormat = 'csv' | 'txt';

/** A store that can make a bucket (the local one): results need theirs on a fresh lake. */
interface BucketMaker {
  createBucket(bucket: string): Promise<void>;
}

/** Writes the result object at `location` (s3://...), making its bucket when the store can and has none. */
export async function putResultObject(store: ObjectStore, location: string, format: ResultFormat, columns: readonly ResultColumn[], rows: readonly (readonly (string | null)[])[]): Promise<void> {
  // Encoded here, natively: a large result's text goes to bytes several times faster than Buffer.from.
  const body = new TextEncoder().encode(format === 'csv' ? toAthenaCsv(columns, rows) : toAthenaText(rows));
  const { bucket, key } = s3Object(location);
  const put = () => store.put(bucket, key, body, { contentType: format === 'csv' ? 'text/csv' : 'text/plain' });
  try {
    await put();
  } catch (err) {
    const maker = store as ObjectStore & Partial<BucketMaker>;
    if ((err as { code?: unknown }).code !== 'NoSuchBucket' || typeof maker.createBucket !== 'function') throw err;
    await maker.createBucket(bucket);
    await put();
  }
}

/** The rows of the result object at `location` (header excluded). */
export async function getResultRows(store: ObjectStore, location: string, format: ResultFormat): Promise<(string | null)[][]> {
  const { bucket, key } = s3Object(location);
  const text = new TextDecoder().decode(await store.get(bucket, key));
  return format === 'csv' ? parseAthenaCsv(text).slice(1) : parseAthenaText(text);
}

/** `s3://bucket/key` -> its parts. */
export function s3Object(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new Error(`not an s3:// object URL: ${url}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** Athena's result CSV: a quoted header, then every value quoted, NULL as an empty field. */
export function toAthenaCsv(columns: readonly ResultColumn[], rows: readonly (readonly (string | null)[])[]): string {
  return csvText(headerLine(columns), rows);
}

/** The header line of Athena's result CSV. */
export function athenaCsvHeader(columns: readonly ResultColumn[]): string {
  return headerLine(columns) + '\n';
}

/** Rows of Athena's result CSV, each ending with a line break ('' for none). */
export function athenaCsvLines(rows: readonly (readonly (string | null)[])[]): string {
  return rows.length === 0 ? '' : csvText(undefined, rows);
}

function headerLine(columns: readonly ResultColumn[]): string {
  return columns.map((c) => quoteCsv(c.name)).join(',');
}

/**
 * Lines joined once, ending with a line break. The empty last line gives that break inside
 * the join: the text comes out flat, and encoding it does not first copy a concatenation.
 */
function csvText(header: string | undefined, rows: readonly (readonly (string | null)[])[]): string {
  const at = header === undefined ? 0 : 1;
  const lines = new Array<string>(rows.length + at + 1);
  if (header !== undefined) lines[0] = header;
  for (let r = 0; r < rows.length; r++) lines[r + at] = csvLine(rows[r]!);
  lines[rows.length + at] = '';
  return lines.join('\n');
}

/** One row; most hold no NULL and no quote, and take one native join. */
function csvLine(row: readonly (string | null)[]): string {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (v === null || v === undefined || v.indexOf('"') >= 0) return row.map((x) => (x === null || x === undefined ? '' : quoteCsv(x))).join(',');
  }
  return row.length === 0 ? '' : `"${row.join('","')}"`;
}

function quoteCsv(value: string): string {
  return value.indexOf('"') < 0 ? `"${value}"` : `"${value.replace(/"/g, '""')}"`;
}

/** Reads Athena's result CSV back: header first; quoted `""` is '', an empty field is NULL. */
export function parseAthenaCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let value: string | null;
    if (text[i] === '"') {
      let j = i + 1;
      let s = '';
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new Error('unterminated quoted field in result CSV');
        s += text.slice(j, q);
        if (text[q + 1] === '"') {
          s += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      value = s;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n') j++;
      value = j === i ? null : text.slice(i, j);
      i = j;
    }
    row.push(value);
    if (text[i] === ',') {
      i++;
      continue;
    }
    rows.push(row);
    row = [];
    i++;
  }
  return rows;
}

/** DDL and SHOW results: one line a row, fields separated by tabs, no header. */
export function toAthenaText(rows: readonly (readonly (string | null)[])[]): string {
  return rows.map((r) => r.map((v) => v ?? '').join('\t') + '\n').join('');
}

export function parseAthenaText(text: string): string[][] {
  if (text === '') return [];
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => line.split('\t'));
}

/** GetQueryResults' NextToken for the row at `offset`. */
export function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

/** The row offset of a NextToken made by `encodeToken`; InvalidRequestException for any other. */
export function decodeToken(token: string): number {
  try {
    const { o } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // falls through
  }
  throw new ServiceError('invalid nextToken', { service: 'athena', code: 'InvalidRequestException' });
}
