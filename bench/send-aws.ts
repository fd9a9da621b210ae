/**
 * send-aws: the built `lake send` (defaults: validation on, concurrency 4) on the aws
 * backend, against a loopback PutRecordBatch endpoint speaking Firehose's JSON protocol
 * and answering each call after 25 ms, through the real FirehoseDeliveryStream and AWS SDK
 * (--endpoint-url). Records are CSV rows that become ~200-byte JSON records.
 *
 * Figures (one JSON line each):
 *   records_per_s   rows accepted per second of wall time (target 50,000)
 *   calls           PutRecordBatch calls, against ceil(rows / 500) (target: within 1%)
 *   peak_rss_mb     peak resident memory of the lake process sending a 1 GB CSV (target 300)
 *
 *   npm run build && node bench/run.mjs send-aws                  # 500,000 rows, then the 1 GB file
 *   node bench/run.mjs send-aws --rows=2000000 --skip-1gb
 *
 * The files are written under the system temporary folder and deleted afterwards.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFirehoseLoopback } from '../test/fixtures/send/firehose-loopback.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const ROWS = Number(args.get('rows') ?? 500_000);
const GIGABYTE = 1e9;
// bench/run.mjs runs the bundled bench from the repository root.
const LAKE = join(process.cwd(), 'bin', 'lake');
const NAME = 'send-aws';

function figure(name: string, value: number, unit: string, extra: Record<string, number> = {}): void {
  process.stdout.write(`${JSON.stringify({ name: `${NAME}.${name}`, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

/** CSV rows whose JSON records are 200 bytes each: `rows` of them, or until the file holds `bytes`. Returns the rows written. */
function writeCsv(path: string, rows: number, bytes = Infinity): number {
  const fd = openSync(path, 'w');
  const header = 'id,ts,source,message,value,ok\n';
  writeSync(fd, header);
  const sources = ['web', 'app', 'api'];
  let chunk = '';
  let written = header.length;
  let i = 0;
  for (; i < rows && written < bytes; i++) {
    const id = String(i).padStart(9, '0');
    const ts = `2024-05-${String(1 + (i % 28)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`;
    // {"id":N,"ts":"...","source":"web","message":"...","value":12.25,"ok":true} is 200 bytes.
    const value = `${i % 1000}.25`.padStart(6, '0');
    const ok = i % 2 === 0 ? 'true' : 'false';
    const fixed = `{"id":${Number(id)},"ts":"${ts}","source":"${sources[i % 3]}","message":"","value":${Number(value)},"ok":${ok}}`.length;
    const line = `${id},${ts},${sources[i % 3]},${'m'.repeat(200 - fixed)},${value},${ok}\n`;
    chunk += line;
    written += line.length;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  return i;
}

/** Peak RSS (VmHWM) of a process, read from /proc while it runs. */
function peakRssKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function runLake(dir: string, file: string, endpoint: string): Promise<{ ms: number; peakMb: number; doc: Record<string, number>; stderr: string; code: number | null }> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', LAKE_ENDPOINT_URL: endpoint };
  const started = performance.now();
  const child = spawn(process.execPath, [LAKE, 'send', file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let peak = 0;
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setInterval(() => {
    peak = Math.max(peak, peakRssKb(child.pid!));
  }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  const ms = performance.now() - started;
  return { ms, peakMb: peak / 1024, doc: stdout ? (JSON.parse(stdout) as Record<string, number>) : {}, stderr, code };
}

const dir = mkdtempSync(join(tmpdir(), 'lake-bench-send-'));
const server = await startFirehoseLoopback({ latencyMs: 25 });
try {
  writeFileSync(join(dir, 'lake.config.json'), JSON.stringify({
    name: 'bench',
    backend: 'aws',
    columns: [
      { name: 'id', type: 'bigint' },
      { name: 'ts', type: 'timestamp' },
      { name: 'source', type: 'string' },
      { name: 'message', type: 'string' },
      { name: 'value', type: 'double' },
      { name: 'ok', type: 'boolean' },
    ],
  }));

  const csv = join(dir, 'events.csv');
  writeCsv(csv, ROWS);
  const run = await runLake(dir, csv, server.url);
  if (run.code !== 0) throw new Error(`lake send exited ${run.code}: ${run.stderr}`);
  const expectedCalls = Math.ceil(ROWS / 500);
  figure('records_per_s', (run.doc.accepted! / run.ms) * 1000, 'records/s', { target: 50_000, rows: ROWS });
  figure('calls', server.calls, 'calls', { baseline: expectedCalls, ratio: Math.round((server.calls / expectedCalls) * 10_000) / 10_000, target: 1.01 });
  figure('small_file_peak_rss_mb', run.peakMb, 'MB');
  rmSync(csv, { force: true });

  if (!args.has('skip-1gb')) {
    const big = join(dir, 'big.csv');
    const bigRows = writeCsv(big, Infinity, GIGABYTE);
    const bytes = statSync(big).size;
    const before = server.accepted;
    const gb = await runLake(dir, big, server.url);
    rmSync(big, { force: true });
    if (gb.code !== 0) throw new Error(`lake send (1 GB) exited ${gb.code}: ${gb.stderr}`);
    if (server.accepted - before !== bigRows) throw new Error(`the 1 GB send delivered ${server.accepted - before} of ${bigRows} rows`);
    figure('peak_rss_mb', gb.peakMb, 'MB', { target: 300, fileBytes: bytes, rows: bigRows });
    figure('1gb_records_per_s', ((server.accepted - before) / gb.ms) * 1000, 'records/s');
  }
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
