/**
 * The local Firehose against DuckDB alone. Pushes N rows of 12 columns (string, bigint, int,
 * double, boolean, timestamp, some nulls; ~150-byte JSON each) through putRecordBatch calls
 * of 500 and close(), partitioned by event time (year, month), then has DuckDB write the
 * same data from CSV with `COPY ... (FORMAT parquet, PARTITION_BY (year, month))`.
 * The records are generated once, before the runs, into a file that each run reads back batch
 * by batch (as a producer would hold them: Buffers); lake's time is putRecordBatch + close.
 *
 * Figures (one JSON line each): lake_ms and duckdb_ms (wall, best of --repeat runs, the two
 * interleaved so a busy machine skews both alike), ratio (best against best, target 3),
 * ratio_median (median of each round's lake/DuckDB pair), lake_cpu_ms and duckdb_cpu_ms (CPU
 * of every thread, reading the records included: steadier than wall time on a shared
 * machine), peak_rss_mb (of the first lake run; target 600). With --scale-rows=N, lake alone
 * is run again on N rows in a fresh process: peak_rss_mb_at_N (target 600) and rss_ratio
 * (that peak over this size's, target 1.2: memory flat as input grows).
 *
 *   node bench/run.mjs local-delivery                       # 1,000,000 rows
 *   node bench/run.mjs local-delivery --scale-rows=10000000 # and memory at 10M rows (minutes)
 *   node bench/run.mjs local-delivery --rows=10000000 --name=local-delivery-10m
 *   node bench/run.mjs local-delivery --lake-only          # skip DuckDB's side
 *   node bench/run.mjs local-delivery --repeat=5           # best of 5 (default 3 up to 2M rows)
 *   node bench/run.mjs local-delivery --trace-memory       # memory every 1M rows, on stderr
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import { defaultConfig } from '../src/lib/config.js';
import { LocalDeliveryStream } from '../src/lib/local/firehose-emulator.js';
import { FsObjectStore } from '../src/lib/local/fs-object-store.js';
import { silentLogger } from '../src/lib/log.js';

const args = process.argv.slice(2);
/** `--name=value` (bench/run.mjs passes on only the arguments that start with '-'). */
const flag = (name: string, fallback: string) => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found ? found.slice(name.length + 3) : fallback;
};
const ROWS = Number(flag('rows', '1000000'));
const NAME = flag('name', ROWS === 1_000_000 ? 'local-delivery' : ROWS % 1_000_000 === 0 ? `local-delivery-${ROWS / 1_000_000}m` : `local-delivery-${ROWS}`);
const BATCH = 500;
/** Two years of event time, cycled, so partitions stay 24 whatever N is. */
const BASE = Date.UTC(2023, 0, 1);
const SPAN_SECONDS = 2 * 365 * 86_400;
const COUNTRIES = ['us', 'de', 'fr', 'jp', 'br'];

