import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoStore } from '../../datamap/schema';
import { isRetryableError, type RetryPolicy, waitBeforeRetry } from '../retry';
import type { LocatedItem } from '../types';
import { attributeToJson, holdsValue, type Item, keyToAttributes } from './keys';

/**
 * Guarded updates of a subject's items (rectification, restriction marks, consent): a consistent
 * read, then an UpdateItem conditional on the attribute the item was located by still holding the
 * subject's value, so an item that changed hands in between is never written.
 */

/** What an update wants an item to hold: attributes set (plain JSON values) and attributes removed. */
export interface ItemChange {
  set: Record<string, unknown>;
  remove: string[];
}

/** What became of one item: `unchanged` when it held the wanted values already. */
export type ItemUpdateOutcome = 'updated' | 'unchanged' | 'skipped' | 'failed';

function sameValue(current: AttributeValue | undefined, wanted: unknown): boolean {
  if (current === undefined) return false;
  return JSON.stringify(attributeToJson(current)) === JSON.stringify(wanted);
}

/** An UpdateExpression of SET and REMOVE clauses (each list may be empty, not both). */
export function updateExpression(sets: readonly string[], removes: readonly string[]): string {
  return [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** The part of `change` the item does not hold yet. */
export function pendingChange(item: Item, change: ItemChange): ItemChange {
  return {
    set: Object.fromEntries(
      Object.entries(change.set).filter(([name, value]) => !sameValue(item[name], value)),
    ),
    remove: change.remove.filter((name) => item[name] !== undefined),
  };
}

function isEmpty(change: ItemChange): boolean {
  return Object.keys(change.set).length === 0 && change.remove.length === 0;
}

/** Reads a located item consistently; undefined when it is gone or no longer holds the subject's value. */
export async function readOwnItem(
  store: DynamoStore,
  client: DynamoDBClient,
  located: LocatedItem,
): Promise<Item | undefined> {
  const { Item: item } = await client.send(
    new GetItemCommand({
      TableName: store.table,
      Key: keyToAttributes(store, located.key),
      ConsistentRead: true,
    }),
  );
  if (!item || !holdsValue(item[located.matched.attribute], located.matched.value)) return undefined;
  return item;
}

/**
 * Applies what `plan` wants of one located item, as long as it still belongs to the subject.
 * `plan` sees the item as read and returns the change (undefined: leave it alone, `unchanged`).
 * A failed condition re-reads and decides again.
 * @returns the outcome and, for `updated`, the attributes written
 */
export async function updateOwnItem(
  store: DynamoStore,
  client: DynamoDBClient,
  located: LocatedItem,
  plan: (item: Item) => ItemChange | undefined,
  policy: RetryPolicy,
): Promise<{ outcome: ItemUpdateOutcome; changed?: ItemChange }> {
  const Key = keyToAttributes(store, located.key);
  const guard = located.matched.attribute;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const item = await readOwnItem(store, client, located);
      if (!item) return { outcome: 'skipped' };
      const wanted = plan(item);
      const change = wanted ? pendingChange(item, wanted) : undefined;
      if (!change || isEmpty(change)) return { outcome: 'unchanged' };
      const names: Record<string, string> = { '#guard': guard };
      const values: Item = { ':guard': item[guard] as AttributeValue };
      const sets = Object.entries(change.set).map(([name, value], index) => {
        names[`#s${index}`] = name;
        values[`:s${index}`] = marshall({ value }, { removeUndefinedValues: true }).value as AttributeValue;
        return `#s${index} = :s${index}`;
      });
      const removes = change.remove.map((name, index) => {
        names[`#r${index}`] = name;
        return `#r${index}`;
      });
      await client.send(
        new UpdateItemCommand({
          TableName: store.table,
          Key,
          UpdateExpression: updateExpression(sets, removes),
          ConditionExpression: '#guard = :guard',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return { outcome: 'updated', changed: change };
    } catch (error) {
      const conditionFailed = error instanceof ConditionalCheckFailedException;
      if (!conditionFailed && !isRetryableError(error)) throw error;
      if (attempt >= policy.maxAttempts) return { outcome: 'failed' };
      if (!conditionFailed) await waitBeforeRetry(policy, attempt);
    }
  }
}
