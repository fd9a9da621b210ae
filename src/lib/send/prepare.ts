/**
 * From an input record to what is sent for it: CSV rows become JSON objects with the
 * table's types, JSON records pass through, and a record over the size limit is set aside.
 * The serde's verdict (unless --no-validate) is asked for separately, so it can run on
 * another thread; `explain` turns a failed verdict into the dead-letter problem, naming
 * the column and the value as the input had it.
 */
import { type CsvPlan, CsvRowEncoder, planCsv } from '../records/csv-values.js';
import type { RecordReader } from '../records/reader.js';
import type { TimestampFormat } from '../records/timestamp-format.js';
import type { SourceRecord } from '../records/types.js';
import type { ConversionFailure, SerdeSchema } from '../serde/index.js';

export interface RowProblem {
  code: string;
  message: string;
  column?: string;
  value?: string;
}

export interface RowPreparer {
  /** The record's payload, or why it cannot be sent (the serde not asked yet). */
  encode(record: SourceRecord): Buffer | RowProblem;
  /** The problem to dead-letter for a record the serde failed. */
  explain(record: SourceRecord, failure: ConversionFailure): RowProblem;
  /** Things worth a warning once the input is read (headers matching no column, odd booleans). */
  notes(): string[];
}

export interface PrepareOptions {
  schema: SerdeSchema;
  timestampFormat?: TimestampFormat;
  /** Largest payload a record may have. */
  maxBytes: number;
}

const KiB = 1024;

export function rowPreparer(reader: RecordReader, options: PrepareOptions): RowPreparer {
  const { maxBytes } = options;
  const tooLarge = (bytes: number): RowProblem => ({
    code: 'lake.RecordTooLarge',
    message: `the record is ${bytes.toLocaleString('en-US')} bytes; a record may hold at most ${maxBytes.toLocaleString('en-US')} (${Math.floor(maxBytes / KiB)} KiB)`,
  });

  if (reader.format !== 'csv') {
    return {
      encode(record) {
        const payload = record.raw;
        return payload.length > maxBytes ? tooLarge(payload.length) : payload;
      },
      explain: (_record, failure) => problem(failure),
      notes: () => [],
    };
  }

  const plan: CsvPlan = planCsv(reader.header ?? [], options.schema, reader.input.name);
  const encoder = new CsvRowEncoder(plan, options.timestampFormat);
  const headerIndex = new Map<string, number>();
  plan.targets.forEach((t, i) => {
    if (t) headerIndex.set(t.column, i);
  });
  return {
    encode(record) {
      if (record.malformed !== undefined) return { code: 'lake.MalformedCsv', message: record.malformed };
      const json = encoder.encode(record.fields!);
      if (typeof json !== 'string') return json;
      const payload = Buffer.from(json);
      return payload.length > maxBytes ? tooLarge(payload.length) : payload;
    },
    explain(record, failure) {
      const out = problem(failure);
      // Name the value as the CSV had it, not as it was sent.
      const column = failure.column?.split(/[.[]/)[0];
      const index = column === undefined ? undefined : headerIndex.get(column);
      if (index !== undefined) out.value = record.fields![index] ?? '';
      return out;
    },
    notes() {
      const notes: string[] = [];
      if (plan.unmatched.length > 0) {
        notes.push(`${reader.input.name}: ${plan.unmatched.map((h) => `'${h}'`).join(', ')} match no column of the table; their values were not sent (Firehose would drop them)`);
      }
      for (const [column, count] of encoder.oddBooleans) {
        notes.push(`${reader.input.name}: ${count} value${count === 1 ? '' : 's'} of boolean column '${column}' were not true/false/yes/no/1/0; Firehose reads them as false`);
      }
      return notes;
    },
  };
}

function problem(result: { code: string; message: string; column?: string; value?: string }): RowProblem {
  const out: RowProblem = { code: result.code, message: result.message };
  if (result.column !== undefined) out.column = result.column;
  if (result.value !== undefined) out.value = result.value;
  return out;
}
