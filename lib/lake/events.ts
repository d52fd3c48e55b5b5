import type { S3Store } from '../datamap/schema';
import { sharedObjectPrefixes } from '../stores';
import { isIndexed } from './follow';
import { forgetObject, type IndexOutcome, indexObject } from './indexer';
import type { IndexDeps } from './table';

/**
 * Keeping the index current from S3's own notifications of object writes and deletes (on AWS:
 * S3 event notifications through a queue). Each change is indexed from the object as it is now,
 * not from what the event says, so events arriving late, twice or out of order do no harm.
 */

/** One object change an S3 event notification reported. */
export interface ObjectChange {
  bucket: string;
  key: string;
  change: 'created' | 'removed';
  /** The ETag the event carried (created only): an object already indexed at it is not read again. */
  etag?: string;
}

/** What indexing one change did: `ignored` when no indexed store holds the object. */
export type ChangeOutcome = IndexOutcome | 'ignored';

/** The indexed store whose shared objects include the key of this bucket, if any. */
export function indexedStoreOf(deps: IndexDeps, bucket: string, key: string): S3Store | undefined {
  return deps.dataMap.stores.find(
    (store): store is S3Store =>
      store.kind === 's3' &&
      store.bucket === bucket &&
      isIndexed(deps, store) &&
      sharedObjectPrefixes(store).some((prefix) => key.startsWith(prefix)),
  );
}

/**
 * Brings the index up to one object change: a created (or overwritten) object is indexed at its
 * current version, a removed one taken out (or indexed again if it exists once more).
 */
export async function indexObjectChange(deps: IndexDeps, change: ObjectChange): Promise<ChangeOutcome> {
  const store = indexedStoreOf(deps, change.bucket, change.key);
  if (!store) return 'ignored';
  if (change.change === 'removed') return forgetObject(deps, store, change.key);
  return indexObject(deps, store, change.key, change.etag === undefined ? {} : { etag: change.etag });
}
