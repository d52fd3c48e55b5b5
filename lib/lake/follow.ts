import type { Identity } from '../datamap/identity';
import type { Store } from '../datamap/schema';
import type { LetheDeps } from '../deps';
import { type LocatedRecord, type RewrittenObject, type SharedObjectFilter, subjectValues } from '../stores';
import { isSharedObjectRule } from '../stores/s3/prefixes';
import { indexObject, WATERMARK_MARGIN_MS } from './indexer';
import {
  deleteEntriesBefore,
  deleteObjectRecord,
  type IndexDeps,
  indexedEtags,
  indexHash,
  objectRecord,
  objectsHolding,
  readIndexMeta,
} from './table';

/**
 * The identity index as requests and sweeps use it: which objects a locate must read, and what
 * an erasure's rewrites and a sweep's deletes change in it.
 */

/** Whether the store keeps an identity index and this deployment has the table for it. */
export function isIndexed(deps: Pick<LetheDeps, 'resources'>, store: Store): boolean {
  return (
    store.kind === 's3' && store.identityIndex === true && deps.resources.identityIndexTable !== undefined
  );
}

/** The keyed hashes a subject's identities are indexed under in a store (its shared-object identity types). */
export function subjectIndexHashes(deps: IndexDeps, store: Store, identities: Identity[]): string[] {
  if (store.kind !== 's3') return [];
  const types = new Set(store.locate.filter(isSharedObjectRule).map((rule) => rule.identity));
  return [...types].flatMap((type) =>
    subjectValues(deps.dataMap, identities, type).map((value) =>
      indexHash(deps.keys.subjectHash, { type, value }),
    ),
  );
}

/** Objects a filter selected, for the step's log and the benchmarks: counts only. */
export interface FilterTally {
  listed: number;
  selected: number;
  hits: number;
}

/**
 * Which shared objects a locate reads when the store is indexed: those the index says hold one of
 * the subject's identities, those in `alsoRead` (Confirm: the objects Erase rewrote), and every
 * object the index does not describe at its current version (modified since the build's watermark
 * and not indexed since, or without an ETag). Undefined (read everything) when the store is not
 * indexed or its index was never built.
 */
export async function sharedObjectFilter(
  deps: IndexDeps,
  store: Store,
  identities: Identity[],
  options: { alsoRead?: Iterable<string>; tally?: FilterTally } = {},
): Promise<SharedObjectFilter | undefined> {
  if (!isIndexed(deps, store)) return undefined;
  const meta = await readIndexMeta(deps, store.id);
  if (!meta) return undefined;
  const watermark = Date.parse(meta.watermark);
  const hits = await objectsHolding(deps, store.id, subjectIndexHashes(deps, store, identities));
  const alsoRead = new Set(options.alsoRead ?? []);
  const tally = options.tally;
  if (tally) tally.hits = hits.size;
  return {
    async select(objects) {
      const chosen = objects.map((object) => hits.has(object.key) || alsoRead.has(object.key));
      const tail = objects.filter(
        (object, index) =>
          !chosen[index] && (object.lastModified === undefined || object.lastModified.getTime() >= watermark),
      );
      const records =
        tail.length > 0
          ? await indexedEtags(
              deps,
              store.id,
              tail.map((object) => object.key),
            )
          : undefined;
      const selected = objects.map((object, index) => {
        if (chosen[index]) return true;
        if (object.lastModified !== undefined && object.lastModified.getTime() < watermark) return false;
        return object.etag === undefined || records?.get(object.key) !== object.etag;
      });
      if (tally) {
        tally.listed += objects.length;
        tally.selected += selected.filter(Boolean).length;
      }
      return selected;
    },
  };
}

/**
 * How long before a locate's start an object must have been last modified for Confirm to trust
 * that locate read it: LastModified is when an upload began (one in progress when Locate listed
 * was not seen), and S3's clock is not lethe's.
 */
export const CONFIRM_MARGIN_MS = WATERMARK_MARGIN_MS;

/**
 * Which shared objects Confirm reads again, for any store of shared objects, indexed or not: those
 * Locate found the subject in (Erase rewrote them, or kept them as exempted), and those modified
 * since Locate began (less CONFIRM_MARGIN_MS). Every other object was read by Locate, held nothing
 * of the subject, and has not changed since.
 */
export function changedSinceFilter(
  located: Iterable<string>,
  locateStartedAt: Date,
  tally?: FilterTally,
): SharedObjectFilter {
  const again = new Set(located);
  const since = locateStartedAt.getTime() - CONFIRM_MARGIN_MS;
  return {
    async select(objects) {
      const selected = objects.map(
        (object) =>
          again.has(object.key) ||
          object.lastModified === undefined ||
          object.lastModified.getTime() >= since,
      );
      if (tally) {
        tally.listed += objects.length;
        tally.selected += selected.filter(Boolean).length;
      }
      return selected;
    },
  };
}

/**
 * Brings the index up to an erasure's rewrites: each rewritten object is indexed again, and the
 * entries of the subject's values its lines were removed by are taken back (unless the object
 * still holds them). Records of other stores, and stores not indexed, are passed by.
 */
export async function followRewrites(
  deps: IndexDeps,
  store: Store,
  rewritten: readonly RewrittenObject[],
  records: readonly LocatedRecord[],
): Promise<void> {
  if (!isIndexed(deps, store) || store.kind !== 's3') return;
  for (const change of rewritten) {
    const drop = records.flatMap((record) =>
      record.kind === 'lines' && record.key === change.key
        ? record.matched.values.map((value) =>
            indexHash(deps.keys.subjectHash, { type: record.matched.identity, value }),
          )
        : [],
    );
    await indexObject(deps, store, change.key, { drop });
  }
}

/**
 * Takes objects a sweep deleted out of the index: their items, and the entries the items kept. An
 * item that changed meanwhile (the object written again and indexed) stays.
 */
export async function forgetDeleted(deps: IndexDeps, store: Store, keys: readonly string[]): Promise<void> {
  if (!isIndexed(deps, store)) return;
  for (const key of keys) {
    const record = await objectRecord(deps, store.id, key);
    if (!record) continue;
    if (await deleteObjectRecord(deps, store.id, key, record.gen))
      await deleteEntriesBefore(deps, store.id, key, record.hashes ?? [], record.gen + 1);
  }
}
