/**
 * Where `lake send` puts records: the backend's delivery stream, or, when the pipeline
 * reads from a Kinesis Data Stream (`kinesisSource`) on AWS, that data stream, since such
 * a Firehose refuses direct puts. The local backend's emulator stands for the whole ingest
 * path, so it takes the records either way.
 */
import type { LakeConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Backend, DeliveryStream } from '../ports.js';
import { type DeliveryLimits, FIREHOSE_LIMITS } from './batching.js';

export interface DeliveryTarget {
  stream: DeliveryStream;
  limits: DeliveryLimits;
  /** What the summary names: `firehose weblogs-ingest` or `kinesis weblogs-ingest-source`. */
  description: string;
  close(): Promise<void>;
}

export async function deliveryTarget(config: LakeConfig, backend: Backend, deps: { version: string; log: Logger; kinesisStream?: string }): Promise<DeliveryTarget> {
  // The Backend port has no Kinesis source; the data stream is reached here, on AWS only.
  if (config.kinesisSource && backend.kind === 'aws') {
    const [{ AwsClients }, { KinesisSourceStream, KINESIS_LIMITS, kinesisStreamName }] = await Promise.all([import('../aws/clients.js'), import('../aws/kinesis-source-stream.js')]);
    const clients = new AwsClients({ region: config.region, profile: config.profile, endpointUrl: config.endpointUrl, version: deps.version, log: deps.log });
    const name = deps.kinesisStream ?? kinesisStreamName(config.stream);
    return {
      stream: new KinesisSourceStream(() => clients.kinesis(), name),
      limits: KINESIS_LIMITS,
      description: `kinesis ${name}`,
      close: () => clients.destroy(),
    };
  }
  return { stream: backend.stream, limits: FIREHOSE_LIMITS, description: `firehose ${config.stream}`, close: () => Promise.resolve() };
}
