import fc from 'fast-check';
import {
  type DataMap,
  type Identity,
  InvalidIdentityError,
  identityKey,
  normaliseIdentity,
  parseIdentityArgument,
} from '../../../lib/datamap';
import { propertyRun } from '../../helpers/property';

/** The example's identity types, plus a case-sensitive opaque type without a pattern. */
const dataMap: Pick<DataMap, 'identityTypes'> = {
  identityTypes: {
    email: { normalise: 'email', caseSensitive: true },
    phone: { normalise: 'e164', caseSensitive: true },
    ipAddress: { normalise: 'ipAddress', caseSensitive: true },
    userId: { normalise: 'opaque', caseSensitive: true, pattern: 'u-[0-9a-f]{8}' },
    cookieId: {
      normalise: 'opaque',
      caseSensitive: false,
      pattern: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
    },
    accountRef: { normalise: 'opaque', caseSensitive: true },
    accountRefFolded: { normalise: 'opaque', caseSensitive: false },
  },
};
const TYPES = Object.keys(dataMap.identityTypes);

function normalise(type: string, raw: string): string {
  return normaliseIdentity(dataMap, type, raw).value;
}

/** The error normalising throws, or a failure when it does not throw one. */
function rejection(type: string, raw: unknown): InvalidIdentityError {
  try {
    normaliseIdentity(dataMap, type, raw as string);
  } catch (error) {
    if (error instanceof InvalidIdentityError) return error;
    throw error;
  }
  throw new Error(`${type} value was accepted`);
}

/** Normalising result: the identity, or the error thrown (anything thrown, to check its class). */
function attempt(type: string, raw: unknown): { identity?: Identity; error?: unknown } {
  try {
    return { identity: normaliseIdentity(dataMap, type, raw as string) };
  } catch (error) {
    return { error };
  }
}

describe('normaliseIdentity: email', () => {
  it.each([
    ['  Ada.Lovelace@Example.COM ', 'ada.lovelace@example.com'],
    ['ADA@EXAMPLE.ORG', 'ada@example.org'],
    ['\tada+ads@mail.example.com\n', 'ada+ads@mail.example.com'],
  ])('trims and lowercases %j', (raw, expected) => {
    // prepare
    const type = 'email';

    // act
    const value = normalise(type, raw);

    // assess
    expect(value).toBe(expected);
  });

  it.each([
    'ada',
    'ada@localhost',
    '@example.com',
    'ada@',
    'a b@example.com',
    'ada@@example.com',
    'ada@example..com',
    `${'a'.repeat(250)}@example.com`,
  ])('rejects %j with the expected form', (raw) => {
    // prepare
    const type = 'email';

    // act
    const error = rejection(type, raw);

    // assess
    expect(error.message).toMatch(
      /^email identity is invalid: expected an address such as name@example\.com/,
    );
    expect(error.identityType).toBe('email');
  });
});

describe('normaliseIdentity: e164 phone numbers', () => {
  it.each([
    ['+4930123456', '+4930123456'],
    ['+49 30 1234 5678', '+493012345678'],
    ['+49-30-1234-5678', '+493012345678'],
    ['+1 (212) 555-0100', '+12125550100'],
    ['+44.20.7946.0000', '+442079460000'],
    ['0049 30 123456', '+4930123456'],
    ['  +33 1 23 45 67 89  ', '+33123456789'],
    ['+49\u00a030\u00a0123456', '+4930123456'],
  ])('normalises %j to %j', (raw, expected) => {
    // prepare
    const type = 'phone';

    // act
    const value = normalise(type, raw);

    // assess
    expect(value).toBe(expected);
  });

  it.each(['030 1234567', '4930123456', '(030) 123456'])('asks for the country code in %j', (raw) => {
    // prepare
    const type = 'phone';

    // act
    const error = rejection(type, raw);

    // assess
    expect(error.reason).toMatch(/^include the country code in E.164 form, e.g. \+4930123456/);
  });

  it.each(['+49 30', '+0 30 1234567', '+49 30 CALL-NOW', `+${'1'.repeat(16)}`, '+'])(
    'rejects %j as not E.164',
    (raw) => {
      // prepare
      const type = 'phone';

      // act
      const error = rejection(type, raw);

      // assess
      expect(error.reason).toBe('expected E.164: + then 7 to 15 digits, e.g. +4930123456');
    },
  );
});

