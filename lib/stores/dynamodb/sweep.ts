import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoStore, KeyAttribute, MaskField, TimestampFormat } from '../../datamap/schema';
import { epochCutoffValue, iso8601QueryBound, parseEpochText, parseIso8601 } from '../../datamap/timestamps';
import type {
  AnonymiseOutcome,
  RetainedStore,
  StoreContext,
  StoreSweep,
  SweepOptions,
  SweepPage,
  SweepPosition,
} from '../adapter';
import { chunks, mapConcurrently } from '../concurrency';
import { UnsupportedStoreError } from '../errors';
import { withRetry } from '../retry';
import type { ItemKey } from '../types';
import { BATCH_WRITE_LIMIT, CONCURRENCY, deleteItems } from './erase';
import { type Item, itemIdentities, itemKeyOf, keyAttributes, projection } from './keys';
import { checkMaskRules, isMaskedItem, type MaskGuard, maskItem } from './mask';
import { BATCH_GET_LIMIT, batchGetChunk } from './read';

/**
 * The IO of a retention sweep of a DynamoDB store.
 *
 * - With an `expiryIndex`, the index is queried for `partition = partitionValue AND sortKey <
 *   bound` (the exact cut-off for epoch formats; for iso8601 a bound 15 hours later, see
 *   iso8601QueryBound). A GSI is eventually consistent and may project only keys, so every hit is
 *   re-read from the table with a consistent BatchGetItem: retention judges the table's item, and
 *   a stale index entry never gets a record purged. The index is one partition: segment 0 queries it.
 * - Without one, the table is read with a consistent parallel Scan, one segment per sweep item.
 *   For epoch formats a filter returns only items below the cut-off (or without a readable
 *   timestamp); iso8601 strings cannot be compared in a filter across offsets, so every item comes
 *   back (a filter saves transfer only: a Scan reads, and is charged for, every item either way).
 * - Deletes go through the adapter's batching, 25 per BatchWriteItem (UnprocessedItems and
 *   throttling retried); they are buffered across pages and sent in full batches, so N expired
 *   records cost ceil(N / 25) calls when nothing fails. BatchWriteItem cannot be conditional: an
 *   item rewritten with a fresh timestamp between the consistent read and its batch would still be
 *   deleted. Records that change that fast should use TTL or anonymise.
 * - Anonymising goes through the adapter's conditional mask, guarded by the timestamp: an item
 *   whose timestamp changed since it was read is left alone.
 */

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

function itemKey(store: DynamoStore, key: ItemKey | string): ItemKey {
  if (typeof key === 'string')
    throw new UnsupportedStoreError(store.id, 'a DynamoDB store has no object keys');
  return key;
}

/** The Query on the expiry index, or the Scan of one segment, that finds a sweep's candidates. */
function candidatesRequest(
  store: RetainedStore<DynamoStore>,
  timestamp: { attribute: string; format: TimestampFormat },
  options: SweepOptions,
  needed: Set<string>,
): { query: QueryCommandInput } | { scan: ScanCommandInput } {
  const { attribute, format } = timestamp;
  const expiryIndex = store.retention.expiryIndex;
  const pageLimit = options.pageSize ? { Limit: options.pageSize } : {};
  if (expiryIndex) {
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
        ? { S: iso8601QueryBound(options.cutoffMs) }
        : { N: epochCutoffValue(format, options.cutoffMs) };
    // Only the table key: every hit is re-read from the table.
    const keyProjection = projection(keyAttributes(store).map((key) => key.name));
    return {
      query: {
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
        ...pageLimit,
      },
    };
  }
  const projected = projection(needed);
  const filtered = format !== 'iso8601';
  return {
    scan: {
      TableName: store.table,
      ConsistentRead: true,
      ProjectionExpression: projected.ProjectionExpression,
      ExpressionAttributeNames: {
        ...projected.ExpressionAttributeNames,
        ...(filtered ? { '#ts': attribute } : {}),
      },
      ...(filtered
        ? {
            FilterExpression: '#ts < :cutoff OR attribute_not_exists(#ts) OR NOT attribute_type(#ts, :n)',
            ExpressionAttributeValues: {
              ':cutoff': { N: epochCutoffValue(format, options.cutoffMs) },
              ':n': { S: 'N' },
            },
          }
        : {}),
      ...(options.totalSegments > 1
        ? { Segment: options.segment, TotalSegments: options.totalSegments }
        : {}),
      ...pageLimit,
    },
  };
}

