import type { Identity } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import type { ItemKey } from '../stores/types';

export type HoldStatus = 'active' | 'released';

/** Hold ids are this prefix and a UUID. */
export const HOLD_ID_PREFIX = 'hold-';

/** One legal hold, as stored in the holds table. */
export interface LegalHold {
  holdId: string;
  /**
   * `restriction`: not a legal hold but lethe's record of a restriction of processing of one
   * subject's lines in one JSON-lines store (see restrictions.ts); listed only where asked for.
   */
  scope: 'subject' | 'record' | 'restriction';
  /** Subject holds: keyed hashes of the identity given and of every identity linked from it when placed. */
  subjectHashes?: string[];
  /** Subject holds: the type of the identity given (never its value). */
  identityType?: string;
  /** Subject holds: how many identities the hold covers. */
  identityCount?: number;
  /** Record holds and restrictions: the store. */
  storeId?: string;
  /**
   * Record holds: the record's key, canonical: a DynamoDB key as JSON with the key attributes in
   * key-schema order, an S3 object key as is. It can be an identifier: shown to staff by
   * `hold list`, never written to the audit log (which gets `recordHash`).
   */
  recordKey?: string;
  /** Record holds: a keyed hash of store and key, what the audit log names the record by. */
  recordHash?: string;
  reason: string;
  placedBy: string;
  placedAt: string;
  status: HoldStatus;
  releasedBy?: string;
  releasedAt?: string;
}

/** What placing, releasing, listing and applying holds needs of the workflow's dependencies. */
export type HoldDeps = Pick<LetheDeps, 'dataMap' | 'clients' | 'doc' | 'resources' | 'keys' | 'now' | 'log'>;

export interface PlaceSubjectHoldInput {
  /** `TYPE=VALUE` as given on the command line, or an identity. */
  subject: string | Identity;
  reason: string;
  placedBy: string;
}

export interface PlaceRecordHoldInput {
  storeId: string;
  /** DynamoDB: the item key as JSON text or an object; S3: the object key. */
  key: string | ItemKey | Record<string, unknown>;
  reason: string;
  placedBy: string;
}

export type PlaceHoldInput = PlaceSubjectHoldInput | PlaceRecordHoldInput;
