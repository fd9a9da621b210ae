import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckdbQueryEngine } from '../../src/lib/local/duckdb-query-engine.js';
import { FileCatalog } from '../../src/lib/local/file-catalog.js';
import { FsObjectStore } from '../../src/lib/local/fs-object-store.js';
import { openResults } from '../../src/lib/query/results.js';

const SQL = "SELECT i AS id, CASE WHEN i % 7 = 0 THEN NULL ELSE 'n,' || i || '\"' END AS name, i * 1.5 AS x FROM range(5000) t(i) ORDER BY i";
const dirs: string[] = [];
const engines: DuckdbQueryEngine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh lake (no bucket yet) and its engine; `holdCells` as given. */
function setup(holdCells?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'lake-spill-'));
  dirs.push(dir);
  const store = new FsObjectStore(dir);
  const engine = new DuckdbQueryEngine({ lakeDir: dir, catalog: new FileCatalog(dir), store, bucket: 'spill-data', resultsPrefix: 'athena-results/', bytesScannedCutoff: null, now: () => new Date(), holdCells });
  engines.push(engine);
  return { dir, store, engine };
}

async function run(engine: DuckdbQueryEngine) {
  const id = await engine.start({ sql: SQL, database: 'default', workgroup: 'primary', params: [] });
  await engine.untilSettled(id, 60_000);
  const info = await engine.describe(id);
  expect(info.state).toBe('SUCCEEDED');
  return info;
}

async function allRows(engine: DuckdbQueryEngine, store: FsObjectStore, info: Awaited<ReturnType<typeof run>>) {
  const results = await openResults(engine, store, info);
  const rows: (string | null)[][] = [];
  for await (const batch of results.batches) rows.push(...batch);
  return { source: results.source, columns: results.columns, rows };
}

describe('a result too big to keep in memory', () => {
  it('is written out as it comes: the same object, the same rows and pages, no temporary file left', async () => {
    const held = setup();
    const spilled = setup(1000);
    const heldInfo = await run(held.engine);
    const spilledInfo = await run(spilled.engine);

    const object = (store: FsObjectStore, location: string) => store.get('spill-data', location.replace('s3://spill-data/', ''));
    const heldText = Buffer.from(await object(held.store, heldInfo.outputLocation!)).toString();
    const spilledText = Buffer.from(await object(spilled.store, spilledInfo.outputLocation!)).toString();
    expect(spilledText).toBe(heldText);
    expect(heldText.split('\n').slice(0, 3)).toEqual(['"id","name","x"', '"0",,"0.0"', '"1","n,1""","1.5"']);
    expect(heldText.split('\n')).toHaveLength(5002);

    // The small result is handed over from memory; the big one is streamed from its object.
    expect(held.engine.heldRows(heldInfo.queryId)).toHaveLength(5000);
    expect(spilled.engine.heldRows(spilledInfo.queryId)).toBeUndefined();
    const fromHeld = await allRows(held.engine, held.store, heldInfo);
    const fromObject = await allRows(spilled.engine, spilled.store, spilledInfo);
    expect([fromHeld.source, fromObject.source]).toEqual(['held', 'object']);
    expect(fromObject.columns).toEqual(fromHeld.columns);
    expect(fromObject.rows).toEqual(fromHeld.rows);
    expect(fromObject.rows[4999]).toEqual(['4999', 'n,4999"', '7498.5']);

    // GetQueryResults pages: the first from memory, later ones read back from the object.
    const first = await spilled.engine.resultPage(spilledInfo.queryId, { maxResults: 1000 });
    expect(first.rows).toEqual(fromHeld.rows.slice(0, 1000));
    const second = await spilled.engine.resultPage(spilledInfo.queryId, { maxResults: 1000, nextToken: first.nextToken });
    expect(second.rows).toEqual(fromHeld.rows.slice(1000, 2000));
    const last = await spilled.engine.resultPage(spilledInfo.queryId, { maxResults: 1000, nextToken: (await held.engine.resultPage(heldInfo.queryId, { maxResults: 1000, nextToken: second.nextToken })).nextToken });
    expect(last.rows[0]).toEqual(fromHeld.rows[3000]);

    expect(readdirSync(join(spilled.dir, 's3', 'spill-data', 'athena-results')).sort()).toEqual([`${spilledInfo.queryId}.csv`]);
  });

  it('a query stopped while its rows are being written out leaves no object and no temporary file', async () => {
    const { dir, engine } = setup(10);
    // 20 million rows take far longer to render than the wait before the stop.
    const id = await engine.start({ sql: 'SELECT i AS v FROM range(20000000) t(i)', database: 'default', workgroup: 'primary', params: [] });
    const results = join(dir, 's3', 'spill-data', 'athena-results');
    const started = Date.now();
    // Stopped once rows are being written out: the temporary file is there.
    while (!existsSync(results) || readdirSync(results).length === 0) {
      expect(Date.now() - started).toBeLessThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(readdirSync(results)[0]).toMatch(/^\.lake-tmp-/);
    await engine.stop(id);
    const info = await engine.describe(id);
    expect([info.state, info.stateReason]).toEqual(['CANCELLED', 'Query cancelled by user']);
    expect(readdirSync(results)).toEqual([]);
  });
});
