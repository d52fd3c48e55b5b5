import type { FieldClass, FieldProfile } from './profile';
import { IDENTITY_CLASSES } from './profile';

/**
 * Which identity type each identity field holds. Email, phone and the like are one type each
 * however they are spelt; opaque ids (customer ids, user ids) are one type per name, and fields
 * under different names whose values meet (`cust_ref` holding customer ids) are the same type.
 */

/** A field somewhere: a table attribute, a JSON-lines field, the per-subject segment of keys. */
export interface LocatedField {
  store: string;
  profile: FieldProfile;
  /** The identity type it was assigned, when it holds one. */
  identity?: string;
}

const CLASS_TYPES: Partial<Record<FieldClass, string>> = {
  email: 'email',
  phone: 'phone',
  'cookie-id': 'cookieId',
  'device-id': 'deviceId',
  imei: 'imei',
  'ip-address': 'ipAddress',
};

/** camelCase of a name's words: "customer_ids" -> "customerIds", "Member-No" -> "memberNo". */
export function camelCase(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
  const [first = 'subject', ...rest] = words;
  const joined = first + rest.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  return /^[a-z]/.test(joined) ? joined : `id${joined.charAt(0).toUpperCase()}${joined.slice(1)}`;
}

/** The singular of a plural field name, as far as names go: "userIds" -> "userId", "cvs" -> "cv". */
export function singular(name: string): string {
  if (/ies$/.test(name)) return `${name.slice(0, -3)}y`;
  if (/(ss|us)$/.test(name)) return name;
  return name.replace(/s$/, '');
}

/** The identity type name a field of an opaque id class would get from its own name. */
export function opaqueTypeName(fieldName: string): string {
  let name = camelCase(singular(fieldName));
  if (!/(Id|No|Number|Key|Ref)$/.test(name)) name = `${name}Id`;
  return name.replace(/(Key|Ref|No|Number)$/, 'Id').replace(/^(cust)Id$/, 'customerId');
}

/** Values two fields share, in comparable form. */
export function overlap(a: FieldProfile, b: FieldProfile): number {
  const [small, large] = a.comparable.size <= b.comparable.size ? [a, b] : [b, a];
  let shared = 0;
  for (const value of small.comparable) if (large.comparable.has(value)) shared += 1;
  return shared;
}

/** Enough shared values to say two fields hold the same ids: two, or all of a field with one. */
const meets = (a: FieldProfile, b: FieldProfile) => {
  const shared = overlap(a, b);
  return shared >= 2 || (shared >= 1 && Math.min(a.comparable.size, b.comparable.size) === 1);
};

/**
 * Assigns identity types to fields in place. Opaque id types that meet (shared values) are
 * merged under the name most fields use; id fields nobody named a subject's take the type of an
 * identity field they share values with.
 */
export function assignIdentityTypes(fields: LocatedField[]): void {
  for (const field of fields) {
    const cls = field.profile.classification.class;
    if (!IDENTITY_CLASSES.includes(cls)) continue;
    field.identity = CLASS_TYPES[cls] ?? opaqueTypeName(field.profile.name);
  }
  const opaque = fields.filter(
    (field) =>
      field.identity !== undefined &&
      ['subject-id', 'cookie-id', 'device-id'].includes(field.profile.classification.class),
  );
  // Merge opaque types whose fields meet: the type with more fields gives its name.
  for (const a of opaque) {
    for (const b of opaque) {
      if (a === b || a.identity === b.identity || !meets(a.profile, b.profile)) continue;
      const count = (type: string | undefined) => opaque.filter((field) => field.identity === type).length;
      const [keep, drop] =
        count(a.identity) >= count(b.identity) ? [a.identity, b.identity] : [b.identity, a.identity];
      for (const field of opaque) if (field.identity === drop) field.identity = keep;
    }
  }
  // An unnamed id that meets an identity field is that identity: a link nobody labelled.
  for (const field of fields) {
    if (field.identity !== undefined || !['id', 'other'].includes(field.profile.classification.class))
      continue;
    const shapes = field.profile.shapes;
    const idLike = (shapes['opaque-id'] ?? 0) + (shapes.uuid ?? 0) >= field.profile.values * 0.6;
    if (!idLike) continue;
    const met = opaque.find((other) => other.store !== field.store && meets(field.profile, other.profile));
    if (met?.identity) {
      field.identity = met.identity;
      field.profile.classification = {
        class: met.profile.classification.class,
        confidence: 0.7,
        basis: 'values',
      };
    }
  }
}

