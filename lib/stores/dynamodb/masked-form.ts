import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoStore, MaskField } from '../../datamap/schema';

/**
 * The masked form of an attribute: what a mask rule writes, recognised wherever lethe reads the
 * attribute back. Masking leaves a value in this form alone, and a value in this form is no
 * identity: lethe wrote it, and a masked record must not lead back to anyone.
 */

const MASKED_HASH = /^sha256:[0-9a-f]{64}$/;
const MASKED_HMAC = /^hmac:[0-9a-f]{64}$/;

/** Whether an attribute is absent or already holds what `field` writes, so masking it again would change nothing (or hash a hash). */
export function isMaskedValue(field: MaskField, current: AttributeValue | undefined): boolean {
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

/**
 * Whether `attribute` of an item of `store` holds the masked form of the store's mask rule for
 * it. Such a value (`hmac:…` of a masked link, say) reveals no identity: for an `opaque` type
 * without a pattern it would otherwise be a valid identity, and a retry that located the masked
 * record again would take lethe's own pseudonym for one of the subject's identities.
 */
export function holdsMaskedForm(
  store: DynamoStore,
  attribute: string,
  value: AttributeValue | undefined,
): boolean {
  if (value === undefined || store.erase.action !== 'mask') return false;
  const field = store.erase.fields.find((candidate) => candidate.attribute === attribute);
  return field !== undefined && isMaskedValue(field, value);
}
