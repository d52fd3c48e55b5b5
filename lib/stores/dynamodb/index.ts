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

import type { DynamoStore } from '../../datamap/schema';
import type { StoreAdapter } from '../adapter';
import { eraseInDynamoStore } from './erase';
import { locateInDynamoStore } from './locate';
import { readDynamoRecords } from './read';
import { scanDynamoValues } from './scan-values';
import { openDynamoSweep } from './sweep';

/** The DynamoDB adapter, in the signature every store kind shares. */
export const dynamoAdapter: StoreAdapter<DynamoStore> = {
  locate: (store, identities, { clients, dataMap }, options) =>
    locateInDynamoStore(store, identities, clients, dataMap, options),
  read: (store, records, { clients }) => readDynamoRecords(store, records, clients),
  erase: (store, records, { clients }, options) => eraseInDynamoStore(store, records, clients, options),
  sweep: openDynamoSweep,
  scanValues: scanDynamoValues,
};

export { eraseInDynamoStore } from './erase';
export { keyId } from './keys';
export { locateInDynamoStore } from './locate';
export { type DynamoReadOptions, readDynamoRecords } from './read';