interface Values {
  eventId: string;
  userId: string | null;
  session: string;
  qty: number;
  score: number;
  active: boolean;
  ts: string;
  country: string;
  amount: number | null;
  path: string;
  level: number;
  note: string | null;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const DAYS = Array.from({ length: SPAN_SECONDS / 86_400 }, (_, d) => new Date(BASE + d * 86_400_000).toISOString().slice(0, 10));

/** Row i's values; cheap to compute, so generating records costs little besides the timed part. */
function values(i: number): Values {
  const s = (i * 61) % SPAN_SECONDS;
  const inDay = s % 86_400;
  return {
    eventId: `e${i.toString(36)}`,
    userId: i % 5 === 0 ? null : String(100_000_000 + ((i * 31) % 999_983)),
    session: `s${i % 10_007}`,
    qty: i % 1000,
    score: (i % 9973) / 8,
    active: i % 3 === 0,
    ts: `${DAYS[Math.floor(s / 86_400)]} ${pad2(Math.floor(inDay / 3600))}:${pad2(Math.floor(inDay / 60) % 60)}:${pad2(inDay % 60)}`,
    country: COUNTRIES[i % 5]!,
    amount: i % 11 === 0 ? null : (i % 100_000) / 100,
    path: `/p/${i % 523}`,
    level: i % 7,
    note: i % 4 === 0 ? null : 'ok',
  };
}

function jsonRecord(v: Values): string {
  return (
    `{"event_id":"${v.eventId}","user_id":${v.userId ?? 'null'},"session":"${v.session}","qty":${v.qty},"score":${v.score},` +
    `"active":${v.active},"ts":"${v.ts}","country":"${v.country}","amount":${v.amount ?? 'null'},"path":"${v.path}","level":${v.level},"note":${v.note === null ? 'null' : `"${v.note}"`}}`
  );
}

function csvLine(v: Values): string {
  return [v.eventId, v.userId ?? '', v.session, v.qty, v.score, v.active, v.ts, v.country, v.amount ?? '', v.path, v.level, v.note ?? ''].join(',');
}

const COLUMNS = [
  { name: 'event_id', type: 'string' },
  { name: 'user_id', type: 'bigint' },
  { name: 'session', type: 'string' },
  { name: 'qty', type: 'int' },
  { name: 'score', type: 'double' },
  { name: 'active', type: 'boolean' },
  { name: 'ts', type: 'timestamp' },
  { name: 'country', type: 'string' },
  { name: 'amount', type: 'double' },
  { name: 'path', type: 'string' },
  { name: 'level', type: 'int' },
  { name: 'note', type: 'string' },
];

function emit(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ name: `${NAME}.${name}`, value: Math.round(value * 100) / 100, unit, ...extra })}\n`);
}

interface Measure {
  ms: number;
  /** CPU time of the whole process (every thread) spent on the work. */
  cpuMs: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function batchOf(start: number): Uint8Array[] {
  const batch: Uint8Array[] = [];
  for (let i = start; i < Math.min(ROWS, start + BATCH); i++) batch.push(Buffer.from(jsonRecord(values(i)), 'latin1'));
  return batch;
}

/**
 * Writes every batch's records to a file once, before any timed run, as a producer would
 * hold them ready: per batch its byte count, each record's length, then the records. Runs
 * read a batch back into one Buffer (records are views of it), so generating JSON is no
 * part of lake's time or CPU, and memory stays one batch whatever N is.
 */
function writeRecords(dir: string): string {
  const file = join(dir, 'records.bin');
  const fd = openSync(file, 'w');
  for (let start = 0; start < ROWS; start += BATCH) {
    const batch = batchOf(start);
    const header = Buffer.alloc(4 + 4 * batch.length);
    let total = 0;
    batch.forEach((r, k) => {
      header.writeUInt32LE(r.length, 4 + 4 * k);
      total += r.length;
    });
    header.writeUInt32LE(total, 0);
    writeSync(fd, header);
    writeSync(fd, Buffer.concat(batch, total));
  }
  closeSync(fd);
  return file;
}

/** Reads the batches written by `writeRecords`, one at a time. */
function* readBatches(file: string): Generator<Uint8Array[]> {
  const fd = openSync(file, 'r');
  try {
    let position = 0;
    const read = (length: number) => {
      const out = Buffer.allocUnsafeSlow(length);
      if (readSync(fd, out, 0, length, position) !== length) throw new Error('records file truncated');
      position += length;
      return out;
    };
    for (let start = 0; start < ROWS; start += BATCH) {
      const count = Math.min(ROWS, start + BATCH) - start;
      const header = read(4 + 4 * count);
      const data = read(header.readUInt32LE(0));
      const batch: Uint8Array[] = [];
      for (let k = 0, offset = 0; k < count; k++) {
        const length = header.readUInt32LE(4 + 4 * k);
        batch.push(data.subarray(offset, offset + length));
        offset += length;
      }
      yield batch;
    }
  } finally {
    closeSync(fd);
  }
}

async function runLake(dir: string, recordsFile: string): Promise<Measure & { rssMb: number; bytes: number }> {
  const config = defaultConfig('bench');
  config.lakeDir = join(dir, 'lake');
  config.columns = COLUMNS;
  config.partitioning = { keys: ['year', 'month'], time: 'ts', layout: 'hive', projection: false };
  const store = new FsObjectStore(config.lakeDir);
  await store.createBucket(config.bucket);
  const stream = new LocalDeliveryStream({ config, store, now: () => new Date(), log: silentLogger });
  let ms = 0;
  let bytes = 0;
  let peakRss = 0;
  const cpu = cpuNow();
  let start = 0;
  for (const batch of readBatches(recordsFile)) {
    for (const r of batch) bytes += r.length;
    const t = performance.now();
    await stream.putRecordBatch(batch);
    ms += performance.now() - t;
    if (start % 100_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (args.includes('--trace-memory') && start % 1_000_000 === 0) {
      const m = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 1048576);
      process.stderr.write(`rows ${start}: rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} MB\n`);
    }
    start += batch.length;
  }
  const t = performance.now();
  const putMs = ms;
  await stream.close();
  ms += performance.now() - t;
  const cpuMs = cpuNow() - cpu;
  process.stderr.write(`lake: putRecordBatch ${Math.round(putMs)} ms, close ${Math.round(ms - putMs)} ms, cpu ${Math.round(cpuMs)} ms\n`);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  // Check the output: every row delivered.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${join(config.lakeDir, 's3', config.bucket, 'data')}/**/*.parquet', hive_partitioning = false)`);
  const n = Number(reader.getRowObjectsJS()[0]!.n);
  connection.closeSync();
  instance.closeSync();
  rmSync(config.lakeDir, { recursive: true, force: true });
  if (n !== ROWS) throw new Error(`lake delivered ${n} rows, expected ${ROWS}`);
  return { ms, cpuMs, rssMb: peakRss / 1024 / 1024, bytes };
}

