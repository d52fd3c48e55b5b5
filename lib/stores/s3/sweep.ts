import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Identity } from '../../datamap/identity';
import { sweepPrefixes } from '../../datamap/prefixes';
import type { S3Store } from '../../datamap/schema';
import type {
  LockedRecord,
  RetainedStore,
  StoreContext,
  StoreSweep,
  SweepOptions,
  SweepPage,
  SweepPosition,
} from '../adapter';
import { UnsupportedStoreError } from '../errors';
import { withRetry } from '../retry';
import type { ItemKey } from '../types';
import { DELETE_BATCH_SIZE, deleteBatch } from './delete';
import { createIdentityReader, normaliserOf, parseLine } from './lines';
import { lineIdentities } from './locate';
import { isVersionedBucket } from './objects';
import { identitiesInKey, isJsonLinesRule, isSharedObjectRule } from './prefixes';
import { DEFAULT_REWRITE_BUFFER_LIMIT, editObject } from './rewrite';
import { readObjectTag } from './tags';
import { deleteKeyVersions } from './versions';

/**
 * The IO of a retention sweep of an S3 store: list the sweep prefixes (retentionPrefix, else the
 * fixed prefixes of the locate rules) page by page, and delete objects with DeleteObjects, 1,000
 * keys a call through the adapter's batching (per-key errors and throttling retried). Keys are
 * buffered across listing pages, so N expired objects cost ceil(N / 1,000) DeleteObjects calls
 * when nothing fails. The position is the prefix and the last key listed (StartAfter), so a page
 * that stops on its time budget resumes exactly there.
 *
 * In a versioned bucket (asked once per page, before the first delete) an expired object is purged
 * version by version: every version and delete marker of its key from before the cut-off (a
 * version written since the listing is newer and stays). Versions S3 Object Lock protects cannot
 * be deleted: such an object is reported as locked, with the retain-until date, not as failed.
 * Only keys whose current version is listed are swept: versions left under a delete marker are
 * not (a lifecycle rule for noncurrent versions is what expires those).
 * Folder markers (`calls/+4930123456/`, zero bytes) are swept like objects, by their own age: they
 * hold no record, but their key can name a subject, and kept forever it would outlive the records.
 *
 * The identities of an object, for subject holds: those its key reveals under a per-subject prefix
 * (`calls/{phone}/`), or, in a JSON-lines store, those of its lines, read only when asked (a hold
 * on any one subject of a shared object keeps the whole object). A JSON-lines object holding the
 * lines of a subject whose processing is restricted is rewritten with only those lines
 * (keepOnlyLines): the others' lines go as the object would have.
 */

function objectKey(store: S3Store, key: ItemKey | string): string {
  if (typeof key !== 'string') throw new UnsupportedStoreError(store.id, 'an S3 store has no item keys');
  return key;
}

/**
 * Opens a sweep page of an S3 store (see the module comment).
 * @throws UnsupportedStoreError for a rule that anonymises: objects are deleted at expiry
 */
