import { assertNoIdentifiers, type KnownIdentifier } from '../audit/free-text';
import { subjectHash } from '../audit/subject-hash';
import { locatePrefixes, sweepPrefixes } from '../datamap/prefixes';
import type { DynamoStore, S3Store, Store } from '../datamap/schema';
import { InvalidHoldError } from './errors';
import type { PlaceRecordHoldInput } from './hold';

const MIN_REASON_LENGTH = 3;

/**
 * The hold's reason, trimmed. It goes to the audit log and into erasure certificates, so it must not
 * name the subject: it is checked against `identifiers` (every identity of the held subject, or the
 * values of the held key) in their common spellings, before anything is written.
 * @throws InvalidHoldError when it is too short
 * @throws InvalidFreeTextError when it is too long or holds an identifier
 */
export function checkReason(reason: string, identifiers: readonly KnownIdentifier[]): string {
  const text = (reason ?? '').trim();
  if (text.length < MIN_REASON_LENGTH) {
    throw new InvalidHoldError(
      'give the reason for the hold, e.g. --reason "Litigation hold, case 2026-0042"',
    );
  }
  assertNoIdentifiers(text, identifiers, 'the reason (--reason)');
  return text;
}

const MAX_ACTOR_LENGTH = 200;

/** Who places or releases a hold, trimmed. @throws InvalidHoldError when empty or longer than a name */
export function checkActor(name: string, what: string): string {
  const text = (name ?? '').trim();
  if (text.length === 0) throw new InvalidHoldError(`say who ${what} the hold, e.g. --by "legal-team"`);
  if (text.length > MAX_ACTOR_LENGTH) {
    throw new InvalidHoldError(
      `say who ${what} the hold in at most ${MAX_ACTOR_LENGTH} characters, e.g. --by "legal-team"`,
    );
  }
  return text;
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** A DynamoDB record key in key-schema order, and its values (which the reason must not repeat). */
export function canonicalDynamoKey(
  store: DynamoStore,
  key: PlaceRecordHoldInput['key'],
): { recordKey: string; values: string[] } {
  const names = [store.keySchema.partitionKey, store.keySchema.sortKey].filter(
    (attribute) => attribute !== undefined,
  );
  const example = `{${names.map((attribute) => `"${attribute.name}":${attribute.type === 'N' ? '123' : '"…"'}`).join(',')}}`;
  let parsed: unknown = key;
  if (typeof key === 'string') {
    try {
      parsed = JSON.parse(key);
    } catch {
      throw new InvalidHoldError(`the key of a record in store ${store.id} is JSON such as ${example}`);
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidHoldError(
      `the key of a record in store ${store.id} is a JSON object such as ${example}`,
    );
  }
  const given = parsed as Record<string, unknown>;
  const extra = Object.keys(given).filter((name) => !names.some((attribute) => attribute.name === name));
  if (extra.length > 0) {
    throw new InvalidHoldError(
      `store ${store.id} is keyed by ${names.map((attribute) => attribute.name).join(' and ')} only; remove ${extra.join(', ')} from the key`,
    );
  }
  const canonical: Record<string, string | number> = {};
  for (const attribute of names) {
    const value = Object.hasOwn(given, attribute.name) ? given[attribute.name] : undefined;
    if (attribute.type === 'N') {
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
      if (!NUMBER.test(text) || !Number.isFinite(Number(text))) {
        throw new InvalidHoldError(
          `key attribute "${attribute.name}" of store ${store.id} is a number, e.g. ${example}`,
        );
      }
      canonical[attribute.name] = Number(text);
    } else {
      if (typeof value !== 'string' || value.length === 0) {
        throw new InvalidHoldError(
          `key attribute "${attribute.name}" of store ${store.id} is a ${attribute.type === 'B' ? 'base64 ' : ''}string, e.g. ${example}`,
        );
      }
      canonical[attribute.name] = value;
    }
  }
  return { recordKey: JSON.stringify(canonical), values: Object.values(canonical).map(String) };
}

/** An S3 object key checked against the store's prefixes, and its path segments. */
export function canonicalObjectKey(
  store: S3Store,
  key: PlaceRecordHoldInput['key'],
): { recordKey: string; values: string[] } {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidHoldError(
      `the key of a record in store ${store.id} is the object key, e.g. "${locatePrefixes(store)[0] ?? ''}…"`,
    );
  }
  const prefixes = [...new Set([...locatePrefixes(store), ...sweepPrefixes(store)])];
  if (!prefixes.some((prefix) => key.startsWith(prefix))) {
    throw new InvalidHoldError(
      `the object key is under none of store ${store.id}'s prefixes (${prefixes.map((prefix) => `"${prefix}"`).join(', ')})`,
    );
  }
  return { recordKey: key, values: key.split('/').filter((part) => part.length > 0) };
}

/** The canonical record key of a hold on one record of `store` (see LegalHold.recordKey). */
export function canonicalRecordKey(store: Store, key: PlaceRecordHoldInput['key']): string {
  return (store.kind === 'dynamodb' ? canonicalDynamoKey(store, key) : canonicalObjectKey(store, key))
    .recordKey;
}

/** The keyed hash a record hold is named by in the audit log. */
export function recordHash(key: Buffer, storeId: string, recordKey: string): string {
  return subjectHash(key, { type: `record:${storeId}`, value: recordKey });
}
