import { createHash, createHmac } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Identity, InvalidIdentityError, identityKey, normaliseIdentity } from '../datamap/identity';
import type { DataMap, DynamoLocateRule, DynamoStore, KeyAttribute, MaskField } from '../datamap/schema';
import { chunks, forEachConcurrently } from './concurrency';
import { EraseIncompleteError, ReadIncompleteError, UnsupportedStoreError } from './errors';
import { exemptionFor } from './exemptions';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  type RetryPolicy,
  waitBeforeRetry,
  withRetry,
} from './retry';
import type {
  EraseOptions,
  Exemption,
  ExportedRecord,
  ItemKey,
  LocatedItem,
  LocatedRecord,
  StoreClients,
  StoreErasure,
  StoreLocation,
} from './types';

/**
 * The DynamoDB adapter: locate a subject's items by Query (never Scan), read them for an
 * export, and erase them by deleting or masking.
 *
 * Design choices, each for the "never report erased while data remains, never touch someone
 * else's data" rule:
 * - Table queries use ConsistentRead. GSI queries cannot, and a GSI may project only keys, so
 *   every GSI hit is re-read from the table with a consistent BatchGetItem (100 keys a call) and
 *   kept only if the table item still holds the identity: a stale index entry (the attribute
 *   changed or the item went since) never makes someone else's item ours. This works with any
 *   index projection (KEYS_ONLY included), at the price of one BatchGetItem per 100 index hits.
 *   What no read can fix: an item written moments ago may not be in the index yet; the Confirm
 *   step locates again after erasure and catches it.
 * - Masking re-reads the item and updates it on the condition that the matched attribute still
 *   holds the subject's value; a failed condition means the item is someone else's now, and it is
 *   skipped and counted as such, not treated as an error.
 * - Deleting uses BatchWriteItem (25 per call), which cannot be conditional. Items located by
 *   the table's partition key cannot change hands (the key is the identity); an item located
 *   through a GSI whose indexed attribute is rewritten to someone else between locating and
 *   erasing would still be deleted, as would an item that became exempt in that window. Stores
 *   where records change hands should use mask, whose updates are conditional.
 */

type Item = Record<string, AttributeValue>;

/** BatchGetItem accepts at most 100 keys per call. */
export const BATCH_GET_LIMIT = 100;
/** BatchWriteItem accepts at most 25 requests per call. */
export const BATCH_WRITE_LIMIT = 25;
/** Batches (or masked items) in flight at once: enough to hide latency, few enough not to self-throttle. */
export const CONCURRENCY = 4;

/** Options for locating and reading, which only need a retry policy. */
export interface DynamoReadOptions {
  /** Backoff for throttling and UnprocessedKeys; default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
}

// ---------------------------------------------------------------------------------------------
// Keys and values

function keyAttributes(store: DynamoStore): KeyAttribute[] {
  const { partitionKey, sortKey } = store.keySchema;
  return sortKey ? [partitionKey, sortKey] : [partitionKey];
}

/** A number as a JS number when that round-trips exactly, otherwise its decimal string. */
function plainNumber(text: string): number | string {
  const value = Number(text);
  return Number.isFinite(value) && String(value) === text ? value : text;
}

/**
 * Converts one DynamoDB attribute value to plain JSON: sets become arrays, binary becomes
 * base64, numbers become numbers when they convert exactly (else their decimal string, so no
 * digit is lost in an export).
 */
export function attributeToJson(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return plainNumber(value.N);
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(attributeToJson);
  if (value.M !== undefined) return itemToJson(value.M);
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(plainNumber);
  if (value.BS !== undefined) return value.BS.map((bytes) => Buffer.from(bytes).toString('base64'));
  return null;
}

/** Converts a DynamoDB item (AttributeValue map) to a plain JSON object; see {@link attributeToJson}. */
export function itemToJson(item: Record<string, AttributeValue>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) result[name] = attributeToJson(value);
  return result;
}

/** The item's primary key as plain values, in the store's key schema. */
export function itemKeyOf(store: DynamoStore, item: Item): ItemKey {
  const key: ItemKey = {};
  for (const attribute of keyAttributes(store)) {
    const value = item[attribute.name];
    const plain =
      value?.S ??
      (value?.N !== undefined ? plainNumber(value.N) : undefined) ??
      (value?.B !== undefined ? Buffer.from(value.B).toString('base64') : undefined);
    if (plain === undefined) {
      // A table item always carries its key; reaching this means the data map's key schema is wrong.
      throw new UnsupportedStoreError(
        store.id,
        `an item lacks key attribute "${attribute.name}" of type ${attribute.type}: check keySchema in the data map`,
      );
    }
    key[attribute.name] = plain;
  }
  return key;
}

