import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { sweepPrefixes } from '../datamap/prefixes';
import type { RetentionRule, S3Store } from '../datamap/schema';
import { holdOnRecord, holdOnSubject, type LegalHold } from '../holds';
import { mapConcurrently } from '../stores/concurrency';
import { withRetry } from '../stores/retry';
import {
  assertUnversionedBucket,
  DELETE_BATCH_SIZE,
  deleteBatch,
  identitiesInKey,
  lineIdentities,
} from '../stores/s3';
import type { PageContext } from './context';
import { SweepIncompleteError } from './errors';
import { isExpired } from './rules';
import type { SweepPosition } from './token';

/**
 * Sweeping an S3 store: list the sweep prefixes (retentionPrefix, else the fixed prefixes of the
 * locate rules) page by page, and delete objects whose LastModified is strictly before the
 * cut-off with DeleteObjects, 1,000 keys a call through the adapter's batching (per-key errors
 * and throttling retried). Keys are buffered across listing pages, so N expired objects cost
 * ceil(N / 1,000) DeleteObjects calls when nothing fails. The position is the prefix and the last
 * key listed (StartAfter), so a page that stops on its time budget resumes exactly there.
 *
 * Held objects are kept: an object a record hold names; an object under a per-subject prefix
 * (`calls/{phone}/`) whose identity a subject hold covers; a JSON-lines object holding at least
 * one line of a held subject (its lines are read only when a subject hold exists, and the whole
 * shared object is kept while the hold lasts: the other subjects' lines in it go once it is
 * released).
 */

export type RetainedS3Store = S3Store & { retention: RetentionRule };

/** Objects whose lines are read at once when looking for held subjects. */
const HOLD_SCAN_CONCURRENCY = 8;

/**
 * Sweeps an S3 store from `position`, listing page after page until every prefix is done or the
 * time budget is spent. Counts go into `ctx.counts`.
 * @returns where the next page starts, or undefined when the store is done
 * @throws SweepIncompleteError when objects could not be deleted after retries
 */
export async function sweepS3Store(
  ctx: PageContext,
  store: RetainedS3Store,
  position: Extract<SweepPosition, { kind: 's3' }> | undefined,
): Promise<Extract<SweepPosition, { kind: 's3' }> | undefined> {
  const { deps, counts, policy } = ctx;
  const s3 = deps.clients.s3;
  const prefixes = sweepPrefixes(store);
  const jsonLines = store.locate.some((rule) => 'jsonLines' in rule);
  const matchSubjects = ctx.holds.subjects.size > 0;
  let prefixIndex = position?.prefixIndex ?? 0;
  let startAfter = position?.startAfter;

  const pending: string[] = [];
  const failedKeys: string[] = [];
  let checkedVersioning = false;
  const flush = async (all: boolean) => {
    if (!checkedVersioning && pending.length > 0) {
      await assertUnversionedBucket(s3, store);
      checkedVersioning = true;
    }
    while (pending.length >= DELETE_BATCH_SIZE || (all && pending.length > 0)) {
      const batch = pending.splice(0, DELETE_BATCH_SIZE);
      const result = await deleteBatch(s3, store.bucket, batch, policy);
      counts.purged += result.deleted;
      failedKeys.push(...result.failed);
    }
  };

  const subjectHold = async (key: string): Promise<LegalHold | undefined> => {
    if (!jsonLines) return holdOnSubject(ctx.holds, identitiesInKey(store, key, deps.dataMap).map(ctx.hash));
    for await (const identity of lineIdentities(store, s3, key, deps.dataMap)) {
      const hold = holdOnSubject(ctx.holds, [ctx.hash(identity)]);
      if (hold) return hold;
    }
    return undefined;
  };

  while (prefixIndex < prefixes.length) {
    const prefix = prefixes[prefixIndex] as string;
    const after = startAfter;
    const page = await withRetry(policy, () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: store.bucket,
          Prefix: prefix,
          ...(after === undefined ? {} : { StartAfter: after }),
          ...(ctx.pageSize ? { MaxKeys: ctx.pageSize } : {}),
        }),
      ),
    );
    const expired: string[] = [];
    for (const object of page.Contents ?? []) {
      counts.examined += 1;
      // S3 only returns keys under the prefix; the check guards a misbehaving endpoint.
      if (object.Key === undefined || !object.Key.startsWith(prefix)) continue;
      if (object.LastModified === undefined) {
        counts.skipped += 1;
        continue;
      }
      if (!isExpired(object.LastModified.getTime(), ctx.cutoffMs)) continue;
      counts.expired += 1;
      expired.push(object.Key);
    }
    const holds = await mapConcurrently(
      expired,
      HOLD_SCAN_CONCURRENCY,
      async (key) =>
        holdOnRecord(ctx.holds, store, key) ?? (matchSubjects ? await subjectHold(key) : undefined),
    );
    expired.forEach((key, index) => {
      if (holds[index]) counts.held += 1;
      else if (ctx.dryRun) counts.purged += 1;
      else pending.push(key);
    });
    await flush(false);

    const last = page.Contents?.at(-1)?.Key;
    if (page.IsTruncated && last !== undefined) {
      startAfter = last;
    } else {
      prefixIndex += 1;
      startAfter = undefined;
    }
    if (ctx.outOfTime()) break;
  }

  await flush(true);
  if (failedKeys.length > 0) throw new SweepIncompleteError(store.id, failedKeys);
  return prefixIndex < prefixes.length
    ? { kind: 's3', prefixIndex, ...(startAfter === undefined ? {} : { startAfter }) }
    : undefined;
}
