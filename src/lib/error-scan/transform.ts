/**
 * `--transform FILE.mjs`: a module whose default export (or `transform` export) fixes a
 * failed record before it is sent again. It gets the record as JSON when `rawData` is one
 * JSON object, else as the text (a Buffer when it is not UTF-8), plus what is known about
 * the failure; it returns the fixed record (an object, sent as JSON, or a string or bytes,
 * sent as they are) or null to leave the record out. It may be async.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import { decodeRawData } from './samples.js';

export interface TransformInfo {
  type: string | null;
  code: string | null;
  message: string | null;
  /** The S3 key of the error object. */
  key: string;
  /** Arrival, ISO 8601. */
  arrival: string;
  /** The column the serde says does not convert, when it can tell. */
  column?: string;
  value?: string;
}

export type RecordTransform = (record: unknown, info: TransformInfo) => unknown;

export async function loadTransform(file: string, cwd: string): Promise<RecordTransform> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new InputError(`--transform: ${file} does not exist`, { hint: 'name a JavaScript module (.mjs) that exports a function record -> record or null' });
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`--transform: cannot load ${file}: ${(err as Error).message}`, { cause: err, hint: 'an ES module: `export default (record) => ({ ...record, qty: Number(record.qty) })`' });
  }
  const fn = typeof module.default === 'function' ? module.default : module.transform;
  if (typeof fn !== 'function') {
    throw new InputError(`--transform: ${file} exports no function`, { hint: 'export default a function record -> record or null (or export a function named transform)' });
  }
  return fn as RecordTransform;
}

/** What the transform is given: one JSON object parsed, else the text, else the bytes. */
export function transformInput(rawData: Uint8Array): unknown {
  const decoded = decodeRawData(rawData);
  if (decoded.encoding === 'base64') return Buffer.from(rawData);
  try {
    const value: unknown = JSON.parse(decoded.text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // Not one JSON object: the transform gets the text.
  }
  return decoded.text;
}

/** The transform's answer as bytes to send, null to leave the record out, or why it cannot be sent. */
export function transformOutput(value: unknown): Uint8Array | null | { problem: string } {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), 'utf8');
  }
  return { problem: `the transform returned ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}; return an object, a string or null` };
}
