// End-to-end: the built bin/lake running `lake demo -o json` in a temporary folder. Every step
// must end with the exit code it expects (the checked send with 3: its malformed rows are
// refused), and the counts must be those of the sample: the expected values are computed
// here from the same seeded generator the demo uses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DAY, demoSamples } from '../../src/lib/demo/script.js';
import { type SampleRow, sampleRows } from '../../src/lib/demo/sample.js';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
const ROWS = 50_000;

interface Step {
  command: string;
  exitCode: number;
  expectedExitCode: number;
  result?: Record<string, unknown>;
}
interface Report {
  dir: string;
  rows: number;
  steps: Step[];
}
interface QueryDoc {
  rows: Record<string, unknown>[];
  stats: { scannedBytes: number; billedBytes: number };
}

let dir: string;
let run: { code: number | null; stdout: string; stderr: string };
let report: Report;
/** Every good row the demo sends: the CSV's and the NDJSON's. */
let good: SampleRow[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lake-demo-e2e-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
  const child = spawnSync(process.execPath, [LAKE, 'demo', '--dir', dir, '-o', 'json'], { cwd: tmpdir(), env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  run = { code: child.status, stdout: child.stdout, stderr: child.stderr };
  expect(run.code, run.stderr).toBe(0);
  report = JSON.parse(run.stdout) as Report;
  const samples = demoSamples(ROWS);
  good = [...sampleRows(samples.csv), ...sampleRows(samples.ndjson)];
}, 120_000);

const result = <T>(i: number) => report.steps[i]!.result as T;

describe('lake demo (bin/lake, -o json)', () => {
  it('runs every step to the exit code it expects, and finishes', () => {
    expect(report.dir).toBe(dir);
    expect(report.rows).toBe(ROWS);
    expect(report.steps.map((s) => s.command)).toEqual([
      'lake init --name weblogs --schema schema.json --time-field timestamp --partition-by year,month,day,hour',
      'lake send weblogs.csv --dead-letter rejected.ndjson',
      'lake send late.ndjson --no-validate',
      'lake partitions sync',
      "lake query 'SELECT logtype, count(*) AS n FROM events GROUP BY logtype ORDER BY n DESC'",
      `lake query 'SELECT hour, count(*) AS errors FROM events WHERE logtype = '\\''ERROR'\\'' AND year = '\\''2024'\\'' AND month = '\\''05'\\'' AND day = '\\''17'\\'' GROUP BY hour ORDER BY hour'`,
      'lake errors --samples 2',
    ]);
    expect(report.steps.map((s) => s.exitCode)).toEqual([0, 3, 0, 0, 0, 0, 0]);
    for (const step of report.steps) expect(step.exitCode, step.command).toBe(step.expectedExitCode);
    expect(run.stderr).toContain(`the 5 refused rows were not sent: they are in ${dir}/rejected.ndjson`);
    expect(run.stderr).toContain(`The lake is in ${dir}`);
  });

  it('the checked send refuses exactly the 5 malformed CSV rows and names them in the dead-letter file', () => {
    expect(result(1)).toMatchObject({ files: ['weblogs.csv'], read: ROWS + 5, accepted: ROWS, rejected: 5, undelivered: 0, deadLetter: 'rejected.ndjson' });
    const dead = readFileSync(join(dir, 'rejected.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // One bad row after every 8,333 good ones (50,000 / 6), below the header line.
    expect(dead.map(({ line, column, value, code }) => ({ line, column, value, code }))).toEqual([
      { line: 8_335, column: 'timestamp', value: 'yesterday at noon', code: 'DataFormatConversion.MalformedData' },
      { line: 16_669, column: 'latency_ms', value: 'fast', code: 'DataFormatConversion.MalformedData' },
      { line: 25_003, column: undefined, value: undefined, code: 'lake.FieldCount' },
      { line: 33_337, column: 'timestamp', value: 'yesterday at noon', code: 'DataFormatConversion.MalformedData' },
      { line: 41_671, column: 'latency_ms', value: 'fast', code: 'DataFormatConversion.MalformedData' },
    ]);
    expect(dead.map((d) => d.text)).toEqual([
      'web-01,INFO,yesterday at noon,bad time 0,1',
      'web-02,ERROR,2024-05-16 00:00:00,bad number 1,fast',
      'web-03,WARN,2024-05-16 00:00:00,cut off 2',
      'web-01,INFO,yesterday at noon,bad time 3,1',
      'web-02,ERROR,2024-05-16 00:00:00,bad number 4,fast',
    ]);
  });

  it('the unchecked send delivers every record to Firehose, and sync registers the 48 hours of two days', () => {
    expect(result(2)).toMatchObject({ files: ['late.ndjson'], read: 2_507, accepted: 2_507, rejected: 0, undelivered: 0, deadLetter: null });
    expect(result(3)).toMatchObject({ listed: 48, registered: 0, added: 48, dropped: 0, updated: 0, anomalies: [], dryRun: false });
  });

  it('the first query counts exactly the good rows of both files by log type', () => {
    const counts = new Map<string, number>();
    for (const r of good) counts.set(r.logtype, (counts.get(r.logtype) ?? 0) + 1);
    const expected = [...counts].map(([logtype, n]) => ({ logtype, n })).sort((a, b) => b.n - a.n);
    const doc = result<QueryDoc>(4);
    expect(doc.rows).toEqual(expected);
    expect(expected.reduce((s, r) => s + r.n, 0)).toBe(ROWS + 2_500);
  });

  it('the second query counts the errors of each hour of one day, and its partition filter scans less', () => {
    const day = `${DEMO_DAY.year}-${DEMO_DAY.month}-${DEMO_DAY.day}`;
    const perHour = new Map<string, number>();
    for (const r of good) if (r.logtype === 'ERROR' && r.timestamp.startsWith(day)) perHour.set(r.timestamp.slice(11, 13), (perHour.get(r.timestamp.slice(11, 13)) ?? 0) + 1);
    const expected = [...perHour].sort(([a], [b]) => a.localeCompare(b)).map(([hour, errors]) => ({ hour, errors }));
    expect(expected).toHaveLength(24);
    const all = result<QueryDoc>(4);
    const oneDay = result<QueryDoc>(5);
    expect(oneDay.rows).toEqual(expected);
    expect(oneDay.stats.scannedBytes).toBeGreaterThan(0);
    expect(oneDay.stats.scannedBytes).toBeLessThan(all.stats.scannedBytes);
    expect(run.stderr.match(/scanned [\d.]+ kB \([\d,]+ bytes\)/g)).toHaveLength(2);
  });

  it('lake errors shows the 7 records Firehose could not convert, grouped, with the failing column', () => {
    const doc = result<{ total: number; groups: { type: string; code: string; count: number; samples: { column?: string; value?: string }[] }[] }>(6);
    expect(doc.total).toBe(7);
    expect(doc.groups.map((g) => [g.type, g.code, g.count])).toEqual([
      ['format-conversion-failed', 'DataFormatConversion.MalformedData', 5],
      ['format-conversion-failed', 'DataFormatConversion.ParseError', 2],
    ]);
    expect(doc.groups.map((g) => g.samples.map((s) => [s.column, s.value]))).toEqual([
      [
        ['timestamp', '"yesterday at noon"'],
        ['latency_ms', '"fast"'],
      ],
      [
        [undefined, undefined],
        [undefined, undefined],
      ],
    ]);
  });
});
