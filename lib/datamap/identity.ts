import { isIPv4, isIPv6 } from 'node:net';
import type { DataMap, IdentitySpelling, IdentityType } from './schema';

/**
 * One identity of a data subject: its declared type and its normalised value, which is what the
 * identity is (compared, de-duplicated and hashed by), and the other spellings it is located by.
 */
export interface Identity {
  type: string;
  value: string;
  /**
   * Other spellings of the same value: as submitted, as a linked record stores it, and the forms
   * the identity type declares. Each normalises to `value`; none equals it. Stores that keep
   * values as people typed them match only the exact spelling. Identifiers, like `value`.
   */
  spellings?: string[];
}

/**
 * Raised for an identity that cannot be normalised. The message names the identity type
 * and the expected form but never echoes the value: identities must not reach logs.
 */
export class InvalidIdentityError extends Error {
  override readonly name = 'InvalidIdentityError';
  constructor(
    readonly identityType: string,
    readonly reason: string,
  ) {
    super(`${identityType} identity is invalid: ${reason}`);
  }
}

const MAX_IDENTITY_LENGTH = 1024;
/**
 * RFC 5321 addresses in printable ASCII: a dot-atom local part (letters, digits and
 * ! # $ % & ' * + - / = ? ^ _ ` { | } ~, dots between atoms) and a domain of dot-separated
 * labels of letters, digits and hyphens, with at least one dot. Quoted local parts and address
 * literals are refused: no real sign-up form produces them, and `<`, `>`, `;`, `(`, `)` or a
 * space in an identity is far more often an injection than an address.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const ASCII_EMAIL = new RegExp(
  `^${ATEXT}(?:\\.${ATEXT})*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`,
);
const E164_PATTERN = /^\+[1-9]\d{6,14}$/;
const PHONE_SEPARATORS = /[\s\-().\u00a0]/g;
/** Internationalised addresses (RFC 6531): the same shape with any letters or digits beyond ASCII. */
const UNICODE_ATEXT = "[\\p{L}\\p{N}\\p{M}!#$%&'*+/=?^_`{|}~-]+";
const UNICODE_LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}\\p{M}-]*[\\p{L}\\p{N}\\p{M}])?';
const INTERNATIONAL_EMAIL = new RegExp(
  `^${UNICODE_ATEXT}(?:\\.${UNICODE_ATEXT})*@${UNICODE_LABEL}(?:\\.${UNICODE_LABEL})+$`,
  'u',
);
/**
 * Characters no identity may hold: controls (NUL, ESC, …), format characters (zero-width space
 * and joiners, right-to-left and other direction marks, the BOM), line and paragraph separators
 * and private-use or unpaired surrogate code points. They are invisible or reorder text on a
 * screen, so a value holding one is not the value staff read.
 */
const FORBIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;

function refuseInvisible(type: string, value: string): void {
  if (FORBIDDEN_CHARACTERS.test(value)) {
    throw new InvalidIdentityError(
      type,
      'the value contains control, format or invisible characters (zero-width, direction marks); type it again by hand',
    );
  }
}

/**
 * Refuses compatibility characters (the Kelvin sign, full-width letters, ligatures): each looks
 * like, or lower-cases to, an ordinary letter, so `\u212A` would reach the subject whose address
 * has a `k`. A person's own identifier never needs them.
 */
function refuseLookalikes(type: string, value: string): void {
  // Per character: a decomposed letter (u + combining diaeresis) is fine, a singleton such as the
  // Kelvin sign (which even NFC turns into K) or a full-width letter is not.
  if ([...value].some((character) => character.normalize('NFKC') !== character)) {
    throw new InvalidIdentityError(
      type,
      'the value contains look-alike (compatibility) characters such as the Kelvin sign or full-width letters; use the plain letters',
    );
  }
}

function normaliseEmail(type: string, declaration: IdentityType, raw: string): string {
  const trimmed = raw.trim();
  refuseInvisible(type, trimmed);
  if (!declaration.internationalised) {
    // Checked before lower-casing: lower-casing could turn a non-ASCII letter into an ASCII one.
    if (trimmed.length > 254 || !ASCII_EMAIL.test(trimmed)) {
      throw new InvalidIdentityError(
        type,
        'expected an address such as name@example.com, in plain ASCII letters, digits and . _ + - (internationalised addresses need internationalised: true in the data map)',
      );
    }
    return trimmed.toLowerCase();
  }
  refuseLookalikes(type, trimmed);
  const value = trimmed.normalize('NFC').toLowerCase();
  if (value.length > 254 || !INTERNATIONAL_EMAIL.test(value)) {
    throw new InvalidIdentityError(type, 'expected an address such as name@example.com');
  }
  return value;
}

