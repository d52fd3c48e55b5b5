import type { DataMap, DynamoStore, Store } from './schema';

/**
 * What the data map says about the rights beyond access and erasure: which attributes a
 * rectification may correct, how records are marked restricted, where consent is recorded. The
 * rules across fields (checkDataMap runs them) and the lookups the request steps make.
 */

type Path = (string | number)[];

/** The identity type a DynamoDB store's locate rules or links read from an attribute, if any. */
export function identityTypeOfAttribute(store: DynamoStore, attribute: string): string | undefined {
  const rule = store.locate.find((candidate) => candidate.attribute === attribute);
  if (rule) return rule.identity;
  return store.links.find((link) => link.attribute === attribute)?.identity;
}

function keyAttributes(store: DynamoStore): string[] {
  return [
    store.keySchema.partitionKey.name,
    ...(store.keySchema.sortKey ? [store.keySchema.sortKey.name] : []),
  ];
}

/**
 * Problems with a store's rectify, restrict and consent fields: each with its path under the
 * store and the fix.
 */
export function rightsIssues(
  store: Store,
  dataMap: Pick<DataMap, 'identityTypes'>,
): { path: Path; message: string }[] {
  const issues: { path: Path; message: string }[] = [];
  if (store.kind === 's3') {
    if (store.rectify) {
      issues.push({
        path: ['rectify'],
        message: 'rectify applies to DynamoDB stores: S3 objects are not corrected field by field; remove it',
      });
    }
    if (store.consent) {
      issues.push({
        path: ['consent'],
        message: 'consent records are DynamoDB attributes; remove consent from this S3 store',
      });
    }
    if (store.restrict && store.restrict.tag === undefined) {
      issues.push({
        path: ['restrict'],
        message:
          'an S3 store marks restricted objects with an object tag: restrict: { tag: lethe-restricted }',
      });
    }
    if (store.restrict?.attribute !== undefined) {
      issues.push({
        path: ['restrict', 'attribute'],
        message: 'S3 objects have no attributes; use tag instead',
      });
    }
    return issues;
  }
  const keys = keyAttributes(store);
  store.rectify?.attributes.forEach((attribute, index) => {
    const path = ['rectify', 'attributes', index];
    if (keys.includes(attribute)) {
      issues.push({
        path,
        message: `"${attribute}" is a key attribute of the table: an item's key cannot be corrected in place; remove it`,
      });
      return;
    }
    const identity = identityTypeOfAttribute(store, attribute);
    if (identity && dataMap.identityTypes[identity]?.rectifiable !== true) {
      issues.push({
        path,
        message: `"${attribute}" holds ${identity} identities, and identity type ${identity} is not rectifiable: set identityTypes.${identity}.rectifiable: true, or remove it`,
      });
    }
  });
  if (store.restrict) {
    if (store.restrict.attribute === undefined) {
      issues.push({
        path: ['restrict'],
        message:
          'a DynamoDB store marks restricted items with an attribute: restrict: { attribute: processingRestricted }',
      });
    } else if (
      keys.includes(store.restrict.attribute) ||
      identityTypeOfAttribute(store, store.restrict.attribute)
    ) {
      issues.push({
        path: ['restrict', 'attribute'],
        message: `"${store.restrict.attribute}" is a key or identity attribute; name an attribute of its own for the mark`,
      });
    }
    if (store.restrict.tag !== undefined) {
      issues.push({
        path: ['restrict', 'tag'],
        message: 'DynamoDB items have no tags; use attribute instead',
      });
    }
  }
  const purposes = new Set<string>();
  store.consent?.forEach((record, index) => {
    if (purposes.has(record.purpose)) {
      issues.push({
        path: ['consent', index, 'purpose'],
        message: `purpose "${record.purpose}" is listed twice; list each purpose once per store`,
      });
    }
    purposes.add(record.purpose);
    for (const field of ['attribute', 'withdrawnAtAttribute'] as const) {
      const attribute = record[field];
      if (
        attribute !== undefined &&
        (keys.includes(attribute) || identityTypeOfAttribute(store, attribute))
      ) {
        issues.push({
          path: ['consent', index, field],
          message: `"${attribute}" is a key or identity attribute; name the attribute that holds the consent`,
        });
      }
    }
  });
  return issues;
}

/** A field a rectification may correct: the stores that declare it and the identity type it holds, if any. */
export interface RectifiableField {
  stores: string[];
  identity?: string;
}

/** Every field some store declares rectifiable, with where and what it holds. */
export function rectifiableFields(dataMap: Pick<DataMap, 'stores'>): Map<string, RectifiableField> {
  const fields = new Map<string, RectifiableField>();
  for (const store of dataMap.stores) {
    if (store.kind !== 'dynamodb' || !store.rectify) continue;
    for (const attribute of store.rectify.attributes) {
      const entry = fields.get(attribute) ?? { stores: [] };
      entry.stores.push(store.id);
      const identity = identityTypeOfAttribute(store, attribute);
      if (identity) entry.identity = identity;
      fields.set(attribute, entry);
    }
  }
  return fields;
}

/** The purposes some store records consent for. */
export function consentPurposes(dataMap: Pick<DataMap, 'stores'>): string[] {
  return [
    ...new Set(dataMap.stores.flatMap((store) => (store.consent ?? []).map((record) => record.purpose))),
  ];
}
