import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Identity } from '../datamap/identity';
import type { Link } from '../datamap/schema';
import type { RetryPolicy } from './retry';

/** The AWS clients the store adapters talk through; injected, never created inside an adapter. */
export interface StoreClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
}

/**
 * Why a located record is kept despite erasure: a data-map exemption, a legal hold, or S3 Object
 * Lock (a version of the object under a retention period or an Object Lock legal hold, which
 * nobody can delete until it ends).
 */
export interface Exemption {
  source: 'datamap' | 'hold' | 'object-lock';
  reason: string;
  legalBasis?: string;
  /** The legal hold id, for source 'hold'. */
  holdId?: string;
  /** For source 'object-lock': when the retention ends (ISO-8601); absent for an Object Lock legal hold alone. */
  retainUntil?: string;
}

/**
 * Set on a located record that only claimed identities found (see LocateOptions.claimed): the labels
 * of those identities, sorted. Absent when any other identity found it too.
 */
export type ClaimedBy = string[];

/** A DynamoDB key as plain values (string, number, or base64 for binary), in the store's key schema. */
export type ItemKey = Record<string, string | number>;

/** A located DynamoDB item: its key, which identity matched, and an exemption if it must be kept. */
export interface LocatedItem {
  kind: 'item';
  key: ItemKey;
  /**
   * The attribute and the value the item was found by: the normalised value or the spelling
   * (see Identity.spellings) the attribute holds. Mask updates are conditional on it.
   */
  matched: { identity: string; attribute: string; value: string };
  exemption?: Exemption;
  claimedBy?: ClaimedBy;
  /**
   * Set in stores that erase by masking when every masked attribute is absent or holds its masked
   * form: the item is erased-by-masking, though a table key may still find it.
   */
  masked?: true;
}

/** A located S3 object that belongs to the subject alone (found under a per-subject prefix). */
export interface LocatedObject {
  kind: 'object';
  key: string;
  size: number;
  etag?: string;
  exemption?: Exemption;
  claimedBy?: ClaimedBy;
}

/** A JSON-lines object shared by many subjects, holding `lineCount` lines of this subject. */
export interface LocatedLines {
  kind: 'lines';
  key: string;
  etag: string;
  lineCount: number;
  /** The JSON field and the subject's normalised values it is matched on. */
  matched: { identity: string; field: string; values: string[] };
  exemption?: Exemption;
  claimedBy?: ClaimedBy;
}

export type LocatedRecord = LocatedItem | LocatedObject | LocatedLines;

/** How a store is located. */
export interface LocateOptions {
  /**
   * The identities' normalised values were located in this store already: query only their
   * other spellings. JSON-lines objects, matched on normalised values, have nothing more to give.
   */
  spellingsOnly?: boolean;
  /**
   * Identities reached only through claimed links, by identityKey, each with a label (a keyed
   * hash). A record that only these find is marked with `claimedBy`; for JSON-lines objects, the
   * lines only these find are a record of their own.
   */
  claimed?: ReadonlyMap<string, string>;
  /**
   * Shared objects (JSON-lines): which objects of each listing page to read. Without it every
   * object under the rules' prefixes is read; an identity index narrows it to the objects that
   * hold the subject and those it has not indexed (see lib/lake).
   */
  sharedObjects?: SharedObjectFilter;
}

/** A shared object as listed, for a {@link SharedObjectFilter} to decide on. */
export interface ListedSharedObject {
  key: string;
  etag?: string;
  lastModified?: Date;
}

/** Decides which listed shared objects a locate reads: it must never leave out one that may hold the subject. */
export interface SharedObjectFilter {
  /** One flag per object of the page, in order: read it. */
  select(objects: readonly ListedSharedObject[]): Promise<boolean[]>;
}

/**
 * A shared object an erasure rewrote: the ETag it read, and the ETag written (absent when the
 * object was deleted because no line was left). Keys may be identifiers: in memory only.
 */
export interface RewrittenObject {
  key: string;
  from: string;
  to?: string;
}

/**
 * One edge of the subject's link graph: a record that `from` found holds `to` in the attribute of
 * `link`. Keys are identityKey values (identifiers: in memory only).
 */
export interface LinkEdge {
  from: string;
  to: string;
  link: Link;
}

/** What locating one store found. `records` may hold identifiers: it is written to the manifests bucket, never to state. */
export interface StoreLocation {
  storeId: string;
  records: LocatedRecord[];
  /** Records (items, objects, or lines for JSON-lines stores) of the subject found. */
  located: number;
  /** Of those, kept by an exemption or hold. */
  exempted: number;
  /** Identities this store's links revealed, each with the spellings the records hold it in. */
  revealed: Identity[];
  /** Which identity's records revealed which identity through which link, each edge once. */
  edges?: LinkEdge[];
}

/** One record read for an export: which store, a printable key and the record itself. */
export interface ExportedRecord {
  storeId: string;
  /** DynamoDB: the key; S3: the object key (with a line number for JSON-lines). */
  key: ItemKey | string;
  /** DynamoDB item or JSON line as plain JSON; S3 object: `{ contentType, size, base64 }` or text. */
  data: unknown;
}

/** Per-store outcome of erasure, with no identifiers: safe to log and to put in state. */
export interface StoreErasure {
  storeId: string;
  /** Items or objects deleted; for JSON-lines stores, lines removed. */
  erased: number;
  masked: number;
  exempted: number;
  /** Exempted counts grouped by reason, for the certificate. */
  exemptions: {
    reason: string;
    legalBasis?: string;
    source: Exemption['source'];
    /** Object Lock: the retain-until date. */
    retainUntil?: string;
    count: number;
  }[];
  /** Records that could not be erased after retries (also raised as EraseIncompleteError). */
  failed: number;
  /**
   * Located records left alone because they no longer belong to the subject when erasure came
   * to them: a masked item whose matched attribute changed since locating (someone else's data
   * now), or a record that had already gone. Not an error, and not erased by this request.
   */
  skipped: number;
}

/** How an adapter erases: shared by every store kind so the façade can pass one value through. */
export interface EraseOptions {
  /** Backoff for partial failures and throttling; default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
  /** Key for `with: hmac` masks. Keep it secret and stable, so the same value always masks alike. */
  hmacKey: Buffer;
  /** Clock, injectable for tests. */
  now?: () => Date;
  /** Told of every shared object rewritten (S3 JSON-lines), so an identity index can follow. */
  onRewritten?: (object: RewrittenObject) => void;
}
