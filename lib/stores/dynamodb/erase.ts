import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../datamap/schema';
import { chunks, forEachConcurrently } from '../concurrency';
import { EraseIncompleteError, UnsupportedStoreError } from '../errors';
import { ExemptionTally, exemptionFor } from '../exemptions';
import { DEFAULT_RETRY_POLICY, isRetryableError, type RetryPolicy, waitBeforeRetry } from '../retry';
import type { EraseOptions, ItemKey, LocatedItem, LocatedRecord, StoreClients, StoreErasure } from '../types';
import { distinctItems, holdsValue, itemKeyOf, itemToJson, keyToAttributes } from './keys';
import { checkMaskRules, type MaskGuard, maskItem } from './mask';

/** BatchWriteItem accepts at most 25 requests per call. */
export const BATCH_WRITE_LIMIT = 25;
/** Batches (or masked items) in flight at once: enough to hide latency, few enough not to self-throttle. */
export const CONCURRENCY = 4;

/**
 * Deletes items with BatchWriteItem, 25 per call (up to 4 calls in flight), retrying
 * UnprocessedItems and throttling with backoff until the policy's attempts are spent. Returns
 * the keys still not deleted then. Deleting an item that has gone already succeeds.
 */
export async function deleteItems(
  store: DynamoStore,
  client: DynamoDBClient,
  items: readonly Pick<LocatedItem, 'key'>[],
  policy: RetryPolicy,
): Promise<{ erased: number; failedKeys: ItemKey[] }> {
  let erased = 0;
  const failedKeys: ItemKey[] = [];
  await forEachConcurrently(chunks(items, BATCH_WRITE_LIMIT), CONCURRENCY, async (chunk) => {
    let pending = chunk.map((item) => ({ DeleteRequest: { Key: keyToAttributes(store, item.key) } }));
    for (let attempt = 1; ; attempt += 1) {
      let unprocessed: typeof pending;
      try {
        const response = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [store.table]: pending } }),
        );
        unprocessed = (response.UnprocessedItems?.[store.table] ?? []).flatMap((request) =>
          request.DeleteRequest?.Key ? [{ DeleteRequest: { Key: request.DeleteRequest.Key } }] : [],
        );
      } catch (error) {
        if (!isRetryableError(error)) throw error;
        unprocessed = pending;
      }
      erased += pending.length - unprocessed.length;
      if (unprocessed.length === 0) return;
      if (attempt >= policy.maxAttempts) {
        failedKeys.push(...unprocessed.map((request) => itemKeyOf(store, request.DeleteRequest.Key)));
        return;
      }
      await waitBeforeRetry(policy, attempt);
      pending = unprocessed;
    }
  });
  return { erased, failedKeys };
}

/**
 * Erases located items. Exempted records (data-map exemptions, legal holds) are never touched
 * and are counted by reason. `erase.action: delete` removes items with BatchWriteItem, 25 per
 * call; `mask` updates each item's masked attributes in place (remove, sha256 hash, HMAC-SHA256
 * with `options.hmacKey`, or a fixed value), only while the item still holds the matched
 * identity; an item that no longer does is someone else's and is counted in `skipped`.
 * Masking a GSI key attribute is fine: REMOVE drops the item from the index, and a replacement
 * string re-keys it (an N or B index key can only be removed, which is checked up front).
 * Erasure is idempotent: running it again after a failure erases what is left.
 * @throws EraseIncompleteError with the failed keys (counts only in its message) when throttling
 *   or UnprocessedItems outlast the retry policy; everything else that could be erased was
 * @throws UnsupportedStoreError for a rewrite rule or a mask that cannot apply to the table
 */
export async function eraseInDynamoStore(
  store: DynamoStore,
  records: LocatedRecord[],
  clients: StoreClients,
  options: EraseOptions,
): Promise<StoreErasure> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const rule = store.erase;
  if (rule.action === 'rewrite') {
    throw new UnsupportedStoreError(store.id, 'rewrite applies to JSON-lines objects; use delete or mask');
  }
  if (rule.action === 'mask') checkMaskRules(store, rule.fields);

  const tally = new ExemptionTally();
  const toErase: LocatedItem[] = [];
  for (const record of distinctItems(store, records)) {
    if (record.exemption) tally.add(record.exemption);
    else toErase.push(record);
  }

  let erased = 0;
  let masked = 0;
  let skipped = 0;
  const failedKeys: ItemKey[] = [];
  if (rule.action === 'delete') {
    const result = await deleteItems(store, clients.dynamodb, toErase, policy);
    erased = result.erased;
    failedKeys.push(...result.failedKeys);
  } else {
    await forEachConcurrently(toErase, CONCURRENCY, async (record) => {
      const { attribute, value } = record.matched;
      const guard: MaskGuard = {
        attribute,
        decide: (item) => {
          if (!holdsValue(item[attribute], value)) return { outcome: 'skipped' };
          // The item may have become exempt since locating (e.g. role changed to billing): keep it.
          const exemption = exemptionFor(store, itemToJson(item));
          return exemption ? { outcome: 'exempted', exemption } : { outcome: 'mask' };
        },
      };
      const result = await maskItem(
        store,
        clients.dynamodb,
        rule.fields,
        record.key,
        guard,
        policy,
        options.hmacKey,
      );
      if (result.outcome === 'masked' || result.outcome === 'unchanged') masked += 1;
      else if (result.outcome === 'skipped') skipped += 1;
      else if (result.outcome === 'exempted') tally.add(result.exemption);
      else failedKeys.push(record.key);
    });
  }

  const outcome: StoreErasure = {
    storeId: store.id,
    erased,
    masked,
    exempted: tally.total,
    exemptions: tally.entries(),
    failed: failedKeys.length,
    skipped,
  };
  if (failedKeys.length > 0) {
    throw new EraseIncompleteError(store.id, failedKeys, {
      total: toErase.length,
      attempts: policy.maxAttempts,
      noun: 'item',
      outcome,
    });
  }
  return outcome;
}
