import type { S3Client } from '@aws-sdk/client-s3';
import { type Identity, identityKey, mergeIdentities, spellingsOf } from '../../datamap/identity';
import type { DataMap, S3Store } from '../../datamap/schema';
import { mapConcurrently } from '../concurrency';
import { exemptionFor } from '../exemptions';
import { claimedByOf, LinkEdges } from '../provenance';
import { DEFAULT_RETRY_POLICY, withRetry } from '../retry';
import type { LocatedObject, LocatedRecord, LocateOptions, StoreClients, StoreLocation } from '../types';
import {
  createIdentityReader,
  distinctPrefixes,
  type FieldReader,
  fieldReaderOf,
  firstPrefixOf,
  type IdentityReader,
  identitiesOfLink,
  type LineMatcher,
  lineMatchersFor,
  linkedIdentities,
  matchRecord,
  normaliserOf,
} from './lines';
import { isFolderMarker, listObjectPages, listObjects } from './objects';
import {
  isPrefixRule,
  isSafePrefixValue,
  isSharedObjectRule,
  sharedRuleSpec,
  subjectIdentities,
  substitutePrefix,
} from './prefixes';
import { openSharedRecords } from './shared-records';

/** Objects streamed in parallel: enough to hide request latency, few enough to keep memory and S3 request rates low. */
const SCAN_CONCURRENCY = 8;

/**
 * What locating an S3 store found. `malformedLines` counts lines of the JSON-lines objects scanned
 * that are not JSON objects (blank lines excluded): they cannot be matched, so a rising count means
 * personal data may be hiding where lethe cannot see it. It is a count only, never content.
 */
export interface S3StoreLocation extends StoreLocation {
  malformedLines: number;
}

/**
 * Finds a subject's records in an S3 store.
 *
 * - Prefix rules list every object under the subject's prefix (all pages) and return one
 *   {@link LocatedObject} each. Folder markers (zero-byte keys ending in "/") are passed by, here
 *   and under JSON-lines prefixes: they hold nobody's record.
 * - JSON-lines rules stream every object under the rule's prefix line by line (bounded memory) and
 *   return one {@link LocatedLines} per object and rule that holds lines of the subject; `located`
 *   counts lines. Links of the store are read from the matching lines into `revealed`.
 *
 * With `options.sharedObjects` (an identity index) only the JSON-lines objects it selects are read.
 *
 * Prefix rules list the prefix of each spelling of an identity too (a folder may be named as the
 * value was typed); a spelling that cannot be a prefix segment (it holds "/") is skipped.
 * JSON-lines values are normalised by their identity type on both sides (the subject's values and
 * each line's field), so `ABC…` in a log line matches the subject's `abc…` cookie id when the type
 * is case-insensitive, whatever the spelling.
 *
 * @param identities as resolveIdentities returns them: normalised, with their spellings
 * @param options.spellingsOnly list only the prefixes of the identities' spellings (their values
 *   were located before); JSON-lines objects are not scanned again
 * @throws UnsafePrefixValueError when a prefix rule's normalised identity value contains "/"
 * @throws InvalidIdentityError when a subject's identity does not normalise
 * @throws UnsupportedStoreError for a prefix template the loader would have rejected, or a compressed JSON-lines object
 */
