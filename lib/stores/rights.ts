import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DataMap, DynamoStore, S3Store, Store } from '../datamap/schema';
import { attributeToJson, type Item } from './dynamodb/keys';
import { type ItemChange, pendingChange, readOwnItem, updateOwnItem } from './dynamodb/update';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';
import { checkRectifiedLines, rectifyLines } from './s3/rectify';
import { readObjectTag, writeObjectTag } from './s3/tags';
import type { LocatedItem, LocatedRecord, StoreClients } from './types';

/**
 * The rights that change records rather than export or erase them: rectification (corrected
 * values), restriction (a mark the data map declares, placed and lifted) and withdrawal of
 * consent (the consent records the data map names). Each applies to exactly the located records
 * that still belong to the subject, and can be checked afterwards by reading them again.
 */

/** What to do to a subject's records in one store. Corrections are personal data: in memory only. */
export type RecordAction =
  | { kind: 'rectify'; corrections: Readonly<Record<string, unknown>> }
  | { kind: 'restrict'; mark: string }
  | { kind: 'lift' }
  | { kind: 'withdraw-consent'; purpose: string; at: string };

/** Per field of a rectification: records updated, and records that held the value already. */
export interface FieldCount {
  field: string;
  updated: number;
  unchanged: number;
}

/** What applying an action to one store did: counts only, safe for state, logs and audit. */
export interface StoreRecordsResult {
  storeId: string;
  /** Records written. */
  updated: number;
  /** Records that needed nothing: they held the wanted values, or none of the corrected fields. */
  unchanged: number;
  /** Records gone, or no longer the subject's, when the action came to them. */
  skipped: number;
  /** Records still failing after retries. */
  failed: number;
  /** Records a legal hold keeps as they are (rectification leaves them alone). */
  held: number;
  /** Records the store cannot change this way (per-subject objects a rectification names no field of; a store without the rule). */
  unsupported: number;
  /** Rectification: per field. */
  fields?: FieldCount[];
}

function emptyResult(storeId: string): StoreRecordsResult {
  return { storeId, updated: 0, unchanged: 0, skipped: 0, failed: 0, held: 0, unsupported: 0 };
}

function sameJson(current: Item[string] | undefined, wanted: unknown): boolean {
  return current !== undefined && JSON.stringify(attributeToJson(current)) === JSON.stringify(wanted);
}

/** What an action wants a DynamoDB item to hold; undefined when the store has no rule for it. */
function itemPlan(
  store: DynamoStore,
  action: RecordAction,
): ((item: Item) => ItemChange | undefined) | undefined {
  switch (action.kind) {
    case 'rectify': {
      const declared = new Set(store.rectify?.attributes ?? []);
      const fields = Object.keys(action.corrections).filter((field) => declared.has(field));
      if (fields.length === 0) return undefined;
      // Only fields the item holds: a correction never adds data the record did not have.
      return (item) => ({
        set: Object.fromEntries(
          fields
            .filter((field) => item[field] !== undefined)
            .map((field) => [field, action.corrections[field]]),
        ),
        remove: [],
      });
    }
    case 'restrict':
    case 'lift': {
      const attribute = store.restrict?.attribute;
      if (!attribute) return undefined;
      return () =>
        action.kind === 'restrict'
          ? { set: { [attribute]: action.mark }, remove: [] }
          : { set: {}, remove: [attribute] };
    }
    case 'withdraw-consent': {
      const record = store.consent?.find((candidate) => candidate.purpose === action.purpose);
      if (!record) return undefined;
      return (item) =>
        sameJson(item[record.attribute], record.withdrawn)
          ? undefined
          : {
              set: {
                [record.attribute]: record.withdrawn,
                ...(record.withdrawnAtAttribute ? { [record.withdrawnAtAttribute]: action.at } : {}),
              },
              remove: [],
            };
    }
  }
}

function isHeld(record: LocatedRecord): boolean {
  return record.exemption?.source === 'hold';
}

