import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr } from '@aws-sdk/util-dynamodb';
import { InvalidIdentityError, normaliseIdentity } from '../datamap/identity';
import type { DataMap, DynamoStore, KeyAttribute } from '../datamap/schema';
import {
  canonicalNumber,
  describeValue,
  itemSize,
  keyTypeOf,
  keyValueBytes,
  MAX_ITEM_BYTES,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  numberProblem,
  valueProblems,
} from './item-rules';

/**
 * Checking one item for a DynamoDB store before an import writes anything: what DynamoDB would
 * refuse (keys, index keys, numbers, size) and what locate could not find (locate keys not in
 * normalised form). Problems name attributes and indexes, never values.
 */

/**
 * What an import does with a locate key (an attribute a locate rule queries) whose value is not in
 * its identity type's normalised form: refuse the item, store the normalised value, or keep the
 * value as it is (a copy of a table whose legacy rows locate finds only by their exact spelling).
 */
export type LocateKeyPolicy = 'refuse' | 'normalise' | 'keep';

/**
 * Where items come from. `json`: parsed JSON lines, where a B key is base64 text and an N key a
 * JSON number or a string holding a decimal number. `document`: JavaScript values as the DynamoDB
 * document client takes them (sets, Uint8Array, NumberValue).
 */
export type ItemSource = 'json' | 'document';

/** An item ready to write, with a digest of its table key for finding duplicates. */
export interface CheckedItem {
  ok: true;
  item: Record<string, AttributeValue>;
  keyDigest: string;
  /** Locate key values stored normalised (policy `normalise`). */
  normalisedKeys: number;
  /** Locate key values not in normalised form, stored as they are (policy `keep`). */
  keptKeys: number;
}

/** What is wrong with an item; `locateKeys` when a locate key policy would change the verdict. */
export interface RefusedItem {
  ok: false;
  problems: string[];
  locateKeys: boolean;
}

/** One key attribute an item is checked for: of the table (required) or of an index (optional). */
interface KeySlot {
  name: string;
  type: KeyAttribute['type'];
  /** "key attribute" or "index byEmail key attribute", for messages. */
  role: string;
  required: boolean;
  maxBytes: number;
}

function keySlots(store: DynamoStore): KeySlot[] {
  const slot = (key: KeyAttribute, role: string, required: boolean, maxBytes: number): KeySlot => ({
    ...key,
    role,
    required,
    maxBytes,
  });
  const { partitionKey, sortKey } = store.keySchema;
  const slots = [
    slot(partitionKey, 'key attribute', true, MAX_PARTITION_KEY_BYTES),
    ...(sortKey ? [slot(sortKey, 'key attribute', true, MAX_SORT_KEY_BYTES)] : []),
    ...store.indexes.flatMap((index) => [
      slot(index.partitionKey, `index ${index.name} key attribute`, false, MAX_PARTITION_KEY_BYTES),
      ...(index.sortKey
        ? [slot(index.sortKey, `index ${index.name} key attribute`, false, MAX_SORT_KEY_BYTES)]
        : []),
    ]),
  ];
  // An attribute that keys the table and an index is checked once, as the table's.
  return slots.filter((candidate, at) => slots.findIndex((other) => other.name === candidate.name) === at);
}

const EXPECTED: Record<KeyAttribute['type'], string> = {
  S: 'a non-empty string (S)',
  N: 'a number (N), as a JSON number or a string of digits',
  B: 'base64 text (B)',
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The key attributes of a JSON line in the type the key declares: base64 text becomes binary for a
 * B key, a string holding a decimal number becomes a number for an N key. Anything else is left for
 * the type check to report.
 */
function convertJsonKey(slot: KeySlot, value: AttributeValue): AttributeValue {
  if (value.S === undefined || value.S === '') return value;
  if (slot.type === 'N' && numberProblem(value.S) === undefined) return { N: value.S };
  if (slot.type === 'B' && BASE64.test(value.S)) return { B: Buffer.from(value.S, 'base64') };
  return value;
}

function keyProblem(slot: KeySlot, value: AttributeValue | undefined): string | undefined {
  if (value === undefined) {
    return slot.required
      ? `${slot.role} "${slot.name}" is missing; every item needs the table's key`
      : undefined;
  }
  const outOfIndex = slot.required ? '' : ' (leave the attribute out to keep the item out of the index)';
  if (keyTypeOf(value) !== slot.type)
    return `${slot.role} "${slot.name}" must be ${EXPECTED[slot.type]}; it is ${describeValue(value)}${outOfIndex}`;
  if (value.S === '' || value.B?.byteLength === 0)
    return `${slot.role} "${slot.name}" is empty; DynamoDB key values need at least one character${outOfIndex}`;
  const bytes = keyValueBytes(value);
  if (bytes > slot.maxBytes)
    return `${slot.role} "${slot.name}" is ${bytes.toLocaleString('en-US')} bytes, over DynamoDB's limit of ${slot.maxBytes.toLocaleString('en-US')} bytes for this key`;
  return undefined;
}

/** Whether a JSON value holds a whole number JSON parsing has already rounded (beyond ±2^53). */
function holdsUnsafeInteger(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.some(holdsUnsafeInteger);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsUnsafeInteger);
  return false;
}

