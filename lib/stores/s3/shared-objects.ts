import type { S3Client } from '@aws-sdk/client-s3';
import { type Identity, identityKey } from '../../datamap/identity';
import { sharedObjectPrefixes } from '../../datamap/prefixes';
import type { DataMap, S3Store } from '../../datamap/schema';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry';
import { createIdentityReader, fieldReaderOf } from './lines';
import { isFolderMarker, type ListedObject, listObjectPages } from './objects';
import { isSharedObjectRule, sharedRuleSpec } from './prefixes';
import { openSharedRecords } from './shared-records';

export { sharedObjectPrefixes };

/**
 * Shared objects (JSON-lines, Parquet) as an identity index sees them: which objects a store's rules cover,
 * and which identities one object holds in the fields locate matches on.
 */

/** Every page of the store's shared objects (folder markers passed by), prefix after prefix. */
export async function* listSharedObjects(
  store: S3Store,
  s3: S3Client,
  options: { policy?: RetryPolicy; pageSize?: number } = {},
): AsyncGenerator<ListedObject[]> {
  for (const prefix of sharedObjectPrefixes(store)) {
    for await (const page of listObjectPages(
      s3,
      store.bucket,
      prefix,
      options.policy ?? DEFAULT_RETRY_POLICY,
      options.pageSize,
    )) {
      yield page.filter((object) => object.key.startsWith(prefix) && !isFolderMarker(object));
    }
  }
}

/** The identities one shared object holds, and the version they were read from. */
export interface SharedObjectIdentities {
  etag: string;
  /** Each identity once (type and normalised value), from the fields of the rules covering the key. */
  identities: Identity[];
  /** Lines that could not be read as JSON objects (or were too long), or a Parquet object that could not be decoded: nothing was indexed from them. */
  unreadableLines: number;
}

/**
 * Reads one shared object (JSON-lines or Parquet) and returns the identities its records hold in
 * the fields locate matches on (normalised by the rule's identity type, exactly as locate compares
 * them); a Parquet object is read for those columns only. Undefined when the object has gone. The
 * whole read is retried, so a stream reset never leaves a partial set.
 * @throws UnsupportedStoreError for a compressed JSON-lines object
 */
export async function sharedObjectIdentities(
  store: S3Store,
  s3: S3Client,
  key: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<SharedObjectIdentities | undefined> {
  const rules = store.locate
    .filter(isSharedObjectRule)
    .map((rule) => ({ identity: rule.identity, ...sharedRuleSpec(rule) }))
    .filter((rule) => key.startsWith(rule.prefix));
  const read = createIdentityReader(dataMap);
  const fieldOf = fieldReaderOf(store);
  return withRetry(policy, async () => {
    const object = await openSharedRecords(store, s3, key, { fields: rules.map((rule) => rule.field) });
    if (!object) return undefined;
    const found = new Map<string, Identity>();
    for await (const { record } of object.records) {
      for (const rule of rules) {
        const identity = read(rule.identity, fieldOf(record, rule.field));
        if (identity === undefined) continue;
        const normalised = { type: identity.type, value: identity.value };
        found.set(identityKey(normalised), normalised);
      }
    }
    return { etag: object.etag, identities: [...found.values()], unreadableLines: object.unreadable.count };
  });
}
