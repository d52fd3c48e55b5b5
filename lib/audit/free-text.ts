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

/**
 * Control characters (line breaks, tabs, ESC, which starts a terminal escape sequence), format
 * characters (zero-width, direction marks) and line or paragraph separators: text kept in the
 * audit log and shown to staff later holds none, so it reads on a screen as it was written.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The longest name of who acted (`--by`, `--verified-by`): a person or a team, not a text. */
export const MAX_ACTOR_LENGTH = 200;

/**
 * Who acted on a request or hold, as the audit log keeps it: trimmed, 1 to 200 characters of
 * plain text on one line.
 * @param field how staff know the field, for the message, e.g. `--by`
 * @throws InvalidFreeTextError naming the field and the fix, never the value
 */
export function checkActorName(name: string, field: string): string {
  const text = (name ?? '').trim();
  if (text.length === 0)
    throw new InvalidFreeTextError(`${field} is empty; say who acts, e.g. ${field} "J. Doe"`);
  if (text.length > MAX_ACTOR_LENGTH) {
    throw new InvalidFreeTextError(
      `${field} is ${text.length} characters long; a name or team is at most ${MAX_ACTOR_LENGTH}, e.g. ${field} "J. Doe"`,
    );
  }
  if (INVISIBLE.test(text)) {
    throw new InvalidFreeTextError(
      `${field} holds a line break, tab, escape sequence or invisible character; type the name as plain text, e.g. ${field} "J. Doe"`,
    );
  }
  return text;
}

/** An identity as the request record or the data map holds it, with the spellings it is stored under when known. */
export type KnownIdentifier = string | { value: string; spellings?: readonly string[] };

/** The raw values (and known spellings) of identities, to search or redact text by. */
export function identifierValues(identities: readonly KnownIdentifier[]): string[] {
  return identities.flatMap((identity) =>
    typeof identity === 'string' ? [identity] : [identity.value, ...(identity.spellings ?? [])],
  );
}

/**
 * The raw identities (and spellings) a request record holds while it is in flight, and the text
 * values a rectification sets (personal data too): what its errors and history are redacted by.
 */
export function requestIdentifierValues(record: {
  subject?: readonly KnownIdentifier[];
  identities?: readonly KnownIdentifier[];
  corrections?: Readonly<Record<string, unknown>>;
}): string[] {
  const corrected = Object.values(record.corrections ?? {}).filter(
    (value): value is string => typeof value === 'string' && value.trim().length > 0,
  );
  return [...identifierValues([...(record.subject ?? []), ...(record.identities ?? [])]), ...corrected];
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
  if (INVISIBLE.test(text)) {
    throw new InvalidFreeTextError(
      `${field} holds a line break, tab, escape sequence or invisible character; write it as one line of plain text`,
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
