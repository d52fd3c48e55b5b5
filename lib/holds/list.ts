import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { holdFromItem, isHoldItem } from './active-index';
import type { HoldDeps, HoldStatus, LegalHold } from './hold';

/*
 * Reading the holds table, apart from placing and releasing holds (./table): listing needs neither
 * the data map's schema nor the store adapters, and `lethe hold list` loads only this.
 */

/**
 * Every hold (or those with `status`), oldest first. The table is small: it is read whole.
 * Restriction records kept in the same table (./restrictions) are left out unless `restrictions`
 * asks for them.
 */
export async function listHolds(
  deps: Pick<HoldDeps, 'doc' | 'resources'>,
  filter: { status?: HoldStatus; restrictions?: boolean } = {},
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
    // The active-holds index's marker is no hold; its attribute is bookkeeping, not part of a hold.
    for (const item of (page.Items ?? []) as Record<string, unknown>[])
      if (isHoldItem(item)) holds.push(holdFromItem(item));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return holds
    .filter((hold) => filter.status === undefined || hold.status === filter.status)
    .filter((hold) => filter.restrictions === true || hold.scope !== 'restriction')
    .sort((a, b) =>
      a.placedAt === b.placedAt ? (a.holdId < b.holdId ? -1 : 1) : a.placedAt < b.placedAt ? -1 : 1,
    );
}