export function openS3Sweep(
  store: RetainedStore<S3Store>,
  context: StoreContext,
  options: SweepOptions,
): StoreSweep {
  if (store.retention.action === 'anonymise') {
    throw new UnsupportedStoreError(
      store.id,
      'S3 objects are deleted at expiry; anonymise applies to DynamoDB stores with mask rules',
    );
  }
  const s3 = context.clients.s3;
  const { policy } = options;
  const prefixes = sweepPrefixes(store);
  const sharedObjects = store.locate.some(isSharedObjectRule);
  const jsonLines = store.locate.some(isJsonLinesRule);
  const restrictTag = store.restrict?.tag;
  let versioned: boolean | undefined;

  /** Keeps only the lines of an expired JSON-lines object that hold an identity `isKept` says yes to. */
  async function keepOnlyLines(
    key: string,
    isKept: (identity: Identity) => boolean,
    dryRun: boolean,
  ): Promise<number | 'failed'> {
    if (dryRun) {
      for await (const identity of lineIdentities(store, s3, key, context.dataMap))
        if (isKept(identity)) return 1;
      return 0;
    }
    const rules = store.locate
      .filter(isJsonLinesRule)
      .filter((rule) => key.startsWith(rule.jsonLines.prefix));
    const read = createIdentityReader(context.dataMap);
    const normalise = normaliserOf(read);
    versioned ??= await isVersionedBucket(s3, store.bucket);
    const outcome = await editObject(
      store,
      s3,
      key,
      (bytes, firstLine) => {
        const line = parseLine(bytes, firstLine, [], normalise);
        // Blank and malformed lines are nobody's to keep: they expire with the object.
        if (line.kind !== 'record') return { kind: 'drop' };
        const kept = rules.some((rule) => {
          if (!Object.hasOwn(line.record, rule.jsonLines.field)) return false;
          const identity = read(rule.identity, line.record[rule.jsonLines.field]);
          return identity !== undefined && isKept(identity);
        });
        return kept ? { kind: 'keep' } : { kind: 'drop' };
      },
      { policy, normalise, bufferLimit: DEFAULT_REWRITE_BUFFER_LIMIT, versioned, keepOnly: true },
    );
    return outcome.ok ? outcome.kept : 'failed';
  }

  async function* pages(from: SweepPosition | undefined): AsyncGenerator<SweepPage> {
    let prefixIndex = from?.kind === 's3' ? from.prefixIndex : 0;
    let startAfter = from?.kind === 's3' ? from.startAfter : undefined;
    while (prefixIndex < prefixes.length) {
      const prefix = prefixes[prefixIndex] as string;
      const after = startAfter;
      const page = await withRetry(policy, () =>
        s3.send(
          new ListObjectsV2Command({
            Bucket: store.bucket,
            Prefix: prefix,
            ...(after === undefined ? {} : { StartAfter: after }),
            ...(options.pageSize ? { MaxKeys: options.pageSize } : {}),
          }),
        ),
      );
      const records: SweepPage['records'] = [];
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        // S3 only returns keys under the prefix; the check guards a misbehaving endpoint.
        if (key === undefined || !key.startsWith(prefix)) continue;
        records.push({
          timestampMs: object.LastModified?.getTime(),
          key: () => key,
          anonymised: false,
          identities: () =>
            sharedObjects
              ? lineIdentities(store, s3, key, context.dataMap)
              : identitiesInKey(store, key, context.dataMap),
          ...(jsonLines ? { keepOnlyLines: (isKept, dryRun) => keepOnlyLines(key, isKept, dryRun) } : {}),
          ...(restrictTag
            ? {
                restricted: async () =>
                  typeof (await readObjectTag(s3, store.bucket, key, restrictTag, policy)) === 'string',
              }
            : {}),
        });
      }
      const last = page.Contents?.at(-1)?.Key;
      if (page.IsTruncated && last !== undefined) {
        startAfter = last;
      } else {
        prefixIndex += 1;
        startAfter = undefined;
      }
      yield {
        records,
        examined: page.Contents?.length ?? 0,
        next:
          prefixIndex < prefixes.length
            ? { kind: 's3', prefixIndex, ...(startAfter === undefined ? {} : { startAfter }) }
            : undefined,
      };
    }
  }

  const pending: string[] = [];
  return {
    pages,
    queueDelete: (key) => {
      pending.push(objectKey(store, key));
    },
    flushDeletes: async (all) => {
      if (versioned === undefined && pending.length > 0)
        versioned = await isVersionedBucket(s3, store.bucket);
      let deleted = 0;
      const failed: string[] = [];
      const locked: LockedRecord[] = [];
      while (pending.length >= DELETE_BATCH_SIZE || (all && pending.length > 0)) {
        const keys = pending.splice(0, DELETE_BATCH_SIZE);
        if (versioned) {
          const result = await deleteKeyVersions(s3, store.bucket, keys, {
            policy,
            select: (version) =>
              (version.lastModified?.getTime() ?? Number.POSITIVE_INFINITY) < options.cutoffMs,
          });
          deleted += result.deleted.length;
          failed.push(...result.failed);
          for (const lock of result.locked.values()) {
            locked.push(lock.retainUntil ? { retainUntil: lock.retainUntil.toISOString() } : {});
          }
        } else {
          const result = await deleteBatch(
            s3,
            store.bucket,
            keys.map((key) => ({ key })),
            policy,
          );
          deleted += result.deleted;
          failed.push(...result.failed.map((entry) => entry.key));
        }
      }
      return { deleted, failed, locked };
    },
    anonymise: async () => {
      throw new UnsupportedStoreError(store.id, 'S3 objects are deleted at expiry, never anonymised');
    },
  };
}
