import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Identity } from '../datamap/identity';
import type { DataMap, RetentionRule, Store } from '../datamap/schema';
import type { RetryPolicy } from './retry';
import type {
  EraseOptions,
  ExportedRecord,
  ItemKey,
  LocatedRecord,
  LocateOptions,
  StoreClients,
  StoreErasure,
  StoreLocation,
} from './types';

/**
 * What a store kind does for lethe, with one signature for every kind: the façade
 * (lib/stores/index.ts) picks the adapter by `store.kind` and never needs to know more.
 */

/** What every adapter call works with: the clients, and the identity types values are normalised by. */
export interface StoreContext {
  clients: StoreClients;
  dataMap: Pick<DataMap, 'identityTypes'>;
}

/** A store with the retention rule it is swept by. */
export type RetainedStore<S extends Store = Store> = S & { retention: RetentionRule };

/** One store kind's locate, read, erase and sweep IO. */
export interface StoreAdapter<S extends Store> {
  /**
   * Finds a subject's records by whichever identities the store has locate rules for, by each
   * identity's normalised value and its other spellings.
   */
  locate(
    store: S,
    identities: Identity[],
    context: StoreContext,
    options?: LocateOptions,
  ): Promise<StoreLocation>;
  /** Reads located records for an export, one at a time (bounded memory). */
  read(store: S, records: LocatedRecord[], context: StoreContext): AsyncIterable<ExportedRecord>;
  /** Erases located records as the data map's erase rule says, keeping exempted ones. */
  erase(
    store: S,
    records: LocatedRecord[],
    context: StoreContext,
    options: EraseOptions,
  ): Promise<StoreErasure>;
  /**
   * Opens one page of a retention sweep: a source of pages of records and the operations that
   * apply what retention decides about them. Checks first that the store can be swept as its
   * retention rule says.
   * @throws UnsupportedStoreError for a retention rule the store cannot follow
   */
  sweep(store: RetainedStore<S>, context: StoreContext, options: SweepOptions): StoreSweep;
  /**
   * Reads, page by page, the raw values each record holds in the store's value sources (its
   * locate rules and links, see valueSources), for a data-quality check. Reads only, and never
   * holds more than a page (per DynamoDB segment) in memory.
   */
  scanValues(store: S, context: StoreContext, options: ValueScanOptions): AsyncIterable<ValueScanPage>;
  /**
   * Marks located records that the storage itself will not let anyone delete as exempt (S3
   * objects whose current version Object Lock protects), for the check after erasure. Absent
   * where no such protection exists.
   */
  exemptLocked?(store: S, location: StoreLocation, context: StoreContext): Promise<StoreLocation>;
}

// ---------------------------------------------------------------------------------------------
// Value scans (lethe check)

/**
 * How locate uses a value source: `table` and `index` Query a partition key by the exact value,
 * `prefix` lists a per-subject key prefix holding the exact value, `jsonLines` (and `parquet`) compares the field
 * normalised, and `link` values are read from located records and normalised.
 */
export type ValueSourceUse = 'table' | 'index' | 'prefix' | 'jsonLines' | 'parquet' | 'link';

/** A place a store's records hold identity values: one of its locate rules or links. */
export interface ValueSource {
  role: 'locate' | 'link';
  identity: string;
  use: ValueSourceUse;
  /** The DynamoDB attribute or JSON field; for a prefix rule, its template (`calls/{phone}/`). */
  attribute: string;
  /** The GSI a rule of use `index` queries. */
  index?: string;
  /** S3: the source covers only objects whose key starts with this (a rule's fixed prefix). */
  keyPrefix?: string;
}

/** One record as a value scan reads it. */
export interface ScannedRecord {
  /**
   * The raw value the record holds in each value source, in the order of valueSources(store): a
   * string, a list (a link's list or set attribute), any other value the record holds there (a
   * map, a number in JSON), or undefined when the record lacks it.
   */
  values: unknown[];
  /** Per source, whether it covers the record at all (S3: the object's key is under the source's prefix); omitted when all do. */
  applies?: readonly boolean[];
}

export interface ValueScanPage {
  records: ScannedRecord[];
  /** JSON-lines: lines that are not JSON objects, so no record (blank lines are not counted). */
  malformedLines: number;
  /** JSON-lines: objects that cannot be read as lines (compressed), whose lines nobody can match. */
  unreadableObjects: number;
}

