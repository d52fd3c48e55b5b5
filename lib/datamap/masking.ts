import { InvalidIdentityError, normaliseIdentity } from './identity';
import type { DataMap, DynamoStore, Exemption, KeyAttribute, MaskField } from './schema';

/**
 * Erasure by masking: which mask rules can be applied and confirmed, and what a masked record
 * keeps. The loader refuses what could never work, so a request never fails half-way on it; the
 * erasure certificate names what stays.
 */

/** DynamoDB's size limits for key values: 2,048 bytes for a partition key, 1,024 for a sort key. */
const KEY_BYTES = { partition: 2048, sort: 1024 } as const;

/** The table's key attributes and their role. */
function tableKeys(store: DynamoStore): { key: KeyAttribute; role: 'partition' | 'sort' }[] {
  const { partitionKey, sortKey } = store.keySchema;
  return [
    { key: partitionKey, role: 'partition' as const },
    ...(sortKey ? [{ key: sortKey, role: 'sort' as const }] : []),
  ];
}

/**
 * Why DynamoDB would refuse `field`'s replacement for a GSI key attribute, or undefined when it
 * would not: `hash`, `hmac` and `fixed` write a string, which an N or B index key cannot hold, and
 * an index key cannot be empty or longer than the key limit. `remove` always works: the item
 * leaves the (sparse) index.
 */
export function indexKeyMaskProblem(store: DynamoStore, field: MaskField): string | undefined {
  if (field.with === 'remove') return undefined;
  for (const index of store.indexes) {
    for (const [role, key] of [
      ['partition', index.partitionKey],
      ['sort', index.sortKey],
    ] as const) {
      if (key?.name !== field.attribute) continue;
      if (key.type !== 'S') {
        return `with: ${field.with} writes a string, but "${field.attribute}" is the ${role} key of index "${index.name}" of type ${key.type}, so every update would fail; use with: remove (the item leaves the index)`;
      }
      if (field.with === 'fixed') {
        const bytes = Buffer.byteLength(field.value ?? '', 'utf8');
        if (bytes === 0 || bytes > KEY_BYTES[role]) {
          return `"${field.attribute}" is the ${role} key of index "${index.name}", which cannot hold ${bytes === 0 ? 'an empty string' : `more than ${KEY_BYTES[role]} bytes`}, so every update would fail; use a short non-empty value or with: remove`;
        }
      }
    }
  }
  return undefined;
}

/** A key attribute that keeps the subject's value in a masked record, and why. */
export interface RetainedAttribute {
  attribute: string;
  reason: string;
}

/**
 * What a masked record of the store keeps of the subject: the table key attributes that a locate
 * rule or a link reads. DynamoDB cannot change a key in place, so masking leaves them, and the
 * loader makes sure every other such attribute is masked. Empty for stores that do not mask.
 */
export function retainedKeyAttributes(store: DynamoStore): RetainedAttribute[] {
  if (store.erase.action !== 'mask') return [];
  const identifying = new Set([
    ...store.locate.map((rule) => rule.attribute),
    ...store.links.map((link) => link.attribute),
  ]);
  return tableKeys(store)
    .filter(({ key }) => identifying.has(key.name))
    .map(({ key, role }) => ({
      attribute: key.name,
      reason: `${role} key of the table: DynamoDB cannot change a key in place; once masked, the record holds no other attribute that locates or links the subject`,
    }));
}

/** One refusal of a store's mask rules; `path` is relative to the store. */
export interface MaskIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The mask rules of a DynamoDB store that could never be applied or never be confirmed:
 * - a table key attribute is masked (DynamoDB cannot update a key);
 * - one attribute is masked twice (the update would fail, and no value is both masked forms);
 * - an attribute a locate rule or link reads is left unmasked (unless it is a table key): the
 *   masked record would still lead back to the subject;
 * - a replacement a GSI key cannot hold (see {@link indexKeyMaskProblem});
 * - a `fixed` value on an attribute a locate rule or link reads that is itself a valid identity
 *   of that type: every masked record would then hold the same identity, so a request for it
 *   would find all of them, and a link would join everyone's masked records into one subject.
 * - an exemption that the masked form of a record meets (`exists: false` on an attribute masked
 *   with `remove`, `equals` or `in` the value of a `fixed` mask): the records erasure masks would
 *   be called exempt when located again (by a retry, by Confirm's next attempt, by a later
 *   request), and the certificate would claim records were kept that were masked.
 * Empty for stores that do not mask.
 */
