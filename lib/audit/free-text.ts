import { identifierIn } from '../log';

/**
 * Free text that staff type (hold reasons, request notes) goes into the hash-chained audit log,
 * where nothing can be edited out later: it is checked before anything is written.
 */

/** The longest free text kept: enough for a sentence and a case number, not for a pasted document. */
export const MAX_FREE_TEXT_LENGTH = 1_000;

/** Free text that cannot be kept as given: too long, or holding an identifier. The value is never echoed. */
export class InvalidFreeTextError extends Error {
  override readonly name = 'InvalidFreeTextError';
}

/** An identity as the request record or the data map holds it, with the spellings it is stored under when known. */
export type KnownIdentifier = string | { value: string; spellings?: readonly string[] };

/** The raw values (and known spellings) of identities, to search or redact text by. */
export function identifierValues(identities: readonly KnownIdentifier[]): string[] {
  return identities.flatMap((identity) =>
    typeof identity === 'string' ? [identity] : [identity.value, ...(identity.spellings ?? [])],
  );
}

/** The raw identities (and spellings) a request record holds while it is in flight: what its errors and history are redacted by. */
export function requestIdentifierValues(record: {
  subject?: readonly KnownIdentifier[];
  identities?: readonly KnownIdentifier[];
}): string[] {
  return identifierValues([...(record.subject ?? []), ...(record.identities ?? [])]);
}

/**
 * Refuses free text that is too long or holds an identifier: one of `identities` (every resolved
 * identity of the subject, or the values of a record key) in any spelling (any case, a phone number
 * with or without separators and country code), or anything shaped like an email address or an
 * international phone number.
 * @param field how staff know the field, for the message, e.g. `the reason (--reason)`
 * @throws InvalidFreeTextError naming the field and the fix, never the value
 */
export function assertNoIdentifiers(
  text: string,
  identities: readonly KnownIdentifier[],
  field: string,
): void {
  if (text.length > MAX_FREE_TEXT_LENGTH) {
    throw new InvalidFreeTextError(
      `${field} is ${text.length} characters long; keep it to ${MAX_FREE_TEXT_LENGTH} and refer to a case or ticket for the rest`,
    );
  }
  const found = identifierIn(text, identifierValues(identities));
  if (found === undefined) return;
  const what =
    found === 'known'
      ? "one of the subject's identifiers (in some spelling)"
      : found === 'email'
        ? 'an email address'
        : 'a phone number';
  throw new InvalidFreeTextError(
    `${field} holds ${what}; it is kept in the audit log for good, so refer to a case or ticket instead, e.g. "Litigation hold, case 2026-0042"`,
  );
}