export async function locateInS3Store(
  store: S3Store,
  identities: Identity[],
  clients: StoreClients,
  dataMap: Pick<DataMap, 'identityTypes'>,
  options: LocateOptions = {},
): Promise<S3StoreLocation> {
  const exemption = exemptionFor(store);
  const prefixRules = store.locate.filter(isPrefixRule);
  const lineRules = options.spellingsOnly ? [] : store.locate.filter(isSharedObjectRule);
  const records: LocatedRecord[] = [];
  let located = 0;
  let malformedLines = 0;
  const revealed: Identity[] = [];
  const edges = new LinkEdges();

  /** Objects found so far, by key, with the identities that found them. */
  const seenObjects = new Map<string, { record: LocatedObject; finders: Set<string> }>();
  for (const rule of prefixRules) {
    const listed = new Set<string>();
    for (const identity of subjectIdentities(dataMap, identities, rule.identity)) {
      const finder = identityKey(identity);
      const spellings = options.spellingsOnly ? (identity.spellings ?? []) : spellingsOf(identity);
      // Only the normalised value must make a safe prefix (substitutePrefix refuses it otherwise).
      const values = spellings.filter((value) => value === identity.value || isSafePrefixValue(value));
      for (const prefix of values.map((value) => substitutePrefix(store, rule, value))) {
        if (listed.has(prefix)) continue;
        listed.add(prefix);
        for await (const object of listObjects(clients.s3, store.bucket, prefix)) {
          // S3 only returns keys under the prefix; the check costs nothing and guards a misbehaving endpoint.
          if (!object.key.startsWith(prefix) || isFolderMarker(object)) continue;
          const seen = seenObjects.get(object.key);
          if (seen) {
            seen.finders.add(finder);
            continue;
          }
          const record: LocatedObject = {
            kind: 'object',
            key: object.key,
            size: object.size,
            ...(object.etag === undefined ? {} : { etag: object.etag }),
            ...(exemption ? { exemption } : {}),
          };
          seenObjects.set(object.key, { record, finders: new Set([finder]) });
          records.push(record);
          located += 1;
        }
      }
    }
  }
  for (const { record, finders } of seenObjects.values()) {
    const claimedBy = claimedByOf(finders, options.claimed);
    if (claimedBy) record.claimedBy = claimedBy;
  }

  const matchers = lineMatchersByTrust(lineRules, identities, dataMap, options.claimed);
  if (matchers.length > 0) {
    const read = createIdentityReader(dataMap);
    for (const prefix of distinctPrefixes(matchers)) {
      for await (const page of listObjectPages(clients.s3, store.bucket, prefix)) {
        const listed = page.filter((object) => object.key.startsWith(prefix) && !isFolderMarker(object));
        const selected = options.sharedObjects
          ? await options.sharedObjects.select(listed)
          : listed.map(() => true);
        const keys = listed.filter((_object, index) => selected[index]).map((object) => object.key);
        const scans = await mapConcurrently(keys, SCAN_CONCURRENCY, (key) =>
          // A prefix nested in another one's would list the same object twice: only its first prefix scans it.
          firstPrefixOf(matchers, key) === prefix
            ? scanObject(store, clients.s3, key, matchers, read)
            : Promise.resolve(undefined),
        );
        for (const [index, scan] of scans.entries()) {
          const key = keys[index];
          if (!scan || key === undefined) continue;
          malformedLines += scan.malformed;
          for (const found of scan.revealed) {
            revealed.push(found.identity);
            edges.add(found.finders, found.identity, found.link);
          }
          for (const [matcherIndex, lineCount] of scan.lineCounts.entries()) {
            const matcher = matchers[matcherIndex];
            if (!matcher || lineCount === 0) continue;
            const claimedBy = matcher.claimed
              ? claimedByOf(
                  [...(scan.claimedValues[matcherIndex] ?? [])].map((value) =>
                    identityKey({ type: matcher.identity, value }),
                  ),
                  options.claimed,
                )
              : undefined;
            records.push({
              kind: 'lines',
              key,
              etag: scan.etag,
              lineCount,
              matched: {
                identity: matcher.identity,
                field: matcher.field,
                values: [...matcher.values].sort(),
              },
              ...(exemption ? { exemption } : {}),
              ...(claimedBy ? { claimedBy } : {}),
            });
            located += lineCount;
          }
        }
      }
    }
  }

  return {
    storeId: store.id,
    records,
    located,
    exempted: exemption ? located : 0,
    revealed: newToSubject(mergeIdentities(revealed), identities),
    edges: edges.list(),
    malformedLines,
  };
}

/**
 * The line matchers of the subject's identities: without claimed identities one per rule, as
 * lineMatchersFor makes them; with some, those of the other identities first and then those of the
 * claimed ones (marked `claimed`), so a line either finds counts as found by the others (a line
 * belongs to the first matcher it matches) and the lines only claimed identities find are records
 * of their own.
 */
function lineMatchersByTrust(
  rules: Parameters<typeof lineMatchersFor>[0],
  identities: Identity[],
  dataMap: Pick<DataMap, 'identityTypes'>,
  claimed: ReadonlyMap<string, string> | undefined,
): LineMatcher[] {
  if (!claimed || claimed.size === 0) return lineMatchersFor(rules, identities, dataMap);
  const isClaimed = (identity: Identity) => claimed.has(identityKey(identity));
  return [
    ...lineMatchersFor(
      rules,
      identities.filter((identity) => !isClaimed(identity)),
      dataMap,
    ),
    ...lineMatchersFor(rules, identities.filter(isClaimed), dataMap).map((matcher) => ({
      ...matcher,
      claimed: true,
    })),
  ];
}