/** Country calling codes of two digits; others are one digit (1, 7) or three. */
const TWO_DIGIT_CODES = new Set([
  20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60,
  61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
]);

function countryCode(international: string): string | undefined {
  const digits = international.replace(/[^\d+]/g, '').replace(/^(\+|00)/, '');
  if (digits.length < 7) return undefined;
  if (digits.startsWith('1') || digits.startsWith('7')) return digits.slice(0, 1);
  const two = digits.slice(0, 2);
  return TWO_DIGIT_CODES.has(Number(two)) ? two : digits.slice(0, 3);
}

/**
 * The country calling code of the national numbers in phone fields: the code of international
 * numbers that end in a national number's digits (one person's number spelt both ways in
 * different places), else the code most international numbers carry. Undefined when no field
 * holds national numbers.
 */
export function likelyCountryCode(phoneFields: readonly FieldProfile[]): string | undefined {
  if (!phoneFields.some((field) => (field.shapes['phone-national'] ?? 0) > 0)) return undefined;
  const digitsOf = (value: string) => value.replace(/\D/g, '');
  const international: string[] = [];
  const national: string[] = [];
  for (const field of phoneFields) {
    for (const value of field.comparable) {
      if (/^(\+|00)/.test(value)) international.push(digitsOf(value).replace(/^00/, ''));
      else if (/^0[1-9]/.test(digitsOf(value))) national.push(digitsOf(value).slice(1));
    }
  }
  const vote = (counts: Map<string, number>, code: string | undefined) => {
    if (code) counts.set(code, (counts.get(code) ?? 0) + 1);
  };
  const matched = new Map<string, number>();
  const nationalSet = new Set(national);
  for (const number of international) {
    const code = countryCode(`+${number}`);
    if (code && nationalSet.has(number.slice(code.length))) vote(matched, code);
  }
  const common = new Map<string, number>();
  for (const number of international) vote(common, countryCode(`+${number}`));
  const best = (counts: Map<string, number>) => [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return best(matched) ?? best(common);
}

/**
 * A pattern the opaque ids of a type follow, for a person to confirm: a literal prefix every
 * value shares (when at least five values share it), then the characters and length seen.
 */
export function idPattern(fields: readonly FieldProfile[]): string | undefined {
  const values = [...new Set(fields.flatMap((field) => field.raw))];
  if (values.length < 5) return undefined;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (values.every((value) => uuid.test(value))) return '[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}';
  const prefix = /^([A-Za-z]{1,8}[-_])/.exec(values[0] ?? '')?.[1];
  const shared = prefix && values.every((value) => value.startsWith(prefix)) ? prefix : '';
  const rests = values.map((value) => value.slice(shared.length));
  const all = rests.join('');
  const charsets = ['0-9', '0-9a-f', '0-9A-F', '0-9a-z', '0-9A-Z', '0-9A-Za-z', '0-9A-Za-z_-'];
  const charset = charsets.find((set) => new RegExp(`^[${set}]*$`).test(all));
  if (!charset) return undefined;
  const lengths = rests.map((rest) => rest.length);
  const [min, max] = [Math.min(...lengths), Math.max(...lengths)];
  return `${shared}[${charset}]{${min === max ? min : `${min},${max}`}}`;
}
