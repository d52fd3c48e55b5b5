import { hashIdentities } from '../audit/subject-hash';
import type { Identity } from '../datamap/identity';
import type { Store } from '../datamap/schema';
import { keyId } from '../stores';
import type { Exemption, ItemKey, LocatedRecord, StoreLocation } from '../stores/types';
import { queryActiveHolds } from './active-index';
import type { HoldDeps, LegalHold } from './hold';

// Applying holds

/** The active holds, indexed for matching records. */
export interface ActiveHolds {
  /** Subject hash → the earliest active hold covering it. */
  subjects: Map<string, LegalHold>;
  /** Store id → the record's match id (see recordMatchId) → the earliest active hold on it. */
  records: Map<string, Map<string, LegalHold>>;
  /** Store id → subject hashes whose lines in that JSON-lines store are restricted (restrictions.ts). */
  restrictedLines: Map<string, Set<string>>;
  /** Legal holds (restriction records not counted). */
  count: number;
}

export const NO_HOLDS: ActiveHolds = {
  subjects: new Map(),
  records: new Map(),
  restrictedLines: new Map(),
  count: 0,
};

/** How a record is matched against record holds: a DynamoDB key by its key id, an S3 object by its key. */
export function recordMatchId(store: Store, key: ItemKey | string): string {
  return store.kind === 'dynamodb' && typeof key !== 'string' ? keyId(store, key) : String(key);
}

/**
 * Reads the active holds and restriction records (one Query of the holds table's active-holds
 * index, whatever the number of released holds) and indexes them. Holds on stores the data map no
 * longer has are ignored. A step that applies holds to several stores reads them once and passes
 * them on.
 */
export async function loadActiveHolds(
  deps: Pick<HoldDeps, 'doc' | 'resources' | 'dataMap'>,
): Promise<ActiveHolds> {
  const all = (await queryActiveHolds(deps)).sort((a, b) =>
    a.placedAt === b.placedAt ? (a.holdId < b.holdId ? -1 : 1) : a.placedAt < b.placedAt ? -1 : 1,
  );
  const holds = all.filter((hold) => hold.scope !== 'restriction');
  const active: ActiveHolds = {
    subjects: new Map(),
    records: new Map(),
    restrictedLines: new Map(),
    count: holds.length,
  };
  for (const restriction of all) {
    if (restriction.scope !== 'restriction' || restriction.storeId === undefined) continue;
    const hashes = active.restrictedLines.get(restriction.storeId) ?? new Set<string>();
    for (const hash of restriction.subjectHashes ?? []) hashes.add(hash);
    active.restrictedLines.set(restriction.storeId, hashes);
  }
  for (const hold of holds) {
    if (hold.scope === 'subject') {
      for (const hash of hold.subjectHashes ?? [])
        if (!active.subjects.has(hash)) active.subjects.set(hash, hold);
      continue;
    }
    const store = deps.dataMap.stores.find((candidate) => candidate.id === hold.storeId);
    if (!store || hold.recordKey === undefined) continue;
    let matchId: string;
    try {
      matchId =
        store.kind === 'dynamodb' ? keyId(store, JSON.parse(hold.recordKey) as ItemKey) : hold.recordKey;
    } catch {
      continue;
    }
    const byKey = active.records.get(store.id) ?? new Map<string, LegalHold>();
    if (!byKey.has(matchId)) byKey.set(matchId, hold);
    active.records.set(store.id, byKey);
  }
  return active;
}

/** The active hold on this record of `store`, if any. */
export function holdOnRecord(
  active: ActiveHolds,
  store: Store,
  key: ItemKey | string,
): LegalHold | undefined {
  return active.records.get(store.id)?.get(recordMatchId(store, key));
}

/** The active subject hold covering any of these subject hashes, if any. */
export function holdOnSubject(active: ActiveHolds, hashes: Iterable<string>): LegalHold | undefined {
  if (active.subjects.size === 0) return undefined;
  for (const hash of hashes) {
    const hold = active.subjects.get(hash);
    if (hold) return hold;
  }
  return undefined;
}

/** The exemption a held record is reported with. */
export function holdExemption(hold: LegalHold): Exemption {
  return { source: 'hold', reason: hold.reason, holdId: hold.holdId };
}

function recordCount(record: LocatedRecord): number {
  return record.kind === 'lines' ? record.lineCount : 1;
}

/**
 * Marks located records that active holds keep: all of them when a subject hold covers one of
 * `subjectHashes` (the request's identities), else each record a record hold names. A hold takes
 * the place of a data-map exemption on the same record. Returns the records and the new
 * exempted count (lines for JSON-lines records, as locate counts them).
 */
export function markHeld(
  store: Store,
  records: readonly LocatedRecord[],
  active: ActiveHolds,
  subjectHashes: readonly string[],
): { records: LocatedRecord[]; exempted: number } {
  const subjectHold = holdOnSubject(active, subjectHashes);
  const marked = records.map((record) => {
    const hold = subjectHold ?? holdOnRecord(active, store, record.key);
    return hold ? { ...record, exemption: holdExemption(hold) } : record;
  });
  const exempted = marked.reduce((sum, record) => sum + (record.exemption ? recordCount(record) : 0), 0);
  return { records: marked, exempted };
}

/**
 * Applies the active legal holds to what locating a subject in one store found (see markHeld):
 * `active` as loadActiveHolds read them for this step. The identities are hashed only when a
 * subject hold exists.
 */
export function applyHolds(
  deps: Pick<HoldDeps, 'keys'>,
  active: ActiveHolds,
  store: Store,
  location: StoreLocation,
  identities: readonly Identity[],
): StoreLocation {
  if (active.count === 0) return location;
  const hashes = active.subjects.size > 0 ? hashIdentities(deps.keys.subjectHash, [...identities]) : [];
  const { records, exempted } = markHeld(store, location.records, active, hashes);
  return { ...location, records, exempted };
}
