/** The aws backend: the real services through the SDK, each adapter built on first use. */
import type { BackendDeps } from '../backend.js';
import type { Backend, Catalog, DeliveryStream, ObjectStore, QueryEngine, StackDeployer } from '../ports.js';
import { AwsClients } from './clients.js';
import { CloudFormationStackDeployer } from './cloudformation-stack-deployer.js';
import { FirehoseDeliveryStream } from './firehose-delivery-stream.js';
import { GlueCatalog } from './glue-catalog.js';
import { AthenaQueryEngine } from './athena-query-engine.js';
import { S3ObjectStore } from './s3-object-store.js';

export function createAwsBackend(deps: BackendDeps): Promise<Backend> {
  const { config } = deps;
  const clients = new AwsClients({ region: config.region, profile: config.profile, endpointUrl: config.endpointUrl, version: deps.version, log: deps.log });
  let store: ObjectStore | undefined;
  let catalog: Catalog | undefined;
  let stream: DeliveryStream | undefined;
  let engine: QueryEngine | undefined;
  let deployer: StackDeployer | undefined;
  const backend: Backend = {
    kind: 'aws',
    get store() {
      return (store ??= new S3ObjectStore(() => clients.s3()));
    },
    get catalog() {
      return (catalog ??= new GlueCatalog(() => clients.glue()));
    },
    get stream() {
      return (stream ??= new FirehoseDeliveryStream(() => clients.firehose(), config.stream));
    },
    get engine() {
      return (engine ??= new AthenaQueryEngine(() => clients.athena(), { workgroup: config.workgroup, database: config.database }));
    },
    get deployer() {
      return (deployer ??= new CloudFormationStackDeployer(() => clients.cloudFormation()));
    },
    async close() {
      await stream?.close();
      await engine?.close();
      await clients.destroy();
    },
  };
  return Promise.resolve(backend);
}