/** The revealed identities the subject does not have yet, or not in every spelling revealed. */
function newToSubject(revealed: Identity[], subject: Identity[]): Identity[] {
  const known = new Map(
    mergeIdentities(subject).map((identity) => [identityKey(identity), spellingsOf(identity)]),
  );
  return revealed.filter((identity) => {
    const spellings = known.get(identityKey(identity));
    return spellings === undefined || spellingsOf(identity).some((spelling) => !spellings.includes(spelling));
  });
}

/**
 * Streams a shared object (JSON-lines or Parquet) and yields, record by record, the identities each
 * holds in the fields of the store's shared-object rules (for rules whose prefix covers the key)
 * and links, normalised. Stops reading when the consumer stops iterating. Nothing when the object
 * is gone.
 * @throws UnsupportedStoreError for a compressed JSON-lines object
 */
export async function* lineIdentities(
  store: S3Store,
  s3: S3Client,
  key: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
): AsyncGenerator<Identity> {
  const rules = store.locate
    .filter(isSharedObjectRule)
    .map((rule) => ({ identity: rule.identity, ...sharedRuleSpec(rule) }))
    .filter((rule) => key.startsWith(rule.prefix));
  const read = createIdentityReader(dataMap);
  const fieldOf = fieldReaderOf(store);
  const fields = [...rules.map((rule) => rule.field), ...store.links.map((link) => link.attribute)];
  const object = await withRetry(DEFAULT_RETRY_POLICY, () => openSharedRecords(store, s3, key, { fields }));
  if (!object) return;
  for await (const { record } of object.records) {
    for (const rule of rules) {
      const identity = read(rule.identity, fieldOf(record, rule.field));
      if (identity !== undefined) yield identity;
    }
    yield* linkedIdentities(store, record, read);
  }
}

interface ObjectScan {
  etag: string;
  /** Records of the subject per matcher index. */
  lineCounts: number[];
  /** For claimed matchers: the subject's (normalised) values their records were found by. */
  claimedValues: Set<string>[];
  malformed: number;
  /** Identities the subject's records reveal, with the link and the identities that found the record. */
  revealed: { identity: Identity; link: S3Store['links'][number]; finders: string[] }[];
}

/** identityKey of each of the subject's identities a record holds in a matcher's field. */
function lineFinders(
  record: Record<string, unknown>,
  matchers: readonly LineMatcher[],
  normalise: ReturnType<typeof normaliserOf>,
  fieldOf: FieldReader,
): string[] {
  const finders = new Set<string>();
  for (const matcher of matchers) {
    const raw = fieldOf(record, matcher.field);
    if (raw === undefined) continue;
    const value = normalise(matcher.identity, raw);
    if (value !== undefined && matcher.values.has(value))
      finders.add(identityKey({ type: matcher.identity, value }));
  }
  return [...finders];
}

/** Streams one shared object and counts the subject's records; undefined when the object is gone. */
async function scanObject(
  store: S3Store,
  s3: S3Client,
  key: string,
  matchers: LineMatcher[],
  read: IdentityReader,
): Promise<ObjectScan | undefined> {
  const normalise = normaliserOf(read);
  const fieldOf = fieldReaderOf(store);
  // Only rules whose prefix covers the key apply to it.
  const applicable = matchers.map((matcher) => key.startsWith(matcher.prefix));
  const fields = [...matchers.map((matcher) => matcher.field), ...store.links.map((link) => link.attribute)];
  // The whole scan is retried, so a stream reset half way never leaves partial counts behind.
  return withRetry(DEFAULT_RETRY_POLICY, async () => {
    const object = await openSharedRecords(store, s3, key, { fields });
    if (!object) return undefined;
    const scan: ObjectScan = {
      etag: object.etag,
      lineCounts: matchers.map(() => 0),
      claimedValues: matchers.map(() => new Set<string>()),
      malformed: 0,
      revealed: [],
    };
    const active = matchers.map((matcher, index) =>
      applicable[index] ? matcher : { ...matcher, values: new Set<string>() },
    );
    for await (const { record } of object.records) {
      const matched = matchRecord(record, active, normalise, fieldOf);
      if (matched < 0) continue;
      scan.lineCounts[matched] = (scan.lineCounts[matched] ?? 0) + 1;
      const matcher = active[matched];
      if (matcher?.claimed) {
        const value = normalise(matcher.identity, fieldOf(record, matcher.field));
        if (value !== undefined) scan.claimedValues[matched]?.add(value);
      }
      if (store.links.length === 0) continue;
      const finders = lineFinders(record, active, normalise, fieldOf);
      for (const link of store.links) {
        for (const identity of identitiesOfLink(link, record, read, fieldOf))
          scan.revealed.push({ identity, link, finders });
      }
    }
    scan.malformed = object.unreadable.count;
    return scan;
  });
}