function writeCsv(dir: string): string {
  const csv = join(dir, 'rows.csv');
  const fd = openSync(csv, 'w');
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    chunk += `${csvLine(values(i))}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  return csv;
}

async function runDuckdb(dir: string, csv: string): Promise<Measure> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const columns = `{'event_id':'VARCHAR','user_id':'BIGINT','session':'VARCHAR','qty':'INTEGER','score':'DOUBLE','active':'BOOLEAN','ts':'TIMESTAMP','country':'VARCHAR','amount':'DOUBLE','path':'VARCHAR','level':'INTEGER','note':'VARCHAR'}`;
  const out = join(dir, 'duckdb-out');
  const cpu = cpuNow();
  const t = performance.now();
  await connection.run(
    `COPY (SELECT *, year(ts) AS year, month(ts) AS month FROM read_csv('${csv}', header = false, columns = ${columns})) ` +
      `TO '${out}' (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year, month))`,
  );
  const ms = performance.now() - t;
  const cpuMs = cpuNow() - cpu;
  connection.closeSync();
  instance.closeSync();
  rmSync(out, { recursive: true, force: true });
  process.stderr.write(`duckdb: ${Math.round(ms)} ms, cpu ${Math.round(cpuMs)} ms\n`);
  return { ms, cpuMs };
}

// The emulator's conversion workers load this bundle as their entry: only the main thread runs the bench.
if (isMainThread) {
  // Best of N, lake and DuckDB interleaved, so a busy machine skews both sides alike.
  const repeat = Number(flag('repeat', ROWS <= 2_000_000 ? '3' : '1'));
  const dir = mkdtempSync(join(tmpdir(), 'lake-bench-'));
  try {
    const recordsFile = writeRecords(dir);
    const csv = args.includes('--lake-only') ? '' : writeCsv(dir);
    const lake: Awaited<ReturnType<typeof runLake>>[] = [];
    const duck: Measure[] = [];
    for (let r = 0; r < repeat; r++) {
      lake.push(await runLake(dir, recordsFile));
      if (csv) duck.push(await runDuckdb(dir, csv));
    }
    const best = <T extends Measure>(list: T[], key: 'ms' | 'cpuMs') => Math.min(...list.map((m) => m[key]));
    const round = (n: number) => Math.round(n * 100) / 100;
    emit('rows', ROWS, 'rows', { input_bytes: lake[0]!.bytes, avg_record_bytes: Math.round(lake[0]!.bytes / ROWS), repeat, cores: availableParallelism() });
    if (duck.length > 0) {
      const ratio = best(lake, 'ms') / best(duck, 'ms');
      emit('lake_ms', best(lake, 'ms'), 'ms', { baseline: round(best(duck, 'ms')), ratio: round(ratio), target: 3 });
      emit('duckdb_ms', best(duck, 'ms'), 'ms');
      emit('ratio', ratio, 'x', { target: 3 });
      const pairs = lake.map((l, i) => l.ms / duck[i]!.ms).sort((a, b) => a - b);
      emit('ratio_median', pairs[Math.floor(pairs.length / 2)]!, 'x', { target: 3, rounds: pairs.map(round) });
      emit('lake_cpu_ms', best(lake, 'cpuMs'), 'ms', { baseline: round(best(duck, 'cpuMs')), ratio: round(best(lake, 'cpuMs') / best(duck, 'cpuMs')) });
      emit('duckdb_cpu_ms', best(duck, 'cpuMs'), 'ms');
      emit('cpu_ratio', best(lake, 'cpuMs') / best(duck, 'cpuMs'), 'x');
    } else {
      emit('lake_ms', best(lake, 'ms'), 'ms');
    }
    // The first run's: later runs inherit memory DuckDB's allocator keeps from earlier ones.
    emit('peak_rss_mb', lake[0]!.rssMb, 'MB', { target: 600 });
    const scaleRows = Number(flag('scale-rows', '0'));
    if (scaleRows > 0) {
      // A fresh process, so its peak is its own.
      const child = spawnSync(process.execPath, [process.argv[1]!, `--rows=${scaleRows}`, '--lake-only', '--repeat=1', '--name=scaled'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      const line = child.stdout.split('\n').find((l) => l.includes('"scaled.peak_rss_mb"'));
      if (child.status !== 0 || line === undefined) throw new Error(`the ${scaleRows}-row run failed (exit ${child.status ?? child.signal})`);
      const scaled = (JSON.parse(line) as { value: number }).value;
      const label = scaleRows % 1_000_000 === 0 ? `${scaleRows / 1_000_000}m` : String(scaleRows);
      emit(`peak_rss_mb_at_${label}`, scaled, 'MB', { target: 600 });
      emit('rss_ratio', scaled / lake[0]!.rssMb, 'x', { baseline: round(lake[0]!.rssMb), target: 1.2, rows: scaleRows });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
