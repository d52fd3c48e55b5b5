import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { appendAuditEvent, auditDepsOf } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import { type Identity, normaliseIdentity, parseIdentityArgument } from '../datamap/identity';
import type { Store } from '../datamap/schema';
import { getStore } from '../datamap/validate';
import { resolveIdentities } from '../stores';
import { activeHoldItem, holdFromItem, LEAVE_ACTIVE_INDEX, readyActiveIndex } from './active-index';
import { HoldAlreadyReleasedError, HoldNotFoundError } from './errors';
import type { HoldDeps, LegalHold, PlaceHoldInput } from './hold';
import {
  canonicalDynamoKey,
  canonicalObjectKey,
  checkActor,
  checkHoldId,
  checkReason,
  HOLD_ID_PREFIX,
  recordHash,
} from './record-keys';

/** The audit event's view of a hold: never the record key, subject hashes in the event's own field. */
function auditDetails(hold: LegalHold): Record<string, unknown> {
  const { subjectHashes: _hashes, recordKey: _key, ...details } = hold;
  return details;
}

/** A hold's input as checked before anything is read or written: who, and the subject or record held. */
export type CheckedHoldInput = { placedBy: string; reason: string } & (
  | { scope: 'subject'; identity: Identity; given: string }
  | { scope: 'record'; store: Store; recordKey: string }
);

/**
 * Checks a hold's input against the data map alone, before any store is read or anything
 * written: who places it, the identity (type, form) or the store and key, and the reason (length,
 * identifier shapes, the identity or key values given). Placing a subject hold checks the reason
 * again against every identity the subject's links lead to.
 * @throws InvalidIdentityError, InvalidHoldError, InvalidFreeTextError, UnknownStoreError
 */
export function checkHoldInput(dataMap: HoldDeps['dataMap'], input: PlaceHoldInput): CheckedHoldInput {
  const placedBy = checkActor(input.placedBy, 'places');
  if ('subject' in input) {
    const given = input.subject;
    const identity =
      typeof given === 'string'
        ? parseIdentityArgument(dataMap, given)
        : normaliseIdentity(dataMap, given.type, given.value);
    const raw = typeof given === 'string' ? given.slice(given.indexOf('=') + 1).trim() : given.value;
    return {
      scope: 'subject',
      placedBy,
      identity,
      given: raw,
      reason: checkReason(input.reason, [raw, identity]),
    };
  }
  const store = getStore(dataMap, input.storeId);
  const { recordKey, values } =
    store.kind === 'dynamodb' ? canonicalDynamoKey(store, input.key) : canonicalObjectKey(store, input.key);
  return { scope: 'record', placedBy, store, recordKey, reason: checkReason(input.reason, values) };
}

/**
 * Places a legal hold on a subject (every record of theirs, in every store) or on one record.
 * Subject holds follow the data map's links from the given identity, as a request would, and
 * keep only keyed hashes. The hold is active at once; `hold.placed` is appended to the audit log.
 * @throws InvalidIdentityError for a malformed or unknown identity (the value is never echoed)
 * @throws InvalidHoldError for a missing reason or actor, or a key that does not fit the store
 * @throws InvalidFreeTextError for a reason that is too long or holds an identifier of the subject
 * @throws UnknownStoreError for a store the data map does not declare
 */
export async function placeHold(deps: HoldDeps, input: PlaceHoldInput): Promise<LegalHold> {
  const checked = checkHoldInput(deps.dataMap, input);
  const { placedBy } = checked;
  const base = {
    holdId: `${HOLD_ID_PREFIX}${randomUUID()}`,
    placedBy,
    placedAt: deps.now().toISOString(),
    status: 'active' as const,
  };
  let hold: LegalHold;
  if (checked.scope === 'subject') {
    const { identity } = checked;
    const identities = await resolveIdentities(deps.dataMap, [identity], deps.clients);
    // Checked against every identity the hold covers: a linked phone number names the subject too.
    const reason = checkReason(input.reason, [checked.given, ...identities]);
    hold = {
      ...base,
      scope: 'subject',
      subjectHashes: hashIdentities(deps.keys.subjectHash, identities),
      identityType: identity.type,
      identityCount: identities.length,
      reason,
    };
  } else {
    const { store, recordKey } = checked;
    hold = {
      ...base,
      scope: 'record',
      storeId: store.id,
      recordKey,
      recordHash: recordHash(deps.keys.subjectHash, store.id, recordKey),
      reason: checked.reason,
    };
  }
  // Holds placed before the active-holds index existed join it before this one does.
  await readyActiveIndex(deps);
  await deps.doc.send(
    new PutCommand({
      TableName: deps.resources.holdsTable,
      Item: activeHoldItem(hold),
      ConditionExpression: 'attribute_not_exists(holdId)',
    }),
  );
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'hold.placed',
    actor: placedBy,
    ...(hold.subjectHashes ? { subjectHashes: hold.subjectHashes } : {}),
    details: auditDetails(hold),
  });
  deps.log.info('legal hold placed', { holdId: hold.holdId, scope: hold.scope, storeId: hold.storeId });
  return hold;
}

/**
 * Marks an active entry of the holds table released, by whom and when.
 * @throws ConditionalCheckFailedException when there is no such entry or it is not active
 */
export async function markReleased(
  deps: Pick<HoldDeps, 'doc' | 'resources'>,
  holdId: string,
  by: string,
  at: string,
): Promise<LegalHold> {
  const response = await deps.doc.send(
    new UpdateCommand({
      TableName: deps.resources.holdsTable,
      Key: { holdId },
      // Released entries leave the active-holds index.
      UpdateExpression: `SET #status = :released, releasedBy = :by, releasedAt = :at ${LEAVE_ACTIVE_INDEX}`,
      ConditionExpression: 'attribute_exists(holdId) AND #status = :active',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':released': 'released', ':active': 'active', ':by': by, ':at': at },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return holdFromItem(response.Attributes ?? {});
}

/**
 * Releases an active hold: the entry stays in the table, marked released with who and when, and
 * `hold.released` is appended to the audit log. Held records are swept or erased from then on.
 * @throws InvalidHoldError when `holdId` is not a hold id, or `releasedBy` is missing
 * @throws HoldNotFoundError when there is no such hold
 * @throws HoldAlreadyReleasedError when it was released before (nothing changes)
 */
export async function releaseHold(deps: HoldDeps, holdId: string, releasedBy: string): Promise<LegalHold> {
  checkHoldId(holdId);
  const by = checkActor(releasedBy, 'releases');
  await readyActiveIndex(deps);
  let released: LegalHold;
  try {
    released = await markReleased(deps, holdId, by, deps.now().toISOString());
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const existing = await deps.doc.send(
      new GetCommand({ TableName: deps.resources.holdsTable, Key: { holdId }, ConsistentRead: true }),
    );
    if (!existing.Item) throw new HoldNotFoundError(holdId);
    throw new HoldAlreadyReleasedError(holdId, (existing.Item as LegalHold).releasedAt);
  }
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'hold.released',
    actor: by,
    ...(released.subjectHashes ? { subjectHashes: released.subjectHashes } : {}),
    details: auditDetails(released),
  });
  deps.log.info('legal hold released', { holdId, scope: released.scope, storeId: released.storeId });
  return released;
}
