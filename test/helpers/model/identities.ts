/**
 * The model's identity rules, written from docs/DATAMAP.md ("identityTypes", "Spellings") and not
 * from lethe's code: how a value normalises, which spellings an identity is located by, and the
 * spellings a generated world stores values in. Only the forms the generator produces need to be
 * right here, but within those the rules follow the documentation word for word.
 */

/** The identity types every generated world declares. */
export const TYPE_NAMES = ['email', 'phone', 'cookie', 'ref', 'acct', 'device'] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

export type SpellingForm = 'as-given' | 'trimmed' | 'upper';

/** An identity type as the generated data map declares it (the subset of fields the worlds use). */
export interface TypeDeclaration {
  normalise: 'email' | 'e164' | 'opaque';
  caseSensitive?: boolean;
  pattern?: string;
  defaultCountryCode?: string;
  spellings?: SpellingForm[];
}

export type Declarations = Record<TypeName, TypeDeclaration>;

/** "a local part of letters, digits and ! # $ … with single dots between them, @, and a domain of at least two labels". */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/**
 * The normalised value of `raw`, or undefined when it is no valid identity of the type
 * (DATAMAP.md, the `normalise` table, and `pattern`: "the normalised value must match as a whole").
 */
export function normalise(declaration: TypeDeclaration, raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 1024) return undefined;
  let value: string | undefined;
  const trimmed = raw.trim();
  switch (declaration.normalise) {
    case 'email':
      // "Trims and lowercases. The value must be an RFC 5321 address in printable ASCII".
      value = trimmed.length <= 254 && EMAIL.test(trimmed) ? trimmed.toLowerCase() : undefined;
      break;
    case 'e164': {
      // "Trims, removes spaces, dashes, dots, parentheses and no-break spaces, turns a leading 00
      // into +, and drops a bracketed trunk prefix after the country code"; national numbers take
      // defaultCountryCode after the trunk prefix ("0" by default) is dropped.
      let digits = trimmed.replace(/^(\+|00)(\d{1,3})\s*\(0\)/, '$1$2').replace(/[\s\-().\u00a0]/g, '');
      if (digits.startsWith('00')) digits = `+${digits.slice(2)}`;
      if (!digits.startsWith('+') && declaration.defaultCountryCode && digits.startsWith('0')) {
        digits = `+${declaration.defaultCountryCode}${digits.slice(1)}`;
      }
      value = /^\+[1-9]\d{6,14}$/.test(digits) ? digits : undefined;
      break;
    }
    case 'opaque':
      // "Trims, and lowercases when caseSensitive: false. Empty values are rejected."
      value =
        trimmed.length === 0
          ? undefined
          : declaration.caseSensitive === false
            ? trimmed.toLowerCase()
            : trimmed;
      break;
  }
  if (value === undefined) return undefined;
  if (declaration.pattern !== undefined && !new RegExp(`^(?:${declaration.pattern})$`).test(value))
    return undefined;
  return value;
}

/**
 * The strings an identity is located by: its value, and for each raw form it is known in (as a
 * request gave it, as a linked record stores it) the forms the type declares, default
 * `[as-given, trimmed]`; `upper` is the normalised value in upper case, dropped when it does not
 * normalise back to the value.
 */
export function spellingsOf(
  declaration: TypeDeclaration,
  value: string,
  raws: Iterable<string>,
): Set<string> {
  const forms = declaration.spellings ?? ['as-given', 'trimmed'];
  const spellings = new Set([value]);
  for (const raw of raws) {
    if (forms.includes('as-given')) spellings.add(raw);
    if (forms.includes('trimmed')) spellings.add(raw.trim());
  }
  if (forms.includes('upper') && normalise(declaration, value.toUpperCase()) === value) {
    spellings.add(value.toUpperCase());
  }
  return spellings;
}

/** How a generated record or request writes a value: each form is a way people or old forms wrote it. */
export const STORED_FORMS = [
  'norm',
  'upper',
  'mixed',
  'spaced',
  'spacedMixed',
  'phoneSpaced',
  'phoneZeros',
  'phoneNational',
] as const;
export type StoredForm = (typeof STORED_FORMS)[number];

/** Every letter at an even position upper-cased, the others lower-cased: no type stores it so. */
function mixedCase(value: string): string {
  let letters = 0;
  return [...value]
    .map((character) => {
      if (!/[A-Za-z]/.test(character)) return character;
      letters += 1;
      return letters % 2 === 1 ? character.toUpperCase() : character.toLowerCase();
    })
    .join('');
}

/** `value` (normalised) written in `form`; forms that do not apply to the type give the value itself. */
export function spell(type: TypeName, value: string, form: StoredForm): string {
  switch (form) {
    case 'norm':
      return value;
    case 'upper':
      return value.toUpperCase();
    case 'mixed':
      return mixedCase(value);
    case 'spaced':
      return `  ${value} `;
    case 'spacedMixed':
      return ` ${mixedCase(value)}  `;
    case 'phoneSpaced':
      // +4930 1000007 → "+49 30 100 0007"
      return type === 'phone'
        ? `${value.slice(0, 3)} ${value.slice(3, 5)} ${value.slice(5, 8)} ${value.slice(8)}`
        : value;
    case 'phoneZeros':
      return type === 'phone' ? `00${value.slice(1)}` : value;
    case 'phoneNational':
      // National form of a German number: only a type with defaultCountryCode "49" reads it.
      return type === 'phone' ? `0${value.slice(3, 5)} ${value.slice(5)}` : value;
  }
}

/** Values that are no identity of any declared type here: link attributes of bad rows hold them. */
export const JUNK_VALUES = ['n/a', 'unknown@', '+0'] as const;
