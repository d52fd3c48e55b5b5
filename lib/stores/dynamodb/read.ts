import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../../datamap/schema';
import { chunks } from '../concurrency';
import { ReadIncompleteError } from '../errors';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, waitBeforeRetry, withRetry } from '../retry';
import type { ExportedRecord, LocatedRecord, StoreClients } from '../types';
import { distinctItems, type Item, itemKeyOf, itemToJson, keyId, keyToAttributes, projection } from './keys';

/** BatchGetItem accepts at most 100 keys per call. */
export const BATCH_GET_LIMIT = 100;

/** Options for locating and reading, which only need a retry policy. */
export interface DynamoReadOptions {
  /** Backoff for throttling and UnprocessedKeys; default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
}

/**
 * Fetches up to 100 keys with a consistent BatchGetItem, retrying UnprocessedKeys with backoff.
 * DynamoDB also returns UnprocessedKeys when a response would exceed 16 MB, so a round that
 * returned some items is progress and does not use up an attempt; only rounds that return
 * nothing do. Missing items (deleted since) are simply absent from the result.
 * @throws ReadIncompleteError (keys, never values, in the error's fields) when attempts run out
 */
export async function batchGetChunk(
  store: DynamoStore,
  client: DynamoDBClient,
  keys: Item[],
  attributes: Iterable<string> | undefined,
  policy: RetryPolicy,
): Promise<Item[]> {
  const fetched: Item[] = [];
  const projected = attributes === undefined ? {} : projection(attributes);
  let pending = keys;
  let stalled = 0;
  for (;;) {
    const response = await withRetry(policy, () =>
      client.send(
        new BatchGetItemCommand({
          // Rebuilt from our own parameters every round: an UnprocessedKeys entry as returned
          // may not carry the projection (dynalite drops it), and it is only the keys we need.
          RequestItems: { [store.table]: { Keys: pending, ConsistentRead: true, ...projected } },
        }),
      ),
    );
    const items = response.Responses?.[store.table] ?? [];
    fetched.push(...items);
    const unprocessed = response.UnprocessedKeys?.[store.table]?.Keys ?? [];
    if (unprocessed.length === 0) return fetched;
    stalled = items.length > 0 ? 0 : stalled + 1;
    if (stalled >= policy.maxAttempts) {
      throw new ReadIncompleteError(
        store.id,
        unprocessed.map((key) => itemKeyOf(store, key)),
        policy.maxAttempts,
      );
    }
    await waitBeforeRetry(policy, Math.max(1, stalled));
    pending = unprocessed;
  }
}

/**
 * Reads located items for an export, 100 keys per consistent BatchGetItem (UnprocessedKeys
 * retried with backoff), yielding each item as plain JSON (see {@link itemToJson}) in the order
 * of `records`. Only one batch is held at a time. Items deleted since locating are left out.
 * Exempted items are read too: the right of access covers what is kept.
 * @throws ReadIncompleteError when some keys stay unprocessed after retries
 */
export async function* readDynamoRecords(
  store: DynamoStore,
  records: LocatedRecord[],
  clients: StoreClients,
  options: DynamoReadOptions = {},
): AsyncIterable<ExportedRecord> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const keys = distinctItems(store, records).map((record) => record.key);
  for (const chunk of chunks(keys, BATCH_GET_LIMIT)) {
    const items = await batchGetChunk(
      store,
      clients.dynamodb,
      chunk.map((key) => keyToAttributes(store, key)),
      undefined,
      policy,
    );
    const byId = new Map(items.map((item) => [keyId(store, itemKeyOf(store, item)), item]));
    for (const key of chunk) {
      const item = byId.get(keyId(store, key));
      if (item) yield { storeId: store.id, key: itemKeyOf(store, item), data: itemToJson(item) };
    }
  }
}
