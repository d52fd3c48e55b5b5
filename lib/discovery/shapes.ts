import { isIPv4, isIPv6 } from 'node:net';

/**
 * The shape of one value, read from the value alone: what discovery calls a value it saw. Only
 * shapes and counts leave discovery; the values themselves never do.
 */
export type ValueShape =
  | 'email'
  | 'phone-e164'
  | 'phone-international'
  | 'phone-national'
  | 'ip-address'
  | 'uuid'
  | 'imei'
  | 'timestamp'
  | 'name'
  | 'free-text'
  | 'opaque-id'
  | 'text'
  | 'number'
  | 'boolean'
  | 'map'
  | 'binary'
  | 'empty';

const LOOSE_EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const COMPACT_TIME = /^\d{8}T\d{6}Z?$/;
const PHONE_SEPARATORS = /[\s\-()./\u00a0]/g;
/** One to four capitalised words of letters: "Ada Berg", "Jean-Luc O'Neill". */
const PERSON_NAME = /^\p{Lu}[\p{L}\p{M}'’.-]*(?:\s+\p{Lu}[\p{L}\p{M}'’.-]*){1,3}$/u;
const OPAQUE_ID = /^[A-Za-z0-9][A-Za-z0-9_\-:.#]{3,63}$/;

/** True for a 15-digit number whose last digit is its Luhn check digit, as every IMEI's is. */
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The shape of a phone number as written, or undefined when the text is no phone number. */
function phoneShape(text: string): ValueShape | undefined {
  const digits = text.replace(PHONE_SEPARATORS, '');
  const separated = digits !== text;
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return separated ? 'phone-international' : 'phone-e164';
  if (/^00[1-9]\d{6,14}$/.test(digits)) return 'phone-international';
  // A national number: a trunk zero, then the area code and subscriber number. Bare digit runs
  // without separators are only taken for phones when they are as long as phone numbers are.
  if (/^0[1-9]\d{6,12}$/.test(digits) && (separated || digits.length >= 10)) return 'phone-national';
  return undefined;
}

/** The shape of one string value. */
export function shapeOfString(value: string): ValueShape {
  const text = value.trim();
  if (text === '') return 'empty';
  if (LOOSE_EMAIL.test(text)) return 'email';
  if (isIPv4(text) || isIPv6(text)) return 'ip-address';
  if (UUID.test(text)) return 'uuid';
  if (ISO_TIME.test(text) || COMPACT_TIME.test(text)) return 'timestamp';
  if (/^\d{4}(-?\d{2}){0,2}$/.test(text)) return 'timestamp'; // a year, month or day folder
  if (/^\d{15}$/.test(text) && luhnValid(text)) return 'imei';
  const phone = phoneShape(text);
  if (phone) return phone;
  if (PERSON_NAME.test(text)) return 'name';
  const words = text.split(/\s+/).length;
  if (words >= 5 || (words >= 2 && text.length >= 40)) return 'free-text';
  if (/^\d{1,5}$/.test(text)) return 'number';
  if (OPAQUE_ID.test(text) && /\d/.test(text)) return 'opaque-id';
  return 'text';
}

/** The shape of a scalar value as JSON or the DynamoDB document client gives it. */
export function shapeOf(value: unknown): ValueShape {
  if (typeof value === 'string') return shapeOfString(value);
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (value === null || value === undefined) return 'empty';
  if (ArrayBuffer.isView(value)) return 'binary';
  return 'map';
}

/** Whether a value of this shape is already in the form lethe normalises its type to. */
export function isNormalisedForm(shape: ValueShape, value: string): boolean {
  switch (shape) {
    case 'email':
      return value === value.trim().toLowerCase();
    case 'phone-e164':
      return true;
    case 'phone-international':
    case 'phone-national':
      return false;
    case 'ip-address':
      return value === value.trim() && value === value.toLowerCase();
    case 'uuid':
      return value === value.trim().toLowerCase();
    default:
      return value === value.trim();
  }
}

/** Phone shapes, which are one identity type however they are written. */
export const PHONE_SHAPES: readonly ValueShape[] = ['phone-e164', 'phone-international', 'phone-national'];
