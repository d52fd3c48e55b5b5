import fc from 'fast-check';
import { type DataMap, InvalidIdentityError, normaliseIdentity, parseDataMap } from '../../../lib/datamap';

/**
 * Identities as an adversary or a careless form would send them: invisible characters,
 * markup, look-alikes. Each must be refused with a reason, never normalised into someone else.
 */
const dataMap: Pick<DataMap, 'identityTypes'> = {
  identityTypes: {
    email: { normalise: 'email', caseSensitive: true },
    intlEmail: { normalise: 'email', caseSensitive: true, internationalised: true },
    accountRef: { normalise: 'opaque', caseSensitive: false },
  },
};

function outcome(type: string, raw: string): string {
  try {
    return `accepted ${normaliseIdentity(dataMap, type, raw).value}`;
  } catch (error) {
    if (error instanceof InvalidIdentityError) return 'refused';
    throw error;
  }
}

describe('email identities refuse what is not an address', () => {
  it.each([
    ['a NUL', 'ada\u0000@example.com'],
    ['an escape sequence', 'ada\u001b[31m@example.com'],
    ['a zero-width space', 'ada\u200b@example.com'],
    ['a zero-width joiner', 'a\u200dda@example.com'],
    ['a right-to-left override', 'ada\u202e@example.com'],
    ['a byte-order mark inside', 'ada\ufeff@example.com'],
    ['angle brackets', '<ada@example.com>'],
    ['a display name', 'Ada <ada@example.com>'],
    ['a semicolon list', 'ada@example.com;bob@example.com'],
    ['a comment', 'ada(comment)@example.com'],
    ['a quoted local part', '"ada lovelace"@example.com'],
    ['a line break', 'ada@example.com\nbcc:eve@example.com'],
    ['the Kelvin sign, which lower-cases to k', 'ma\u212Aer@example.com'],
    ['a non-ASCII letter without internationalised: true', 'jürgen@example.de'],
    ['a dot at the start', '.ada@example.com'],
    ['two dots', 'ada..lovelace@example.com'],
    ['a domain label ending in a hyphen', 'ada@example-.com'],
  ])('refuses %s', (_what, raw) => {
    // act / assess
    expect(outcome('email', raw)).toBe('refused');
  });

  it.each([
    ['" Ada.Lovelace@Example.COM "', ' Ada.Lovelace@Example.COM ', 'ada.lovelace@example.com'],
    ['plus addressing', 'ada+news@example.com', 'ada+news@example.com'],
    ['an apostrophe', "o'brien@example.ie", "o'brien@example.ie"],
  ])('accepts %s', (_what, raw, normalised) => {
    expect(outcome('email', raw)).toBe(`accepted ${normalised}`);
  });

  it('accepts internationalised addresses only where the data map allows them, composed and lower-cased', () => {
    // prepare: "Jürgen" with a combining diaeresis (decomposed), as some keyboards produce it
    const decomposed = 'Ju\u0308rgen@Beispiel.de';

    // act / assess
    expect(outcome('email', decomposed)).toBe('refused');
    expect(outcome('intlEmail', decomposed)).toBe('accepted jürgen@beispiel.de');
    expect(outcome('intlEmail', 'ma\u212Aer@example.com')).toBe('refused');
    expect(outcome('intlEmail', 'ada\u200b@example.com')).toBe('refused');
  });

  it('never accepts an address with anything but printable ASCII (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (raw) => {
        const result = outcome('email', raw);
        if (result === 'refused') return;
        // Whatever is accepted is printable ASCII without space or markup.
        expect(result.slice('accepted '.length)).toMatch(/^[!#-'*+\-/-9=?A-Z^-~.@]+$/);
      }),
    );
  });
});

describe('opaque identities refuse invisible and look-alike characters', () => {
  it.each([
    ['a zero-width space', 'acct-\u200b42'],
    ['a right-to-left mark', 'acct-\u200f42'],
    ['the Kelvin sign', 'acct-\u212A'],
    ['full-width digits', 'acct-\uff14\uff12'],
    ['an escape', 'acct-\u001b42'],
  ])('refuses %s', (_what, raw) => {
    expect(outcome('accountRef', raw)).toBe('refused');
  });

  it('accepts ordinary values, folded to lower case', () => {
    expect(outcome('accountRef', ' ACCT-42 ')).toBe('accepted acct-42');
  });
});

describe('phone identities', () => {
  const phones: Pick<DataMap, 'identityTypes'> = {
    identityTypes: {
      phone: { normalise: 'e164', caseSensitive: true },
      phoneDe: { normalise: 'e164', caseSensitive: true, defaultCountryCode: '49' },
      phoneNoTrunk: { normalise: 'e164', caseSensitive: true, defaultCountryCode: '1', trunkPrefix: '' },
    },
  };
  const phone = (type: string, raw: string) => {
    try {
      return normaliseIdentity(phones, type, raw).value;
    } catch (error) {
      if (error instanceof InvalidIdentityError) return 'refused';
      throw error;
    }
  };

  it.each([
    ['+49 (0)30 1234567', '+49301234567'],
    ['0049 (0) 30 1234567', '+49301234567'],
    ['+49 30 1234567', '+49301234567'],
  ])('drops the bracketed trunk prefix of %j', (raw, normalised) => {
    expect(phone('phone', raw)).toBe(normalised);
  });

  it('refuses a national number unless the data map names its country', () => {
    expect(phone('phone', '030 1234567')).toBe('refused');
    expect(phone('phoneDe', '030 1234567')).toBe('+49301234567');
    expect(phone('phoneDe', '0049 30 1234567')).toBe('+49301234567');
    expect(phone('phoneNoTrunk', '(415) 555-0100')).toBe('+14155550100');
  });

  it('refuses invisible characters in a phone number', () => {
    expect(phone('phone', '+49 30\u200b1234567')).toBe('refused');
  });
});

describe('identity type options belong to their kind', () => {
  it.each([
    [
      'defaultCountryCode on an email type',
      'email: { normalise: email, defaultCountryCode: "49" }',
      /defaultCountryCode applies to normalise: e164 only/,
    ],
    [
      'internationalised on a phone type',
      'phone: { normalise: e164, internationalised: true }',
      /internationalised applies to normalise: email only/,
    ],
  ])('refuses %s at load, naming the fix', (_what, declaration, message) => {
    // prepare
    const source = `version: 1\norganisation: { name: X, controller: X, contact: x@example.com }\nidentityTypes:\n  ${declaration}\nstores: []\n`;

    // act / assess
    expect(() => parseDataMap(source, 'map.yaml')).toThrow(message);
  });
});
