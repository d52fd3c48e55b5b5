import { isIPv4, isIPv6 } from 'node:net';
import type { DataMap, IdentityType } from './schema';

/** One identity of a data subject: its declared type and its normalised value. */
export interface Identity {
  type: string;
  value: string;
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
// A pragmatic address check: one @, a dot in the domain, no whitespace. Full RFC 5322 is not the goal;
// rejecting obvious typos before a request runs is.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const E164_PATTERN = /^\+[1-9]\d{6,14}$/;
const PHONE_SEPARATORS = /[\s\-().\u00a0]/g;

function normaliseEmail(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (value.length > 254 || !EMAIL_PATTERN.test(value)) {
    throw new InvalidIdentityError('email', 'expected an address such as name@example.com');
  }
  return value;
}

function normaliseE164(type: string, raw: string): string {
  let value = raw.trim().replace(PHONE_SEPARATORS, '');
  if (value.startsWith('00')) value = `+${value.slice(2)}`;
  if (!value.startsWith('+')) {
    throw new InvalidIdentityError(type, 'include the country code in E.164 form, e.g. +4930123456');
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
  let value = raw.trim();
  if (!declaration.caseSensitive) value = value.toLowerCase();
  if (value.length === 0) throw new InvalidIdentityError(type, 'the value is empty');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is rejected
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidIdentityError(type, 'the value contains control characters');
  }
  return value;
}

/**
 * Normalises and validates one identity value as its type is declared in the data map.
 * Normalisation is idempotent: normalising a normalised value returns it unchanged.
 * @throws InvalidIdentityError naming the type and the expected form (never the value)
 */
export function normaliseIdentity(
  dataMap: Pick<DataMap, 'identityTypes'>,
  type: string,
  raw: string,
): Identity {
  // Own properties only: "constructor" or "toString" must not resolve to Object.prototype members.
  const declaration = Object.hasOwn(dataMap.identityTypes, type) ? dataMap.identityTypes[type] : undefined;
  if (!declaration) {
    const known = Object.keys(dataMap.identityTypes).join(', ');
    throw new InvalidIdentityError(type, `unknown identity type; the data map declares: ${known}`);
  }
  if (typeof raw !== 'string') throw new InvalidIdentityError(type, 'the value must be a string');
  if (raw.length > MAX_IDENTITY_LENGTH) {
    throw new InvalidIdentityError(type, `longer than ${MAX_IDENTITY_LENGTH} characters`);
  }
  let value: string;
  switch (declaration.normalise) {
    case 'email':
      value = normaliseEmail(raw);
      break;
    case 'e164':
      value = normaliseE164(type, raw);
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
  return { type, value };
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