/** Encodes a plain value (identity value or ItemKey part) as an attribute of the given key type. */
function encodeKeyValue(type: KeyAttribute['type'], value: string | number): AttributeValue {
  switch (type) {
    case 'S':
      return { S: String(value) };
    case 'N':
      return { N: String(value) };
    case 'B':
      return { B: Buffer.from(String(value), 'base64') };
  }
}

function keyToAttributes(store: DynamoStore, key: ItemKey): Item {
  const attributes: Item = {};
  for (const attribute of keyAttributes(store)) {
    const value = key[attribute.name];
    if (value === undefined) {
      throw new UnsupportedStoreError(store.id, `a located key lacks key attribute "${attribute.name}"`);
    }
    attributes[attribute.name] = encodeKeyValue(attribute.type, value);
  }
  return attributes;
}

/**
 * A stable string for a key, to de-duplicate items found by several identities (and to match
 * legal holds on a record): the same for a number given as 5 or "5".
 */
export function keyId(store: DynamoStore, key: ItemKey): string {
  return JSON.stringify(keyAttributes(store).map((attribute) => String(key[attribute.name])));
}

const NUMBER_PATTERN = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The key value an identity is queried by, for the key type of the table or index. Identity
 * values are strings: an N key is queried only with a numeric value (any other value cannot
 * match, and DynamoDB would reject the query), a B key with the value's UTF-8 bytes.
 */
function identityKeyValue(type: KeyAttribute['type'], value: string): AttributeValue | undefined {
  switch (type) {
    case 'S':
      return { S: value };
    case 'N':
      return NUMBER_PATTERN.test(value) ? { N: value } : undefined;
    case 'B':
      return { B: Buffer.from(value, 'utf8') };
  }
}

/** Whether an attribute holds exactly the identity value the item was located by. */
function holdsValue(attribute: AttributeValue | undefined, value: string): boolean {
  if (attribute?.S !== undefined) return attribute.S === value;
  if (attribute?.N !== undefined) return attribute.N === value || Number(attribute.N) === Number(value);
  if (attribute?.B !== undefined) return Buffer.from(attribute.B).equals(Buffer.from(value, 'utf8'));
  return false;
}

/** The attribute type the locate rule queries on, from the table or index key schema. */
function ruleKeyType(store: DynamoStore, rule: DynamoLocateRule): KeyAttribute['type'] {
  if (rule.index === undefined) return store.keySchema.partitionKey.type;
  const index = store.indexes.find((candidate) => candidate.name === rule.index);
  if (!index) {
    throw new UnsupportedStoreError(store.id, `locate rule names undeclared index "${rule.index}"`);
  }
  return index.partitionKey.type;
}

/** ProjectionExpression and names (`#p0`, `#p1`, …) for a list of top-level attributes. */
export function projection(names: Iterable<string>): {
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
} {
  const unique = [...new Set(names)];
  const placeholders: Record<string, string> = {};
  unique.forEach((name, index) => {
    placeholders[`#p${index}`] = name;
  });
  return {
    ProjectionExpression: Object.keys(placeholders).join(', '),
    ExpressionAttributeNames: placeholders,
  };
}

function itemsOnly(store: DynamoStore, records: readonly LocatedRecord[]): LocatedItem[] {
  return records.map((record) => {
    if (record.kind !== 'item') {
      throw new UnsupportedStoreError(store.id, `a DynamoDB store cannot hold a located ${record.kind}`);
    }
    return record;
  });
}

// ---------------------------------------------------------------------------------------------
// Reads

/** Every page of a Query, following LastEvaluatedKey; throttling is retried with backoff. */
async function* queryPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
  policy: RetryPolicy,
): AsyncGenerator<Item[]> {
  let startKey: Item | undefined;
  do {
    const page = await withRetry(policy, () =>
      client.send(new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) })),
    );
    yield page.Items ?? [];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
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

interface Found {
  key: ItemKey;
  matched: LocatedItem['matched'];
  attributes: Item;
}

/**
 * Finds a subject's items in a DynamoDB store: for each identity whose type has a locate rule,
 * a Query on the table (consistent) or on the rule's GSI by partition key = value, every page.
 * Items found by several identities are recorded once, with the first match. Exemptions are
 * evaluated on each item; the store's links yield the identities revealed (normalised; values
 * that are not valid identities of the linked type are skipped, since one malformed row must
 * not stop a request). Never scans.
 * @param dataMap the identity types, to normalise revealed identities
 * @throws ReadIncompleteError when index hits cannot be re-read from the table after retries
 */