export interface ValueScanOptions {
  /** Items per Scan page, objects per listing, lines per page; default 1,000. */
  pageSize?: number;
  /** DynamoDB: parallel Scan segments, each with at most one page in flight; default 1. */
  segments?: number;
  /** DynamoDB: strongly consistent reads, at twice the read capacity; default eventually consistent. */
  consistentRead?: boolean;
  /** Backoff for throttling; default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

/**
 * Where a sweep continues: a DynamoDB LastEvaluatedKey, or an S3 sweep prefix and the last key
 * listed under it. Both may be identifiers: retention seals them before they leave the process.
 */
export type SweepPosition =
  | { kind: 'dynamodb'; startKey: Record<string, AttributeValue> }
  | { kind: 's3'; prefixIndex: number; startAfter?: string };

export interface SweepOptions {
  /** Records strictly before this (epoch milliseconds) have expired; reads are narrowed by it. */
  cutoffMs: number;
  /** Scan segment of a DynamoDB store swept by Scan (0 of 1 otherwise). */
  segment: number;
  totalSegments: number;
  /** Records per Query/Scan page or objects per listing; undefined: the service's default. */
  pageSize: number | undefined;
  policy: RetryPolicy;
  /** Subject holds are active: read the attributes records hold identities in, to match them. */
  matchSubjects: boolean;
}

/**
 * One record a sweep read, as retention decides on it. Everything but the timestamp is asked
 * for only when the record has expired: a key is rebuilt from the item, and identities may cost
 * reading an object.
 */
export interface SweptRecord {
  /** When the record's retention period started, epoch ms rounded down; undefined when missing or unreadable. */
  timestampMs: number | undefined;
  /** The record's key: a DynamoDB item key, or an S3 object key. */
  key(): ItemKey | string;
  /** Every attribute the store masks is absent or masked already (always false where the rule deletes). */
  anonymised: boolean;
  /**
   * The identities the record holds, normalised, to match subject holds. For a JSON-lines object
   * they are read line by line: stop iterating to stop reading.
   */
  identities(): Iterable<Identity> | AsyncIterable<Identity>;
  /**
   * Whether the record carries the restriction mark the data map declares (GDPR Art. 18): a
   * restricted record is only stored, never purged. Absent for stores that declare none; for S3
   * objects it costs reading the object's tags.
   */
  restricted?(): boolean | Promise<boolean>;
  /**
   * JSON-lines objects: rewrites the object keeping only the lines holding an identity (in a field
   * a locate rule matches on) that `isKept` says yes to, everyone else's lines purged, under the
   * erasure rewrite's ETag condition. An object with no such line is left as it is. In a dry run
   * the object is only read.
   * @returns the lines kept (0: none, nothing written), or `failed` after the retry policy was spent
   */
  keepOnlyLines?(isKept: (identity: Identity) => boolean, dryRun: boolean): Promise<number | 'failed'>;
}

export interface SweepPage {
  records: SweptRecord[];
  /** Records the store evaluated (DynamoDB: the Query or Scan's ScannedCount; S3: objects listed). */
  examined: number;
  /** Where the next page starts; undefined when the store (segment) is done. */
  next: SweepPosition | undefined;
}

/**
 * What became of a record a sweep anonymised: `masked`; `unchanged` when every masked attribute
 * was absent or masked already; `skipped` when it had changed, gone or was no longer due by the
 * time of the write; `failed` when the retry policy was spent.
 */
export type AnonymiseOutcome = 'masked' | 'unchanged' | 'skipped' | 'failed';

/** A record a sweep could not purge because S3 Object Lock protects a version of it. No key: counts and dates only. */
export interface LockedRecord {
  /** When the retention ends (ISO-8601); absent when only an Object Lock legal hold keeps it. */
  retainUntil?: string;
}

/** What a page of a sweep reads and writes through. */
export interface StoreSweep {
  /** Pages from `from` (the start when undefined), each read only when the previous one is done with. */
  pages(from: SweepPosition | undefined): AsyncIterable<SweepPage>;
  /** Queues a record for deletion; deletes are sent in full batches by {@link flushDeletes}. */
  queueDelete(key: ItemKey | string): void;
  /**
   * Sends the full batches queued, or everything queued when `all`, retrying throttling and
   * partial failures with the policy's backoff.
   * @returns the records deleted, the keys that could not be after retries, and the records S3
   *   Object Lock keeps (a version of them under retention or a legal hold), which are neither
   */
  flushDeletes(
    all: boolean,
  ): Promise<{ deleted: number; failed: (ItemKey | string)[]; locked?: LockedRecord[] }>;
  /**
   * Masks records by the store's mask rules, each conditional on its timestamp not having
   * changed since it was read consistently and on `isDue` still saying it has expired then.
   * @returns each record's outcome, in the order of `keys`
   * @throws UnsupportedStoreError for a store that is not anonymised (S3 objects are deleted)
   */
  anonymise(
    keys: (ItemKey | string)[],
    options: { isDue: (timestampMs: number | undefined) => boolean; hmacKey: Buffer },
  ): Promise<AnonymiseOutcome[]>;
}
