import { createHmac } from 'node:crypto';
import type { Identity } from '../datamap/identity';

/**
 * A keyed hash of one identity: the only form in which a subject appears in audit events
 * and in a request record after completion. Keyed (HMAC-SHA-256) rather than a plain hash,
 * because emails and phone numbers are few enough to be found again by hashing guesses.
 */
export function subjectHash(key: Buffer, identity: Identity): string {
  return `hs256:${createHmac('sha256', key).update(identity.type).update('\u0000').update(identity.value).digest('hex')}`;
}

/** Keyed hashes of identities, sorted so the same subject always yields the same list. */
export function hashIdentities(key: Buffer, identities: readonly Identity[]): string[] {
  return [...new Set(identities.map((identity) => subjectHash(key, identity)))].sort();
}
