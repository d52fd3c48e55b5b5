import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { isRetryableError, type RetryPolicy, waitBeforeRetry } from '../retry';

/** DeleteObjects, the batch delete erasure and sweeps go through, with its per-key retries. */

/** DeleteObjects accepts at most 1,000 keys (or versions) per call. */
export const DELETE_BATCH_SIZE = 1_000;

/** What to delete: an object by its key, or one version of it (a delete marker is a version too). */
export interface ObjectRef {
  key: string;
  versionId?: string;
}

/** A key or version that could not be deleted, with the error code S3 gave for it (none: the call failed). */
export interface FailedDelete extends ObjectRef {
  code: string | undefined;
}

/** What one DeleteObjects batch achieved after its retries. */
export interface BatchOutcome {
  deleted: number;
  failed: FailedDelete[];
  attempts: number;
}

/** Per-key DeleteObjects error codes are retried when the same code would be as a whole-call error. */
function isRetryableKeyError(code: string | undefined): boolean {
  if (code === undefined) return true;
  const asError = new Error(code);
  asError.name = code;
  return isRetryableError(asError);
}

const refId = (key: string, versionId: string | undefined) =>
  versionId === undefined ? key : `${key}\u0000${versionId}`;

/**
 * Deletes up to 1,000 keys or versions with one DeleteObjects call (Quiet), retrying those S3
 * reports as failed with a retryable code and the call when throttled. A key or version that has
 * gone already counts as deleted (S3 reports it so). Codes that will not change (AccessDenied:
 * a missing permission, or a version S3 Object Lock protects) fail at once, with their code.
 */
export async function deleteBatch(
  s3: S3Client,
  bucket: string,
  refs: ObjectRef[],
  policy: RetryPolicy,
): Promise<BatchOutcome> {
  let pending = refs;
  const failed: FailedDelete[] = [];
  let attempts = 0;
  while (pending.length > 0) {
    attempts += 1;
    const lastAttempt = attempts >= policy.maxAttempts;
    const inBatch = new Map(pending.map((ref) => [refId(ref.key, ref.versionId), ref]));
    let retry: ObjectRef[] = [];
    try {
      const output = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: {
            Objects: pending.map((ref) => ({
              Key: ref.key,
              ...(ref.versionId === undefined ? {} : { VersionId: ref.versionId }),
            })),
            Quiet: true,
          },
        }),
      );
      for (const entry of output.Errors ?? []) {
        const id = entry.Key === undefined ? undefined : refId(entry.Key, entry.VersionId);
        const ref = id === undefined ? undefined : inBatch.get(id);
        if (id === undefined || ref === undefined) continue;
        inBatch.delete(id);
        if (!lastAttempt && isRetryableKeyError(entry.Code)) retry.push(ref);
        else failed.push({ ...ref, code: entry.Code });
      }
    } catch (error) {
      if (lastAttempt || !isRetryableError(error)) {
        failed.push(...pending.map((ref) => ({ ...ref, code: undefined })));
        break;
      }
      retry = pending;
    }
    pending = retry;
    if (pending.length > 0) await waitBeforeRetry(policy, attempts);
  }
  return { deleted: refs.length - failed.length, failed, attempts };
}
