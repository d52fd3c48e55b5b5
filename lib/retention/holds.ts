import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { appendAuditEvent } from '../audit/log';
import { subjectHash } from '../audit/subject-hash';
import { type Identity, normaliseIdentity, parseIdentityArgument } from '../datamap/identity';
import { getStore } from '../datamap/load';
import type { DynamoStore, S3Store, Store } from '../datamap/schema';
import type { RightsDeps } from '../rights/deps';
import { hashIdentities } from '../rights/submit';
import { resolveIdentities } from '../stores';
import { keyId } from '../stores/dynamodb';
import type { Exemption, ItemKey, LocatedRecord, StoreLocation } from '../stores/types';
import { HoldAlreadyReleasedError, HoldNotFoundError, InvalidHoldError } from './errors';
import { locatePrefixes, sweepPrefixes } from './rules';

/**
 * Legal holds: records that must be kept whatever retention or an erasure request says, for
 * litigation, an investigation or a regulator. A hold lives in lethe's holds table (key
 * `holdId`) and is scoped either
 *
 * - to a SUBJECT, given as one identity (`email=ann@example.com`). The table keeps no
 *   identifier: only keyed hashes (lib/audit/subject-hash.ts) of that identity and of every
 *   identity reachable from it through the data map's links when the hold is placed, so that a
 *   hold placed by e-mail also covers the cookie ids the e-mail leads to. Identities linked
 *   after the hold was placed are not covered: place the hold again to refresh it.
 * - or to one RECORD of one store: a DynamoDB item by its key (JSON), an S3 object by its key
 *   (for a JSON-lines store, the whole object).
 *
 * A hold is never deleted: releasing it marks it released, by whom and when, so the table is a
 * record of every hold ever placed. Placing and releasing append `hold.placed` / `hold.released`
 * to the audit log with no raw identifier: subject holds by their subject hashes, record holds
 * by a keyed hash of store and key (record keys are often identifiers themselves).
 *
 * How holds are honoured:
 * - erasure requests: Locate marks every record of a held subject, and every held record, as
 *   exempted with the hold's reason (source `hold`, with the hold id); Erase keeps it and the
 *   certificate reports it; Confirm applies the same holds, so a held record is not "residual".
 * - retention sweeps never purge a held record (lib/retention/sweep.ts), and say how many they kept.
 */

export type HoldStatus = 'active' | 'released';

/** One legal hold, as stored in the holds table. */
export interface LegalHold {
  holdId: string;
  scope: 'subject' | 'record';
  /** Subject holds: keyed hashes of the identity given and of every identity linked from it when placed. */
  subjectHashes?: string[];
  /** Subject holds: the type of the identity given (never its value). */
  identityType?: string;
  /** Subject holds: how many identities the hold covers. */
  identityCount?: number;
  /** Record holds: the store. */
  storeId?: string;
  /**
   * Record holds: the record's key, canonical: a DynamoDB key as JSON with the key attributes in
   * key-schema order, an S3 object key as is. It can be an identifier: shown to staff by
   * `hold list`, never written to the audit log (which gets `recordHash`).
   */
  recordKey?: string;
  /** Record holds: a keyed hash of store and key, what the audit log names the record by. */
  recordHash?: string;
  reason: string;
  placedBy: string;
  placedAt: string;
  status: HoldStatus;
  releasedBy?: string;
  releasedAt?: string;
}

/** What placing, releasing, listing and applying holds needs of the workflow's dependencies. */
export type HoldDeps = Pick<RightsDeps, 'dataMap' | 'clients' | 'doc' | 'resources' | 'keys' | 'now' | 'log'>;

export interface PlaceSubjectHoldInput {
  /** `TYPE=VALUE` as given on the command line, or an identity. */
  subject: string | Identity;
  reason: string;
  placedBy: string;
}

