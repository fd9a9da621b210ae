/**
 * Small stateful models of the S3 and Glue calls lake's partition code uses, with AWS's
 * paging and batch semantics. Tests drive them through aws-sdk-client-mock; the
 * partitions-sync benchmark serves them over loopback HTTP.
 */

export interface FakeObject {
  key: string;
  size: number;
}

export class FakeBucket {
  private keys: string[] = [];
  private readonly sizes = new Map<string, number>();

  constructor(readonly name: string) {}

  put(key: string, size = 100): void {
    if (!this.sizes.has(key)) {
      this.keys.push(key);
      this.sorted = false;
    }
    this.sizes.set(key, size);
  }

  delete(key: string): void {
    if (this.sizes.delete(key)) this.keys = this.keys.filter((k) => k !== key);
  }

  private sorted = true;
  private sortedKeys(): string[] {
    if (!this.sorted) {
      this.keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sorted = true;
    }
    return this.keys;
  }

  /** ListObjectsV2: keys in order, common prefixes with a delimiter, MaxKeys counting both. */
  list(input: { Prefix?: string; Delimiter?: string; MaxKeys?: number; ContinuationToken?: string; StartAfter?: string }) {
    const prefix = input.Prefix ?? '';
    const max = Math.min(input.MaxKeys ?? 1000, 1000);
    const after = input.ContinuationToken ? Buffer.from(input.ContinuationToken, 'base64').toString('utf8') : (input.StartAfter ?? '');
    const keys = this.sortedKeys();
    // First key at or after the prefix and strictly after the token/StartAfter key.
    const firstIndex = (accept: (key: string) => boolean) => {
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (accept(keys[mid]!)) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const lo = after >= prefix ? firstIndex((k) => k > after) : firstIndex((k) => k >= prefix);
    const contents: { Key: string; Size: number }[] = [];
    const common: string[] = [];
    let last = '';
    let truncated = false;
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i]!;
      if (!key.startsWith(prefix)) break;
      if (key <= after) continue;
      if (contents.length + common.length >= max) {
        truncated = true;
        break;
      }
      if (input.Delimiter) {
        const d = key.indexOf(input.Delimiter, prefix.length);
        if (d >= 0) {
          const cp = key.slice(0, d + input.Delimiter.length);
          common.push(cp);
          // Skip every key under this common prefix.
          let j = i;
          while (j + 1 < keys.length && keys[j + 1]!.startsWith(cp)) j++;
          i = j;
          last = keys[j]!;
          continue;
        }
      }
      contents.push({ Key: key, Size: this.sizes.get(key)! });
      last = key;
    }
    return {
      Contents: contents.length ? contents : undefined,
      CommonPrefixes: common.length ? common.map((Prefix) => ({ Prefix })) : undefined,
      IsTruncated: truncated,
      KeyCount: contents.length + common.length,
      NextContinuationToken: truncated ? Buffer.from(last, 'utf8').toString('base64') : undefined,
    };
  }
}

export interface FakePartition {
  Values: string[];
  StorageDescriptor?: { Location?: string };
}

export class FakeGlue {
  readonly partitions = new Map<string, FakePartition>();
  readonly calls: Record<string, number> = {};
  /** Set to make the next N batch calls fail as throttled. */
  throttleNext = 0;

  constructor(
    readonly table: { DatabaseName: string; Name: string; Location: string; keys: string[]; Parameters?: Record<string, string> },
    readonly pageSize = 1000,
  ) {}

  private count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  private throttled(): boolean {
    if (this.throttleNext > 0) {
      this.throttleNext--;
      return true;
    }
    return false;
  }

  getTable() {
    this.count('GetTable');
    return {
      Table: {
        Name: this.table.Name,
        DatabaseName: this.table.DatabaseName,
        PartitionKeys: this.table.keys.map((Name) => ({ Name, Type: 'string' })),
        Parameters: this.table.Parameters ?? { classification: 'parquet' },
        StorageDescriptor: { Location: this.table.Location, Columns: [{ Name: 'msg', Type: 'string' }], InputFormat: 'in', OutputFormat: 'out', SerdeInfo: { SerializationLibrary: 'serde' } },
      },
    };
  }

  getPartitions(input: { NextToken?: string; MaxResults?: number; Segment?: { SegmentNumber: number; TotalSegments: number } }) {
    this.count('GetPartitions');
    const all = [...this.partitions.values()].sort((a, b) => a.Values.join('/').localeCompare(b.Values.join('/')));
    const segment = input.Segment ? all.filter((_, i) => i % input.Segment!.TotalSegments === input.Segment!.SegmentNumber) : all;
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(input.MaxResults ?? this.pageSize, this.pageSize);
    const page = segment.slice(start, start + size);
    return { Partitions: page, NextToken: start + size < segment.length ? String(start + size) : undefined };
  }

  batchCreate(input: { PartitionInputList?: { Values?: string[]; StorageDescriptor?: { Location?: string } }[] }) {
    this.count('BatchCreatePartition');
    if (this.throttled()) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const errors: { PartitionValues: string[]; ErrorDetail: { ErrorCode: string; ErrorMessage: string } }[] = [];
    for (const p of input.PartitionInputList ?? []) {
      const key = p.Values!.join('\u0000');
      if (this.partitions.has(key)) errors.push({ PartitionValues: p.Values!, ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' } });
      else this.partitions.set(key, { Values: p.Values!, StorageDescriptor: { Location: p.StorageDescriptor?.Location } });
    }
    return { Errors: errors.length ? errors : undefined };
  }

  batchDelete(input: { PartitionsToDelete?: { Values?: string[] }[] }) {
    this.count('BatchDeletePartition');
    if (this.throttled()) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const errors: { PartitionValues: string[]; ErrorDetail: { ErrorCode: string; ErrorMessage: string } }[] = [];
    for (const p of input.PartitionsToDelete ?? []) {
      if (!this.partitions.delete(p.Values!.join('\u0000'))) errors.push({ PartitionValues: p.Values!, ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'Partition not found.' } });
    }
    return { Errors: errors.length ? errors : undefined };
  }

  batchUpdate(input: { Entries?: { PartitionValueList?: string[]; PartitionInput?: { StorageDescriptor?: { Location?: string } } }[] }) {
    this.count('BatchUpdatePartition');
    for (const e of input.Entries ?? []) {
      const key = e.PartitionValueList!.join('\u0000');
      const existing = this.partitions.get(key);
      if (existing) existing.StorageDescriptor = { Location: e.PartitionInput?.StorageDescriptor?.Location };
    }
    return { Errors: undefined };
  }

  register(values: string[], location: string): void {
    this.partitions.set(values.join('\u0000'), { Values: values, StorageDescriptor: { Location: location } });
  }
}

/** Hive-layout keys for `hours` consecutive hours from `start`, one object each. */
export function hourlyKeys(prefix: string, start: Date, hours: number, layout: 'hive' | 'firehose' = 'hive'): { key: string; values: string[] }[] {
  const out: { key: string; values: string[] }[] = [];
  for (let h = 0; h < hours; h++) {
    const d = new Date(start.getTime() + h * 3_600_000);
    const values = [String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0'), String(d.getUTCHours()).padStart(2, '0')];
    const dir = layout === 'hive' ? `year=${values[0]}/month=${values[1]}/day=${values[2]}/hour=${values[3]}` : values.join('/');
    out.push({ key: `${prefix}${dir}/stream-1-${values.join('-')}-00-00-abc.parquet`, values });
  }
  return out;
}