function attributeProblem(source: ItemSource, name: string, value: unknown): string {
  if (source === 'json' && holdsUnsafeInteger(value)) {
    return `attribute "${name}" holds a whole number beyond ±2^53, which JSON cannot carry exactly; write it as a string`;
  }
  return `attribute "${name}" holds a value DynamoDB cannot store`;
}

/** A short digest of the table key as DynamoDB compares it (numbers by value), to find duplicates. */
function keyDigest(store: DynamoStore, item: Record<string, AttributeValue>): string {
  const { partitionKey, sortKey } = store.keySchema;
  const parts = [partitionKey, sortKey].flatMap((key) => {
    const value = key ? item[key.name] : undefined;
    if (value === undefined) return [];
    if (value.N !== undefined) return [`N${canonicalNumber(value.N)}`];
    if (value.B !== undefined) return [`B${Buffer.from(value.B).toString('base64')}`];
    return [`S${value.S}`];
  });
  // A digest, not the key: memory grows by a few dozen bytes per item, whatever the key's length.
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64').slice(0, 24);
}

/** A locate rule's attribute with the identity type it holds and where locate queries it. */
interface LocateKey {
  attribute: string;
  identity: string;
  where: string;
}

function locateKeys(store: DynamoStore): LocateKey[] {
  const keys = store.locate.map((rule) => ({
    attribute: rule.attribute,
    identity: rule.identity,
    where: rule.index === undefined ? 'the table key' : `index ${rule.index}`,
  }));
  return keys.filter(
    (key, at) =>
      keys.findIndex((other) => other.attribute === key.attribute && other.identity === key.identity) === at,
  );
}

/**
 * Returns a function that checks one item (a parsed JSON line or a document) for the store and,
 * when it passes, returns it marshalled and ready to write.
 */
export function createItemChecker(
  dataMap: Pick<DataMap, 'identityTypes'>,
  store: DynamoStore,
  policy: LocateKeyPolicy,
  source: ItemSource,
): (value: unknown) => CheckedItem | RefusedItem {
  const slots = keySlots(store);
  const locate = locateKeys(store);
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
      return {
        ok: false,
        problems: ['not a JSON object; each line must be one item, {"attribute": value, …}'],
        locateKeys: false,
      };
    }
    const problems: string[] = [];
    const item: Record<string, AttributeValue> = {};
    for (const [name, raw] of Object.entries(value)) {
      if (raw === undefined) continue;
      if (name === '') {
        problems.push('an attribute has an empty name; DynamoDB attribute names need at least one character');
        continue;
      }
      try {
        item[name] = convertToAttr(raw, { removeUndefinedValues: true });
      } catch {
        problems.push(attributeProblem(source, name, raw));
      }
    }
    const badKeys = new Set<string>();
    for (const slot of slots) {
      const held = item[slot.name];
      if (held !== undefined && source === 'json') item[slot.name] = convertJsonKey(slot, held);
      const problem = keyProblem(slot, item[slot.name]);
      if (problem === undefined) continue;
      problems.push(problem);
      badKeys.add(slot.name);
    }
    for (const [name, held] of Object.entries(item)) {
      for (const problem of valueProblems(held)) problems.push(`attribute "${name}" ${problem}`);
    }
    let locateProblems = false;
    let normalisedKeys = 0;
    let keptKeys = 0;
    for (const key of locate) {
      const held = item[key.attribute];
      const raw = held?.S ?? held?.N;
      // A key of the wrong type is reported once, above.
      if (raw === undefined || raw === '' || badKeys.has(key.attribute)) continue;
      let normalised: string;
      try {
        normalised = normaliseIdentity(dataMap, key.identity, raw).value;
      } catch (error) {
        if (!(error instanceof InvalidIdentityError)) throw error;
        if (policy === 'keep') {
          keptKeys += 1;
          continue;
        }
        locateProblems = true;
        problems.push(
          `locate key "${key.attribute}" (${key.where}) holds no valid ${key.identity}: ${error.reason}`,
        );
        continue;
      }
      if (normalised === raw) continue;
      if (policy === 'keep') keptKeys += 1;
      else if (policy === 'normalise' && held?.S !== undefined) {
        item[key.attribute] = { S: normalised };
        normalisedKeys += 1;
      } else {
        locateProblems = true;
        problems.push(
          `locate key "${key.attribute}" (${key.where}) is not a normalised ${key.identity}, so locate would not find the item by it`,
        );
      }
    }
    const size = itemSize(item);
    if (size > MAX_ITEM_BYTES) {
      problems.push(
        `the item is ${(size / 1024).toFixed(1)} KB, over DynamoDB's limit of 400 KB (attribute names and values counted)`,
      );
    }
    if (problems.length > 0) return { ok: false, problems, locateKeys: locateProblems };
    return { ok: true, item, keyDigest: keyDigest(store, item), normalisedKeys, keptKeys };
  };
}
