import { assertNoIdentifiers, checkActorName, type KnownIdentifier } from '../audit/free-text';
import { subjectHash } from '../audit/subject-hash';
import { locatePrefixes, sweepPrefixes } from '../datamap/prefixes';
import type { DynamoStore, S3Store, Store } from '../datamap/schema';
import { InvalidHoldError } from './errors';
import type { PlaceRecordHoldInput } from './hold';

export { HOLD_ID_PREFIX } from './hold';

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

/**
 * Who places or releases a hold, trimmed (see checkActorName).
 * @throws InvalidHoldError when empty
 * @throws InvalidFreeTextError when longer than a name or not plain text on one line
 */
export function checkActor(name: string, what: string): string {
  if ((name ?? '').trim().length === 0) {
    throw new InvalidHoldError(`say who ${what} the hold, e.g. --by "legal-team"`);
  }
  return checkActorName(name, '--by');
}

const HOLD_ID = /^hold-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Refuses what cannot be a hold id (every id lethe gives is `hold-` and a UUID) before the
 * table is asked: DynamoDB refuses an empty key or one over 2 KB with a message that says
 * nothing to staff. The message shows at most 80 characters of what was given.
 * @throws InvalidHoldError naming the form of a hold id and where to find one
 */
export function checkHoldId(holdId: string): void {
  if (typeof holdId === 'string' && HOLD_ID.test(holdId)) return;
  const text = String(holdId);
  throw new InvalidHoldError(
    `"${text.slice(0, 80)}${text.length > 80 ? '…' : ''}" is not a hold id: hold ids are "hold-" and a UUID, e.g. hold-3f1c0e6e-8a7b-4c55-9d1e-2b6f0a4c9e21 (see lethe hold list)`,
  );
}

const NUMBER = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** The longest keys the stores take, in UTF-8 bytes: a record with a longer key cannot exist. */
const MAX_PARTITION_KEY_BYTES = 2_048;
const MAX_SORT_KEY_BYTES = 1_024;
const MAX_OBJECT_KEY_BYTES = 1_024;

const tooLong = (value: string, bytes: number): boolean => Buffer.byteLength(value, 'utf8') > bytes;

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
      const limit = attribute === store.keySchema.sortKey ? MAX_SORT_KEY_BYTES : MAX_PARTITION_KEY_BYTES;
      if (tooLong(value, limit)) {
        throw new InvalidHoldError(
          `key attribute "${attribute.name}" of store ${store.id} is longer than any key DynamoDB holds (${limit} bytes)`,
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
  if (tooLong(key, MAX_OBJECT_KEY_BYTES)) {
    throw new InvalidHoldError(
      `the object key is longer than any key S3 holds (${MAX_OBJECT_KEY_BYTES} bytes); give the key of a record in store ${store.id}`,
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