/**
 * Opens a sweep page of a DynamoDB store (see the module comment).
 * @throws UnsupportedStoreError when the rule runs from lastModified, anonymises a store without
 *   mask rules (or with masks the table would reject), or names an unusable expiry index
 */
export function openDynamoSweep(
  store: RetainedStore<DynamoStore>,
  context: StoreContext,
  options: SweepOptions,
): StoreSweep {
  const rule = store.retention;
  if ('lastModified' in rule.from) {
    throw new UnsupportedStoreError(
      store.id,
      'DynamoDB retention runs from a timestamp attribute, not lastModified',
    );
  }
  const timestamp = rule.from;
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
  const client: DynamoDBClient = context.clients.dynamodb;
  const { policy } = options;
  const keyNames = keyAttributes(store).map((key) => key.name);
  const needed = new Set([
    ...keyNames,
    timestamp.attribute,
    ...(options.matchSubjects
      ? [...store.locate.map((locate) => locate.attribute), ...store.links.map((link) => link.attribute)]
      : []),
    ...maskFields.map((field) => field.attribute),
    ...(store.restrict?.attribute ? [store.restrict.attribute] : []),
  ]);
  const restrictAttribute = store.restrict?.attribute;
  const request = candidatesRequest(store, timestamp, options, needed);

  const toPage = (items: Item[], examined: number, next: Item | undefined): SweepPage => ({
    records: items.map((item) => ({
      timestampMs: timestampOf(timestamp.format, item[timestamp.attribute]),
      key: () => itemKeyOf(store, item),
      anonymised: rule.action === 'anonymise' && isMaskedItem(maskFields, item),
      identities: () => itemIdentities(store, item, context.dataMap),
      ...(restrictAttribute ? { restricted: () => item[restrictAttribute] !== undefined } : {}),
    })),
    examined,
    next: next ? { kind: 'dynamodb', startKey: next } : undefined,
  });

  async function* pages(from: SweepPosition | undefined): AsyncGenerator<SweepPage> {
    let next = from?.kind === 'dynamodb' ? from.startKey : undefined;
    do {
      const startKey = next ? { ExclusiveStartKey: next } : {};
      if ('query' in request) {
        const page = await withRetry(policy, () =>
          client.send(new QueryCommand({ ...request.query, ...startKey })),
        );
        const hits = page.Items ?? [];
        // The index may be stale: the records are the table's items, read consistently.
        const items: Item[] = [];
        for (const chunk of chunks(hits, BATCH_GET_LIMIT)) {
          const keys = chunk.map((hit) =>
            Object.fromEntries(keyNames.map((name) => [name, hit[name] as AttributeValue])),
          );
          items.push(...(await batchGetChunk(store, client, keys, needed, policy)));
        }
        next = page.LastEvaluatedKey;
        yield toPage(items, page.ScannedCount ?? hits.length, next);
      } else {
        const page = await withRetry(policy, () =>
          client.send(new ScanCommand({ ...request.scan, ...startKey })),
        );
        next = page.LastEvaluatedKey;
        yield toPage(page.Items ?? [], page.ScannedCount ?? page.Items?.length ?? 0, next);
      }
    } while (next);
  }

  const deletes: { key: ItemKey }[] = [];
  return {
    pages,
    queueDelete: (key) => {
      deletes.push({ key: itemKey(store, key) });
    },
    flushDeletes: async (all) => {
      let deleted = 0;
      const failed: ItemKey[] = [];
      while (deletes.length >= DELETE_FLUSH || (all && deletes.length > 0)) {
        const result = await deleteItems(store, client, deletes.splice(0, DELETE_FLUSH), policy);
        deleted += result.erased;
        failed.push(...result.failedKeys);
      }
      return { deleted, failed };
    },
    anonymise: async (keys, { isDue, hmacKey }) => {
      const guard: MaskGuard = {
        attribute: timestamp.attribute,
        decide: (item) =>
          isDue(timestampOf(timestamp.format, item[timestamp.attribute]))
            ? { outcome: 'mask' }
            : { outcome: 'skipped' },
      };
      return mapConcurrently(keys, CONCURRENCY, async (key): Promise<AnonymiseOutcome> => {
        const result = await maskItem(store, client, maskFields, itemKey(store, key), guard, policy, hmacKey);
        // The guard never exempts: anything but masked, unchanged or failed was left alone.
        return result.outcome === 'exempted' ? 'skipped' : result.outcome;
      });
    },
  };
}
