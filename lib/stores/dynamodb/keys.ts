import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  type Identity,
  InvalidIdentityError,
  mergeIdentities,
  normaliseIdentity,
} from '../../datamap/identity';
import type { DataMap, DynamoLocateRule, DynamoStore, KeyAttribute } from '../../datamap/schema';
import { UnsupportedStoreError } from '../errors';
import type { ItemKey, LocatedItem, LocatedRecord } from '../types';
import { holdsMaskedForm } from './masked-form';

/**
 * Keys and values: DynamoDB items as plain JSON, keys as plain values and back, and the
 * identities an item holds.
 */

/** A DynamoDB item as the low-level client reads and writes it. */
export type Item = Record<string, AttributeValue>;

/** The table's key attributes: the partition key, and the sort key when there is one. */
export function keyAttributes(store: DynamoStore): KeyAttribute[] {
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

/** A plain key as the AttributeValue map DynamoDB takes. */
export function keyToAttributes(store: DynamoStore, key: ItemKey): Item {
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
export function identityKeyValue(type: KeyAttribute['type'], value: string): AttributeValue | undefined {
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
export function holdsValue(attribute: AttributeValue | undefined, value: string): boolean {
  if (attribute?.S !== undefined) return attribute.S === value;
  if (attribute?.N !== undefined) return attribute.N === value || Number(attribute.N) === Number(value);
  if (attribute?.B !== undefined) return Buffer.from(attribute.B).equals(Buffer.from(value, 'utf8'));
  return false;
}

/** The attribute type the locate rule queries on, from the table or index key schema. */
export function ruleKeyType(store: DynamoStore, rule: DynamoLocateRule): KeyAttribute['type'] {
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

/**
 * The records as located items, each key once (the first record of a key wins).
 * @throws UnsupportedStoreError for a record of another store kind
 */
export function distinctItems(store: DynamoStore, records: readonly LocatedRecord[]): LocatedItem[] {
  const items = records.map((record) => {
    if (record.kind !== 'item') {
      throw new UnsupportedStoreError(store.id, `a DynamoDB store cannot hold a located ${record.kind}`);
    }
    return record;
  });
  const seen = new Set<string>();
  return items.filter((item) => {
    const id = keyId(store, item.key);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** The string values a link attribute holds: a string, a list of strings or a string set. */
export function linkValues(attribute: AttributeValue | undefined): string[] {
  if (attribute?.S !== undefined) return [attribute.S];
  if (attribute?.SS !== undefined) return attribute.SS;
  if (attribute?.L !== undefined) {
    return attribute.L.flatMap((element) => (element.S !== undefined ? [element.S] : []));
  }
  return [];
}

/**
 * The identities an item holds in the attributes the store's locate rules and links read,
 * normalised, each with the spellings the item holds it in; values that are not valid identities
 * of their type, and attributes in their masked form, are left out. Whose item it is, as far as the data map can tell: retention sweeps
 * match it against subject holds.
 */
export function itemIdentities(
  store: DynamoStore,
  item: Item,
  dataMap: Pick<DataMap, 'identityTypes'>,
): Identity[] {
  const found: Identity[] = [];
  const sources = [
    ...store.locate.map((rule) => ({ identity: rule.identity, attribute: rule.attribute })),
    ...store.links,
  ];
  for (const source of sources) {
    const attribute = item[source.attribute];
    // A masked attribute holds lethe's pseudonym, not the subject's identity.
    if (holdsMaskedForm(store, source.attribute, attribute)) continue;
    const raw = attribute?.N !== undefined ? [attribute.N] : linkValues(attribute);
    for (const value of raw) {
      try {
        found.push(normaliseIdentity(dataMap, source.identity, value));
      } catch (error) {
        if (!(error instanceof InvalidIdentityError)) throw error;
      }
    }
  }
  return mergeIdentities(found);
}
