import type { KeySchema, SecondaryIndex } from '../datamap/schema';

/**
 * What discovery reads from a company's stores: a sample of each table and bucket, never all of
 * it. The samples stay in memory; only their shapes and counts leave discovery.
 */

/** A sample of one DynamoDB table (or a JSON-lines file standing for one). */
export interface TableSample {
  name: string;
  /** The key schema and GSIs as DescribeTable gives them; absent when only the items are known. */
  keySchema?: KeySchema;
  indexes?: SecondaryIndex[];
  /** DynamoDB's approximate item count, when known. */
  itemCount?: number;
  items: Record<string, unknown>[];
  /** What could not be read, in words that name no value. */
  problems: string[];
}

/** How an object's content was read. */
export type ObjectFormat = 'json-lines' | 'json' | 'csv' | 'parquet' | 'binary' | 'text' | 'unread';

/** One object of a bucket sample: its key and, for structured content, its first records. */
export interface SampledObject {
  key: string;
  format: ObjectFormat;
  /** The first lines or rows as records (JSON-lines, JSON, CSV); empty for other formats. */
  records: Record<string, unknown>[];
  /** Lines of a JSON-lines object that were not JSON objects. */
  badLines: number;
}

/** A sample of one S3 bucket (or a folder standing for one). */
export interface BucketSample {
  name: string;
  /** Keys listed, up to the listing limit. */
  keys: string[];
  /** True when the bucket holds more keys than were listed. */
  moreKeys: boolean;
  /** Objects whose content was read. */
  objects: SampledObject[];
  problems: string[];
}

/** Where discovery reads from: the stores of an AWS account or local runtime, or an export folder. */
export interface DiscoverySource {
  /** Words for the report: "DynamoDB and S3 of the AWS account", "the folder ./export". */
  readonly description: string;
  tables(): AsyncIterable<TableSample>;
  buckets(): AsyncIterable<BucketSample>;
}

/** How much of each store is read, and which stores. */
export interface SampleOptions {
  /** Items per table, objects read per bucket. */
  sample: number;
  /** Glob patterns (`*`, `?`; several separated by commas) table or bucket names must match. */
  tables?: string;
  buckets?: string;
  /** Tables and buckets never read (lethe's own). */
  skipTables?: readonly string[];
  skipBuckets?: readonly string[];
}

/** Keys listed per bucket: enough to see its folder structure, a page or a few. */
export function keysToList(sample: number): number {
  return Math.max(1_000, sample * 10);
}

/** Bytes read from the start of an object: its first lines or rows. */
export const OBJECT_HEAD_BYTES = 64 * 1024;

/** True when `name` matches one of the comma-separated glob patterns (no pattern: everything). */
export function matchesPattern(name: string, patterns: string | undefined): boolean {
  if (patterns === undefined) return true;
  return patterns
    .split(',')
    .map((pattern) => pattern.trim())
    .filter(Boolean)
    .some((pattern) => {
      const source = pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.');
      return new RegExp(`^${source}$`).test(name);
    });
}

/** `count` items spread evenly over `all`, first and last included: a sample across a key listing. */
export function spread<T>(all: readonly T[], count: number): T[] {
  if (all.length <= count) return [...all];
  const picked: T[] = [];
  for (let i = 0; i < count; i += 1) {
    const item = all[Math.floor((i * (all.length - 1)) / Math.max(1, count - 1))];
    if (item !== undefined) picked.push(item);
  }
  return picked;
}
