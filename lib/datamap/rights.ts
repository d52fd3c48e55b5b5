import type { DataMap, DynamoStore, S3Store, Store } from './schema';

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

/** The JSON-lines fields an S3 store's locate rules match lines on. */
function jsonLinesFields(store: S3Store): string[] {
  return store.locate.flatMap((rule) => ('jsonLines' in rule ? [rule.jsonLines.field] : []));
}

/** The identity type an S3 store's links read from a JSON-lines field, if any. */
function identityTypeOfField(store: S3Store, field: string): string | undefined {
  return store.links.find((link) => link.attribute === field)?.identity;
}

/**
 * A rectifiable attribute whose values are identities of a type that may not be corrected. Such
 * an attribute is listed only when its identity type says `rectifiable: true`.
 */
function identityIssue(
  identity: string | undefined,
  attribute: string,
  dataMap: Pick<DataMap, 'identityTypes'>,
): string | undefined {
  if (!identity || dataMap.identityTypes[identity]?.rectifiable === true) return undefined;
  return `"${attribute}" holds ${identity} identities, and identity type ${identity} is not rectifiable: set identityTypes.${identity}.rectifiable: true, or remove it`;
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
    const lineFields = jsonLinesFields(store);
    if (store.rectify && lineFields.length === 0) {
      issues.push({
        path: ['rectify'],
        message:
          'rectify corrects fields of JSON-lines lines: objects under a per-subject prefix are files lethe does not edit; remove it',
      });
    }
    store.rectify?.attributes.forEach((field, index) => {
      if (lineFields.length === 0) return;
      const path = ['rectify', 'attributes', index];
      if (lineFields.includes(field)) {
        issues.push({
          path,
          message: `"${field}" is the field locate matches lines on: a line found by it cannot be corrected in place; remove it`,
        });
        return;
      }
      const problem = identityIssue(identityTypeOfField(store, field), field, dataMap);
      if (problem) issues.push({ path, message: problem });
    });
    if (store.consent) {
      issues.push({
        path: ['consent'],
        message: 'consent records are DynamoDB attributes; remove consent from this S3 store',
      });
    }
    if (store.restrict && store.restrict.tag === undefined && store.restrict.lines === undefined) {
      issues.push({
        path: ['restrict'],
        message:
          lineFields.length > 0
            ? "an S3 store restricts JSON-lines lines by lethe's own record: restrict: { lines: true }"
            : 'an S3 store marks restricted objects with an object tag: restrict: { tag: lethe-restricted }',
      });
    }
    if (store.restrict?.lines && lineFields.length === 0) {
      issues.push({
        path: ['restrict', 'lines'],
        message: 'the store has no JSON-lines rule: its objects are restricted by tag; remove lines',
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
    const problem = identityIssue(identityTypeOfAttribute(store, attribute), attribute, dataMap);
    if (problem) issues.push({ path, message: problem });
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
    if (store.restrict.lines !== undefined) {
      issues.push({
        path: ['restrict', 'lines'],
        message: 'DynamoDB items are marked one by one; use attribute instead',
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

/** Every field some store declares rectifiable (DynamoDB attributes, JSON-lines fields), with where and what it holds. */
export function rectifiableFields(dataMap: Pick<DataMap, 'stores'>): Map<string, RectifiableField> {
  const fields = new Map<string, RectifiableField>();
  for (const store of dataMap.stores) {
    if (!store.rectify) continue;
    for (const attribute of store.rectify.attributes) {
      const entry = fields.get(attribute) ?? { stores: [] };
      entry.stores.push(store.id);
      const identity =
        store.kind === 'dynamodb'
          ? identityTypeOfAttribute(store, attribute)
          : identityTypeOfField(store, attribute);
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