export async function locateInDynamoStore(
  store: DynamoStore,
  identities: Identity[],
  clients: StoreClients,
  dataMap: Pick<DataMap, 'identityTypes'>,
  options: DynamoReadOptions = {},
): Promise<StoreLocation> {
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const client = clients.dynamodb;
  const keyNames = keyAttributes(store).map((attribute) => attribute.name);
  // Only what locating needs: keys, the matched attributes, exemption conditions and links.
  // Less data over the wire and in memory; read capacity is charged on the item either way.
  const neededAttributes = new Set([
    ...keyNames,
    ...store.locate.map((rule) => rule.attribute),
    ...store.exemptions.flatMap((exemption) => (exemption.when ? [exemption.when.attribute] : [])),
    ...store.links.map((link) => link.attribute),
  ]);
  const found = new Map<string, Found>();
  // The same identity twice would only repeat the same queries.
  const unique = [...new Map(identities.map((identity) => [identityKey(identity), identity])).values()];

  for (const identity of unique) {
    for (const rule of store.locate.filter((candidate) => candidate.identity === identity.type)) {
      const matched = { identity: identity.type, attribute: rule.attribute, value: identity.value };
      const keyValue = identityKeyValue(ruleKeyType(store, rule), identity.value);
      if (keyValue === undefined) continue;
      const input: QueryCommandInput = {
        TableName: store.table,
        KeyConditionExpression: '#k = :v',
        ExpressionAttributeValues: { ':v': keyValue },
      };
      if (rule.index === undefined) {
        const projected = projection(neededAttributes);
        for await (const page of queryPages(
          client,
          {
            ...input,
            ConsistentRead: true,
            ProjectionExpression: projected.ProjectionExpression,
            ExpressionAttributeNames: { ...projected.ExpressionAttributeNames, '#k': rule.attribute },
          },
          policy,
        )) {
          for (const item of page) {
            const key = itemKeyOf(store, item);
            const id = keyId(store, key);
            if (!found.has(id)) found.set(id, { key, matched, attributes: item });
          }
        }
        continue;
      }

      // A GSI: ask only for the table key (always projected, whatever the index projection),
      // then re-read the items from the table, consistently, in batches of 100.
      const pending = new Map<string, Item>();
      const flush = async () => {
        if (pending.size === 0) return;
        const keys = [...pending.values()];
        pending.clear();
        for (const item of await batchGetChunk(store, client, keys, neededAttributes, policy)) {
          // The index may be stale: keep the item only if the table still says it is the subject's.
          if (!holdsValue(item[rule.attribute], identity.value)) continue;
          const key = itemKeyOf(store, item);
          const id = keyId(store, key);
          if (!found.has(id)) found.set(id, { key, matched, attributes: item });
        }
      };
      const keyProjection = projection(keyNames);
      for await (const page of queryPages(
        client,
        {
          ...input,
          IndexName: rule.index,
          ProjectionExpression: keyProjection.ProjectionExpression,
          ExpressionAttributeNames: { ...keyProjection.ExpressionAttributeNames, '#k': rule.attribute },
        },
        policy,
      )) {
        for (const hit of page) {
          const key = itemKeyOf(store, hit);
          const id = keyId(store, key);
          if (found.has(id) || pending.has(id)) continue;
          pending.set(id, keyToAttributes(store, key));
          if (pending.size >= BATCH_GET_LIMIT) await flush();
        }
      }
      await flush();
    }
  }

  const records: LocatedItem[] = [];
  const revealed = new Map<string, Identity>();
  let exempted = 0;
  for (const { key, matched, attributes } of found.values()) {
    const exemption = exemptionFor(store, itemToJson(attributes));
    if (exemption) exempted += 1;
    records.push({ kind: 'item', key, matched, ...(exemption ? { exemption } : {}) });
    // Exempt items reveal identities too: they are still the subject's, and so is what they link to.
    for (const link of store.links) {
      for (const raw of linkValues(attributes[link.attribute])) {
        try {
          const identity = normaliseIdentity(dataMap, link.identity, raw);
          revealed.set(identityKey(identity), identity);
        } catch (error) {
          if (!(error instanceof InvalidIdentityError)) throw error;
        }
      }
    }
  }
  return { storeId: store.id, records, located: records.length, exempted, revealed: [...revealed.values()] };
}

