/**
 * What `lake demo` does: the sample files it writes and the lake commands it runs, in order,
 * each with the exit code it should end with and a line saying why it is there. Kept apart
 * from the command so a test can regenerate the very rows the demo sends.
 */
import { SAMPLE_COLUMNS, type SampleOptions, sampleCsv, sampleNdjson } from './sample.js';

/** The sample spans two days, so a one-day filter has a partition to prune. */
export const DEMO_START = new Date('2024-05-16T00:00:00Z');
export const DEMO_HOURS = 48;
/** The day the second query looks at. */
export const DEMO_DAY = { year: '2024', month: '05', day: '17' };
/** Rows of weblogs.csv that `lake send`'s check refuses. */
export const DEMO_CSV_MALFORMED = 5;
/** Rows of late.ndjson, sent unchecked, that Firehose fails to convert. */
export const DEMO_NDJSON_MALFORMED = 7;
export const DEMO_DEAD_LETTER = 'rejected.ndjson';

/** The generator settings of the two sample files, for `rows` web-log rows. */
export function demoSamples(rows: number): { csv: SampleOptions; ndjson: SampleOptions } {
  return {
    csv: { rows, seed: 7, start: DEMO_START, hours: DEMO_HOURS, malformed: DEMO_CSV_MALFORMED },
    ndjson: { rows: Math.max(10, Math.floor(rows / 20)), seed: 11, start: DEMO_START, hours: DEMO_HOURS, malformed: DEMO_NDJSON_MALFORMED },
  };
}

/** The files the demo writes into its folder: name and content. */
export function demoFiles(rows: number): [string, string][] {
  const samples = demoSamples(rows);
  return [
    ['weblogs.csv', sampleCsv(samples.csv)],
    ['late.ndjson', sampleNdjson(samples.ndjson)],
    ['schema.json', `${JSON.stringify(SAMPLE_COLUMNS, null, 2)}\n`],
  ];
}

export interface DemoStepPlan {
  args: string[];
  expectedExitCode: number;
  /** Printed before the command: what the step shows. */
  about: string;
  /** Printed after the step when it ends as expected. */
  after?: string;
}

export function demoSteps(dir: string): DemoStepPlan[] {
  const { year, month, day } = DEMO_DAY;
  return [
    {
      args: ['init', '--name', 'weblogs', '--schema', 'schema.json', '--time-field', 'timestamp', '--partition-by', 'year,month,day,hour'],
      expectedExitCode: 0,
      about: 'create a local lake partitioned by event time: a bucket folder, a Glue-shaped catalog, a Firehose emulator, DuckDB for Athena',
    },
    {
      args: ['send', 'weblogs.csv', '--dead-letter', DEMO_DEAD_LETTER],
      expectedExitCode: 3,
      about: `check each row of weblogs.csv against the table and send the good ones; its ${DEMO_CSV_MALFORMED} malformed rows are refused, so this ends with exit 3 (partial)`,
      after: `the ${DEMO_CSV_MALFORMED} refused rows were not sent: they are in ${dir}/${DEMO_DEAD_LETTER}, each with its line, column, value, Firehose error and original text`,
    },
    {
      args: ['send', 'late.ndjson', '--no-validate'],
      expectedExitCode: 0,
      about: `send late.ndjson unchecked, as a plain producer would: Firehose accepts every record and writes the ${DEMO_NDJSON_MALFORMED} it cannot convert under the error prefix`,
    },
    {
      args: ['partitions', 'sync'],
      expectedExitCode: 0,
      about: 'register the hour partitions the rows landed in: until then queries do not see them',
    },
    {
      args: ['query', 'SELECT logtype, count(*) AS n FROM events GROUP BY logtype ORDER BY n DESC'],
      expectedExitCode: 0,
      about: 'count by log type over both days: the cost line says how many bytes Athena would bill',
    },
    {
      args: [
        'query',
        `SELECT hour, count(*) AS errors FROM events WHERE logtype = 'ERROR' AND year = '${year}' AND month = '${month}' AND day = '${day}' GROUP BY hour ORDER BY hour`,
      ],
      expectedExitCode: 0,
      about: `errors per hour on ${year}-${month}-${day}: the partition filter skips the other day, so this scans less than the query above`,
    },
    {
      args: ['errors', '--samples', '2'],
      expectedExitCode: 0,
      about: 'what Firehose could not convert, grouped by error code, with sample records and the column that failed',
    },
  ];
}
