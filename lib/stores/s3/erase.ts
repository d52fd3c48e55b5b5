import type { S3Client } from '@aws-sdk/client-s3';
import type { DataMap, S3Store } from '../../datamap/schema';
import { chunks, mapConcurrently } from '../concurrency';
import { EraseIncompleteError } from '../errors';
import { ExemptionTally } from '../exemptions';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry';
import type { EraseOptions, Exemption, LocatedRecord, StoreClients, StoreErasure } from '../types';
import { DELETE_BATCH_SIZE, deleteBatch } from './delete';
import { RewriteRefusedError } from './errors';
import { createNormaliser } from './lines';
import { objectLockExemption } from './lock';
import { isFolderMarker, isVersionedBucket, listObjects } from './objects';
import { planRecords } from './plan';
import { isParquetStore, subjectFolderPatterns } from './prefixes';
import {
  DEFAULT_REWRITE_BUFFER_LIMIT,
  type RewriteOptions,
  type RewriteOutcome,
  rewriteObject,
} from './rewrite';
import { deleteKeyVersions } from './versions';

/** Shared objects (JSON-lines, Parquet) rewritten at once. */
const REWRITE_CONCURRENCY = 4;

/** Rewrites one shared object without the subject's records (rewriteObject's signature). */
export type SharedObjectRewrite = typeof rewriteObject;

/**
 * The Parquet rewrite (rewriteParquetObject), once a code path that erases has enabled it. The
 * Parquet writer is kept out of erase.ts's imports so that the functions that locate, export or
 * sweep (which share this module through the adapter) do not bundle it: each Lambda bundle must
 * stay under 1 MB. The erase function and the local runtime enable it at start.
 */
let parquetRewrite: SharedObjectRewrite | undefined;

/** Enables Parquet rewrites in this process (see parquetRewrite): pass rewriteParquetObject. */
export function enableParquetRewrites(rewrite: SharedObjectRewrite): void {
  parquetRewrite = rewrite;
}

/** Stands in for the Parquet rewrite where no code path enabled it: refuses, writing nothing. */
const parquetRewritesDisabled: SharedObjectRewrite = async (store) =>
  ({
    ok: false,
    attempts: 1,
    refused: new RewriteRefusedError(
      `store ${store.id}: Parquet rewrites are not enabled in this process (enableParquetRewrites); nothing was written`,
    ),
  }) satisfies RewriteOutcome;

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
 * - Parquet objects are rewritten likewise without the subject's rows (see parquet-rewrite.ts), keeping
 *   schema, codecs, row groups and every other row's values. An object lethe cannot rewrite exactly
 *   (a codec it cannot write, a column type it cannot write back) is left untouched and the erasure
 *   ends with that error (ParquetCodecUnsupportedError, ParquetSchemaUnsupportedError) after the
 *   store's other records were erased.
 * - Exempted records are left alone and counted by reason.
 * - In a versioned bucket (versioning Enabled or Suspended; asked once per call) an object is
 *   deleted version by version: every version and delete marker of its key (ListObjectVersions,
 *   then DeleteObjects by VersionId, 1,000 a call). A rewritten object keeps only the version just
 *   written. A version S3 Object Lock protects cannot be deleted: S3 answers AccessDenied for it,
 *   its retention is read, and the object (or the located lines in it) is counted as exempted
 *   (source `object-lock`, with the retain-until date), never as erased, and not as failed.
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
    exempted: 0,
    exemptions: [],
    failed: 0,
    skipped: 0,
  };
  const versioned =
    (plan.objects.length > 0 || plan.lines.size > 0) && (await isVersionedBucket(clients.s3, store.bucket));

  const failedKeys: string[] = [];
  let attempted = 0;
  let attemptsUsed = 0;

  const keys = plan.objects.map((record) => record.key);
  attempted += keys.length;
  if (versioned) {
    const deletion = await deleteKeyVersions(clients.s3, store.bucket, keys, { policy, now: options.now });
    erasure.erased += deletion.deleted.length;
    failedKeys.push(...deletion.failed);
    erasure.failed += deletion.failed.length;
    for (const lock of deletion.locked.values()) tally.add(objectLockExemption(lock));
    attemptsUsed = Math.max(attemptsUsed, deletion.attempts);
  } else {
    for (const chunk of chunks(keys, DELETE_BATCH_SIZE)) {
      const batch = await deleteBatch(
        clients.s3,
        store.bucket,
        chunk.map((key) => ({ key })),
        policy,
      );
      erasure.erased += batch.deleted;
      failedKeys.push(...batch.failed.map((failed) => failed.key));
      erasure.failed += batch.failed.length;
      attemptsUsed = Math.max(attemptsUsed, batch.attempts);
    }
  }
  const markers = await removeEmptiedFolderMarkers(clients.s3, store, keys, failedKeys, {
    policy,
    versioned,
    now: options.now,
  });
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
    versioned,
    ...(options.now ? { now: options.now } : {}),
  };
  const rewrite = isParquetStore(store) ? (parquetRewrite ?? parquetRewritesDisabled) : rewriteObject;
  const outcomes = await mapConcurrently(groups, REWRITE_CONCURRENCY, ([key, group]) =>
    rewrite(store, clients.s3, key, group, rewriteOptions),
  );
  let refused: Error | undefined;
  outcomes.forEach((outcome, index) => {
    const [key, group] = groups[index] ?? ['', []];
    const located = group.reduce((sum, record) => sum + record.lineCount, 0);
    attemptsUsed = Math.max(attemptsUsed, outcome.attempts);
    if (outcome.change) options.onRewritten?.({ key, ...outcome.change });
    if (!outcome.ok) {
      failedKeys.push(key);
      erasure.failed += located;
      refused ??= outcome.refused;
      return;
    }
    if (outcome.locked) {
      // An earlier version still holds the subject's lines: kept by Object Lock, not erased.
      tally.add(objectLockExemption(outcome.locked), located);
      return;
    }
    erasure.erased += outcome.removed;
    erasure.skipped += Math.max(0, located - outcome.removed);
  });
  erasure.exempted = tally.total;
  erasure.exemptions = tally.entries();

  // A refusal names its cause (e.g. a codec lethe cannot write) better than a count of failures.
  if (refused) throw refused;
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
  options: { policy: RetryPolicy; versioned: boolean; now: (() => Date) | undefined },
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
  if (options.versioned) {
    // A marker's versions name the subject as its current version does.
    const deletion = await deleteKeyVersions(s3, store.bucket, markers, {
      policy: options.policy,
      ...(options.now ? { now: options.now } : {}),
    });
    return { ...result, failed: deletion.failed, attempts: deletion.attempts };
  }
  for (const chunk of chunks(markers, DELETE_BATCH_SIZE)) {
    const batch = await deleteBatch(
      s3,
      store.bucket,
      chunk.map((key) => ({ key })),
      options.policy,
    );
    result.failed.push(...batch.failed.map((failed) => failed.key));
    result.attempts = Math.max(result.attempts, batch.attempts);
  }
  return result;
}

function recordCount(record: LocatedRecord): number {
  return record.kind === 'lines' ? record.lineCount : 1;
}
