/** What a send reports (DESIGN.md's `send` document, with lake's extra counters). */
import type { LakeError } from '../errors.js';
import type { InputFile } from '../records/input.js';

export interface SendReport {
  files: string[];
  /** Rows read in this run (rows a resumed run skips are in `skipped`). */
  read: number;
  accepted: number;
  /** Rows set aside before sending: Firehose would fail to convert them, or lake cannot read them. */
  rejected: number;
  /** Rows sent and not accepted after every retry. */
  undelivered: number;
  /** Records sent again after a failed attempt. */
  retried: number;
  /** Calls made (PutRecordBatch or PutRecords). */
  batches: number;
  /** Firehose records accepted (fewer than rows with --pack). */
  records: number;
  billedKB: number;
  /** What the accepted rows would be billed as one record each. */
  billedKBUnpacked: number;
  deadLetter: string | null;
  durationMs: number;
  /** Rows accepted that may have arrived twice (a call with no answer, or in flight at a crash). */
  duplicatesPossible: number;
  /** Rows settled by the interrupted run a --resume continues. */
  skipped: number;
  /** Rows read but neither accepted nor set aside (interrupted or stopped): --resume sends them. */
  pending: number;
  /** --validate-only: rows that would be sent. */
  valid?: number;
  validateOnly: boolean;
  packed: boolean;
  interrupted: boolean;
  checkpoint: string | null;
}

export interface SendResult {
  report: SendReport;
  /** Why the send stopped early (input, credentials, service), if it did; not set for Ctrl-C. */
  error?: LakeError;
}

export function emptyReport(inputs: InputFile[], settings: { validateOnly: boolean; pack: boolean }): SendReport {
  const report: SendReport = {
    files: inputs.map((i) => i.name),
    read: 0,
    accepted: 0,
    rejected: 0,
    undelivered: 0,
    retried: 0,
    batches: 0,
    records: 0,
    billedKB: 0,
    billedKBUnpacked: 0,
    deadLetter: null,
    durationMs: 0,
    duplicatesPossible: 0,
    skipped: 0,
    pending: 0,
    validateOnly: settings.validateOnly,
    packed: settings.pack,
    interrupted: false,
    checkpoint: null,
  };
  if (settings.validateOnly) report.valid = 0;
  return report;
}
