/**
 * What every Catalog must do, as Glue does it. Run against each adapter by its own
 * `*.test.ts`; `makeCatalog` returns a catalog and the name of a database that does not
 * exist yet (the tests create it); `cleanup` removes whatever they made.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog, PartitionDef, TableDef } from '../../src/lib/ports.js';

export interface CatalogFixture {
  catalog: Catalog;
  database: string;
  cleanup(): Promise<void>;
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'no error';
}

function tableDef(database: string, name: string, overrides: Partial<TableDef> = {}): TableDef {
  return {
    database,
    name,
    location: `s3://lake-bucket/${name}/`,
    columns: [
      { name: 'id', type: 'string', comment: 'event id' },
      { name: 'amount', type: 'decimal(10,2)' },
      { name: 'tags', type: 'array<string>' },
    ],
    partitionKeys: [
      { name: 'year', type: 'string' },
      { name: 'month', type: 'string' },
    ],
    parameters: { classification: 'parquet', 'projection.enabled': 'false' },
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    serdeParameters: { 'serialization.format': '1' },
    tableType: 'EXTERNAL_TABLE',
    ...overrides,
  };
}

function partition(year: string, month: string, parameters?: Record<string, string>): PartitionDef {
  const p: PartitionDef = { values: [year, month], location: `s3://lake-bucket/t/year=${year}/month=${month}/` };
  if (parameters) p.parameters = parameters;
  return p;
}

/** Every partition of a table, over all pages, as sorted "year/month" strings. */
async function allValues(catalog: Catalog, database: string, table: string, options: { expression?: string; segment?: { number: number; total: number }; maxResults?: number } = {}): Promise<string[]> {
  const values: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await catalog.getPartitions(database, table, { ...options, nextToken });
    values.push(...page.partitions.map((p) => p.values.join('/')));
    nextToken = page.nextToken;
  } while (nextToken);
  return values.sort();
}

