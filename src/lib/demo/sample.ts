/**
 * The demo's web-log sample: `{source, logtype, timestamp, message}` rows, generated from a
 * seed so every run (and every test) sees the same data. A few rows are malformed on purpose:
 * in the CSV, of the kinds `lake send`'s check refuses (dead-lettered before sending); in the
 * NDJSON, of the kinds Firehose rejects (error records for `lake errors` to show).
 */

export interface SampleOptions {
  rows: number;
  seed: number;
  /** First event time; rows spread over `hours` hours from here. */
  start: Date;
  hours: number;
  /** Malformed rows mixed in (not counted in `rows`). */
  malformed: number;
}

export const SAMPLE_COLUMNS = [
  { name: 'source', type: 'string' },
  { name: 'logtype', type: 'string' },
  { name: 'timestamp', type: 'timestamp' },
  { name: 'message', type: 'string' },
  { name: 'latency_ms', type: 'int' },
];

const LOGTYPES = ['INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'];
const SOURCES = ['web-01', 'web-02', 'web-03', 'api-01', 'api-02', 'batch-01'];
const PATHS = ['/', '/cart', '/checkout', '/login', '/search', '/api/items', '/api/orders'];

/** mulberry32: a tiny, fast, seedable generator; quality is ample for sample data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Firehose's `yyyy-MM-dd HH:mm:ss` form. */
export function sqlTimestamp(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export interface SampleRow {
  source: string;
  logtype: string;
  timestamp: string;
  message: string;
  latency_ms: number;
}

/** The good rows, in time order. */
export function* sampleRows(options: SampleOptions): Generator<SampleRow> {
  const next = random(options.seed);
  const span = options.hours * 3_600_000;
  for (let i = 0; i < options.rows; i++) {
    const at = new Date(options.start.getTime() + Math.floor((i / options.rows) * span + next() * (span / options.rows)));
    const logtype = LOGTYPES[Math.floor(next() * LOGTYPES.length)]!;
    const path = PATHS[Math.floor(next() * PATHS.length)]!;
    const status = logtype === 'ERROR' ? 500 + Math.floor(next() * 4) : logtype === 'WARN' ? 404 : 200;
    yield {
      source: SOURCES[Math.floor(next() * SOURCES.length)]!,
      logtype,
      timestamp: sqlTimestamp(at),
      message: `GET ${path} ${status}`,
      latency_ms: Math.floor(5 + next() * (logtype === 'ERROR' ? 2000 : 300)),
    };
  }
}

/** Malformed lines of three kinds Firehose rejects, as NDJSON text. */
export function malformedLines(count: number, start: Date): string[] {
  const kinds = [
    (i: number) => `{"source":"web-01","logtype":"INFO","timestamp":"yesterday at noon","message":"bad time ${i}","latency_ms":1}`,
    (i: number) => `{"source":"web-02","logtype":"ERROR","timestamp":"${sqlTimestamp(start)}","message":"bad number ${i}","latency_ms":"fast"}`,
    (i: number) => `{"source":"web-03","logtype":"WARN","timestamp":"${sqlTimestamp(start)}","message":"cut off ${i}"`,
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!(i));
}

/**
 * Malformed CSV rows of three kinds `lake send` refuses before sending: a time nobody can
 * read, a word where a number goes, and a row cut short (one field missing).
 */
export function malformedCsvLines(count: number, start: Date): string[] {
  const kinds = [
    (i: number) => `web-01,INFO,yesterday at noon,bad time ${i},1`,
    (i: number) => `web-02,ERROR,${sqlTimestamp(start)},bad number ${i},fast`,
    (i: number) => `web-03,WARN,${sqlTimestamp(start)},cut off ${i}`,
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!(i));
}

/** Good lines with the bad ones spread evenly among them (the rest at the end). */
function interleave(good: Iterable<string>, rows: number, bad: string[]): string[] {
  const every = bad.length > 0 ? Math.floor(rows / (bad.length + 1)) : Infinity;
  const lines: string[] = [];
  let i = 0;
  for (const line of good) {
    lines.push(line);
    i++;
    if (i % every === 0 && bad.length > 0) lines.push(bad.shift()!);
  }
  lines.push(...bad);
  return lines;
}

/** The sample as NDJSON: good rows with malformed ones spread evenly among them. */
export function sampleNdjson(options: SampleOptions): string {
  const good = (function* () {
    for (const row of sampleRows(options)) yield JSON.stringify(row);
  })();
  return `${interleave(good, options.rows, malformedLines(options.malformed, options.start)).join('\n')}\n`;
}

/** The sample as CSV with a header row (quoted where needed), malformed rows spread among the good. */
export function sampleCsv(options: SampleOptions): string {
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const good = (function* () {
    for (const r of sampleRows(options)) yield [r.source, r.logtype, r.timestamp, quote(r.message), String(r.latency_ms)].join(',');
  })();
  const lines = ['source,logtype,timestamp,message,latency_ms', ...interleave(good, options.rows, malformedCsvLines(options.malformed, options.start))];
  return `${lines.join('\n')}\n`;
}