/** "+49 (0)30 …": the trunk prefix some write in brackets after the country code, never dialled from abroad. */
const BRACKETED_TRUNK = /^(\+|00)(\d{1,3})\s*\(0\)/;

function normaliseE164(type: string, declaration: IdentityType, raw: string): string {
  const trimmed = raw.trim();
  refuseInvisible(type, trimmed);
  let value = trimmed.replace(BRACKETED_TRUNK, '$1$2').replace(PHONE_SEPARATORS, '');
  if (value.startsWith('00')) value = `+${value.slice(2)}`;
  const country = declaration.defaultCountryCode;
  const trunk = declaration.trunkPrefix ?? '0';
  if (!value.startsWith('+') && country !== undefined && value.startsWith(trunk)) {
    // A national number ("030 1234567") of the country the data map names: +49 30 1234567.
    value = `+${country}${value.slice(trunk.length)}`;
  }
  if (!value.startsWith('+')) {
    throw new InvalidIdentityError(
      type,
      'include the country code in E.164 form, e.g. +4930123456 (or set defaultCountryCode for national numbers in the data map)',
    );
  }
  if (!E164_PATTERN.test(value)) {
    throw new InvalidIdentityError(type, 'expected E.164: + then 7 to 15 digits, e.g. +4930123456');
  }
  return value;
}

function normaliseIpAddress(type: string, raw: string): string {
  const value = raw.trim();
  if (isIPv4(value)) {
    // node accepts no leading zeros in v4, so the dotted form is already canonical
    return value;
  }
  if (isIPv6(value) && !value.includes('%')) {
    // The WHATWG URL parser serialises IPv6 canonically: lowercase, leading zeros dropped,
    // the longest run of zero groups compressed. The same address always yields the same string.
    return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  }
  throw new InvalidIdentityError(type, 'expected an IPv4 (203.0.113.7) or IPv6 (2001:db8::1) address');
}

function normaliseOpaque(type: string, declaration: IdentityType, raw: string): string {
  const trimmed = raw.trim();
  if (trimmed.length === 0) throw new InvalidIdentityError(type, 'the value is empty');
  refuseInvisible(type, trimmed);
  refuseLookalikes(type, trimmed);
  return declaration.caseSensitive ? trimmed : trimmed.toLowerCase();
}

function declarationOf(dataMap: Pick<DataMap, 'identityTypes'>, type: string): IdentityType {
  // Own properties only: "constructor" or "toString" must not resolve to Object.prototype members.
  const declaration = Object.hasOwn(dataMap.identityTypes, type) ? dataMap.identityTypes[type] : undefined;
  if (!declaration) {
    const known = Object.keys(dataMap.identityTypes).join(', ');
    throw new InvalidIdentityError(type, `unknown identity type; the data map declares: ${known}`);
  }
  return declaration;
}

/** The spellings a type locates by when the data map names none. */
export const DEFAULT_SPELLINGS: readonly IdentitySpelling[] = ['as-given', 'trimmed'];

/**
 * Normalises and validates one identity value as its type is declared in the data map, and keeps
 * the spellings the type locates by (default: the value as given and trimmed, when they differ
 * from the normalised value; see {@link IdentitySpelling}). Normalisation is idempotent:
 * normalising a normalised value returns it unchanged.
 * @throws InvalidIdentityError naming the type and the expected form (never the value)
 */
export function normaliseIdentity(
  dataMap: Pick<DataMap, 'identityTypes'>,
  type: string,
  raw: string,
): Identity {
  const declaration = declarationOf(dataMap, type);
  const value = normaliseValue(type, declaration, raw);
  const forms = declaration.spellings ?? DEFAULT_SPELLINGS;
  const candidates = forms.map((form) => spelledAs(form, raw, value));
  const spellings = distinctSpellings(
    value,
    // Upper-casing can change more than case ("ß" becomes "SS"): a form that no longer normalises
    // to the value is another identity, and locating by it could find someone else. (The value as
    // given and trimmed always normalise to it: every normaliser trims first.)
    candidates.filter((candidate) => sameValue(type, declaration, candidate, value)),
  );
  return spellings.length > 0 ? { type, value, spellings } : { type, value };
}

/** One declared form of a value given as `raw` and normalised to `value`. */
function spelledAs(form: IdentitySpelling, raw: string, value: string): string {
  switch (form) {
    case 'as-given':
      return raw;
    case 'trimmed':
      return raw.trim();
    case 'upper':
      return value.toUpperCase();
  }
}

function sameValue(type: string, declaration: IdentityType, spelling: string, value: string): boolean {
  if (spelling === value) return true;
  try {
    return normaliseValue(type, declaration, spelling) === value;
  } catch (error) {
    if (error instanceof InvalidIdentityError) return false;
    throw error;
  }
}

