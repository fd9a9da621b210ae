/**
 * The ports: what lake needs from storage, catalog, delivery, query and deployment, in
 * lake's own types. Adapters (src/lib/aws, src/lib/local) translate to and from the
 * services and page internally; commands never see SDK types and never ask which backend
 * is active.
 */

// ---------------------------------------------------------------- object store (S3)

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  etag?: string;
}

export interface ListOptions {
  prefix?: string;
  /** Groups keys sharing the part up to the next delimiter into `commonPrefixes`. */
  delimiter?: string;
  /** Page size, at most 1,000 as in ListObjectsV2. */
  maxKeys?: number;
  continuationToken?: string;
  /** List only keys after this one (lexicographic), as ListObjectsV2's StartAfter. */
  startAfter?: string;
  signal?: AbortSignal;
}

export interface ListPage {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  /** Present when more keys follow; pass back as `continuationToken`. */
  nextToken?: string;
}

export interface PutOptions {
  contentType?: string;
  contentEncoding?: string;
  signal?: AbortSignal;
}

export interface DeleteResult {
  deleted: string[];
  errors: { key: string; code: string; message: string }[];
}

export interface ObjectStore {
  list(bucket: string, options?: ListOptions): Promise<ListPage>;
  /** Walks every page of `list`. */
  listAll(bucket: string, options?: Omit<ListOptions, 'continuationToken'>): AsyncIterable<ObjectInfo>;
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Whole object in memory: for small objects (footers, error records, configs). */
  get(bucket: string, key: string, options?: { signal?: AbortSignal; range?: { start: number; end: number } }): Promise<Uint8Array>;
  /** Streamed object, for large ones (query results, input files). */
  getStream(bucket: string, key: string, options?: { signal?: AbortSignal }): Promise<AsyncIterable<Uint8Array>>;
  put(bucket: string, key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /** Up to 1,000 keys a call, as DeleteObjects; per-key errors are returned, not thrown. */
  deleteMany(bucket: string, keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteResult>;
  copy(bucket: string, fromKey: string, toKey: string, options?: { signal?: AbortSignal }): Promise<void>;
}

// ---------------------------------------------------------------- catalog (Glue)

export interface Column {
  name: string;
  /** Glue/Hive type: string, bigint, decimal(10,2), array<string>, struct<a:int>, ... */
  type: string;
  comment?: string;
}

export interface DatabaseDef {
  name: string;
  description?: string;
  locationUri?: string;
  parameters?: Record<string, string>;
}

export interface TableDef {
  database: string;
  name: string;
  /** s3://bucket/prefix/ */
  location: string;
  columns: Column[];
  partitionKeys: Column[];
  /** Table parameters: classification, projection.*, storage.location.template, ... */
  parameters: Record<string, string>;
  inputFormat?: string;
  outputFormat?: string;
  serializationLibrary?: string;
  serdeParameters?: Record<string, string>;
  tableType?: string;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface PartitionDef {
  /** One value a partition key, in the table's key order. */
  values: string[];
  location: string;
  parameters?: Record<string, string>;
  createdAt?: Date;
}

export interface PartitionError {
  values: string[];
  /** Glue's error code: AlreadyExistsException, EntityNotFoundException, ... */
  code: string;
  message: string;
}

export interface BatchPartitionResult {
  errors: PartitionError[];
}

export interface GetPartitionsOptions {
  /** Glue partition predicate, e.g. `year = '2024' AND month >= '05'`. */
  expression?: string;
  /** Parallel scan: this call reads segment `number` of `total` (1-10). */
  segment?: { number: number; total: number };
  nextToken?: string;
  /** At most 1,000. */
  maxResults?: number;
  signal?: AbortSignal;
}

export interface PartitionPage {
  partitions: PartitionDef[];
  nextToken?: string;
}

export interface Catalog {
  getDatabase(name: string): Promise<DatabaseDef | undefined>;
  createDatabase(db: DatabaseDef): Promise<void>;
  getTable(database: string, name: string): Promise<TableDef | undefined>;
  createTable(table: TableDef): Promise<void>;
  updateTable(table: TableDef): Promise<void>;
  deleteTable(database: string, name: string): Promise<void>;
  getPartitions(database: string, table: string, options?: GetPartitionsOptions): Promise<PartitionPage>;
  /** At most 100 a call (Glue's limit); per-item errors are returned, not thrown. */
  batchCreatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult>;
  /** At most 25 a call (Glue's limit). */
  batchDeletePartition(database: string, table: string, values: string[][]): Promise<BatchPartitionResult>;
  /** At most 100 a call; changes location/parameters of existing partitions. */
  batchUpdatePartition(database: string, table: string, partitions: PartitionDef[]): Promise<BatchPartitionResult>;
}

// ---------------------------------------------------------------- delivery (Firehose)

export type PutRecordResponse =
  | { recordId: string; errorCode?: undefined; errorMessage?: undefined }
  | { recordId?: undefined; errorCode: string; errorMessage: string };

export interface PutRecordBatchResult {
  failedPutCount: number;
  /** Same order and length as the request. */
  responses: PutRecordResponse[];
}

export interface StreamInfo {
  name: string;
  status: string;
  /** DirectPut or KinesisStreamAsSource. */
  sourceType?: string;
  bufferingSizeMiB?: number;
  bufferingIntervalSeconds?: number;
}

export interface DeliveryStream {
  describe(signal?: AbortSignal): Promise<StreamInfo | undefined>;
  /**
   * PutRecordBatch: at most 500 records and 4 MiB a call, 1,000 KiB a record. Resolves
   * with per-record results even when some failed; rejects only when the call as a whole
   * failed (transport, throttling of the whole call, validation).
   */
  putRecordBatch(records: Uint8Array[], signal?: AbortSignal): Promise<PutRecordBatchResult>;
  /** Flushes what is buffered (local) and releases resources. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------- query (Athena)

export type QueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface QueryRequest {
  sql: string;
  database?: string;
  workgroup?: string;
  /** ExecutionParameters, bound to `?` in order. */
  params?: string[];
  signal?: AbortSignal;
}

export interface QueryStats {
  scannedBytes: number;
  engineMs: number;
  queueMs: number;
  totalMs: number;
}

export interface QueryExecutionInfo {
  queryId: string;
  state: QueryState;
  stateReason?: string;
  /** Athena's error category: 1 system, 2 user, 3 other. */
  errorCategory?: number;
  errorType?: number;
  statementType?: 'DDL' | 'DML' | 'UTILITY';
  stats: QueryStats;
  /** s3://.../<queryId>.csv */
  outputLocation?: string;
  submittedAt?: Date;
  completedAt?: Date;
}

export interface ResultColumn {
  name: string;
  /** Athena's type name: varchar, bigint, decimal, timestamp, array, ... */
  type: string;
  precision?: number;
  scale?: number;
}

export interface ResultPage {
  columns: ResultColumn[];
  /** Values as Athena returns them: strings, null for NULL. */
  rows: (string | null)[][];
  nextToken?: string;
}

export interface QueryEngine {
  start(request: QueryRequest): Promise<string>;
  describe(queryId: string, signal?: AbortSignal): Promise<QueryExecutionInfo>;
  stop(queryId: string): Promise<void>;
  /** One page of results (GetQueryResults: at most 1,000 rows, header excluded here). */
  resultPage(queryId: string, options?: { nextToken?: string; maxResults?: number; signal?: AbortSignal }): Promise<ResultPage>;
  /** Workgroup settings that matter to cost guards. */
  workgroup(name: string): Promise<{ name: string; bytesScannedCutoff?: number; outputLocation?: string } | undefined>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- deployment (CloudFormation)

export interface StackOutput {
  key: string;
  value: string;
  description?: string;
}

export interface StackInfo {
  name: string;
  status: string;
  statusReason?: string;
  outputs: StackOutput[];
  updatedAt?: Date;
}

export interface ResourceChange {
  action: 'Add' | 'Modify' | 'Remove' | 'Import' | 'Dynamic';
  logicalId: string;
  resourceType: string;
  replacement?: 'True' | 'False' | 'Conditional';
}

export interface StackEvent {
  timestamp: Date;
  logicalId: string;
  resourceType: string;
  status: string;
  reason?: string;
}

export interface DeployRequest {
  stackName: string;
  /** Rendered CloudFormation template body (YAML or JSON). */
  template: string;
  parameters: Record<string, string>;
  tags?: Record<string, string>;
  signal?: AbortSignal;
  onEvent?: (event: StackEvent) => void;
}

export interface DeployResult {
  changed: boolean;
  changes: ResourceChange[];
  stack: StackInfo;
  /** Failed resources with their reasons, when the deployment failed. */
  failures: StackEvent[];
}

export interface StackDeployer {
  describe(stackName: string): Promise<StackInfo | undefined>;
  /** Creates a change set and reports what it would do, then deletes it. */
  plan(request: DeployRequest): Promise<ResourceChange[]>;
  deploy(request: DeployRequest): Promise<DeployResult>;
  destroy(stackName: string, options?: { keepData?: boolean; signal?: AbortSignal; onEvent?: (event: StackEvent) => void }): Promise<void>;
}

// ---------------------------------------------------------------- the bundle

export type BackendKind = 'local' | 'aws';

export interface Backend {
  readonly kind: BackendKind;
  readonly store: ObjectStore;
  readonly catalog: Catalog;
  readonly stream: DeliveryStream;
  readonly engine: QueryEngine;
  readonly deployer: StackDeployer;
  close(): Promise<void>;
}
