import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { chunks, mapConcurrently } from '../concurrency';
import { type RetryPolicy, withRetry } from '../retry';
import { DELETE_BATCH_SIZE, deleteBatch, type ObjectRef } from './delete';
import { ObjectChangedError, VersionDeleteError } from './errors';
import { laterLock, type ObjectLock, objectLockOf } from './lock';

/**
 * Versioned buckets. With versioning Enabled or Suspended a plain delete only adds a delete marker
 * and a rewrite only adds a version: the earlier versions keep the data. So lethe deletes versions
 * by VersionId there: every version and delete marker of a key an erasure deletes, those before
 * the cut-off of a key a sweep purges, and every version but the one it wrote of an object it
 * rewrote. Versions S3 Object Lock protects cannot be deleted; they are reported, not failed.
 */

/** Keys whose versions are listed at once. */
const LIST_CONCURRENCY = 8;

/** One version of a key, or one of its delete markers. */
export interface KeyVersion {
  versionId: string;
  deleteMarker: boolean;
  /** The current version (or marker) of the key. */
  latest: boolean;
  lastModified: Date | undefined;
}

/**
 * Every version and delete marker of exactly `key`, listed with ListObjectVersions (Prefix = the
 * key), page after page. Versions of longer keys the key is a prefix of (`a.jsonl.bak` for
 * `a.jsonl`) are never included; since keys are listed in order, listing stops at the first one.
 */
export async function listKeyVersions(
  s3: S3Client,
  bucket: string,
  key: string,
  policy: RetryPolicy,
): Promise<KeyVersion[]> {
  const versions: KeyVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const markers = {
      ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
      ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
    };
    const page = await withRetry(policy, () =>
      s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, ...markers })),
    );
    let pastKey = false;
    const entries = [
      ...(page.Versions ?? []).map((entry) => ({ entry, deleteMarker: false })),
      ...(page.DeleteMarkers ?? []).map((entry) => ({ entry, deleteMarker: true })),
    ];
    for (const { entry, deleteMarker } of entries) {
      if (entry.Key !== key) {
        pastKey = true;
        continue;
      }
      if (entry.VersionId === undefined) continue;
      versions.push({
        versionId: entry.VersionId,
        deleteMarker,
        latest: entry.IsLatest === true,
        lastModified: entry.LastModified,
      });
    }
    if (!page.IsTruncated || pastKey || page.NextKeyMarker === undefined) return versions;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** What deleting versions of some keys achieved, by key. */
export interface VersionDeletion {
  /** Keys whose versions (those chosen) are all gone now. */
  deleted: string[];
  /** Keys with a version that could not be deleted after retries, for a reason other than Object Lock. */
  failed: string[];
  /** Keys with a version Object Lock protects (and none failed otherwise), with the lock that keeps them. */
  locked: Map<string, ObjectLock>;
  /** The most DeleteObjects attempts one batch took. */
  attempts: number;
}

/**
 * Deletes the given versions, 1,000 a DeleteObjects call (per-version errors and throttling
 * retried), and sorts out the refusals: a version S3 refused with AccessDenied is looked up, and
 * if Object Lock protects it its key is reported in `locked` with the lock; any other refusal, or
 * a lookup that fails, leaves its key failed.
 */
async function deleteVersionRefs(
  s3: S3Client,
  bucket: string,
  keys: string[],
  refs: ObjectRef[],
  policy: RetryPolicy,
  now?: () => Date,
): Promise<VersionDeletion> {
  const failed = new Set<string>();
  const denied: ObjectRef[] = [];
  let attempts = 0;
  for (const chunk of chunks(refs, DELETE_BATCH_SIZE)) {
    const batch = await deleteBatch(s3, bucket, chunk, policy);
    attempts = Math.max(attempts, batch.attempts);
    for (const ref of batch.failed) {
      if (ref.code === 'AccessDenied' && ref.versionId !== undefined) denied.push(ref);
      else failed.add(ref.key);
    }
  }
  const locks = await mapConcurrently(denied, LIST_CONCURRENCY, (ref) =>
    objectLockOf(s3, bucket, ref.key, ref.versionId, now).catch(() => undefined),
  );
  const locked = new Map<string, ObjectLock>();
  denied.forEach((ref, index) => {
    const lock = locks[index];
    if (lock) locked.set(ref.key, laterLock(locked.get(ref.key), lock));
    else failed.add(ref.key);
  });
  for (const key of failed) locked.delete(key);
  const deleted = [...new Set(keys)].filter((key) => !failed.has(key) && !locked.has(key));
  return { deleted, failed: [...failed], locked, attempts };
}

/**
 * Deletes versions of each key: every version and delete marker, or those `select` picks (a sweep:
 * those before the cut-off). Versions are listed key by key, then deleted in batches across keys,
 * so N versions cost ceil(N / 1,000) DeleteObjects calls when nothing fails. A key with nothing
 * left to delete (it had gone) counts as deleted.
 */
export async function deleteKeyVersions(
  s3: S3Client,
  bucket: string,
  keys: string[],
  options: { policy: RetryPolicy; select?: (version: KeyVersion) => boolean; now?: () => Date },
): Promise<VersionDeletion> {
  const listed = await mapConcurrently(keys, LIST_CONCURRENCY, (key) =>
    listKeyVersions(s3, bucket, key, options.policy),
  );
  const refs = keys.flatMap((key, index) =>
    (listed[index] ?? [])
      .filter((version) => options.select?.(version) ?? true)
      .map((version) => ({ key, versionId: version.versionId })),
  );
  return deleteVersionRefs(s3, bucket, keys, refs, options.policy, options.now);
}

/**
 * After a rewrite of `key` (or a read that found nothing of the subject left in it), deletes its
 * other versions and delete markers, where the earlier data lives:
 *
 * - `{ keep: versionId }`: every version but this one (the version just written, or read), which
 *   must still be the latest;
 * - `{ drop: versionId }`: every version, this one too (an object emptied of its lines), which
 *   must still be the latest;
 * - `{ drop: 'delete-marker' }`: every version of an object whose latest version is a delete
 *   marker (deleted since it was located), or that has none left.
 *
 * A version written by someone else since is never deleted: when the latest is not the one
 * expected, ObjectChangedError starts the rewrite over.
 * @returns the Object Lock keeping versions that could not be deleted, if any
 * @throws ObjectChangedError when a newer version appeared (retry the rewrite)
 * @throws VersionDeleteError when a version could not be deleted for another reason
 */
export async function deleteOtherVersions(
  s3: S3Client,
  bucket: string,
  key: string,
  expected: { keep: string } | { drop: string },
  policy: RetryPolicy,
  now?: () => Date,
): Promise<ObjectLock | undefined> {
  const versions = await listKeyVersions(s3, bucket, key, policy);
  const latest = versions.find((version) => version.latest);
  const reference = 'keep' in expected ? expected.keep : expected.drop;
  const asExpected =
    reference === 'delete-marker'
      ? latest === undefined || latest.deleteMarker
      : latest?.versionId === reference;
  if (!asExpected) throw new ObjectChangedError('a version was written since the rewrite read the object');
  const refs = versions
    .filter((version) => !('keep' in expected && version.versionId === expected.keep))
    .map((version) => ({ key, versionId: version.versionId }));
  if (refs.length === 0) return undefined;
  const deletion = await deleteVersionRefs(s3, bucket, [key], refs, policy, now);
  if (deletion.failed.length > 0)
    throw new VersionDeleteError('earlier versions of an object could not be deleted');
  return deletion.locked.get(key);
}
