/**
 * The local stand-in for the CloudFormation stack: creates the lake folder, the bucket,
 * the Glue database and table, and records the pipeline settings in `<lakeDir>/stack.json`,
 * so `lake init`/`deploy`/`destroy`/`status` run one code path on both backends. The
 * template body is not interpreted here: the configuration is the source of truth.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LakeConfig } from '../config.js';
import type { Catalog, DeployRequest, DeployResult, ResourceChange, StackDeployer, StackInfo } from '../ports.js';
import { tableDefFromConfig } from '../table-def.js';
import type { FsObjectStore } from './fs-object-store.js';

interface StackRecord {
  name: string;
  createdAt: string;
  updatedAt: string;
  settings: Record<string, unknown>;
}

export interface LocalStackDeployerOptions {
  config: LakeConfig;
  store: FsObjectStore;
  catalog: Catalog;
  now: () => Date;
}

export class LocalStackDeployer implements StackDeployer {
  private readonly config: LakeConfig;
  private readonly recordPath: string;

  constructor(private readonly options: LocalStackDeployerOptions) {
    this.config = options.config;
    this.recordPath = join(options.config.lakeDir, 'stack.json');
  }

  /** What the local "stack" is made of: the settings whose change means a redeploy. */
  private settings(): Record<string, unknown> {
    const c = this.config;
    return {
      bucket: c.bucket,
      database: c.database,
      table: tableDefFromConfig(c),
      stream: { name: c.stream, prefix: c.prefix, errorPrefix: c.errorPrefix, backupPrefix: c.backupPrefix, buffering: c.buffering, partitioning: c.partitioning, serde: c.serde },
      workgroup: { name: c.workgroup, resultsPrefix: c.resultsPrefix, bytesScannedCutoff: c.bytesScannedCutoff },
    };
  }

  private async readRecord(): Promise<StackRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.recordPath, 'utf8')) as StackRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private info(record: StackRecord, status: string): StackInfo {
    const c = this.config;
    return {
      name: record.name,
      status,
      updatedAt: new Date(record.updatedAt),
      outputs: [
        { key: 'Bucket', value: c.bucket },
        { key: 'DeliveryStream', value: c.stream },
        { key: 'Database', value: c.database },
        { key: 'Table', value: c.table },
        { key: 'WorkGroup', value: c.workgroup },
        { key: 'LakeDir', value: c.lakeDir },
      ],
    };
  }

  async describe(stackName: string): Promise<StackInfo | undefined> {
    const record = await this.readRecord();
    if (!record || record.name !== stackName) return undefined;
    return this.info(record, record.createdAt === record.updatedAt ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE');
  }

  async plan(request: DeployRequest): Promise<ResourceChange[]> {
    const record = await this.readRecord();
    const next = this.settings();
    const changes: ResourceChange[] = [];
    const types: Record<string, string> = { bucket: 'AWS::S3::Bucket', database: 'AWS::Glue::Database', table: 'AWS::Glue::Table', stream: 'AWS::KinesisFirehose::DeliveryStream', workgroup: 'AWS::Athena::WorkGroup' };
    for (const [key, value] of Object.entries(next)) {
      const before = record && record.name === request.stackName ? record.settings[key] : undefined;
      if (before === undefined) changes.push({ action: 'Add', logicalId: logicalId(key), resourceType: types[key]! });
      else if (JSON.stringify(before) !== JSON.stringify(value)) changes.push({ action: 'Modify', logicalId: logicalId(key), resourceType: types[key]!, replacement: key === 'bucket' || key === 'database' ? 'True' : 'False' });
    }
    return changes;
  }

  async deploy(request: DeployRequest): Promise<DeployResult> {
    const changes = await this.plan(request);
    const record = await this.readRecord();
    const now = this.options.now().toISOString();
    const c = this.config;
    if (changes.length > 0) {
      await mkdir(c.lakeDir, { recursive: true });
      await this.options.store.createBucket(c.bucket);
      if (!(await this.options.catalog.getDatabase(c.database))) await this.options.catalog.createDatabase({ name: c.database, description: `lake ${c.name}` });
      const table = tableDefFromConfig(c);
      if (await this.options.catalog.getTable(c.database, c.table)) await this.options.catalog.updateTable(table);
      else await this.options.catalog.createTable(table);
      const next: StackRecord = { name: request.stackName, createdAt: record?.createdAt ?? now, updatedAt: now, settings: this.settings() };
      const tmp = `${this.recordPath}.tmp-${process.pid}`;
      await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
      await rename(tmp, this.recordPath);
      for (const change of changes) {
        request.onEvent?.({ timestamp: new Date(now), logicalId: change.logicalId, resourceType: change.resourceType, status: change.action === 'Add' ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE' });
      }
    }
    const stack = await this.describe(request.stackName);
    return { changed: changes.length > 0, changes, stack: stack!, failures: [] };
  }

  async destroy(stackName: string, options: { keepData?: boolean } = {}): Promise<void> {
    const record = await this.readRecord();
    if (!record || record.name !== stackName) return;
    const c = this.config;
    if (await this.options.catalog.getTable(c.database, c.table)) await this.options.catalog.deleteTable(c.database, c.table);
    if (!options.keepData) await rm(join(c.lakeDir, 's3', c.bucket), { recursive: true, force: true });
    await rm(this.recordPath, { force: true });
  }
}

function logicalId(key: string): string {
  return { bucket: 'DataBucket', database: 'GlueDatabase', table: 'GlueTable', stream: 'DeliveryStream', workgroup: 'AthenaWorkGroup' }[key] ?? key;
}
