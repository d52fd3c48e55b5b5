import { createHmac } from 'node:crypto';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Identity } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { DEFAULT_RETRY_POLICY, waitBeforeRetry, withRetry } from '../stores/retry';

/**
 * The identity index table: for each shared object of an indexed store, the keyed hashes of the
 * identities it holds. Three kinds of item share one table (partition `pk`, sort `sk`):
 *
 * - entry   `h#<store>#<hash>` / object key, `gen`: the object held the identity when indexed
 * - object  `o#<store>` / object key: the ETag indexed, its generation, and (up to
 *   MAX_KEPT_HASHES) the hashes written for it, so they can be taken back when it changes
 * - meta    `s#<store>` / `meta`: the watermark of the last complete build
 *
 * Hashes are HMAC-SHA-256 of the identity type and normalised value under the subject-hash key
 * with a domain prefix of their own: never a raw value, and never equal to an audit subject hash.
 */

/** Hashes kept on an object's item, well within the 400 KB item limit; beyond, stale entries stay (they only cost a read). */
export const MAX_KEPT_HASHES = 8_000;

/** The deps the index works with. */
export type IndexDeps = Pick<LetheDeps, 'doc' | 'resources' | 'keys' | 'clients' | 'dataMap' | 'retry'>;

/** An indexed store's build state. */
export interface IndexMeta {
  /** Objects last modified before this (ISO-8601) were indexed at their current version by the last build. */
  watermark: string;
  builtAt: string;
  /** Objects the last build found under the store's prefixes. */
  objects: number;
}

/** An object's index item. */
export interface ObjectRecord {
  key: string;
  etag: string;
  gen: number;
  indexedAt: string;
  hashes?: string[];
}

/** The index table is not configured: nothing to build or read. */
export class IdentityIndexUnavailableError extends Error {
  override readonly name = 'IdentityIndexUnavailableError';
}

/** The table's name, or an error saying what to deploy. */
export function indexTableOf(deps: Pick<LetheDeps, 'resources'>): string {
  const table = deps.resources.identityIndexTable;
  if (!table) {
    throw new IdentityIndexUnavailableError(
      'no identity index table is configured: deploy the current stack (or run "lethe init" again locally) first',
    );
  }
  return table;
}

/** The CreateTable input of the index table (the local runtime's; the stack builds the same keys). */
export function identityIndexTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** The keyed hash an identity is indexed under (128 bits, base64url). */
export function indexHash(key: Buffer, identity: Pick<Identity, 'type' | 'value'>): string {
  return createHmac('sha256', key)
    .update('lethe-identity-index\u0000')
    .update(identity.type)
    .update('\u0000')
    .update(identity.value)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

const entryPk = (storeId: string, hash: string) => `h#${storeId}#${hash}`;
const objectPk = (storeId: string) => `o#${storeId}`;
const metaPk = (storeId: string) => `s#${storeId}`;

const policyOf = (deps: Pick<LetheDeps, 'retry'>) => deps.retry ?? DEFAULT_RETRY_POLICY;

/** Every page of a query on one partition of the index (throttling retried). */
async function* partitionPages(
  deps: IndexDeps,
  pk: string,
  select: { ProjectionExpression: string } | { Select: 'COUNT' },
): AsyncGenerator<{ Items?: Record<string, unknown>[]; Count?: number }> {
  const table = indexTableOf(deps);
  let start: Record<string, unknown> | undefined;
  do {
    const from = start;
    const page = await withRetry(policyOf(deps), () =>
      deps.doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ...select,
          ...(from ? { ExclusiveStartKey: from } : {}),
        }),
      ),
    );
    yield page;
    start = page.LastEvaluatedKey;
  } while (start);
}

/** The keys of the objects indexed as holding any of the hashes. */
export async function objectsHolding(
  deps: IndexDeps,
  storeId: string,
  hashes: string[],
): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const hash of new Set(hashes)) {
    for await (const page of partitionPages(deps, entryPk(storeId, hash), { ProjectionExpression: 'sk' }))
      for (const item of page.Items ?? []) keys.add(String(item.sk));
  }
  return keys;
}

/**
 * The ETags the index describes objects at (100 keys a BatchGetItem, unprocessed keys retried), by
 * key. Only the key and ETag are read: an item's kept hashes would make the read grow with the
 * object's identities.
 */
export async function indexedEtags(
  deps: IndexDeps,
  storeId: string,
  keys: readonly string[],
): Promise<Map<string, string>> {
  const table = indexTableOf(deps);
  const found = new Map<string, string>();
  for (let at = 0; at < keys.length; at += 100) {
    let pending: Record<string, unknown>[] = [...new Set(keys.slice(at, at + 100))].map((key) => ({
      pk: objectPk(storeId),
      sk: key,
    }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const request = pending;
      const response = await withRetry(policyOf(deps), () =>
        deps.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: request,
                ConsistentRead: true,
                ProjectionExpression: '#key, #etag',
                ExpressionAttributeNames: { '#key': 'sk', '#etag': 'etag' },
              },
            },
          }),
        ),
      );
      for (const item of response.Responses?.[table] ?? []) found.set(String(item.sk), String(item.etag));
      pending = (response.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (pending.length > 0) await waitBeforeRetry(policyOf(deps), attempt);
    }
  }
  return found;
}

