import {
  type Identity,
  identityKey,
  mergeIdentities,
  normaliseSpelledIdentity,
  spellingsOf,
} from '../datamap/identity';
import type { DataMap, S3Store, Store } from '../datamap/schema';
import type {
  RetainedStore,
  StoreAdapter,
  StoreSweep,
  SweepOptions,
  ValueScanOptions,
  ValueScanPage,
} from './adapter';
import { dynamoAdapter } from './dynamodb';
import { TooManyIdentitiesError } from './errors';
import { s3Adapter } from './s3';
import { streamS3Object } from './s3/read';
import type {
  EraseOptions,
  ExportedRecord,
  LinkEdge,
  LocatedRecord,
  LocateOptions,
  StoreClients,
  StoreErasure,
  StoreLocation,
} from './types';

/**
 * The store adapters' façade: the rest of lethe locates, reads, erases and sweeps through these
 * functions and never needs to know which kind of store it is talking to.
 */

export type * from './adapter';
export { keyId } from './dynamodb';
export * from './errors';
export {
  listSharedObjects,
  type SharedObjectIdentities,
  sharedObjectIdentities,
  sharedObjectPrefixes,
} from './s3';
export { subjectValues } from './s3/prefixes';
export { valueSources } from './sources';
export type * from './types';

const ADAPTERS: { [Kind in Store['kind']]: StoreAdapter<Extract<Store, { kind: Kind }>> } = {
  dynamodb: dynamoAdapter,
  s3: s3Adapter,
};

/** The adapter of the store's kind. */
function adapterFor<S extends Store>(store: S): StoreAdapter<S> {
  // ADAPTERS is keyed by kind, so the adapter found is the one for this store's type.
  return ADAPTERS[store.kind] as unknown as StoreAdapter<S>;
}

/** Linked identities a request may reach before lethe assumes a bad link in the data map. */
export const DEFAULT_MAX_IDENTITIES = 1_000;

/**
 * Locates a subject's records in one store, by whichever of `identities` the store has
 * locate rules for (others are ignored), by each one's normalised value and its spellings.
 */
export function locateInStore(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: Store,
  identities: Identity[],
  clients: StoreClients,
  options?: LocateOptions,
): Promise<StoreLocation> {
  return adapterFor(store).locate(store, identities, { clients, dataMap }, options);
}

/** Reads located records of one store for an export, one at a time (bounded memory). */
export function readRecords(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: Store,
  records: LocatedRecord[],
  clients: StoreClients,
): AsyncIterable<ExportedRecord> {
  return adapterFor(store).read(store, records, { clients, dataMap });
}

/**
 * Streams the bytes of one located object of an S3 store as they arrive (an export's file): unlike
 * readRecords, which yields an object whole, memory does not follow the object's size.
 * @throws ReadIncompleteError when it cannot be read after retries
 */
export function streamObject(store: S3Store, key: string, clients: StoreClients): AsyncIterable<Uint8Array> {
  return streamS3Object(store, key, clients);
}

/**
 * Erases located records of one store as the data map's erase rule says, keeping exempted ones.
 * @throws EraseIncompleteError when records remain after retries (counts only in the message)
 */
export function eraseInStore(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: Store,
  records: LocatedRecord[],
  clients: StoreClients,
  options: EraseOptions,
): Promise<StoreErasure> {
  return adapterFor(store).erase(store, records, { clients, dataMap }, options);
}

/**
 * Opens one page of a retention sweep of a store: the pages of records to judge, and the deletes
 * and masks that apply the judgement (see StoreSweep). Retention decides; this only reads and writes.
 * @throws UnsupportedStoreError for a retention rule the store cannot follow
 */
export function openSweep(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: RetainedStore,
  clients: StoreClients,
  options: SweepOptions,
): StoreSweep {
  return adapterFor(store).sweep(store, { clients, dataMap }, options);
}

/**
 * Reads, page by page, the raw values the records of a store hold in its value sources (locate
 * rules and links; see valueSources), for a data-quality check. Reads only.
 */
export function scanStoreValues(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: Store,
  clients: StoreClients,
  options: ValueScanOptions = {},
): AsyncIterable<ValueScanPage> {
  return adapterFor(store).scanValues(store, { clients, dataMap }, options);
}

/**
 * Marks the located records of one store that the storage will not let anyone delete as exempt,
 * as erasure reported them: S3 objects whose current version Object Lock protects (source
 * `object-lock`, with the retain-until date). Other stores' locations are returned as they are.
 */
export async function exemptLockedRecords(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: Store,
  location: StoreLocation,
  clients: StoreClients,
): Promise<StoreLocation> {
  const adapter = adapterFor(store);
  return adapter.exemptLocked ? adapter.exemptLocked(store, location, { clients, dataMap }) : location;
}

function countsByType(identities: Iterable<Identity>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const identity of identities) counts[identity.type] = (counts[identity.type] ?? 0) + 1;
  return counts;
}