/** The string values a link attribute holds: a string, a list of strings or a string set. */
function linkValues(attribute: AttributeValue | undefined): string[] {
  if (attribute?.S !== undefined) return [attribute.S];
  if (attribute?.SS !== undefined) return attribute.SS;
  if (attribute?.L !== undefined) {
    return attribute.L.flatMap((element) => (element.S !== undefined ? [element.S] : []));
  }
  return [];
}

/**
 * The identities an item holds in the attributes the store's locate rules and links read,
 * normalised; values that are not valid identities of their type are left out. Whose item it
 * is, as far as the data map can tell: retention sweeps match it against subject holds.
 */
export function itemIdentities(
  store: DynamoStore,
  item: Item,
  dataMap: Pick<DataMap, 'identityTypes'>,
): Identity[] {
  const found = new Map<string, Identity>();
  const sources = [
    ...store.locate.map((rule) => ({ identity: rule.identity, attribute: rule.attribute })),
    ...store.links,
  ];
  for (const source of sources) {
    const attribute = item[source.attribute];
    const raw = attribute?.N !== undefined ? [attribute.N] : linkValues(attribute);
    for (const value of raw) {
      try {
        const identity = normaliseIdentity(dataMap, source.identity, value);
        found.set(identityKey(identity), identity);
      } catch (error) {
        if (!(error instanceof InvalidIdentityError)) throw error;
      }
    }
  }
  return [...found.values()];
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
  const seen = new Set<string>();
  const keys: ItemKey[] = [];
  for (const record of itemsOnly(store, records)) {
    const id = keyId(store, record.key);
    if (seen.has(id)) continue;
    seen.add(id);
    keys.push(record.key);
  }
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

// ---------------------------------------------------------------------------------------------
// Erasure

/** Counts exemptions by reason for the certificate. */
class ExemptionTally {
  private readonly counts = new Map<string, StoreErasure['exemptions'][number]>();
  total = 0;

  add(exemption: Exemption): void {
    this.total += 1;
    const id = JSON.stringify([exemption.source, exemption.reason, exemption.legalBasis ?? null]);
    const entry = this.counts.get(id);
    if (entry) entry.count += 1;
    else {
      this.counts.set(id, {
        reason: exemption.reason,
        ...(exemption.legalBasis === undefined ? {} : { legalBasis: exemption.legalBasis }),
        source: exemption.source,
        count: 1,
      });
    }
  }

  entries(): StoreErasure['exemptions'] {
    return [...this.counts.values()];
  }
}

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

const MASKED_HASH = /^sha256:[0-9a-f]{64}$/;
const MASKED_HMAC = /^hmac:[0-9a-f]{64}$/;

/** Whether an attribute already holds what the mask writes, so masking it again would change nothing (or hash a hash). */
function isMaskedValue(field: MaskField, current: AttributeValue | undefined): boolean {
  if (current === undefined) return true;
  switch (field.with) {
    case 'remove':
      return false;
    case 'hash':
      return current.S !== undefined && MASKED_HASH.test(current.S);
    case 'hmac':
      return current.S !== undefined && MASKED_HMAC.test(current.S);
    case 'fixed':
      return current.S === (field.value ?? '');
  }
}

/** Whether every masked attribute of the item is absent or already masked: anonymised before. */
export function isMaskedItem(fields: readonly MaskField[], item: Item): boolean {
  return fields.every((field) => isMaskedValue(field, item[field.attribute]));
}

/**
 * Refuses mask rules that DynamoDB would reject half-way: a string replacement for an index key
 * of type N or B fails every update. REMOVE is always fine (the item leaves the sparse index).
 */
export function checkMaskRules(store: DynamoStore, fields: MaskField[]): void {
  for (const field of fields) {
    if (field.with === 'remove') continue;
    for (const index of store.indexes) {
      for (const key of [index.partitionKey, index.sortKey]) {
        if (key?.name === field.attribute && key.type !== 'S') {
          throw new UnsupportedStoreError(
            store.id,
            `mask "${field.attribute}" with ${field.with} writes a string, but it is a key of index "${index.name}" of type ${key.type}; use with: remove`,
          );
        }
      }
    }
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
          UpdateExpression: [
            sets.length > 0 ? `SET ${sets.join(', ')}` : '',
            removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join(' '),
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
  const seen = new Set<string>();
  const toErase: LocatedItem[] = [];
  for (const record of itemsOnly(store, records)) {
    const id = keyId(store, record.key);
    if (seen.has(id)) continue;
    seen.add(id);
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
