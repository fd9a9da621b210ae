// End-to-end on the local backend: a `lake send` killed with SIGKILL loses no accepted row.
// The emulator journals each call before answering it; `send --resume` (the next process
// to open the stream) replays what the killed process had accepted, and re-sends the rest.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const LAKE = fileURLToPath(new URL('../../bin/lake', import.meta.url));
const ROWS = 60_000;
const dirs: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], cwd: string): { child: ChildProcess; done: Promise<Run> } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LAKE_') && !k.startsWith('AWS_')));
  const child = spawn(process.execPath, [LAKE, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

const lake = (args: string[], cwd: string) => start(args, cwd).done;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-send-kill-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'schema.json'), JSON.stringify([{ name: 'id', type: 'bigint' }, { name: 'msg', type: 'string' }]));
  const lines = ['id,msg'];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},${'m'.repeat(180)}`);
  writeFileSync(join(dir, 'events.csv'), `${lines.join('\n')}\n`);
  return dir;
}

/** Rows settled from the start of the input, by the checkpoint (0 while there is none). */
function settledRows(dir: string): number {
  try {
    const doc = JSON.parse(readFileSync(join(dir, '.lake-send-checkpoint.json'), 'utf8')) as { inputs: { settled: [number, number][] }[] };
    return doc.inputs[0]?.settled[0]?.[1] ?? 0;
  } catch {
    return 0; // not written yet, or being replaced
  }
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('lake send killed on the local backend', () => {
  it('loses no accepted row: the next send delivers what the killed one had accepted, and re-sends only rows in flight', async () => {
    const dir = project();
    const init = await lake(['init', '--name', 'kill', '--schema', 'schema.json'], dir);
    expect(init.code, init.stderr).toBe(0);

    const send = start(['send', 'events.csv'], dir);
    const until = Date.now() + 60_000;
    while (settledRows(dir) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
    send.child.kill('SIGKILL');
    await send.done;
    const settled = settledRows(dir);
    expect(settled).toBeGreaterThan(0);
    expect(settled).toBeLessThan(ROWS);

    const resume = await lake(['send', '--resume', '-o', 'json'], dir);
    expect(resume.code, resume.stderr).toBe(0);
    const report = JSON.parse(resume.stdout) as { accepted: number; skipped: number; duplicatesPossible: number };
    const recovered = /recovered (\d+) rows in \d+ calls accepted by a process that was killed \(pid \d+\)/.exec(resume.stderr);
    expect(recovered, resume.stderr).not.toBeNull();
    // The killed process's spool folder was replayed and removed.
    expect(readdirSync(join(dir, '.lake', 'tmp', 'firehose'))).toEqual([]);

    const sync = await lake(['partitions', 'sync', '-o', 'json'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    const query = await lake(['query', 'SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi FROM events', '-o', 'json'], dir);
    expect(query.code, query.stderr).toBe(0);
    const [row] = (JSON.parse(query.stdout) as { rows: { n: number; d: number; lo: number; hi: number }[] }).rows;
    expect([row!.d, row!.lo, row!.hi]).toEqual([ROWS, 0, ROWS - 1]);
    // Everything in the lake was delivered by the recovery or by the resumed send, each row once...
    expect(row!.n).toBe(Number(recovered![1]) + report.accepted);
    // ...except rows both accepted by the killed send and re-sent as in flight: at most what send reports.
    expect(row!.n - row!.d).toBeLessThanOrEqual(report.duplicatesPossible);
    expect(report.skipped).toBeGreaterThanOrEqual(settled);
  }, 180_000);

  it('refuses to send to a lake that was never deployed: nothing accepted, ResourceNotFoundException with a hint', async () => {
    const dir = project();
    const init = await lake(['init', '--name', 'kill', '--schema', 'schema.json', '--no-deploy'], dir);
    expect(init.code, init.stderr).toBe(0);
    writeFileSync(join(dir, 'two.csv'), 'id,msg\n1,a\n2,b\n');
    const run = await lake(['send', 'two.csv', '-o', 'json'], dir);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 2, accepted: 0, rejected: 0, undelivered: 0, pending: 2 });
    expect(JSON.parse(run.stderr)).toEqual({
      error: {
        code: 'ResourceNotFoundException',
        message: 'Firehose kill-ingest under account 000000000000 not found: the local lake is not deployed (no bucket kill-data)',
        hint: 'run `lake deploy` to create the bucket, the table and the stream',
        exitCode: 1,
      },
    });
    expect(existsSync(join(dir, '.lake', 's3', 'kill-data'))).toBe(false);
  }, 60_000);
});
