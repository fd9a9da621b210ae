/**
 * A Parquet footer read from the end of an object with ranged GETs: the last 8 bytes are
 * the footer length (little-endian) and `PAR1`; the footer is a Thrift (compact protocol)
 * FileMetaData. Only what the estimate needs is kept: per column chunk its path and
 * compressed size, the top-level column names and the row count. Usually one GET a file:
 * the last 64 KiB hold the whole footer of a Firehose file.
 */
import type { ObjectStore } from '../ports.js';
import { type FileFooter, footerFromMetadata } from '../local/scan-stats.js';

export const FOOTER_TAIL_BYTES = 64 * 1024;
const MAGIC = 'PAR1';

export class ParquetFooterError extends Error {}

/** Reads the footer of s3://bucket/key (size known from the listing). */
export async function readParquetFooter(store: ObjectStore, bucket: string, key: string, size: number, signal?: AbortSignal): Promise<FileFooter> {
  if (size < 12) throw new ParquetFooterError(`${key}: ${size} bytes is too small for Parquet`);
  const tailStart = Math.max(0, size - FOOTER_TAIL_BYTES);
  let tail = await store.get(bucket, key, { signal, range: { start: tailStart, end: size - 1 } });
  const footerLength = footerLengthOf(tail, key);
  if (footerLength + 8 > size) throw new ParquetFooterError(`${key}: footer length ${footerLength} exceeds the object`);
  if (footerLength + 8 > tail.length) {
    tail = await store.get(bucket, key, { signal, range: { start: size - footerLength - 8, end: size - 1 } });
  }
  return decodeFooter(tail.subarray(tail.length - 8 - footerLength, tail.length - 8));
}

function footerLengthOf(tail: Uint8Array, key: string): number {
  const magic = String.fromCharCode(...tail.subarray(tail.length - 4));
  if (magic !== MAGIC) throw new ParquetFooterError(`${key}: not a Parquet file (no PAR1 at its end)`);
  const view = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4);
  return view.getUint32(0, true);
}

/** FileMetaData (Thrift compact) -> the footprint of each column. */
export function decodeFooter(metadata: Uint8Array): FileFooter {
  const meta = new CompactReader(metadata).struct();
  const schema = asList(meta.get(2)).map((e) => ({ name: text(asStruct(e).get(4)), children: Number(asStruct(e).get(5) ?? 0) }));
  const numRows = Number(meta.get(3) ?? 0);
  const chunks: { path: string; bytes: number }[] = [];
  for (const group of asList(meta.get(4))) {
    for (const chunk of asList(asStruct(group).get(1))) {
      const columnMeta = asStruct(asStruct(chunk).get(3));
      const path = asList(columnMeta.get(3)).map(text);
      chunks.push({ path: path.join(', '), bytes: Number(columnMeta.get(7) ?? 0) });
    }
  }
  return footerFromMetadata(metadata.length, numRows, topLevelNames(schema), chunks);
}

/** The root's direct children, from the depth-first schema list. */
function topLevelNames(schema: { name: string; children: number }[]): string[] {
  const names: string[] = [];
  const pending: number[] = [schema[0]?.children ?? 0];
  for (const element of schema.slice(1)) {
    if (pending.length === 1) names.push(element.name);
    pending[pending.length - 1]!--;
    if (element.children > 0) pending.push(element.children);
    while (pending.length > 1 && pending[pending.length - 1] === 0) pending.pop();
  }
  return names;
}

// ---------------------------------------------------------------- Thrift compact protocol

type Thrift = number | bigint | boolean | Uint8Array | Thrift[] | Map<number, Thrift>;

const T = { STOP: 0, TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

class CompactReader {
  private i = 0;
  constructor(private readonly b: Uint8Array) {}

  struct(): Map<number, Thrift> {
    const fields = new Map<number, Thrift>();
    let id = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === T.STOP) return fields;
      const delta = header >> 4;
      id = delta === 0 ? this.zigzag32() : id + delta;
      fields.set(id, type === T.TRUE ? true : type === T.FALSE ? false : this.value(type));
    }
  }

  private value(type: number): Thrift {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return this.byte() === T.TRUE;
      case T.BYTE:
        return this.byte();
      case T.I16:
      case T.I32:
        return this.zigzag32();
      case T.I64:
        return this.zigzag64();
      case T.DOUBLE: {
        const v = new DataView(this.b.buffer, this.b.byteOffset + this.i, 8).getFloat64(0, true);
        this.i += 8;
        return v;
      }
      case T.BINARY: {
        const length = this.varint();
        const v = this.b.subarray(this.i, this.i + length);
        if (v.length !== length) throw new ParquetFooterError('truncated footer');
        this.i += length;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const size = header >> 4 === 15 ? this.varint() : header >> 4;
        const element = header & 0x0f;
        const items: Thrift[] = [];
        for (let k = 0; k < size; k++) items.push(this.value(element));
        return items;
      }
      case T.MAP: {
        const size = this.varint();
        if (size === 0) return [];
        const kinds = this.byte();
        const items: Thrift[] = [];
        for (let k = 0; k < size; k++) items.push([this.value(kinds >> 4), this.value(kinds & 0x0f)]);
        return items;
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new ParquetFooterError(`unknown Thrift type ${type}`);
    }
  }

  private byte(): number {
    if (this.i >= this.b.length) throw new ParquetFooterError('truncated footer');
    return this.b[this.i++]!;
  }

  private varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  }

  private zigzag32(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private zigzag64(): number | bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
    }
    const value = (result >> 1n) ^ -(result & 1n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
}

function asStruct(v: Thrift | undefined): Map<number, Thrift> {
  if (!(v instanceof Map)) throw new ParquetFooterError('unexpected footer layout');
  return v;
}

function asList(v: Thrift | undefined): Thrift[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ParquetFooterError('unexpected footer layout');
  return v;
}

function text(v: Thrift | undefined): string {
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : '';
}
