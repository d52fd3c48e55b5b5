import { BatchGetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { activeHoldItem, RESTRICTION_ID_PREFIX } from './active-index';
import type { HoldDeps, LegalHold } from './hold';
import { markReleased } from './table';

/**
 * Restriction of processing (GDPR Art. 18) of a subject's lines in shared JSON-lines objects. A
 * tag would mark the whole object, everyone's lines in it; a mark in the line would rewrite the
 * object (restarting everyone else's retention clock). Instead lethe keeps its own record, one per
 * store and keyed subject hash, in the holds table (scope `restriction`) and, while active, in its
 * active-holds index, which sweeps and steps already read: a sweep keeps the lines of a restricted subject and purges everyone else's, an export
 * shows them restricted, and a restriction-lift releases the records. No identifier is stored.
 */

/** The id of the restriction record of one subject hash in one store. */
export function restrictionId(storeId: string, subjectHash: string): string {
  return `${RESTRICTION_ID_PREFIX}${storeId}:${subjectHash}`;
}

type RestrictionDeps = Pick<HoldDeps, 'doc' | 'resources'>;

/**
 * Records a restriction of the lines of these subject hashes in one store, placed by a request.
 * A record that is active already keeps the request that placed it.
 * @returns how many records were placed (new, or active again after a lift)
 */
export async function placeLineRestrictions(
  deps: RestrictionDeps,
  storeId: string,
  subjectHashes: readonly string[],
  placed: { requestId: string; at: string },
): Promise<number> {
  let count = 0;
  for (const hash of new Set(subjectHashes)) {
    const item: LegalHold & { requestId: string } = {
      holdId: restrictionId(storeId, hash),
      scope: 'restriction',
      storeId,
      subjectHashes: [hash],
      reason: 'Processing restricted at the subject’s request (GDPR Art. 18)',
      placedBy: 'lethe:apply',
      placedAt: placed.at,
      status: 'active',
      requestId: placed.requestId,
    };
    try {
      await deps.doc.send(
        new PutCommand({
          TableName: deps.resources.holdsTable,
          // Active restrictions are in the active-holds index, where sweeps and steps read them.
          Item: activeHoldItem(item),
          ConditionExpression: 'attribute_not_exists(holdId) OR #status <> :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
        }),
      );
      count += 1;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  return count;
}

/**
 * Releases the active restriction records of these subject hashes in one store.
 * @returns how many were active and are released now
 */
export async function liftLineRestrictions(
  deps: RestrictionDeps,
  storeId: string,
  subjectHashes: readonly string[],
  lifted: { requestId: string; at: string },
): Promise<number> {
  let count = 0;
  for (const hash of new Set(subjectHashes)) {
    try {
      await markReleased(deps, restrictionId(storeId, hash), `lethe:apply:${lifted.requestId}`, lifted.at);
      count += 1;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  return count;
}

/** Of these subject hashes, those whose lines in the store are restricted now. */
export async function restrictedLineHashes(
  deps: RestrictionDeps,
  storeId: string,
  subjectHashes: readonly string[],
): Promise<Set<string>> {
  const restricted = new Set<string>();
  const hashes = [...new Set(subjectHashes)];
  const table = deps.resources.holdsTable;
  for (let start = 0; start < hashes.length; start += 100) {
    let keys: Record<string, unknown>[] | undefined = hashes
      .slice(start, start + 100)
      .map((hash) => ({ holdId: restrictionId(storeId, hash) }));
    for (let round = 0; keys && keys.length > 0 && round < 8; round += 1) {
      const result = await deps.doc.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of (result.Responses?.[table] ?? []) as LegalHold[]) {
        if (item.status === 'active') for (const hash of item.subjectHashes ?? []) restricted.add(hash);
      }
      keys = result.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
    }
    if (keys && keys.length > 0) throw new Error(`${keys.length} restriction records could not be read`);
  }
  return restricted;
}
