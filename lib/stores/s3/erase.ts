import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DataMap, S3Store } from '../../datamap/schema';
import { chunks, mapConcurrently } from '../concurrency';
import { EraseIncompleteError } from '../errors';
import { ExemptionTally } from '../exemptions';
import { DEFAULT_RETRY_POLICY, isRetryableError, type RetryPolicy, waitBeforeRetry } from '../retry';
import type { EraseOptions, Exemption, LocatedRecord, StoreClients, StoreErasure } from '../types';
import { createNormaliser } from './lines';
import { assertUnversionedBucket, isFolderMarker, listObjects } from './objects';
import { planRecords } from './plan';
import { subjectFolderPatterns } from './prefixes';
import { DEFAULT_REWRITE_BUFFER_LIMIT, type RewriteOptions, rewriteObject } from './rewrite';

/** DeleteObjects accepts at most 1,000 keys per call. */
export const DELETE_BATCH_SIZE = 1_000;
/** JSON-lines objects rewritten at once. */
const REWRITE_CONCURRENCY = 4;

/** EraseOptions plus S3-specific tuning, all optional. */
export interface S3EraseOptions extends EraseOptions {
  /**
   * Objects up to this many bytes are rewritten from one read filtered into memory; larger ones are
   * read twice (once to see whether anything goes, once to stream into a multipart upload). Default 8 MiB.
   */
  rewriteBufferLimitBytes?: number;
}

/**
 * Erases the located records of an S3 store and reports counts only.
 *
 * - Objects are deleted with DeleteObjects, 1,000 keys per call (Quiet). Per-key errors that are
 *   worth retrying (InternalError, SlowDown, …) and throttled or failed calls are retried with capped
 *   exponential backoff and full jitter; `erased` counts keys deleted (S3 reports a key that had
 *   already gone as deleted too).
 * - JSON-lines objects are rewritten without the subject's lines (matched as locate matched them),
 *   every other line kept byte for byte, in order, with the object's trailing-newline convention,
 *   content type, metadata, tags and encryption settings. The write is conditional on the ETag
 *   read (`If-Match`), so a concurrent writer is never overwritten: on 412 the object is read and
 *   filtered again. An object left with no line is deleted, conditional on the ETag as well.
 *   `erased` counts lines removed; `skipped` counts located lines that had gone by then.
 * - Exempted records are left alone and counted by reason.
 * - The folder markers (`calls/+4930123/`) of the subject folders it emptied are deleted too, not
 *   counted: a marker holds no record, but its key names the subject.
 *
 * Local caveat: s3rver ignores If-Match on GetObject, PutObject, CompleteMultipartUpload and
 * DeleteObject. The ETag of a second read is compared client-side, but the window between reading
 * and writing is only closed on real S3 (conditional writes on PutObject and CompleteMultipartUpload
 * since 2024, on DeleteObject since 2025). s3rver also rejects AbortMultipartUpload, so a failed
 * large rewrite leaves its uploaded parts behind locally; on S3 Upload aborts them.
 *
 * @param dataMap identity types, to match lines exactly as locate did; without it only verbatim
 *   normalised values match (never another subject's line, but maybe not every spelling)
 * @throws EraseIncompleteError after everything else was erased, when keys or objects still failed
 *   after retries; the message holds counts and the store only, the keys are in `failedKeys`
 * @throws RecordOutsideStoreError before touching anything, when a record does not belong to the store
 */
export async function eraseInS3Store(
  store: S3Store,
  records: LocatedRecord[],
  clients: StoreClients,
  options: S3EraseOptions,
  dataMap?: Pick<DataMap, 'identityTypes'>,
): Promise<StoreErasure> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const plan = planRecords(store, records, true);
  const tally = new ExemptionTally();
  for (const record of plan.exempt) tally.add(record.exemption as Exemption, recordCount(record));
  const erasure: StoreErasure = {
    storeId: store.id,
    erased: 0,
    masked: 0,
    exempted: tally.total,
    exemptions: tally.entries(),
    failed: 0,
    skipped: 0,
  };
  if (plan.objects.length > 0 || plan.lines.size > 0) await assertUnversionedBucket(clients.s3, store);

  const failedKeys: string[] = [];
  let attempted = 0;
  let attemptsUsed = 0;

  const keys = plan.objects.map((record) => record.key);
  attempted += keys.length;
  for (const chunk of chunks(keys, DELETE_BATCH_SIZE)) {
    const batch = await deleteBatch(clients.s3, store.bucket, chunk, policy);
    erasure.erased += batch.deleted;
    failedKeys.push(...batch.failed);
    erasure.failed += batch.failed.length;
    attemptsUsed = Math.max(attemptsUsed, batch.attempts);
  }
  const markers = await removeEmptiedFolderMarkers(clients.s3, store, keys, failedKeys, policy);
  attempted += markers.attempted;
  failedKeys.push(...markers.failed);
  attemptsUsed = Math.max(attemptsUsed, markers.attempts);

  const normalise = createNormaliser(dataMap);
  const groups = [...plan.lines.entries()];
  attempted += groups.length;
  const rewriteOptions: RewriteOptions = {
    policy,
    normalise,
    bufferLimit: options.rewriteBufferLimitBytes ?? DEFAULT_REWRITE_BUFFER_LIMIT,
  };
  const outcomes = await mapConcurrently(groups, REWRITE_CONCURRENCY, ([key, group]) =>
    rewriteObject(store, clients.s3, key, group, rewriteOptions),
  );
  outcomes.forEach((outcome, index) => {
    const [key, group] = groups[index] ?? ['', []];
    const located = group.reduce((sum, record) => sum + record.lineCount, 0);
    attemptsUsed = Math.max(attemptsUsed, outcome.attempts);
    if (!outcome.ok) {
      failedKeys.push(key);
      erasure.failed += located;
      return;
    }
    erasure.erased += outcome.removed;
    erasure.skipped += Math.max(0, located - outcome.removed);
  });

  if (failedKeys.length > 0) {
    throw new EraseIncompleteError(store.id, failedKeys, {
      total: attempted,
      attempts: attemptsUsed,
      noun: plan.lines.size > 0 && plan.objects.length === 0 ? 'object' : 'record',
    });
  }
  return erasure;
}

