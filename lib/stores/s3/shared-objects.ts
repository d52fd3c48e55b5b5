import type { S3Client } from '@aws-sdk/client-s3';
import { type Identity, identityKey } from '../../datamap/identity';
import { sharedObjectPrefixes } from '../../datamap/prefixes';
import type { DataMap, S3Store } from '../../datamap/schema';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry';
import { createIdentityReader, parseLine } from './lines';
import { getObjectOrUndefined, isFolderMarker, type ListedObject, listObjectPages } from './objects';
import { isJsonLinesRule } from './prefixes';

export { sharedObjectPrefixes };

import { bodyChunks, splitLines } from './stream';

/**
 * Shared objects (JSON-lines) as an identity index sees them: which objects a store's rules cover,
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
  /** Lines that could not be read as JSON objects (or were too long): nothing was indexed from them. */
  unreadableLines: number;
}

/**
 * Reads one shared object and returns the identities its lines hold in the fields locate matches
 * on (normalised by the rule's identity type, exactly as locate compares them). Undefined when the
 * object has gone. The whole read is retried, so a stream reset never leaves a partial set.
 * @throws UnsupportedStoreError for a compressed object
 */
export async function sharedObjectIdentities(
  store: S3Store,
  s3: S3Client,
  key: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<SharedObjectIdentities | undefined> {
  const rules = store.locate.filter(isJsonLinesRule).filter((rule) => key.startsWith(rule.jsonLines.prefix));
  const read = createIdentityReader(dataMap);
  return withRetry(policy, async () => {
    const object = await getObjectOrUndefined(s3, store.bucket, key);
    if (!object) return undefined;
    const found = new Map<string, Identity>();
    let unreadableLines = 0;
    let lineNo = 0;
    for await (const piece of splitLines(bodyChunks(object.Body), store)) {
      if (piece.kind === 'long') {
        if (piece.end) {
          lineNo += 1;
          unreadableLines += 1;
        }
        continue;
      }
      lineNo += 1;
      const line = parseLine(piece.bytes, lineNo === 1, [], (_type, raw) =>
        typeof raw === 'string' ? raw : undefined,
      );
      if (line.kind === 'malformed') unreadableLines += 1;
      if (line.kind !== 'record') continue;
      for (const rule of rules) {
        if (!Object.hasOwn(line.record, rule.jsonLines.field)) continue;
        const identity = read(rule.identity, line.record[rule.jsonLines.field]);
        if (identity === undefined) continue;
        const normalised = { type: identity.type, value: identity.value };
        found.set(identityKey(normalised), normalised);
      }
    }
    return { etag: object.ETag ?? '', identities: [...found.values()], unreadableLines };
  });
}