export function maskIssues(store: DynamoStore, dataMap: Pick<DataMap, 'identityTypes'>): MaskIssue[] {
  if (store.erase.action !== 'mask') return [];
  const issues: MaskIssue[] = [];
  const fields = store.erase.fields;
  const keyNames = tableKeys(store).map(({ key }) => key.name);
  const reads = [
    ...store.locate.map((rule) => ({ attribute: rule.attribute, identity: rule.identity })),
    ...store.links.map((link) => ({ attribute: link.attribute, identity: link.identity })),
  ];

  const masked = new Set(fields.map((field) => field.attribute));
  for (const attribute of new Set(reads.map((read) => read.attribute))) {
    if (!masked.has(attribute) && !keyNames.includes(attribute)) {
      issues.push({
        path: ['erase', 'fields'],
        message: `"${attribute}" locates or links the subject but is not masked; add { attribute: ${attribute}, with: hmac } (or remove/fixed)`,
      });
    }
  }

  const seen = new Map<string, number>();
  fields.forEach((field, fieldIndex) => {
    const at = ['erase', 'fields', fieldIndex];
    if (keyNames.includes(field.attribute)) {
      issues.push({
        path: [...at, 'attribute'],
        message: `"${field.attribute}" is part of the table key, which DynamoDB cannot change in place; use erase.action: delete, or mask the other fields and accept that the key stays (the erasure certificate names it)`,
      });
      return;
    }
    const first = seen.get(field.attribute);
    if (first !== undefined) {
      issues.push({
        path: [...at, 'attribute'],
        message: `"${field.attribute}" is already masked by erase.fields[${first}]; mask each attribute once`,
      });
      return;
    }
    seen.set(field.attribute, fieldIndex);
    const keyProblem = indexKeyMaskProblem(store, field);
    if (keyProblem) issues.push({ path: [...at, 'with'], message: keyProblem });
    if (field.with !== 'fixed') return;
    for (const identity of new Set(
      reads.filter((read) => read.attribute === field.attribute).map((read) => read.identity),
    )) {
      if (isValidIdentity(dataMap, identity, field.value ?? '')) {
        issues.push({
          path: [...at, 'value'],
          message: `the fixed value is itself a valid ${identity} identity: every masked record would hold the same ${identity}, a request for it would find them all and a link would join them into one subject; use with: hmac or remove, or a value that is not a valid ${identity}`,
        });
      }
    }
  });
  store.exemptions.forEach((exemption, exemptionIndex) => {
    const field =
      exemption.when && fields.find((candidate) => candidate.attribute === exemption.when?.attribute);
    if (!exemption.when || !field || !maskedFormMeets(field, exemption.when)) return;
    issues.push({
      path: ['exemptions', exemptionIndex, 'when'],
      message: `erase masks "${field.attribute}" with ${field.with}, and a record so masked meets this exemption: the records erasure masks would be called exempt when located again; decide the exemption on an attribute the mask leaves alone, or mask "${field.attribute}" another way`,
    });
  });
  return issues;
}

/** Whether an attribute in the masked form of `field` meets an exemption's condition on it. */
function maskedFormMeets(field: MaskField, when: NonNullable<Exemption['when']>): boolean {
  if (field.with === 'remove') return when.exists === false;
  if (field.with !== 'fixed') return false; // hash and hmac write values no exemption names
  const value = field.value ?? '';
  // exists: a masked attribute is present exactly when it was, so the record's exemption stays as it was.
  return when.equals === value || (when.in?.includes(value) ?? false);
}

function isValidIdentity(dataMap: Pick<DataMap, 'identityTypes'>, type: string, value: string): boolean {
  try {
    normaliseIdentity(dataMap, type, value);
    return true;
  } catch (error) {
    if (error instanceof InvalidIdentityError) return false;
    throw error;
  }
}
