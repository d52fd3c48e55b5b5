import {
  type AttributeValue,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoStore, KeyAttribute, MaskField, RetentionRule, TimestampFormat } from '../datamap/schema';
import { holdOnRecord, holdOnSubject } from '../holds';
import { chunks, forEachConcurrently } from '../stores/concurrency';
import {
  BATCH_GET_LIMIT,
  BATCH_WRITE_LIMIT,
  batchGetChunk,
  CONCURRENCY,
  checkMaskRules,
  deleteItems,
  isMaskedItem,
  itemIdentities,
  itemKeyOf,
  type MaskGuard,
  maskItem,
  projection,
} from '../stores/dynamodb';
import { UnsupportedStoreError } from '../stores/errors';
import { withRetry } from '../stores/retry';
import type { ItemKey } from '../stores/types';
import type { PageContext } from './context';
import { SweepIncompleteError } from './errors';
import { epochCutoffValue, isExpired, iso8601QueryBound, parseEpochText, parseIso8601 } from './rules';

/**
 * Sweeping a DynamoDB store.
 *
 * - With an `expiryIndex`, the index is queried for `partition = partitionValue AND sortKey <
 *   bound` (the exact cut-off for epoch formats; for iso8601 a bound 15 hours later, see
 *   iso8601QueryBound). A GSI is eventually consistent and may project only keys, so every hit is
 *   re-read from the table with a consistent BatchGetItem and judged on the table's item: a stale
 *   index entry never gets a record purged. The index is one partition: it is queried by segment 0
 *   only.
 * - Without one, a parallel Scan (segment `segment` of `totalSegments`), consistent. For epoch
 *   formats a FilterExpression keeps the expired items and those whose timestamp is missing or not
 *   a number (so those are counted as skipped); for iso8601 there is no filter, because strings
 *   compare correctly only in one normalised UTC form, and every item is judged in code (a filter
 *   only saves transfer: a Scan reads, and is charged for, every item either way).
 * - Expired items that no legal hold keeps are deleted with BatchWriteItem in 25s through the
 *   adapter's batching (UnprocessedItems and throttling retried), or masked by the store's mask
 *   rules through the adapter's conditional mask, guarded by the timestamp: an item whose
 *   timestamp changed since it was read is left alone.
 *
 * Deletes are buffered across Query/Scan pages and sent in full batches, so N expired records
 * cost ceil(N / 25) BatchWriteItem calls when nothing fails. BatchWriteItem cannot be
 * conditional: an item rewritten with a fresh timestamp in the moment between the consistent read
 * and its batch would still be deleted. Records that change that fast should use TTL or anonymise.
 */

type Item = Record<string, AttributeValue>;

/** Deletes are sent once this many are buffered: four BatchWriteItem calls of 25 in flight. */
const DELETE_FLUSH = BATCH_WRITE_LIMIT * CONCURRENCY;

function timestampOf(format: TimestampFormat, value: AttributeValue | undefined): number | undefined {
  if (format === 'iso8601') return value?.S === undefined ? undefined : parseIso8601(value.S);
  return value?.N === undefined ? undefined : parseEpochText(format, value.N);
}

function keyValue(store: DynamoStore, attribute: KeyAttribute, value: string): AttributeValue {
  switch (attribute.type) {
    case 'S':
      return { S: value };
    case 'N':
      return { N: value };
    case 'B':
      throw new UnsupportedStoreError(
        store.id,
        `expiry index key "${attribute.name}" of type B is not supported`,
      );
  }
}

/** A DynamoDB store with its retention rule. */
export type RetainedDynamoStore = DynamoStore & { retention: RetentionRule };

/**
 * Sweeps one segment of a DynamoDB store from `startKey`, page after page until the table (or
 * the index) is done or the time budget is spent. Counts go into `ctx.counts`.
 * @returns where the next page starts, or undefined when this segment is done
 * @throws SweepIncompleteError when expired items could not be purged after retries (the page is
 *   retried as a whole; what was purged stays purged)
 */