describe('normaliseIdentity: IP addresses', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 198.51.100.1 ', '198.51.100.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::ffff:203.0.113.7', '::ffff:cb00:7107'],
  ])('canonicalises %j to %j', (raw, expected) => {
    // prepare
    const type = 'ipAddress';

    // act
    const value = normalise(type, raw);

    // assess
    expect(value).toBe(expected);
  });

  it.each(['256.1.1.1', '01.2.3.4', '1.2.3', 'fe80::1%eth0', '2001:db8:::1', 'localhost', ''])(
    'rejects %j',
    (raw) => {
      // prepare
      const type = 'ipAddress';

      // act
      const error = rejection(type, raw);

      // assess
      expect(error.reason).toBe('expected an IPv4 (203.0.113.7) or IPv6 (2001:db8::1) address');
    },
  );
});

describe('normaliseIdentity: opaque identities', () => {
  it('trims, keeps case when caseSensitive and checks the whole value against the pattern', () => {
    // prepare
    const inputs = [' u-0123abcd ', 'U-0123ABCD', 'u-0123abcd-extra', 'xu-0123abcd'];

    // act
    const results = inputs.map((raw) => attempt('userId', raw));

    // assess
    expect(results[0]?.identity).toEqual({
      type: 'userId',
      value: 'u-0123abcd',
      spellings: [' u-0123abcd '],
    });
    for (const result of results.slice(1)) {
      expect(result.error).toBeInstanceOf(InvalidIdentityError);
      expect((result.error as InvalidIdentityError).reason).toBe(
        'does not match the declared pattern u-[0-9a-f]{8}',
      );
    }
  });

  it('lowercases before matching when caseSensitive is false', () => {
    // prepare
    const raw = ' 5DFA9377-E875-4B59-A352-19A94559508B ';

    // act
    const value = normalise('cookieId', raw);

    // assess
    expect(value).toBe('5dfa9377-e875-4b59-a352-19a94559508b');
  });

  it('keeps case for a case-sensitive type without pattern', () => {
    // prepare
    const raw = '  Acct/ABC-42 ';

    // act
    const [sensitive, folded] = [normalise('accountRef', raw), normalise('accountRefFolded', raw)];

    // assess
    expect(sensitive).toBe('Acct/ABC-42');
    expect(folded).toBe('acct/abc-42');
  });

  it.each([
    ['   ', 'the value is empty'],
    ['abc\u0000def', 'the value contains control, format or invisible characters'],
    ['line\nbreak', 'the value contains control, format or invisible characters'],
    ['del\u007f', 'the value contains control, format or invisible characters'],
  ])('rejects %j: %s', (raw, reason) => {
    // prepare
    const type = 'accountRef';

    // act
    const error = rejection(type, raw);

    // assess
    expect(error.reason).toEqual(expect.stringContaining(reason));
  });
});