/** The candidates that differ from the value, each once, in order. */
function distinctSpellings(value: string, candidates: Iterable<string>): string[] {
  const seen = new Set([value]);
  const result: string[] = [];
  for (const candidate of candidates) {
    if (seen.has(candidate)) continue;
    seen.add(candidate);
    result.push(candidate);
  }
  return result;
}

/**
 * Normalises an identity that may already carry spellings (a stored request, a hand-written
 * seed): its value and every spelling are normalised, and the result holds the normalised value
 * with their spellings, as the type declares them (the spellings carried in count as given).
 * @throws InvalidIdentityError when the value or a spelling is invalid, or a spelling normalises to
 *   another value (it would be another identity, and locating by it could find someone else)
 */
export function normaliseSpelledIdentity(
  dataMap: Pick<DataMap, 'identityTypes'>,
  identity: Identity,
): Identity {
  const normalised = normaliseIdentity(dataMap, identity.type, identity.value);
  const spellings = (identity.spellings ?? []).map((spelling) => {
    const other = normaliseIdentity(dataMap, identity.type, spelling);
    if (other.value !== normalised.value) {
      throw new InvalidIdentityError(identity.type, 'a spelling of the identity normalises to another value');
    }
    return other;
  });
  // Spellings carried in are forms as given: kept where the type keeps those, and first, in the
  // order they came, so normalising a normalised identity changes nothing.
  const keepsGiven = (declarationOf(dataMap, identity.type).spellings ?? DEFAULT_SPELLINGS).includes(
    'as-given',
  );
  const given = keepsGiven
    ? [{ ...normalised, spellings: [identity.value, ...(identity.spellings ?? [])] }]
    : [];
  return mergeIdentities([...given, normalised, ...spellings])[0] ?? normalised;
}

/** The value an identity is located by first, then its other spellings, each once. */
export function spellingsOf(identity: Identity): string[] {
  return [identity.value, ...distinctSpellings(identity.value, identity.spellings ?? [])];
}

/**
 * The union of lists of identities: each identity (type and normalised value) once, in the order
 * first seen, with every spelling any list gave it. New objects; the inputs are not changed.
 */
export function mergeIdentities(...lists: readonly (readonly Identity[] | undefined)[]): Identity[] {
  const merged = new Map<string, { type: string; value: string; spellings: string[] }>();
  for (const list of lists) {
    for (const identity of list ?? []) {
      const id = identityKey(identity);
      const known = merged.get(id);
      if (!known) {
        merged.set(id, {
          type: identity.type,
          value: identity.value,
          spellings: distinctSpellings(identity.value, identity.spellings ?? []),
        });
        continue;
      }
      known.spellings = distinctSpellings(known.value, [...known.spellings, ...(identity.spellings ?? [])]);
    }
  }
  return [...merged.values()].map(({ type, value, spellings }) =>
    spellings.length > 0 ? { type, value, spellings } : { type, value },
  );
}

/** Normalises a raw value as the type's declaration says, or throws. */
function normaliseValue(type: string, declaration: IdentityType, raw: string): string {
  if (typeof raw !== 'string') throw new InvalidIdentityError(type, 'the value must be a string');
  if (raw.length > MAX_IDENTITY_LENGTH) {
    throw new InvalidIdentityError(type, `longer than ${MAX_IDENTITY_LENGTH} characters`);
  }
  let value: string;
  switch (declaration.normalise) {
    case 'email':
      value = normaliseEmail(type, declaration, raw);
      break;
    case 'e164':
      value = normaliseE164(type, declaration, raw);
      break;
    case 'ipAddress':
      value = normaliseIpAddress(type, raw);
      break;
    case 'opaque':
      value = normaliseOpaque(type, declaration, raw);
      break;
  }
  if (declaration.pattern !== undefined && !new RegExp(`^(?:${declaration.pattern})$`).test(value)) {
    throw new InvalidIdentityError(type, `does not match the declared pattern ${declaration.pattern}`);
  }
  return value;
}

/**
 * Parses a `TYPE=VALUE` argument (as given to `--subject`) into a normalised identity.
 * @throws InvalidIdentityError when the form or the value is wrong
 */
export function parseIdentityArgument(dataMap: Pick<DataMap, 'identityTypes'>, argument: string): Identity {
  const separator = argument.indexOf('=');
  if (separator <= 0) {
    throw new InvalidIdentityError('subject', 'expected TYPE=VALUE, e.g. --subject email=ada@example.com');
  }
  return normaliseIdentity(dataMap, argument.slice(0, separator).trim(), argument.slice(separator + 1));
}

/** A stable string key for an identity, for de-duplicating sets of identities. */
export function identityKey(identity: Identity): string {
  return `${identity.type}\u0000${identity.value}`;
}
