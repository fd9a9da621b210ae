// `lake errors` in-process on the local backend: records sent with --no-validate through the
// Firehose emulator land under the error prefix in AWS's shape; the command reads them back.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const NOW = new Date('2024-05-17T12:30:00Z');
const ERR_DIR = ['.lake', 's3', 'shop-data', 'errors', 'format-conversion-failed', '2024', '05', '17'];

let dir: string;
const lake = (...argv: string[]) => runCli(argv, { cwd: dir, main: { now: () => NOW } });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lake-errors-int-'));
  writeFileSync(
    join(dir, 'lake.config.json'),
    JSON.stringify({ name: 'shop', backend: 'local', columns: [{ name: 'id', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'ts', type: 'timestamp' }] }),
  );
  mkdirSync(join(dir, '.lake', 's3', 'shop-data'), { recursive: true });
  writeFileSync(
    join(dir, 'in.ndjson'),
    ['{"id":"ok","qty":1}', '{"id":"q1","qty":"x"}', '{"id":"t1","ts":"soon"}', '{"id":"q2","qty":"2.5"}', '{"id":"p1"', ''].join('\n'),
  );
  const sent = await lake('send', '--no-validate', 'in.ndjson', '-o', 'json');
  expect(sent.code, sent.stderr).toBe(0);
});

const errorKey = () => readdirSync(join(dir, ...ERR_DIR))[0]!;

