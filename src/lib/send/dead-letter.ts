/**
 * The dead-letter file: one JSON line per input row that was not delivered, with where it
 * came from, why (the Firehose error code it got or would get), and the row as the input
 * had it, so it can be fixed and sent again. Created on the first entry only.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface DeadLetterEntry {
  /** The input as the user named it. */
  file: string;
  line: number;
  /** The column that failed conversion, when known. */
  column?: string;
  /** The offending value as it appeared in the input, when known. */
  value?: string;
  /** Firehose's error code (DataFormatConversion.MalformedData, ServiceUnavailableException, ...) or lake's (lake.FieldCount, ...). */
  code: string;
  message: string;
  /** validation: checked before sending and not sent; delivery: sent, and not accepted after every retry. */
  stage: 'validation' | 'delivery';
  attempts?: number;
  /** A call carrying the row got no answer: the row may have been delivered after all. */
  possiblyDelivered?: boolean;
  /** The row as the input had it. */
  text: string;
}

/** `lake-dead-letter-20240517T130501Z.ndjson`: the default name, from the send's start time. */
export function defaultDeadLetterName(start: Date): string {
  return `lake-dead-letter-${start.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.ndjson`;
}

export class DeadLetterFile {
  private fd: number | undefined;
  count = 0;

  constructor(readonly path: string) {}

  get created(): boolean {
    return this.fd !== undefined;
  }

  write(entry: DeadLetterEntry): void {
    // Appends: a resumed send adds to the file its interrupted run started.
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    this.count++;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