describe('normaliseIdentity: types and limits', () => {
  it('rejects an unknown type and names the declared ones', () => {
    // prepare
    const type = 'passport';

    // act
    const error = rejection(type, 'X1234567');

    // assess
    expect(error.message).toBe(
      `passport identity is invalid: unknown identity type; the data map declares: ${TYPES.join(', ')}`,
    );
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])(
    'does not take Object.prototype member %j for a declared type',
    (type) => {
      // prepare
      const raw = 'anything';

      // act
      const error = rejection(type, raw);

      // assess
      expect(error.reason).toMatch(/^unknown identity type/);
    },
  );

  it.each([undefined, null, 42, ['ada@example.com'], { value: 'ada@example.com' }])(
    'rejects the non-string value %j',
    (raw) => {
      // prepare
      const type = 'email';

      // act
      const error = rejection(type, raw);

      // assess
      expect(error.reason).toBe('the value must be a string');
    },
  );

  it('rejects values longer than 1024 characters before parsing them', () => {
    // prepare
    const raw = `${'a'.repeat(1020)}@example.com`;

    // act
    const error = rejection('accountRef', raw);

    // assess
    expect(error.reason).toBe('longer than 1024 characters');
  });

  it('never puts the value into the error message', () => {
    // prepare: invalid values carrying a marker, for every type
    const marker = 'Qx7Leak';
    const invalid = [
      `${marker}@nowhere`,
      `+49 ${marker}`,
      `${marker}.0.0.1`,
      `u-${marker}`,
      `cookie-${marker}`,
      `${marker}\u0000`,
      `${marker}${'x'.repeat(1100)}`,
    ];

    // act
    const messages = TYPES.flatMap((type) =>
      invalid.flatMap((raw) => {
        const { error } = attempt(type, raw);
        return error instanceof Error ? [error.message] : [];
      }),
    );

    // assess
    expect(messages.length).toBeGreaterThan(TYPES.length * 4);
    for (const message of messages) expect(message.toLowerCase()).not.toContain(marker.toLowerCase());
  });

  it('has a stable name for Step Functions Catch rules', () => {
    // prepare
    const error = rejection('email', 'nope');

    // act
    const { name } = error;

    // assess
    expect(name).toBe('InvalidIdentityError');
    expect(error).toBeInstanceOf(Error);
  });
});

describe('parseIdentityArgument and identityKey', () => {
  it('parses TYPE=VALUE, normalises the value and keeps it as given', () => {
    // prepare
    const argument = 'email= Ada@Example.com';

    // act
    const identity = parseIdentityArgument(dataMap, argument);

    // assess
    expect(identity).toEqual({
      type: 'email',
      value: 'ada@example.com',
      spellings: [' Ada@Example.com', 'Ada@Example.com'],
    });
  });

  it('keeps an = inside the value', () => {
    // prepare
    const argument = 'accountRef=a=b';

    // act
    const identity = parseIdentityArgument(dataMap, argument);

    // assess
    expect(identity.value).toBe('a=b');
  });

  it.each(['ada@example.com', '=ada@example.com', ''])('rejects %j without a type', (argument) => {
    // prepare
    const input = argument;

    // act
    const act = () => parseIdentityArgument(dataMap, input);

    // assess
    expect(act).toThrow(InvalidIdentityError);
    expect(act).toThrow('expected TYPE=VALUE, e.g. --subject email=ada@example.com');
  });

  it('keys identities by type and value', () => {
    // prepare
    const identities = [
      { type: 'userId', value: 'u-00000001' },
      { type: 'accountRef', value: 'u-00000001' },
      { type: 'userId', value: 'u-00000001' },
    ];

    // act
    const keys = identities.map(identityKey);

    // assess
    expect(keys[0]).toBe(keys[2]);
    expect(keys[0]).not.toBe(keys[1]);
  });
});

