import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { HOLD_ID_PREFIX, type HoldDeps, type LegalHold } from './hold';
import { HOLDS_TABLE } from './table-schema';

/**
 * The holds table and its sparse index of active holds. Every hold ever placed stays in the table
 * (releasing marks it released), so reading the active ones by scanning the table would grow with
 * history. An active hold carries {@link ACTIVE_HOLD_ATTRIBUTE}; releasing removes it, and the
 * index on it (HOLDS_TABLE.activeIndex) holds only the active holds: one Query reads them all.
 *
 * Holds placed before the index existed lack the attribute. The index also holds a marker item
 * (ACTIVE_INDEX_READY), written once every active hold carries the attribute (readyActiveIndex:
 * placing or releasing a hold does it, and the local runtime when it adds the index). Until then a
 * Query that does not return the marker falls back to one Scan, so no active hold is ever missed
 * and the steps that read holds need no write access to the table.
 *
 * The stack (lib/infra/stateful-stack.ts) and the local runtime both build the table from
 * HOLDS_TABLE (table-schema.ts).
 */

/** Present, with this value, on active holds only (and on the ready marker). */
export const ACTIVE_HOLD_ATTRIBUTE = HOLDS_TABLE.activeIndex.partitionKey;
const ACTIVE = 'active';

/** Restriction records' ids start so (see restrictionId in ./restrictions). */
export const RESTRICTION_ID_PREFIX = 'restriction:';

/** The marker item's id: not a hold id (those start with `hold-`), so no hold command accepts it. */
export const ACTIVE_INDEX_READY = 'index-ready#active-holds';

/** A stored item as a hold: without the index attribute, which is bookkeeping, not part of the hold. */
export function holdFromItem(item: Record<string, unknown>): LegalHold {
  const { [ACTIVE_HOLD_ATTRIBUTE]: _active, ...hold } = item;
  return hold as unknown as LegalHold;
}

/** The item a new (active) hold is stored as. */
export function activeHoldItem(hold: LegalHold): Record<string, unknown> {
  return { ...hold, [ACTIVE_HOLD_ATTRIBUTE]: ACTIVE };
}

/** The update clause a release adds: the hold leaves the index. */
export const LEAVE_ACTIVE_INDEX = `REMOVE ${ACTIVE_HOLD_ATTRIBUTE}`;

/** Whether a stored item is a hold or a restriction record (./restrictions), not the index's marker. */
export const isHoldItem = (item: Record<string, unknown>): boolean =>
  typeof item.holdId === 'string' &&
  (item.holdId.startsWith(HOLD_ID_PREFIX) || item.holdId.startsWith(RESTRICTION_ID_PREFIX));

/**
 * The active holds, in one Query of the active-holds index (more only past 1 MB of active holds).
 * The index is eventually consistent on AWS: a hold placed a moment before may be missed by this
 * read, as it would be by a step that ran a moment earlier; the next step's read sees it.
 */
export async function queryActiveHolds(deps: Pick<HoldDeps, 'doc' | 'resources'>): Promise<LegalHold[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: deps.resources.holdsTable,
        IndexName: HOLDS_TABLE.activeIndex.name,
        KeyConditionExpression: '#active = :active',
        ExpressionAttributeNames: { '#active': ACTIVE_HOLD_ATTRIBUTE },
        ExpressionAttributeValues: { ':active': ACTIVE },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  if (!items.some((item) => item.holdId === ACTIVE_INDEX_READY)) return scanActiveHolds(deps);
  return items.filter((item) => isHoldItem(item) && item.status === 'active').map(holdFromItem);
}

/** Every active hold's item, read by a consistent Scan of the whole table. */
async function scanActiveItems(
  deps: Pick<HoldDeps, 'doc' | 'resources'>,
): Promise<Record<string, unknown>[]> {
  const active: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new ScanCommand({
        TableName: deps.resources.holdsTable,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of (page.Items ?? []) as Record<string, unknown>[])
      if (isHoldItem(item) && item.status === 'active') active.push(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return active;
}

async function scanActiveHolds(deps: Pick<HoldDeps, 'doc' | 'resources'>): Promise<LegalHold[]> {
  return (await scanActiveItems(deps)).map(holdFromItem);
}

/**
 * Makes the active-holds index complete, once per table: gives every active hold placed before
 * the index existed the index attribute, then writes the ready marker, from which on the steps
 * read holds by Query alone. A no-op (one GetItem) once the marker is there. Concurrent runs are
 * harmless: each update is conditional on the hold still being active.
 */
export async function readyActiveIndex(deps: Pick<HoldDeps, 'doc' | 'resources'>): Promise<void> {
  const marker = await deps.doc.send(
    new GetCommand({
      TableName: deps.resources.holdsTable,
      Key: { holdId: ACTIVE_INDEX_READY },
      ConsistentRead: true,
    }),
  );
  if (marker.Item) return;
  for (const item of await scanActiveItems(deps)) {
    if (item[ACTIVE_HOLD_ATTRIBUTE] === ACTIVE) continue;
    try {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.resources.holdsTable,
          Key: { holdId: item.holdId },
          UpdateExpression: 'SET #active = :active',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#active': ACTIVE_HOLD_ATTRIBUTE, '#status': 'status' },
          ExpressionAttributeValues: { ':active': ACTIVE },
        }),
      );
    } catch (error) {
      // Released meanwhile: it has no business in the index.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  await deps.doc.send(
    new PutCommand({
      TableName: deps.resources.holdsTable,
      Item: { holdId: ACTIVE_INDEX_READY, [ACTIVE_HOLD_ATTRIBUTE]: ACTIVE },
    }),
  );
}
