/** The local backend: S3 as a folder, a file Glue catalog, an in-process Firehose, DuckDB as Athena. */
import type { BackendDeps } from '../backend.js';
import type { Backend, QueryEngine } from '../ports.js';
import { DuckdbQueryEngine } from './duckdb-query-engine.js';
import { FileCatalog } from './file-catalog.js';
import { LocalDeliveryStream } from './firehose-emulator.js';
import { FsObjectStore } from './fs-object-store.js';
import { LocalStackDeployer } from './local-stack-deployer.js';

export function createLocalBackend(deps: BackendDeps): Promise<Backend> {
  const { config } = deps;
  const store = new FsObjectStore(config.lakeDir);
  const catalog = new FileCatalog(config.lakeDir);
  let stream: LocalDeliveryStream | undefined;
  let engine: QueryEngine | undefined;
  const backend: Backend = {
    kind: 'local',
    store,
    catalog,
    get stream() {
      return (stream ??= new LocalDeliveryStream({ config, store, now: deps.now, log: deps.log }));
    },
    get engine() {
      return (engine ??= new DuckdbQueryEngine({
        lakeDir: config.lakeDir,
        catalog,
        store,
        bucket: config.bucket,
        resultsPrefix: config.resultsPrefix,
        bytesScannedCutoff: config.bytesScannedCutoff,
        now: deps.now,
      }));
    },
    deployer: new LocalStackDeployer({ config, store, catalog, now: deps.now }),
    async close() {
      await stream?.close();
      await engine?.close();
    },
  };
  return Promise.resolve(backend);
}