describe('normaliseIdentity: properties', () => {
  const separators = fc.constantFrom('', ' ', '-', '.', '(', ')', '\u00a0');
  /** Phone numbers as people write them: + or 00, a country code, digits and separators. */
  const phones = fc
    .tuple(
      fc.constantFrom('+', '00', ' +', '00 '),
      fc.integer({ min: 1, max: 9 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), separators), { minLength: 6, maxLength: 14 }),
    )
    .map(
      ([prefix, first, rest]) => `${prefix}${first}${rest.map(([digit, sep]) => `${digit}${sep}`).join('')}`,
    )
    // "(0)" after the country code is the trunk prefix people write and normalising drops
    // (+44 (0)20 …): with it the generated number may have a digit too few to be E.164.
    .filter((raw) => !raw.includes('(0)'));

  const idempotent = (type: string, raw: string) => {
    const first = attempt(type, raw);
    if (first.identity) expect(normalise(type, first.identity.value)).toBe(first.identity.value);
    return first.identity !== undefined;
  };

  it('is idempotent for email addresses', () => {
    // prepare
    const emails = fc.tuple(fc.emailAddress(), fc.constantFrom('', ' ', '\t'), fc.boolean());

    let accepted = 0;
    const run = propertyRun({ numRuns: 500 });

    // act
    const act = () =>
      fc.assert(
        fc.property(emails, ([email, pad, upper]) => {
          if (idempotent('email', `${pad}${upper ? email.toUpperCase() : email}${pad}`)) accepted += 1;
        }),
        run,
      );

    // assess
    expect(act).not.toThrow();
    expect(accepted).toBeGreaterThan(run.numRuns / 2); // most generated addresses are valid: the property is exercised
  });

  it('accepts and is idempotent for phone numbers with a country code', () => {
    // prepare
    const arbitrary = phones;

    // act
    const act = () =>
      fc.assert(
        fc.property(arbitrary, (raw) => {
          expect(idempotent('phone', raw)).toBe(true);
          expect(normalise('phone', raw)).toMatch(/^\+[1-9]\d{6,14}$/);
        }),
        propertyRun(),
      );

    // assess
    expect(act).not.toThrow();
  });

  it('accepts and is idempotent for IPv4 and IPv6 addresses', () => {
    // prepare
    const addresses = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV6().map((ip) => ip.toUpperCase()),
    );

    // act
    const act = () =>
      fc.assert(
        fc.property(addresses, (raw) => {
          expect(idempotent('ipAddress', raw)).toBe(true);
        }),
        propertyRun(),
      );

    // assess
    expect(act).not.toThrow();
  });

  it('is idempotent for opaque identities, with and without case folding and patterns', () => {
    // prepare
    const values = fc.oneof(
      fc.string(),
      fc.uuid().map((uuid) => uuid.toUpperCase()),
      fc.stringMatching(/^u-[0-9a-f]{8}$/),
    );

    let accepted = 0;
    const run = propertyRun();

    // act
    const act = () =>
      fc.assert(
        fc.property(
          values,
          fc.constantFrom('accountRef', 'accountRefFolded', 'cookieId', 'userId'),
          (raw, type) => {
            if (!idempotent(type, raw)) return;
            accepted += 1;
            const folded = !dataMap.identityTypes[type]?.caseSensitive;
            expect(normalise(type, raw)).toBe(folded ? raw.trim().toLowerCase() : raw.trim());
          },
        ),
        run,
      );

    // assess
    expect(act).not.toThrow();
    // about two in three values are accepted (free-form types take most strings, pattern types their
    // own form): the property is exercised, not satisfied by rejecting everything
    expect(accepted).toBeGreaterThan(run.numRuns / 3);
  });

  it('fails on any string only with InvalidIdentityError, and is idempotent whenever it succeeds', () => {
    // prepare
    const raws = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 80 }),
      fc.string({ maxLength: 1100 }),
      fc.emailAddress(),
      fc.ipV6(),
      phones,
    );
    const types = fc.oneof(fc.constantFrom(...TYPES), fc.string({ maxLength: 12 }));

    // act
    const act = () =>
      fc.assert(
        fc.property(types, raws, (type, raw) => {
          const result = attempt(type, raw);
          if (result.error !== undefined) expect(result.error).toBeInstanceOf(InvalidIdentityError);
          else idempotent(type, raw);
        }),
        propertyRun({ numRuns: 2000 }),
      );

    // assess
    expect(act).not.toThrow();
  });

  it('fails on any non-string value only with InvalidIdentityError', () => {
    // prepare
    const values = fc.anything().filter((value) => typeof value !== 'string');

    // act
    const act = () =>
      fc.assert(
        fc.property(fc.constantFrom(...TYPES), values, (type, raw) => {
          expect(attempt(type, raw).error).toBeInstanceOf(InvalidIdentityError);
        }),
        propertyRun(),
      );

    // assess
    expect(act).not.toThrow();
  });
});
