import { sharedObjectPrefixes } from '../datamap/prefixes';
import type { S3Store } from '../datamap/schema';
import { getStore } from '../datamap/validate';
import { listSharedObjects, sharedObjectIdentities } from '../stores';
import { mapConcurrently } from '../stores/concurrency';
import {
  commitObjectRecord,
  countIndexedObjects,
  deleteEntriesBefore,
  deleteObjectRecord,
  type IndexDeps,
  indexedEtags,
  indexHash,
  MAX_KEPT_HASHES,
  type ObjectRecord,
  objectRecord,
  putEntries,
  readIndexMeta,
  writeIndexMeta,
} from './table';

/**
 * Keeping the identity index current: one object at a time (an S3 event, an erasure's rewrite, a
 * sweep's delete), a batch of objects (one child of a build), or a whole store (a build).
 *
 * Order is what keeps the index from ever hiding data: an object's entries are written before its
 * item says which version they describe, the item is committed only from the generation it was
 * read at (two indexings never both commit), and entries are taken back only after the commit and
 * only if no newer generation wrote them again. A reader trusts an object's entries only when the
 * item's ETag is the object's current one; every other object is read.
 */

/** Indexings of one object that lose a race are started over this many times before giving up. */
const MAX_INDEX_ATTEMPTS = 5;
/** Objects indexed at once within a batch. */
const INDEX_CONCURRENCY = 4;
/** Objects per batch of a build: one child of the Distributed Map on AWS. */
export const DEFAULT_INDEX_BATCH_SIZE = 100;
/**
 * How far before a build's start its watermark is put: S3's clock and lethe's may differ, and an
 * object's LastModified is when its upload began. Objects newer than the watermark are checked
 * one by one against their items, so the margin costs reads of items, never correctness.
 */
export const WATERMARK_MARGIN_MS = 15 * 60 * 1000;

/** A store's index cannot be kept: its objects cannot be read as lines (compressed). */
export class IndexBuildError extends Error {
  override readonly name = 'IndexBuildError';
}

/** What indexing one object did. */
export type IndexOutcome = 'indexed' | 'unchanged' | 'gone';

/**
 * Indexes one shared object at its current version: writes the entries of the identities it holds,
 * commits its item, then takes back entries of identities it no longer holds (those the item kept,
 * and `drop`: hashes an erasure removed the lines of). Entries of an object with more identities
 * than an item keeps are never taken back but by `drop`: they only cost a read.
 * @param options.etag skip the object when its item already describes this ETag
 */
export async function indexObject(
  deps: IndexDeps,
  store: S3Store,
  key: string,
  options: { etag?: string; drop?: readonly string[]; now?: () => Date } = {},
): Promise<IndexOutcome> {
  const now = options.now ?? (() => new Date());
  for (let attempt = 1; ; attempt += 1) {
    const record = await objectRecord(deps, store.id, key);
    if (record && options.etag !== undefined && record.etag === options.etag && !options.drop?.length)
      return 'unchanged';
    const read = await sharedObjectIdentities(store, deps.clients.s3, key, deps.dataMap, deps.retry);
    if (!read) {
      if (!record) return 'gone';
      if (await dropRecord(deps, store, record, options.drop ?? [])) return 'gone';
      continue;
    }
    const hashes = [
      ...new Set(read.identities.map((identity) => indexHash(deps.keys.subjectHash, identity))),
    ];
    const gen = (record?.gen ?? 0) + 1;
    const known = new Set(record?.hashes ?? []);
    await putEntries(
      deps,
      store.id,
      key,
      record?.hashes ? hashes.filter((hash) => !known.has(hash)) : hashes,
      gen,
    );
    const committed = await commitObjectRecord(
      deps,
      store.id,
      {
        key,
        etag: read.etag,
        gen,
        indexedAt: now().toISOString(),
        ...(hashes.length <= MAX_KEPT_HASHES ? { hashes: hashes.sort() } : {}),
      },
      record?.gen,
    );
    if (!committed) {
      if (attempt >= MAX_INDEX_ATTEMPTS)
        throw new IndexBuildError('an object kept changing while it was indexed');
      continue;
    }
    const held = new Set(hashes);
    const stale = [...known, ...(options.drop ?? [])].filter((hash) => !held.has(hash));
    await deleteEntriesBefore(deps, store.id, key, stale, gen);
    return 'indexed';
  }
}

/** Takes an object that has gone out of the index: its item, then the entries the item kept (and `drop`). */
async function dropRecord(
  deps: IndexDeps,
  store: S3Store,
  record: ObjectRecord,
  drop: readonly string[],
): Promise<boolean> {
  if (!(await deleteObjectRecord(deps, store.id, record.key, record.gen))) return false;
  await deleteEntriesBefore(deps, store.id, record.key, [...(record.hashes ?? []), ...drop], record.gen + 1);
  return true;
}

/**
 * Takes a deleted object (a sweep's, or an S3 delete event's) out of the index. An object that
 * exists again is indexed instead.
 */
export async function forgetObject(deps: IndexDeps, store: S3Store, key: string): Promise<IndexOutcome> {
  return indexObject(deps, store, key);
}