/**
 * Deletes the folder markers left in the subject folders whose objects were just deleted, once
 * nothing but markers is left in them (a folder that still holds an exempted object, or one written
 * since, keeps its marker). One listing per folder emptied.
 */
async function removeEmptiedFolderMarkers(
  s3: S3Client,
  store: S3Store,
  deletedKeys: string[],
  failedKeys: string[],
  policy: RetryPolicy,
): Promise<{ attempted: number; failed: string[]; attempts: number }> {
  const patterns = subjectFolderPatterns(store);
  const folderOf = (key: string) => patterns.map((pattern) => pattern.exec(key)?.[0]).find(Boolean);
  const failedFolders = new Set(failedKeys.map(folderOf));
  const folders = new Set(
    deletedKeys
      .map(folderOf)
      .filter((folder): folder is string => folder !== undefined && !failedFolders.has(folder)),
  );
  const markers: string[] = [];
  for (const folder of folders) {
    const left: string[] = [];
    let onlyMarkers = true;
    for await (const object of listObjects(s3, store.bucket, folder)) {
      if (!isFolderMarker(object)) {
        onlyMarkers = false;
        break;
      }
      left.push(object.key);
    }
    if (onlyMarkers) markers.push(...left);
  }
  const result = { attempted: markers.length, failed: [] as string[], attempts: 0 };
  for (const chunk of chunks(markers, DELETE_BATCH_SIZE)) {
    const batch = await deleteBatch(s3, store.bucket, chunk, policy);
    result.failed.push(...batch.failed);
    result.attempts = Math.max(result.attempts, batch.attempts);
  }
  return result;
}

/** What one DeleteObjects batch achieved after its retries. */
export interface BatchOutcome {
  deleted: number;
  failed: string[];
  attempts: number;
}

/** Per-key DeleteObjects error codes are retried when the same code would be as a whole-call error. */
function isRetryableKeyError(code: string | undefined): boolean {
  if (code === undefined) return true;
  const asError = new Error(code);
  asError.name = code;
  return isRetryableError(asError);
}

/**
 * Deletes up to 1,000 keys with one DeleteObjects call (Quiet), retrying the keys S3 reports as
 * failed and the call when throttled. A key that has gone already counts as deleted.
 */
export async function deleteBatch(
  s3: S3Client,
  bucket: string,
  keys: string[],
  policy: RetryPolicy,
): Promise<BatchOutcome> {
  let pending = keys;
  const failed: string[] = [];
  let attempts = 0;
  while (pending.length > 0) {
    attempts += 1;
    const lastAttempt = attempts >= policy.maxAttempts;
    const inBatch = new Set(pending);
    let retry: string[] = [];
    try {
      const output = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: pending.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      for (const entry of output.Errors ?? []) {
        if (entry.Key === undefined || !inBatch.has(entry.Key)) continue;
        inBatch.delete(entry.Key);
        if (!lastAttempt && isRetryableKeyError(entry.Code)) retry.push(entry.Key);
        else failed.push(entry.Key);
      }
    } catch (error) {
      if (lastAttempt || !isRetryableError(error)) {
        failed.push(...pending);
        break;
      }
      retry = pending;
    }
    pending = retry;
    if (pending.length > 0) await waitBeforeRetry(policy, attempts);
  }
  return { deleted: keys.length - failed.length, failed, attempts };
}

function recordCount(record: LocatedRecord): number {
  return record.kind === 'lines' ? record.lineCount : 1;
}