/** The located items, once each (an item found by two identities is one record). */
function itemsOf(records: readonly LocatedRecord[]): LocatedItem[] {
  const seen = new Set<string>();
  return records.filter((record): record is LocatedItem => {
    if (record.kind !== 'item') return false;
    const id = JSON.stringify(record.key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

async function applyToItems(
  store: DynamoStore,
  records: readonly LocatedRecord[],
  action: RecordAction,
  client: DynamoDBClient,
  policy: RetryPolicy,
): Promise<StoreRecordsResult> {
  const result = emptyResult(store.id);
  const plan = itemPlan(store, action);
  const items = itemsOf(records);
  if (!plan) {
    result.unsupported = items.length;
    return result;
  }
  const fields = new Map<string, FieldCount>();
  const countField = (field: string, key: 'updated' | 'unchanged') => {
    const entry = fields.get(field) ?? { field, updated: 0, unchanged: 0 };
    entry[key] += 1;
    fields.set(field, entry);
  };
  for (const located of items) {
    if (action.kind === 'rectify' && isHeld(located)) {
      result.held += 1;
      continue;
    }
    let seen: Item | undefined;
    const { outcome, changed } = await updateOwnItem(
      store,
      client,
      located,
      (item) => {
        seen = item;
        return plan(item);
      },
      policy,
    );
    result[outcome] += 1;
    if (action.kind === 'rectify' && seen && (outcome === 'updated' || outcome === 'unchanged')) {
      const held = seen;
      for (const field of Object.keys(action.corrections)) {
        if (held[field] === undefined || !(store.rectify?.attributes ?? []).includes(field)) continue;
        countField(field, changed && field in changed.set ? 'updated' : 'unchanged');
      }
    }
  }
  if (action.kind === 'rectify')
    result.fields = [...fields.values()].sort((a, b) => a.field.localeCompare(b.field));
  return result;
}

async function applyToObjects(
  store: S3Store,
  records: readonly LocatedRecord[],
  action: RecordAction,
  clients: StoreClients,
  policy: RetryPolicy,
  dataMap: Pick<DataMap, 'identityTypes'> | undefined,
): Promise<StoreRecordsResult> {
  const result = emptyResult(store.id);
  if (action.kind === 'rectify' && store.rectify && dataMap) {
    // Lines of shared objects are corrected field by field; a per-subject object is a file lethe does not edit.
    const lines = await rectifyLines(store, records, action.corrections, clients.s3, dataMap, policy);
    const objects = records.filter((record) => record.kind === 'object').length;
    return { ...result, ...lines, unsupported: objects };
  }
  const tag = store.restrict?.tag;
  for (const record of records) {
    if (record.kind !== 'object' || !tag || (action.kind !== 'restrict' && action.kind !== 'lift')) {
      result.unsupported += record.kind === 'lines' ? record.lineCount : 1;
      continue;
    }
    const value = action.kind === 'restrict' ? action.mark : undefined;
    result[await writeObjectTag(clients.s3, store.bucket, record.key, tag, value, policy)] += 1;
  }
  return result;
}

/**
 * Applies an action to the subject's located records in one store, as the store's rules say:
 * corrected fields (only where the record holds the field), the restriction mark set or removed,
 * consent marked withdrawn. DynamoDB updates are conditional on the item still holding the
 * subject's value; S3 marks are object tags; JSON-lines lines are corrected by rewriting their
 * object conditional on the ETag read (matching lines as locate did, by the data map's identity
 * types). Records the store has no rule for are counted `unsupported`, never touched.
 */
export async function applyToStoreRecords(
  store: Store,
  records: readonly LocatedRecord[],
  action: RecordAction,
  clients: StoreClients,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  dataMap?: Pick<DataMap, 'identityTypes'>,
): Promise<StoreRecordsResult> {
  return store.kind === 'dynamodb'
    ? applyToItems(store, records, action, clients.dynamodb, policy)
    : applyToObjects(store, records, action, clients, policy, dataMap);
}

/** What reading the records again found: how many hold what the action wanted, how many do not. */
export interface StoreRecordsCheck {
  storeId: string;
  checked: number;
  mismatched: number;
}

/**
 * Reads the subject's records again and counts those that do not hold what the action wanted
 * (records gone, or no longer the subject's, and those the store cannot mark are not counted). A
 * rectified item whose locating attribute was itself corrected is recognised by the new value.
 */
export async function checkStoreRecords(
  store: Store,
  records: readonly LocatedRecord[],
  action: RecordAction,
  clients: StoreClients,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  dataMap?: Pick<DataMap, 'identityTypes'>,
): Promise<StoreRecordsCheck> {
  const check: StoreRecordsCheck = { storeId: store.id, checked: 0, mismatched: 0 };
  if (store.kind === 's3' && action.kind === 'rectify') {
    if (!store.rectify || !dataMap) return check;
    const lines = await checkRectifiedLines(store, records, action.corrections, clients, dataMap);
    return { ...check, ...lines };
  }
  if (store.kind === 's3') {
    const tag = store.restrict?.tag;
    if (!tag || (action.kind !== 'restrict' && action.kind !== 'lift')) return check;
    for (const record of records) {
      if (record.kind !== 'object') continue;
      const value = await readObjectTag(clients.s3, store.bucket, record.key, tag, policy);
      if (value === null) continue;
      check.checked += 1;
      if (value !== (action.kind === 'restrict' ? action.mark : undefined)) check.mismatched += 1;
    }
    return check;
  }
  const plan = itemPlan(store, action);
  if (!plan) return check;
  for (const located of itemsOf(records)) {
    if (action.kind === 'rectify' && isHeld(located)) continue;
    const corrected = action.kind === 'rectify' ? action.corrections[located.matched.attribute] : undefined;
    const item =
      (await readOwnItem(store, clients.dynamodb, located)) ??
      (typeof corrected === 'string'
        ? await readOwnItem(store, clients.dynamodb, {
            ...located,
            matched: { ...located.matched, value: corrected },
          })
        : undefined);
    if (!item) continue;
    check.checked += 1;
    const wanted = plan(item);
    if (!wanted) continue;
    const pending = pendingChange(item, wanted);
    if (Object.keys(pending.set).length > 0 || pending.remove.length > 0) check.mismatched += 1;
  }
  return check;
}