/** One object's index item, or undefined. */
export async function objectRecord(
  deps: IndexDeps,
  storeId: string,
  key: string,
): Promise<ObjectRecord | undefined> {
  const response = await withRetry(policyOf(deps), () =>
    deps.doc.send(
      new GetCommand({
        TableName: indexTableOf(deps),
        Key: { pk: objectPk(storeId), sk: key },
        ConsistentRead: true,
      }),
    ),
  );
  return response.Item ? toObjectRecord(response.Item) : undefined;
}

function toObjectRecord(item: Record<string, unknown>): ObjectRecord {
  return {
    key: String(item.sk),
    etag: String(item.etag),
    gen: Number(item.gen ?? 0),
    indexedAt: String(item.indexedAt ?? ''),
    ...(Array.isArray(item.hashes) ? { hashes: item.hashes.map(String) } : {}),
  };
}

/** Writes entries (25 a BatchWriteItem, unprocessed items retried), all of one generation. */
export async function putEntries(
  deps: IndexDeps,
  storeId: string,
  key: string,
  hashes: readonly string[],
  gen: number,
): Promise<void> {
  const table = indexTableOf(deps);
  for (let at = 0; at < hashes.length; at += 25) {
    let pending: Record<string, unknown>[] = hashes.slice(at, at + 25).map((hash) => ({
      PutRequest: { Item: { pk: entryPk(storeId, hash), sk: key, gen } },
    }));
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const request = pending;
      const response = await withRetry(policyOf(deps), () =>
        deps.doc.send(new BatchWriteCommand({ RequestItems: { [table]: request as never } })),
      );
      pending = (response.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined) ?? [];
      if (pending.length > 0) await waitBeforeRetry(policyOf(deps), attempt);
    }
  }
}

/**
 * Deletes entries an index generation before `gen` wrote: an entry a newer indexing of the object
 * wrote again (it holds the identity once more) stays.
 */
export async function deleteEntriesBefore(
  deps: IndexDeps,
  storeId: string,
  key: string,
  hashes: Iterable<string>,
  gen: number,
): Promise<void> {
  const table = indexTableOf(deps);
  for (const hash of new Set(hashes)) {
    await unlessConditionFails(deps, () =>
      deps.doc.send(
        new DeleteCommand({
          TableName: table,
          Key: { pk: entryPk(storeId, hash), sk: key },
          ConditionExpression: 'attribute_not_exists(gen) OR gen < :gen',
          ExpressionAttributeValues: { ':gen': gen },
        }),
      ),
    );
  }
}

/** Sends a conditional write (retrying throttling); false when its condition failed. */
async function unlessConditionFails(
  deps: Pick<LetheDeps, 'retry'>,
  send: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await withRetry(policyOf(deps), send);
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * Writes an object's item if it is still at generation `previous` (absent: no item), so two
 * indexings of one object never both commit from the same state.
 * @returns false when another indexing committed first
 */
export async function commitObjectRecord(
  deps: IndexDeps,
  storeId: string,
  record: ObjectRecord,
  previous: number | undefined,
): Promise<boolean> {
  return unlessConditionFails(deps, () =>
    deps.doc.send(
      new PutCommand({
        TableName: indexTableOf(deps),
        Item: {
          pk: objectPk(storeId),
          sk: record.key,
          etag: record.etag,
          gen: record.gen,
          indexedAt: record.indexedAt,
          ...(record.hashes ? { hashes: record.hashes } : {}),
        },
        ...(previous === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'gen = :previous', ExpressionAttributeValues: { ':previous': previous } }),
      }),
    ),
  );
}

/** Deletes an object's item if it is still at generation `previous`; false when it changed. */
export async function deleteObjectRecord(
  deps: IndexDeps,
  storeId: string,
  key: string,
  previous: number,
): Promise<boolean> {
  return unlessConditionFails(deps, () =>
    deps.doc.send(
      new DeleteCommand({
        TableName: indexTableOf(deps),
        Key: { pk: objectPk(storeId), sk: key },
        ConditionExpression: 'gen = :previous',
        ExpressionAttributeValues: { ':previous': previous },
      }),
    ),
  );
}

/** How many objects the store's index holds (a COUNT query, paged). */
export async function countIndexedObjects(deps: IndexDeps, storeId: string): Promise<number> {
  let count = 0;
  for await (const page of partitionPages(deps, objectPk(storeId), { Select: 'COUNT' }))
    count += page.Count ?? 0;
  return count;
}

/** The store's build state, or undefined when it was never built. */
export async function readIndexMeta(deps: IndexDeps, storeId: string): Promise<IndexMeta | undefined> {
  const response = await withRetry(policyOf(deps), () =>
    deps.doc.send(
      new GetCommand({
        TableName: indexTableOf(deps),
        Key: { pk: metaPk(storeId), sk: 'meta' },
        ConsistentRead: true,
      }),
    ),
  );
  const item = response.Item;
  if (!item || typeof item.watermark !== 'string') return undefined;
  return { watermark: item.watermark, builtAt: String(item.builtAt), objects: Number(item.objects ?? 0) };
}

/** Records a complete build. */
export async function writeIndexMeta(deps: IndexDeps, storeId: string, meta: IndexMeta): Promise<void> {
  await withRetry(policyOf(deps), () =>
    deps.doc.send(
      new PutCommand({ TableName: indexTableOf(deps), Item: { pk: metaPk(storeId), sk: 'meta', ...meta } }),
    ),
  );
}