/**
 * Finds every identity of the subject reachable from `seed` through the data map's links,
 * breadth-first: each round locates the identities found in the previous round in the stores
 * that both have a locate rule for their type and declare links, and keeps the revealed
 * identities not seen before, until a round reveals nothing new. A known identity revealed in a
 * spelling not seen before (a row holding the email as someone typed it) is located again by
 * that spelling only: other stores may hold it the same way. Seed values and their spellings are
 * normalised (normalisation is idempotent), so the result holds each identity once, with every
 * spelling found.
 * @param options.maxIdentities stop at this many identities (default 1,000): a person has a
 *   handful; hundreds mean a link on a shared attribute is pulling in other people, and erasing
 *   what they reach would erase other people's data
 * @throws TooManyIdentitiesError when the limit is passed (counts by type, no values)
 * @throws InvalidIdentityError for a seed identity that is not valid for its type, or a seed
 *   spelling that normalises to another value
 */
export async function resolveIdentities(
  dataMap: Pick<DataMap, 'identityTypes' | 'stores'>,
  seed: Identity[],
  clients: StoreClients,
  options: { maxIdentities?: number } = {},
): Promise<Identity[]> {
  return (await resolveIdentityGraph(dataMap, seed, clients, options)).identities;
}

/** The identities links reach from a seed, and the edges that reached them. */
export interface IdentityGraph {
  identities: Identity[];
  /**
   * Every link edge between the identities (each once, by identityKey): which identity found a
   * record that revealed which. Every identity is located in every linking store, so all are here.
   */
  edges: (LinkEdge & { storeId: string })[];
}

/**
 * {@link resolveIdentities}, with the link graph it walked: what a request's trust in each
 * identity is computed from.
 * @throws TooManyIdentitiesError, InvalidIdentityError as resolveIdentities
 */
export async function resolveIdentityGraph(
  dataMap: Pick<DataMap, 'identityTypes' | 'stores'>,
  seed: Identity[],
  clients: StoreClients,
  options: { maxIdentities?: number } = {},
): Promise<IdentityGraph> {
  const limit = options.maxIdentities ?? DEFAULT_MAX_IDENTITIES;
  const seen = new Map<string, Identity>();
  /** What the next round locates: new identities, and known ones by their new spellings only. */
  let frontier = { identities: [] as Identity[], spellings: [] as Identity[] };
  const admit = (identity: Identity) => {
    const id = identityKey(identity);
    const known = seen.get(id);
    if (!known) {
      seen.set(id, identity);
      frontier.identities.push(identity);
      if (seen.size > limit) throw new TooManyIdentitiesError(limit, countsByType(seen.values()));
      return;
    }
    const before = spellingsOf(known);
    const fresh = spellingsOf(identity).filter((spelling) => !before.includes(spelling));
    if (fresh.length === 0) return;
    seen.set(id, mergeIdentities([known, identity])[0] ?? known);
    // Spellings are finite (values stored somewhere) and each is located once: the rounds end.
    frontier.spellings.push({ type: identity.type, value: identity.value, spellings: fresh });
  };

  for (const identity of mergeIdentities(seed.map((given) => normaliseSpelledIdentity(dataMap, given)))) {
    admit(identity);
  }
  const linkingStores = dataMap.stores.filter((store) => store.links.length > 0);
  const edges: IdentityGraph['edges'] = [];
  const edgeIds = new Set<string>();
  while (frontier.identities.length + frontier.spellings.length > 0) {
    const round = frontier;
    const forStore = (store: Store, identities: Identity[]) =>
      identities.filter((identity) => store.locate.some((rule) => rule.identity === identity.type));
    const locations = await Promise.all(
      linkingStores.flatMap((store) => {
        const identities = forStore(store, round.identities);
        const spellings = forStore(store, round.spellings);
        return [
          identities.length === 0 ? undefined : locateInStore(dataMap, store, identities, clients),
          spellings.length === 0
            ? undefined
            : locateInStore(dataMap, store, spellings, clients, { spellingsOnly: true }),
        ];
      }),
    );
    frontier = { identities: [], spellings: [] };
    // Stores in data-map order, so the result does not depend on which query finished first.
    for (const location of locations) {
      if (!location) continue;
      for (const identity of location.revealed) admit(identity);
      for (const edge of location.edges ?? []) {
        const id = `${location.storeId}\u0001${edge.from}\u0001${edge.to}\u0001${edge.link.attribute}`;
        if (edgeIds.has(id)) continue;
        edgeIds.add(id);
        edges.push({ ...edge, storeId: location.storeId });
      }
    }
  }
  return { identities: [...seen.values()], edges };
}

/**
 * Resolves the subject's identities from `seed` (see {@link resolveIdentities}), then locates
 * the subject in every store of the data map with the full set of identities.
 * @throws TooManyIdentitiesError when links reach more than the default identity limit
 */
export async function locateSubject(
  dataMap: Pick<DataMap, 'identityTypes' | 'stores'>,
  seed: Identity[],
  clients: StoreClients,
): Promise<{ identities: Identity[]; stores: StoreLocation[] }> {
  const identities = await resolveIdentities(dataMap, seed, clients);
  const stores = await Promise.all(
    dataMap.stores.map((store) => locateInStore(dataMap, store, identities, clients)),
  );
  return { identities, stores };
}

export {
  applyToStoreRecords,
  checkStoreRecords,
  type FieldCount,
  type RecordAction,
  type StoreRecordsCheck,
  type StoreRecordsResult,
} from './rights';
export { readObjectTag } from './s3/tags';