export interface PlaceRecordHoldInput {
  storeId: string;
  /** DynamoDB: the item key as JSON text or an object; S3: the object key. */
  key: string | ItemKey | Record<string, unknown>;
  reason: string;
  placedBy: string;
}

export type PlaceHoldInput = PlaceSubjectHoldInput | PlaceRecordHoldInput;

const MIN_REASON_LENGTH = 3;

function checkReason(reason: string, identifiers: readonly string[]): string {
  const text = (reason ?? '').trim();
  if (text.length < MIN_REASON_LENGTH) {
    throw new InvalidHoldError(
      'give the reason for the hold, e.g. --reason "Litigation hold, case 2026-0042"',
    );
  }
  // The reason goes to the audit log and into erasure certificates: it must not name the subject.
  const lower = text.toLowerCase();
  if (identifiers.some((value) => value.length >= 3 && lower.includes(value.toLowerCase()))) {
    throw new InvalidHoldError(
      'the reason repeats the identifier or key being held; it is written to the audit log, so refer to the case instead, e.g. "Litigation hold, case 2026-0042"',
    );
  }
  return text;
}

function checkActor(name: string, what: string): string {
  const text = (name ?? '').trim();
  if (text.length === 0) throw new InvalidHoldError(`say who ${what} the hold, e.g. --by "legal-team"`);
  return text;
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

function canonicalDynamoKey(
  store: DynamoStore,
  key: PlaceRecordHoldInput['key'],
): { recordKey: string; values: string[] } {
  const names = [store.keySchema.partitionKey, store.keySchema.sortKey].filter(
    (attribute) => attribute !== undefined,
  );
  const example = `{${names.map((attribute) => `"${attribute.name}":${attribute.type === 'N' ? '123' : '"…"'}`).join(',')}}`;
  let parsed: unknown = key;
  if (typeof key === 'string') {
    try {
      parsed = JSON.parse(key);
    } catch {
      throw new InvalidHoldError(`the key of a record in store ${store.id} is JSON such as ${example}`);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidHoldError(
      `the key of a record in store ${store.id} is a JSON object such as ${example}`,
    );
  }
  const given = parsed as Record<string, unknown>;
  const extra = Object.keys(given).filter((name) => !names.some((attribute) => attribute.name === name));
  if (extra.length > 0) {
    throw new InvalidHoldError(
      `store ${store.id} is keyed by ${names.map((attribute) => attribute.name).join(' and ')} only; remove ${extra.join(', ')} from the key`,
    );
  }
  const canonical: Record<string, string | number> = {};
  for (const attribute of names) {
    const value = Object.hasOwn(given, attribute.name) ? given[attribute.name] : undefined;
    if (attribute.type === 'N') {
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      if (!NUMBER.test(text) || !Number.isFinite(Number(text))) {
        throw new InvalidHoldError(
          `key attribute "${attribute.name}" of store ${store.id} is a number, e.g. ${example}`,
        );
      }
      canonical[attribute.name] = Number(text);
    } else {
      if (typeof value !== 'string' || value.length === 0) {
        throw new InvalidHoldError(
          `key attribute "${attribute.name}" of store ${store.id} is a ${attribute.type === 'B' ? 'base64 ' : ''}string, e.g. ${example}`,
        );
      }
      canonical[attribute.name] = value;
    }
  }
  return { recordKey: JSON.stringify(canonical), values: Object.values(canonical).map(String) };
}

function canonicalObjectKey(
  store: S3Store,
  key: PlaceRecordHoldInput['key'],
): { recordKey: string; values: string[] } {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidHoldError(
      `the key of a record in store ${store.id} is the object key, e.g. "${locatePrefixes(store)[0] ?? ''}…"`,
    );
  }
  const prefixes = [...new Set([...locatePrefixes(store), ...sweepPrefixes(store)])];
  if (!prefixes.some((prefix) => key.startsWith(prefix))) {
    throw new InvalidHoldError(
      `the object key is under none of store ${store.id}'s prefixes (${prefixes.map((prefix) => `"${prefix}"`).join(', ')})`,
    );
  }
  return { recordKey: key, values: key.split('/').filter((part) => part.length > 0) };
}

/** The canonical record key of a hold on one record of `store` (see LegalHold.recordKey). */
export function canonicalRecordKey(store: Store, key: PlaceRecordHoldInput['key']): string {
  return (store.kind === 'dynamodb' ? canonicalDynamoKey(store, key) : canonicalObjectKey(store, key))
    .recordKey;
}

/** The keyed hash a record hold is named by in the audit log. */
export function recordHash(key: Buffer, storeId: string, recordKey: string): string {
  return subjectHash(key, { type: `record:${storeId}`, value: recordKey });
}

/** The audit event's view of a hold: never the record key, subject hashes in the event's own field. */
function auditDetails(hold: LegalHold): Record<string, unknown> {
  const { subjectHashes: _hashes, recordKey: _key, ...details } = hold;
  return details;
}

/**
 * Places a legal hold on a subject (every record of theirs, in every store) or on one record.
 * Subject holds follow the data map's links from the given identity, as a request would, and
 * keep only keyed hashes. The hold is active at once; `hold.placed` is appended to the audit log.
 * @throws InvalidIdentityError for a malformed or unknown identity (the value is never echoed)
 * @throws InvalidHoldError for a missing reason or actor, or a key that does not fit the store
 * @throws UnknownStoreError for a store the data map does not declare
 */
export async function placeHold(deps: HoldDeps, input: PlaceHoldInput): Promise<LegalHold> {
  const placedBy = checkActor(input.placedBy, 'places');
  const base = {
    holdId: `hold-${randomUUID()}`,
    placedBy,
    placedAt: deps.now().toISOString(),
    status: 'active' as const,
  };
  let hold: LegalHold;
  if ('subject' in input) {
    const given = input.subject;
    const identity =
      typeof given === 'string'
        ? parseIdentityArgument(deps.dataMap, given)
        : normaliseIdentity(deps.dataMap, given.type, given.value);
    const raw = typeof given === 'string' ? given.slice(given.indexOf('=') + 1).trim() : given.value;
    const reason = checkReason(input.reason, [raw, identity.value]);
    const identities = await resolveIdentities(deps.dataMap, [identity], deps.clients);
    hold = {
      ...base,
      scope: 'subject',
      subjectHashes: hashIdentities(deps.keys.subjectHash, identities),
      identityType: identity.type,
      identityCount: identities.length,
      reason,
    };
  } else {
    const store = getStore(deps.dataMap, input.storeId);
    const { recordKey, values } =
      store.kind === 'dynamodb' ? canonicalDynamoKey(store, input.key) : canonicalObjectKey(store, input.key);
    const reason = checkReason(input.reason, values);
    hold = {
      ...base,
      scope: 'record',
      storeId: store.id,
      recordKey,
      recordHash: recordHash(deps.keys.subjectHash, store.id, recordKey),
      reason,
    };
  }
  await deps.doc.send(
    new PutCommand({
      TableName: deps.resources.holdsTable,
      Item: hold,
      ConditionExpression: 'attribute_not_exists(holdId)',
    }),
  );
  await appendAuditEvent(
    { doc: deps.doc, auditTable: deps.resources.auditTable, now: deps.now },
    {
      type: 'hold.placed',
      actor: placedBy,
      ...(hold.subjectHashes ? { subjectHashes: hold.subjectHashes } : {}),
      details: auditDetails(hold),
    },
  );
  deps.log.info('legal hold placed', { holdId: hold.holdId, scope: hold.scope, storeId: hold.storeId });
  return hold;
}

/**
 * Releases an active hold: the entry stays in the table, marked released with who and when, and
 * `hold.released` is appended to the audit log. Held records are swept or erased from then on.
 * @throws HoldNotFoundError when there is no such hold
 * @throws HoldAlreadyReleasedError when it was released before (nothing changes)
 */
export async function releaseHold(deps: HoldDeps, holdId: string, releasedBy: string): Promise<LegalHold> {
  const by = checkActor(releasedBy, 'releases');
  let released: LegalHold;
  try {
    const response = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.resources.holdsTable,
        Key: { holdId },
        UpdateExpression: 'SET #status = :released, releasedBy = :by, releasedAt = :at',
        ConditionExpression: 'attribute_exists(holdId) AND #status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':released': 'released',
          ':active': 'active',
          ':by': by,
          ':at': deps.now().toISOString(),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    released = response.Attributes as LegalHold;
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const existing = await deps.doc.send(
      new GetCommand({ TableName: deps.resources.holdsTable, Key: { holdId }, ConsistentRead: true }),
    );
    if (!existing.Item) throw new HoldNotFoundError(holdId);
    throw new HoldAlreadyReleasedError(holdId, (existing.Item as LegalHold).releasedAt);
  }
  await appendAuditEvent(
    { doc: deps.doc, auditTable: deps.resources.auditTable, now: deps.now },
    {
      type: 'hold.released',
      actor: by,
      ...(released.subjectHashes ? { subjectHashes: released.subjectHashes } : {}),
      details: auditDetails(released),
    },
  );
  deps.log.info('legal hold released', { holdId, scope: released.scope, storeId: released.storeId });
  return released;
}

/** Every hold (or those with `status`), oldest first. The table is small: it is read whole. */
export async function listHolds(
  deps: Pick<HoldDeps, 'doc' | 'resources'>,
  filter: { status?: HoldStatus } = {},
): Promise<LegalHold[]> {
  const holds: LegalHold[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new ScanCommand({
        TableName: deps.resources.holdsTable,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    holds.push(...((page.Items ?? []) as LegalHold[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return holds
    .filter((hold) => filter.status === undefined || hold.status === filter.status)
    .sort((a, b) =>
      a.placedAt === b.placedAt ? (a.holdId < b.holdId ? -1 : 1) : a.placedAt < b.placedAt ? -1 : 1,
    );
}

// ---------------------------------------------------------------------------------------------
// Applying holds

/** The active holds, indexed for matching records. */
export interface ActiveHolds {
  /** Subject hash → the earliest active hold covering it. */
  subjects: Map<string, LegalHold>;
  /** Store id → the record's match id (see recordMatchId) → the earliest active hold on it. */
  records: Map<string, Map<string, LegalHold>>;
  count: number;
}

export const NO_HOLDS: ActiveHolds = { subjects: new Map(), records: new Map(), count: 0 };

/** How a record is matched against record holds: a DynamoDB key by its key id, an S3 object by its key. */
export function recordMatchId(store: Store, key: ItemKey | string): string {
  return store.kind === 'dynamodb' && typeof key !== 'string' ? keyId(store, key) : String(key);
}

/** Reads the active holds and indexes them. Holds on stores the data map no longer has are ignored. */
export async function loadActiveHolds(
  deps: Pick<HoldDeps, 'doc' | 'resources' | 'dataMap'>,
): Promise<ActiveHolds> {
  const holds = await listHolds(deps, { status: 'active' });
  const active: ActiveHolds = { subjects: new Map(), records: new Map(), count: holds.length };
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
 * Applies the active legal holds to what locating a subject in one store found (see markHeld).
 * The identities are hashed only when a subject hold exists.
 */
export async function applyHolds(
  deps: HoldDeps,
  store: Store,
  location: StoreLocation,
  identities: readonly Identity[],
): Promise<StoreLocation> {
  const active = await loadActiveHolds(deps);
  if (active.count === 0) return location;
  const hashes = active.subjects.size > 0 ? hashIdentities(deps.keys.subjectHash, [...identities]) : [];
  const { records, exempted } = markHeld(store, location.records, active, hashes);
  return { ...location, records, exempted };
}