/** Counts of a batch of a build. */
export interface IndexBatchResult {
  objects: number;
  indexed: number;
  unchanged: number;
  gone: number;
}

/** A listed object of a batch: its ETag and size when the listing gave them. */
export interface ListedBatchObject {
  key: string;
  etag?: string;
  size?: number;
}

/**
 * Indexes a batch of listed objects (one child of a build): those whose item already describes
 * their listed ETag are skipped without reading them, and so are folder markers and keys outside
 * the store's shared-object prefixes (a listing on AWS hands over whatever its prefix lists).
 * @throws UnsupportedStoreError for a compressed object (its lines cannot be read: no watermark may pass it)
 */
export async function indexBatch(
  deps: IndexDeps,
  storeId: string,
  listed: readonly ListedBatchObject[],
): Promise<IndexBatchResult> {
  const store = getStore(deps.dataMap, storeId);
  if (store.kind !== 's3') throw new IndexBuildError(`store ${storeId} is not an S3 store`);
  const prefixes = sharedObjectPrefixes(store);
  const objects = listed.filter(
    (object) =>
      !(object.key.endsWith('/') && (object.size ?? 0) === 0) &&
      prefixes.some((prefix) => object.key.startsWith(prefix)),
  );
  const etags = await indexedEtags(
    deps,
    storeId,
    objects.map((object) => object.key),
  );
  const todo = objects.filter((object) => object.etag === undefined || etags.get(object.key) !== object.etag);
  const outcomes = await mapConcurrently(todo, INDEX_CONCURRENCY, (object) =>
    indexObject(deps, store, object.key, object.etag === undefined ? {} : { etag: object.etag }),
  );
  return {
    objects: objects.length,
    indexed: outcomes.filter((outcome) => outcome === 'indexed').length,
    unchanged: objects.length - todo.length + outcomes.filter((outcome) => outcome === 'unchanged').length,
    gone: outcomes.filter((outcome) => outcome === 'gone').length,
  };
}

/** Progress of a build, after each batch. */
export interface IndexProgress extends IndexBatchResult {
  storeId: string;
  done: boolean;
}

/** What a build did for one store. */
export interface IndexBuildResult extends IndexBatchResult {
  storeId: string;
  watermark: string;
}

/**
 * Builds (or brings up to date) a store's index in this process: lists its shared objects and
 * indexes them a batch at a time with the same code each child of the Distributed Map runs on AWS,
 * then lists once more to catch objects whose upload began before the listing but completed after
 * it, and records the watermark (the build's start less WATERMARK_MARGIN_MS).
 */
export async function buildIndex(
  deps: IndexDeps,
  store: S3Store,
  options: { batchSize?: number; onProgress?: (progress: IndexProgress) => void; clock?: () => Date } = {},
): Promise<IndexBuildResult> {
  // The real clock, not deps.now: the watermark is compared with S3's LastModified.
  const clock = options.clock ?? (() => new Date());
  const startedAt = clock();
  const batchSize = options.batchSize ?? DEFAULT_INDEX_BATCH_SIZE;
  const total: IndexBatchResult = { objects: 0, indexed: 0, unchanged: 0, gone: 0 };
  let listed = 0;
  for (const pass of [1, 2]) {
    for await (const page of listSharedObjects(store, deps.clients.s3, { pageSize: 1000 })) {
      if (pass === 1) listed += page.length;
      for (let at = 0; at < page.length; at += batchSize) {
        const batch = await indexBatch(deps, store.id, page.slice(at, at + batchSize));
        total.indexed += batch.indexed;
        total.gone += batch.gone;
        if (pass === 1) total.unchanged += batch.unchanged;
        options.onProgress?.({ storeId: store.id, ...total, objects: listed, done: false });
      }
    }
  }
  total.objects = listed;
  const watermark = await finishIndexBuild(deps, store.id, { startedAt, objects: listed, clock });
  options.onProgress?.({ storeId: store.id, ...total, done: true });
  return { storeId: store.id, ...total, watermark };
}

/**
 * Ends a build whose every batch succeeded (locally, buildIndex; on AWS, the last state of the
 * IndexBuild state machine, after its Distributed Map): records the watermark, the build's start
 * less WATERMARK_MARGIN_MS, never moving it back (a build that started before another finished).
 * Called only after the last batch, so index lag can never hide an object.
 * @param options.objects objects the build listed; default the objects the index describes
 * @returns the watermark recorded
 */
export async function finishIndexBuild(
  deps: IndexDeps,
  storeId: string,
  options: { startedAt: Date; objects?: number; clock?: () => Date },
): Promise<string> {
  const clock = options.clock ?? (() => new Date());
  const watermark = new Date(options.startedAt.getTime() - WATERMARK_MARGIN_MS).toISOString();
  const [previous, objects] = await Promise.all([
    readIndexMeta(deps, storeId),
    options.objects ?? countIndexedObjects(deps, storeId),
  ]);
  const kept = previous && previous.watermark > watermark ? previous.watermark : watermark;
  await writeIndexMeta(deps, storeId, { watermark: kept, builtAt: clock().toISOString(), objects });
  return kept;
}
