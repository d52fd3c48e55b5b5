import { type AttributeValue, BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoStore } from '../datamap/schema';
import { chunks, forEachConcurrently } from '../stores/concurrency';
import { type RetryPolicy, waitBeforeRetry, withRetry } from '../stores/retry';
import { ImportIncompleteError } from './import-errors';

type Item = Record<string, AttributeValue>;

/** BatchWriteItem's limit. */
const BATCH_ITEMS = 25;
/** Batches in flight: one at a time leaves the table (and dynalite) idle between round trips. */
const BATCHES_IN_FLIGHT = 4;

class UnprocessedItemsError extends Error {
  override readonly name = 'UnprocessedItemsError';
}

/**
 * Writes checked items to a store's table in batches of 25, a few batches in flight, retrying
 * throttled calls and unprocessed items with backoff. Items are taken from `items` as they are
 * written, so a streamed source stays streamed. Returns how many items DynamoDB acknowledged.
 * @throws ImportIncompleteError with the count written so far when a batch still fails after the
 *   retries, the table refuses an item, or `items` throws
 */
export async function writeItems(
  store: DynamoStore,
  client: DynamoDBClient,
  items: AsyncIterable<Item> | Iterable<Item>,
  retry: RetryPolicy,
): Promise<number> {
  let written = 0;
  const writeBatch = async (batch: Item[]) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; ; attempt += 1) {
      const result = await withRetry(retry, () =>
        client.send(new BatchWriteItemCommand({ RequestItems: { [store.table]: pending } })),
      );
      const unprocessed = (result.UnprocessedItems?.[store.table] ?? []) as typeof pending;
      written += pending.length - unprocessed.length;
      pending = unprocessed;
      if (pending.length === 0) return;
      if (attempt >= retry.maxAttempts) {
        throw new UnprocessedItemsError(
          `${pending.length} items were still unprocessed after ${retry.maxAttempts} attempts (the table is throttling writes)`,
        );
      }
      await waitBeforeRetry(retry, attempt);
    }
  };
  let group: Item[] = [];
  const flush = async () => {
    await forEachConcurrently(chunks(group, BATCH_ITEMS), BATCHES_IN_FLIGHT, writeBatch);
    group = [];
  };
  try {
    for await (const item of items) {
      group.push(item);
      if (group.length === BATCH_ITEMS * BATCHES_IN_FLIGHT) await flush();
    }
    await flush();
  } catch (error) {
    // The store's own message may quote an attribute; its name says enough, --debug shows the cause.
    const reason =
      error instanceof UnprocessedItemsError || error instanceof ImportIncompleteError
        ? error.message
        : `the table refused a write (${error instanceof Error ? error.name : 'error'})`;
    throw new ImportIncompleteError(
      `the import into ${store.id} stopped after writing ${written} items: ${reason}; run the same import again (an item with the same key replaces the stored one)`,
      written,
      { cause: error },
    );
  }
  return written;
}