export async function sweepDynamoSegment(
  ctx: PageContext,
  store: RetainedDynamoStore,
  segment: number,
  totalSegments: number,
  startKey: Item | undefined,
): Promise<Item | undefined> {
  const rule = store.retention;
  if ('lastModified' in rule.from) {
    throw new UnsupportedStoreError(
      store.id,
      'DynamoDB retention runs from a timestamp attribute, not lastModified',
    );
  }
  const { attribute: timestampName, format } = rule.from;
  let maskFields: readonly MaskField[] = [];
  if (rule.action === 'anonymise') {
    if (store.erase.action !== 'mask') {
      throw new UnsupportedStoreError(
        store.id,
        "retention action anonymise needs the store's erase.action: mask",
      );
    }
    maskFields = store.erase.fields;
    checkMaskRules(store, store.erase.fields);
  }
  const { deps, counts, policy } = ctx;
  const client = deps.clients.dynamodb;
  const keyNames = [store.keySchema.partitionKey, store.keySchema.sortKey].flatMap((key) =>
    key ? [key.name] : [],
  );
  const matchSubjects = ctx.holds.subjects.size > 0;
  const needed = new Set([
    ...keyNames,
    timestampName,
    ...(matchSubjects
      ? [...store.locate.map((locate) => locate.attribute), ...store.links.map((link) => link.attribute)]
      : []),
    ...maskFields.map((field) => field.attribute),
  ]);
  const projected = projection(needed);

  const deletes: { key: ItemKey }[] = [];
  const failedKeys: ItemKey[] = [];
  const flushDeletes = async (all: boolean) => {
    while (deletes.length >= DELETE_FLUSH || (all && deletes.length > 0)) {
      const batch = deletes.splice(0, DELETE_FLUSH);
      const result = await deleteItems(store, client, batch, policy);
      counts.purged += result.erased;
      failedKeys.push(...result.failedKeys);
    }
  };
  const guard: MaskGuard = {
    attribute: timestampName,
    decide: (item) => {
      const timestamp = timestampOf(format, item[timestampName]);
      return timestamp !== undefined && isExpired(timestamp, ctx.cutoffMs)
        ? { outcome: 'mask' }
        : { outcome: 'skipped' };
    },
  };
  const anonymise = async (keys: ItemKey[]) => {
    await forEachConcurrently(keys, CONCURRENCY, async (key) => {
      const result = await maskItem(store, client, maskFields, key, guard, policy, deps.keys.mask);
      if (result.outcome === 'masked') counts.anonymised += 1;
      else if (result.outcome === 'unchanged') counts.alreadyAnonymised += 1;
      else if (result.outcome === 'failed') failedKeys.push(key);
      else counts.skipped += 1;
    });
  };

  /** Judges the items of one page: expired, held, and what to do with the rest. */
  const judge = async (items: Item[]) => {
    const toMask: ItemKey[] = [];
    for (const item of items) {
      const timestamp = timestampOf(format, item[timestampName]);
      if (timestamp === undefined) {
        counts.skipped += 1;
        continue;
      }
      if (!isExpired(timestamp, ctx.cutoffMs)) continue;
      counts.expired += 1;
      const key = itemKeyOf(store, item);
      const hold =
        holdOnRecord(ctx.holds, store, key) ??
        (matchSubjects
          ? holdOnSubject(ctx.holds, itemIdentities(store, item, deps.dataMap).map(ctx.hash))
          : undefined);
      if (hold) {
        counts.held += 1;
        continue;
      }
      if (rule.action === 'delete') {
        if (ctx.dryRun) counts.purged += 1;
        else deletes.push({ key });
      } else if (isMaskedItem(maskFields, item)) {
        counts.alreadyAnonymised += 1;
      } else if (ctx.dryRun) {
        counts.anonymised += 1;
      } else {
        toMask.push(key);
      }
    }
    await flushDeletes(false);
    if (toMask.length > 0) await anonymise(toMask);
  };

  let next = startKey;
  if (rule.expiryIndex) {
    const expiryIndex = rule.expiryIndex;
    const index = store.indexes.find((candidate) => candidate.name === expiryIndex.name);
    if (!index?.sortKey) {
      throw new UnsupportedStoreError(
        store.id,
        `expiry index "${expiryIndex.name}" is not declared with a sort key`,
      );
    }
    const wantedType = format === 'iso8601' ? 'S' : 'N';
    if (index.sortKey.type !== wantedType) {
      throw new UnsupportedStoreError(
        store.id,
        `expiry index "${index.name}" sorts on ${index.sortKey.type}, but ${format} timestamps are ${wantedType}`,
      );
    }
    const bound: AttributeValue =
      format === 'iso8601'
        ? { S: iso8601QueryBound(ctx.cutoffMs) }
        : { N: epochCutoffValue(format, ctx.cutoffMs) };
    const keyProjection = projection(keyNames);
    const input: QueryCommandInput = {
      TableName: store.table,
      IndexName: index.name,
      KeyConditionExpression: '#ip = :pv AND #is < :bound',
      ExpressionAttributeNames: {
        ...keyProjection.ExpressionAttributeNames,
        '#ip': index.partitionKey.name,
        '#is': index.sortKey.name,
      },
      ExpressionAttributeValues: {
        ':pv': keyValue(store, index.partitionKey, expiryIndex.partitionValue),
        ':bound': bound,
      },
      ProjectionExpression: keyProjection.ProjectionExpression,
      ...(ctx.pageSize ? { Limit: ctx.pageSize } : {}),
    };
    do {
      const from = next;
      const page = await withRetry(policy, () =>
        client.send(new QueryCommand({ ...input, ...(from ? { ExclusiveStartKey: from } : {}) })),
      );
      const hits = page.Items ?? [];
      counts.examined += page.ScannedCount ?? hits.length;
      // The index may be stale: judge each hit on the table's item, read consistently.
      const items: Item[] = [];
      for (const chunk of chunks(hits, BATCH_GET_LIMIT)) {
        const keys = chunk.map((hit) =>
          Object.fromEntries(keyNames.map((name) => [name, hit[name] as AttributeValue])),
        );
        items.push(...(await batchGetChunk(store, client, keys, needed, policy)));
      }
      await judge(items);
      next = page.LastEvaluatedKey;
    } while (next && !ctx.outOfTime());
  } else {
    const filtered = format !== 'iso8601';
    const input: ScanCommandInput = {
      TableName: store.table,
      ConsistentRead: true,
      ProjectionExpression: projected.ProjectionExpression,
      ExpressionAttributeNames: {
        ...projected.ExpressionAttributeNames,
        ...(filtered ? { '#ts': timestampName } : {}),
      },
      ...(filtered
        ? {
            FilterExpression: '#ts < :cutoff OR attribute_not_exists(#ts) OR NOT attribute_type(#ts, :n)',
            ExpressionAttributeValues: {
              ':cutoff': { N: epochCutoffValue(format, ctx.cutoffMs) },
              ':n': { S: 'N' },
            },
          }
        : {}),
      ...(totalSegments > 1 ? { Segment: segment, TotalSegments: totalSegments } : {}),
      ...(ctx.pageSize ? { Limit: ctx.pageSize } : {}),
    };
    do {
      const from = next;
      const page = await withRetry(policy, () =>
        client.send(new ScanCommand({ ...input, ...(from ? { ExclusiveStartKey: from } : {}) })),
      );
      counts.examined += page.ScannedCount ?? page.Items?.length ?? 0;
      await judge(page.Items ?? []);
      next = page.LastEvaluatedKey;
    } while (next && !ctx.outOfTime());
  }

  await flushDeletes(true);
  if (failedKeys.length > 0) throw new SweepIncompleteError(store.id, failedKeys);
  return next;
}
