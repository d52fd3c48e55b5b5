import { createHash, createHmac } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { indexKeyMaskProblem } from '../../datamap/masking';
import type { DynamoStore, MaskField } from '../../datamap/schema';
import { UnsupportedStoreError } from '../errors';
import { isRetryableError, type RetryPolicy, waitBeforeRetry } from '../retry';
import type { Exemption, ItemKey } from '../types';
import { attributeToJson, type Item, keyToAttributes } from './keys';
import { isMaskedValue } from './masked-form';
import { updateExpression } from './update';

/**
 * Masking: the data map's mask rules applied to one item in place, conditional on what was read,
 * so a mask never overwrites a change made in between. Shared by erasure and retention.
 */

function digestInput(value: AttributeValue): Buffer {
  if (value.S !== undefined) return Buffer.from(value.S, 'utf8');
  if (value.N !== undefined) return Buffer.from(value.N, 'utf8');
  if (value.B !== undefined) return Buffer.from(value.B);
  return Buffer.from(JSON.stringify(attributeToJson(value)), 'utf8');
}

/** The replacement for one masked attribute, or undefined to REMOVE it. */
function maskedValue(field: MaskField, current: AttributeValue, hmacKey: Buffer): AttributeValue | undefined {
  switch (field.with) {
    case 'remove':
      return undefined;
    case 'hash':
      return { S: `sha256:${createHash('sha256').update(digestInput(current)).digest('hex')}` };
    case 'hmac':
      return { S: `hmac:${createHmac('sha256', hmacKey).update(digestInput(current)).digest('hex')}` };
    case 'fixed':
      return { S: field.value ?? '' };
  }
}

/** Whether every masked attribute of the item is absent or already masked: anonymised before. */
export function isMaskedItem(fields: readonly MaskField[], item: Item): boolean {
  return fields.every((field) => isMaskedValue(field, item[field.attribute]));
}

/**
 * Refuses mask rules that DynamoDB would reject on every update (a replacement a GSI key cannot
 * hold). The loader refuses them already; this guards data maps built without it.
 */
export function checkMaskRules(store: DynamoStore, fields: readonly MaskField[]): void {
  for (const field of fields) {
    const problem = indexKeyMaskProblem(store, field);
    if (problem) throw new UnsupportedStoreError(store.id, `mask "${field.attribute}": ${problem}`);
  }
}

/** What the consistent read before a mask decides: mask, leave alone (skipped), or keep as exempt. */
export type MaskDecision =
  | { outcome: 'mask' }
  | { outcome: 'skipped' }
  | { outcome: 'exempted'; exemption: Exemption };

/**
 * What makes a mask safe to apply: `decide` looks at the item as just read (consistently), and
 * the update is conditional on `attribute` still holding the value read, so nothing that changed
 * the decision in between can be overwritten. Erasure guards on the matched identity attribute,
 * retention on the timestamp the record expired by.
 */
export interface MaskGuard {
  attribute: string;
  decide(item: Item): MaskDecision;
}

/** `unchanged`: every masked attribute was absent or masked already, so nothing was written. */
export type MaskOutcome =
  | { outcome: 'masked' | 'unchanged' | 'skipped' | 'failed' }
  | { outcome: 'exempted'; exemption: Exemption };

/**
 * Masks one item: a consistent read, then an UpdateItem conditional on the guard attribute
 * still holding the value read and on each hashed attribute still holding the value that was
 * hashed. A failed condition re-reads and decides again: an item that is someone else's now
 * (or gone, or no longer due) is skipped; if only another field moved, the mask is recomputed
 * and tried again. Attributes that already hold their masked form are left as they are.
 */
export async function maskItem(
  store: DynamoStore,
  client: DynamoDBClient,
  fields: readonly MaskField[],
  itemKey: ItemKey,
  guard: MaskGuard,
  policy: RetryPolicy,
  hmacKey: Buffer,
): Promise<MaskOutcome> {
  const Key = keyToAttributes(store, itemKey);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { Item: item } = await client.send(
        new GetItemCommand({ TableName: store.table, Key, ConsistentRead: true }),
      );
      if (!item) return { outcome: 'skipped' };
      const decision = guard.decide(item);
      if (decision.outcome !== 'mask') return decision;

      const names: Record<string, string> = {};
      const nameOf = (attribute: string): string => {
        const existing = Object.entries(names).find(([, name]) => name === attribute)?.[0];
        if (existing) return existing;
        const placeholder = `#a${Object.keys(names).length}`;
        names[placeholder] = attribute;
        return placeholder;
      };
      const guardValue = item[guard.attribute];
      const values: Item = guardValue === undefined ? {} : { ':guard': guardValue };
      const conditions = [
        guardValue === undefined
          ? `attribute_not_exists(${nameOf(guard.attribute)})`
          : `${nameOf(guard.attribute)} = :guard`,
      ];
      const sets: string[] = [];
      const removes: string[] = [];
      fields.forEach((field, index) => {
        const current = item[field.attribute];
        // Nothing to mask in an absent attribute (writing a placeholder would invent data), and
        // nothing to do where the mask was applied before (hashing a hash changes a kept record).
        if (current === undefined || isMaskedValue(field, current)) return;
        const name = nameOf(field.attribute);
        const replacement = maskedValue(field, current, hmacKey);
        if (replacement === undefined) {
          removes.push(name);
          return;
        }
        values[`:m${index}`] = replacement;
        sets.push(`${name} = :m${index}`);
        if (field.with === 'hash' || field.with === 'hmac') {
          values[`:o${index}`] = current;
          conditions.push(`${name} = :o${index}`);
        }
      });
      if (sets.length === 0 && removes.length === 0) return { outcome: 'unchanged' };

      await client.send(
        new UpdateItemCommand({
          TableName: store.table,
          Key,
          UpdateExpression: updateExpression(sets, removes),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return { outcome: 'masked' };
    } catch (error) {
      const conditionFailed = error instanceof ConditionalCheckFailedException;
      if (!conditionFailed && !isRetryableError(error)) throw error;
      if (attempt >= policy.maxAttempts) return { outcome: 'failed' };
      // After a failed condition the next read decides: no wait needed, the item has just changed.
      if (!conditionFailed) await waitBeforeRetry(policy, attempt);
    }
  }
}