export function describeCatalogContract(name: string, makeCatalog: () => Promise<CatalogFixture>): void {
  describe(`Catalog contract: ${name}`, () => {
    let catalog: Catalog;
    let db: string;
    let fixture: CatalogFixture;

    beforeEach(async () => {
      fixture = await makeCatalog();
      ({ catalog, database: db } = fixture);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe('databases', () => {
      it('creates a database and reads it back', async () => {
        expect(await catalog.getDatabase(db)).toBeUndefined();
        await catalog.createDatabase({ name: db, description: 'lake events', parameters: { owner: 'lake' } });
        expect(await catalog.getDatabase(db)).toEqual({ name: db, description: 'lake events', parameters: { owner: 'lake' } });
      });

      it('refuses to create a database twice with AlreadyExistsException', async () => {
        await catalog.createDatabase({ name: db });
        expect(await errorCode(catalog.createDatabase({ name: db }))).toBe('AlreadyExistsException');
      });
    });

    describe('tables', () => {
      beforeEach(async () => {
        await catalog.createDatabase({ name: db });
      });

      it('creates a table and reads back every field', async () => {
        const before = Date.now() - 60_000;
        await catalog.createTable(tableDef(db, 'events'));
        const table = await catalog.getTable(db, 'events');
        expect(table).toEqual({ ...tableDef(db, 'events'), createdAt: expect.any(Date), updatedAt: expect.any(Date) });
        expect(table!.createdAt!.getTime()).toBeGreaterThanOrEqual(before);
      });

      it('returns undefined for a table that does not exist', async () => {
        expect(await catalog.getTable(db, 'nothing_here')).toBeUndefined();
      });

      it('refuses a second table of the same name with AlreadyExistsException', async () => {
        await catalog.createTable(tableDef(db, 'events'));
        expect(await errorCode(catalog.createTable(tableDef(db, 'events')))).toBe('AlreadyExistsException');
      });

      it('refuses a table in a database that does not exist with EntityNotFoundException', async () => {
        expect(await errorCode(catalog.createTable(tableDef(`${db}_missing`, 'events')))).toBe('EntityNotFoundException');
      });

      it('updates a table, keeping its creation time', async () => {
        await catalog.createTable(tableDef(db, 'events'));
        const created = await catalog.getTable(db, 'events');
        const changed = tableDef(db, 'events', { columns: [{ name: 'id', type: 'string' }], parameters: { classification: 'parquet', note: 'v2' } });
        await catalog.updateTable(changed);
        const table = await catalog.getTable(db, 'events');
        expect(table?.columns).toEqual([{ name: 'id', type: 'string' }]);
        expect(table?.parameters).toEqual({ classification: 'parquet', note: 'v2' });
        expect(table?.createdAt?.getTime()).toBe(created?.createdAt?.getTime());
      });

      it('refuses to update or delete a missing table with EntityNotFoundException', async () => {
        expect(await errorCode(catalog.updateTable(tableDef(db, 'ghost')))).toBe('EntityNotFoundException');
        expect(await errorCode(catalog.deleteTable(db, 'ghost'))).toBe('EntityNotFoundException');
      });

      it('deletes a table with its partitions', async () => {
        await catalog.createTable(tableDef(db, 'events'));
        await catalog.batchCreatePartition(db, 'events', [partition('2024', '01')]);
        await catalog.deleteTable(db, 'events');
        expect(await catalog.getTable(db, 'events')).toBeUndefined();
        await catalog.createTable(tableDef(db, 'events'));
        expect(await allValues(catalog, db, 'events')).toEqual([]);
      });
    });

    describe('partitions', () => {
      beforeEach(async () => {
        await catalog.createDatabase({ name: db });
        await catalog.createTable(tableDef(db, 't'));
      });

      it('creates partitions and reads them back with location, parameters and creation time', async () => {
        const result = await catalog.batchCreatePartition(db, 't', [partition('2024', '01', { source: 'sync' }), partition('2024', '02')]);
        expect(result).toEqual({ errors: [] });
        const page = await catalog.getPartitions(db, 't');
        const sorted = [...page.partitions].sort((a, b) => a.values.join().localeCompare(b.values.join()));
        expect(sorted).toEqual([
          { values: ['2024', '01'], location: 's3://lake-bucket/t/year=2024/month=01/', parameters: { source: 'sync' }, createdAt: expect.any(Date) },
          { values: ['2024', '02'], location: 's3://lake-bucket/t/year=2024/month=02/', createdAt: expect.any(Date) },
        ]);
        expect(page.nextToken).toBeUndefined();
      });

      it('reports existing partitions and duplicates in one batch as AlreadyExistsException, and creates the rest', async () => {
        await catalog.batchCreatePartition(db, 't', [partition('2024', '01')]);
        const result = await catalog.batchCreatePartition(db, 't', [partition('2024', '01'), partition('2024', '02'), partition('2024', '02')]);
        expect(result.errors.map((e) => [e.values, e.code])).toEqual([
          [['2024', '01'], 'AlreadyExistsException'],
          [['2024', '02'], 'AlreadyExistsException'],
        ]);
        expect(await allValues(catalog, db, 't')).toEqual(['2024/01', '2024/02']);
      });

      it('reports a partition whose values do not match the keys as InvalidInputException', async () => {
        const result = await catalog.batchCreatePartition(db, 't', [{ values: ['2024'], location: 's3://lake-bucket/t/year=2024/' }, partition('2024', '03')]);
        expect(result.errors.map((e) => [e.values, e.code])).toEqual([[['2024'], 'InvalidInputException']]);
        expect(await allValues(catalog, db, 't')).toEqual(['2024/03']);
      });

      it('refuses more than 100 partitions a BatchCreatePartition with ValidationException, creating none', async () => {
        const many = Array.from({ length: 101 }, (_, i) => partition('2024', String(i).padStart(3, '0')));
        expect(await errorCode(catalog.batchCreatePartition(db, 't', many))).toBe('ValidationException');
        expect(await allValues(catalog, db, 't')).toEqual([]);
        expect(await catalog.batchCreatePartition(db, 't', many.slice(0, 100))).toEqual({ errors: [] });
      });

      it('fails partition calls on a missing table or database with EntityNotFoundException', async () => {
        expect(await errorCode(catalog.batchCreatePartition(db, 'ghost', [partition('2024', '01')]))).toBe('EntityNotFoundException');
        expect(await errorCode(catalog.getPartitions(db, 'ghost'))).toBe('EntityNotFoundException');
        expect(await errorCode(catalog.batchDeletePartition(db, 'ghost', [['2024', '01']]))).toBe('EntityNotFoundException');
        expect(await errorCode(catalog.batchUpdatePartition(db, 'ghost', [partition('2024', '01')]))).toBe('EntityNotFoundException');
        expect(await errorCode(catalog.getPartitions(`${db}_missing`, 't'))).toBe('EntityNotFoundException');
      });

      it('pages with maxResults and a token that round-trips, without repeats or gaps', async () => {
        const all = Array.from({ length: 250 }, (_, i) => partition(String(2000 + Math.floor(i / 12)), String((i % 12) + 1).padStart(2, '0')));
        for (let i = 0; i < all.length; i += 100) expect(await catalog.batchCreatePartition(db, 't', all.slice(i, i + 100))).toEqual({ errors: [] });
        const sizes: number[] = [];
        const seen: string[] = [];
        let nextToken: string | undefined;
        do {
          const page = await catalog.getPartitions(db, 't', { maxResults: 100, nextToken });
          sizes.push(page.partitions.length);
          seen.push(...page.partitions.map((p) => p.values.join('/')));
          nextToken = page.nextToken;
        } while (nextToken);
        expect(sizes).toEqual([100, 100, 50]);
        expect(new Set(seen).size).toBe(250);
        expect(seen.sort()).toEqual(all.map((p) => p.values.join('/')).sort());
      });

      it('returns at most 1,000 partitions a page by default', async () => {
        const all = Array.from({ length: 1001 }, (_, i) => partition(String(1000 + i), '01'));
        for (let i = 0; i < all.length; i += 100) await catalog.batchCreatePartition(db, 't', all.slice(i, i + 100));
        const first = await catalog.getPartitions(db, 't');
        expect(first.partitions.length).toBe(1000);
        const second = await catalog.getPartitions(db, 't', { nextToken: first.nextToken });
        expect(second.partitions.length).toBe(1);
        expect(second.nextToken).toBeUndefined();
      });

      it('refuses maxResults above 1,000 with ValidationException', async () => {
        expect(await errorCode(catalog.getPartitions(db, 't', { maxResults: 1001 }))).toBe('ValidationException');
      });

      it('splits partitions into disjoint segments that together hold every partition', async () => {
        const all = Array.from({ length: 90 }, (_, i) => partition(String(2000 + Math.floor(i / 12)), String((i % 12) + 1).padStart(2, '0')));
        await catalog.batchCreatePartition(db, 't', all.slice(0, 90));
        const segments = await Promise.all([0, 1, 2].map((number) => allValues(catalog, db, 't', { segment: { number, total: 3 } })));
        const union = segments.flat();
        expect(union.length).toBe(90);
        expect(new Set(union).size).toBe(90);
        expect(union.sort()).toEqual(all.map((p) => p.values.join('/')).sort());
        expect(segments.every((s) => s.length > 0)).toBe(true);
        expect(await allValues(catalog, db, 't', { segment: { number: 0, total: 1 } })).toEqual(all.map((p) => p.values.join('/')).sort());
      });

      describe('expressions', () => {
        beforeEach(async () => {
          const grid = ['2023', '2024', '2025'].flatMap((y) => ['01', '05', '06', '12'].map((m) => partition(y, m)));
          await catalog.batchCreatePartition(db, 't', grid);
        });

        it.each([
          ["year = '2024'", ['2024/01', '2024/05', '2024/06', '2024/12']],
          ["year = '2024' AND month >= '06'", ['2024/06', '2024/12']],
          ["year > '2024'", ['2025/01', '2025/05', '2025/06', '2025/12']],
          ["year < '2024' AND month < '05'", ['2023/01']],
          ["year <= '2023' AND month <= '05'", ['2023/01', '2023/05']],
          ["year <> '2024' AND month = '12'", ['2023/12', '2025/12']],
          ["month = '01' OR month = '12' AND year = '2025'", ['2023/01', '2024/01', '2025/01', '2025/12']],
          ["(month = '01' OR month = '12') AND year = '2025'", ['2025/01', '2025/12']],
          ["year IN ('2023', '2025') AND month IN ('06')", ['2023/06', '2025/06']],
          ["month BETWEEN '05' AND '06' AND year = '2023'", ['2023/05', '2023/06']],
          ["year >= '2024' AND year <= '2024' AND month > '05'", ['2024/06', '2024/12']],
          ["year = '2030'", []],
        ])('%s', async (expression, expected) => {
          expect(await allValues(catalog, db, 't', { expression })).toEqual(expected);
        });

        it('pages a filtered listing', async () => {
          const first = await catalog.getPartitions(db, 't', { expression: "month = '05'", maxResults: 2 });
          expect(first.partitions.length).toBe(2);
          const second = await catalog.getPartitions(db, 't', { expression: "month = '05'", maxResults: 2, nextToken: first.nextToken });
          expect(second.partitions.length).toBe(1);
          expect([...first.partitions, ...second.partitions].map((p) => p.values.join('/')).sort()).toEqual(['2023/05', '2024/05', '2025/05']);
        });
      });

      it('deletes partitions, reporting missing ones as EntityNotFoundException', async () => {
        await catalog.batchCreatePartition(db, 't', [partition('2024', '01'), partition('2024', '02'), partition('2024', '03')]);
        const result = await catalog.batchDeletePartition(db, 't', [
          ['2024', '01'],
          ['2030', '01'],
          ['2024', '03'],
        ]);
        expect(result.errors.map((e) => [e.values, e.code])).toEqual([[['2030', '01'], 'EntityNotFoundException']]);
        expect(await allValues(catalog, db, 't')).toEqual(['2024/02']);
      });

      it('refuses more than 25 partitions a BatchDeletePartition with ValidationException', async () => {
        const values = Array.from({ length: 26 }, (_, i) => ['2024', String(i)]);
        expect(await errorCode(catalog.batchDeletePartition(db, 't', values))).toBe('ValidationException');
      });

      it('updates location and parameters, keeping creation time, and reports missing partitions', async () => {
        await catalog.batchCreatePartition(db, 't', [partition('2024', '01')]);
        const [before] = (await catalog.getPartitions(db, 't')).partitions;
        const result = await catalog.batchUpdatePartition(db, 't', [
          { values: ['2024', '01'], location: 's3://other-bucket/moved/', parameters: { moved: 'yes' } },
          { values: ['2030', '01'], location: 's3://other-bucket/none/' },
        ]);
        expect(result.errors.map((e) => [e.values, e.code])).toEqual([[['2030', '01'], 'EntityNotFoundException']]);
        const [after] = (await catalog.getPartitions(db, 't')).partitions;
        expect(after).toEqual({ values: ['2024', '01'], location: 's3://other-bucket/moved/', parameters: { moved: 'yes' }, createdAt: before!.createdAt });
      });

      it('refuses more than 100 partitions a BatchUpdatePartition with ValidationException', async () => {
        const many = Array.from({ length: 101 }, (_, i) => partition('2024', String(i)));
        expect(await errorCode(catalog.batchUpdatePartition(db, 't', many))).toBe('ValidationException');
      });
    });
  });
}