describe('lake errors on the local backend', () => {
  it('prints the errors document: groups by type and code, with first and last seen', async () => {
    const run = await lake('errors', '-o', 'json');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toEqual({
      since: '2024-05-16T12:30:00.000Z',
      until: '2024-05-17T12:30:00.000Z',
      total: 4,
      groups: [
        { type: 'format-conversion-failed', code: 'DataFormatConversion.MalformedData', count: 3, firstSeen: '2024-05-17T12:30:00.000Z', lastSeen: '2024-05-17T12:30:00.000Z', sample: 'Data does not match the schema. For input string: "x"' },
        { type: 'format-conversion-failed', code: 'DataFormatConversion.ParseError', count: 1, firstSeen: '2024-05-17T12:30:00.000Z', lastSeen: '2024-05-17T12:30:00.000Z', sample: 'Encountered malformed JSON.' },
      ],
      unreadable: [],
      objects: 1,
      listCalls: 3,
      durationMs: expect.any(Number) as unknown,
    });
  });

  it('--samples names the column and value that failed', async () => {
    const run = await lake('errors', '--samples', '5', '-o', 'json');
    const doc = JSON.parse(run.stdout) as { groups: { samples: { data: string; column?: string; value?: string }[] }[] };
    expect(doc.groups.map((g) => g.samples.map((s) => [s.data, s.column, s.value]))).toEqual([
      [
        ['{"id":"q1","qty":"x"}', 'qty', '"x"'],
        ['{"id":"t1","ts":"soon"}', 'ts', '"soon"'],
        ['{"id":"q2","qty":"2.5"}', 'qty', '"2.5"'],
      ],
      [['{"id":"p1"', undefined, undefined]],
    ]);
  });

  it('--samples as a table', async () => {
    const run = await lake('errors', '--samples', '1', '-o', 'table');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('4 error records from 2024-05-16T12:30Z to 2024-05-17T12:30Z, in 1 object');
    expect(run.stdout).toContain('samples');
    expect(run.stdout).toMatch(/│ DataFormatConversion\.MalformedData │ qty +│ "x" +│ \{"id":"q1","qty":"x"\} +│/);
  });

  it('--raw prints each record as NDJSON with rawData decoded', async () => {
    const run = await lake('errors', '--raw');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.rawData)).toEqual(['{"id":"q1","qty":"x"}', '{"id":"t1","ts":"soon"}', '{"id":"q2","qty":"2.5"}', '{"id":"p1"']);
    expect(lines[0]).toMatchObject({ key: `errors/format-conversion-failed/2024/05/17/${errorKey()}`, type: 'format-conversion-failed', lastErrorCode: 'DataFormatConversion.MalformedData', arrivalTimestamp: NOW.getTime() });
  });

  it('--fail-on-errors exits 3 after printing the result, and 0 on an empty window', async () => {
    const run = await lake('errors', '--fail-on-errors', '-o', 'json');
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 4 });
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: 'Partial', message: '4 error records from 2024-05-16T12:30:00.000Z to 2024-05-17T12:30:00.000Z', hint: '`lake errors --samples 3` shows what failed and why', exitCode: 3 } });
    const quiet = await lake('errors', '--fail-on-errors', '--since', '2024-05-10', '--until', '2024-05-11', '-o', 'json');
    expect(quiet.code).toBe(0);
    expect(JSON.parse(quiet.stdout)).toMatchObject({ total: 0, groups: [], objects: 0 });
  });

  it('reports a corrupt object with its key and still reads the others, gzip included', async () => {
    const folder = join(dir, ...ERR_DIR);
    const good = readFileSync(join(folder, errorKey()));
    writeFileSync(join(folder, 'shop-ingest-1-2024-05-17-12-00-00-00000000-0000-4000-8000-000000000001.gz'), gzipSync(good));
    writeFileSync(join(folder, 'shop-ingest-1-2024-05-17-12-00-00-00000000-0000-4000-8000-000000000002'), good.subarray(0, good.length - 10));
    const run = await lake('errors', '-o', 'json');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { total: number; unreadable: unknown[]; objects: number };
    expect(doc.total).toBe(4 + 4 + 3);
    expect(doc.objects).toBe(3);
    const key = 'errors/format-conversion-failed/2024/05/17/shop-ingest-1-2024-05-17-12-00-00-00000000-0000-4000-8000-000000000002';
    expect(doc.unreadable).toEqual([{ key, records: 3, problems: [{ offset: expect.any(Number) as unknown, message: expect.stringMatching(/truncated/) as unknown }] }]);
    expect(run.stderr).toMatch(new RegExp(`^warning: ${key}: unreadable error record at byte \\d+: truncated \\(the file ends inside it\\)\n$`));
  });

  it('redrives with a transform, keeps what still fails, and sends nothing twice', async () => {
    writeFileSync(join(dir, 'fix.mjs'), 'export default (r, info) => (info.column === "qty" ? { ...r, qty: parseInt(r.qty, 10) || 0 } : typeof r === "string" ? r + "}" : r);\n');
    const first = await lake('errors', '--redrive', '--transform', 'fix.mjs', '-o', 'json');
    expect(first.code).toBe(3);
    const doc = JSON.parse(first.stdout) as { redrive: Record<string, unknown> };
    expect(doc.redrive).toMatchObject({ records: 4, toSend: 3, sent: 3, skipped: 0, stillFailing: 1, undelivered: 0, objects: 1, archive: 'errors/redriven/20240517T123000Z/' });
    expect(doc.redrive.failing).toEqual([{ code: 'DataFormatConversion.MalformedData', column: 'ts', count: 1, message: 'Data does not match the schema. For input string: "soon"' }]);
    expect(JSON.parse(first.stderr).error.message).toBe('redrive incomplete: still failing 1, not delivered 0');

    const after = JSON.parse((await lake('errors', '-o', 'json')).stdout) as { total: number; groups: { code: string; count: number }[] };
    expect(after.total).toBe(1);
    const second = await lake('errors', '--redrive', '--transform', 'fix.mjs', '-o', 'json');
    expect(JSON.parse(second.stdout).redrive).toMatchObject({ records: 1, toSend: 0, sent: 0, objects: 0 });
    expect(readdirSync(join(dir, '.lake', 's3', 'shop-data', 'errors', 'redriven'))).toEqual(['20240517T123000Z']);
  });

  it('refuses flags that do not go together, and unreadable times', async () => {
    expect(await lake('errors', '--dry-run')).toMatchObject({ code: 2, stderr: 'lake: --dry-run, --transform and --dead-letter go with --redrive\n' });
    expect(await lake('errors', '--raw', '--samples', '2')).toMatchObject({ code: 2, stderr: 'lake: --raw prints every record; it does not go with --samples or --redrive\n' });
    expect((await lake('errors', '--since', 'last week')).code).toBe(2);
    expect((await lake('errors', '--type', 'oops-failed')).stderr).toMatch(/^lake: --type: 'oops-failed' is not an error output type\n/);
    expect((await lake('errors', '--redrive', '--transform', 'missing.mjs')).stderr).toMatch(/^lake: --transform: missing.mjs does not exist\n/);
  });
});
