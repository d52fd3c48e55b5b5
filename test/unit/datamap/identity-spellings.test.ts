import fc from 'fast-check';
import {
  type DataMap,
  type Identity,
  InvalidIdentityError,
  identityKey,
  mergeIdentities,
  normaliseIdentity,
  normaliseSpelledIdentity,
  parseDataMap,
  spellingsOf,
} from '../../../lib/datamap';

/**
 * Spellings: the forms of an identity, other than its normalised value, that locating also
 * queries by, because a store may hold the value exactly as someone typed it.
 */
const dataMap: Pick<DataMap, 'identityTypes'> = {
  identityTypes: {
    email: { normalise: 'email', caseSensitive: true },
    shoutedEmail: { normalise: 'email', caseSensitive: true, spellings: ['as-given', 'trimmed', 'upper'] },
    normalisedOnly: { normalise: 'email', caseSensitive: true, spellings: [] },
    upperOnly: { normalise: 'email', caseSensitive: true, spellings: ['upper'] },
    intlEmail: { normalise: 'email', caseSensitive: true, internationalised: true, spellings: ['upper'] },
    phone: { normalise: 'e164', caseSensitive: true },
    ipAddress: { normalise: 'ipAddress', caseSensitive: true, spellings: ['as-given', 'upper'] },
    cookieId: { normalise: 'opaque', caseSensitive: false, spellings: ['as-given', 'trimmed', 'upper'] },
  },
};

describe('normaliseIdentity keeps the spellings the type locates by', () => {
  it('keeps the value as given and trimmed by default, when they differ from the normalised value', () => {
    // prepare
    const raw = ' Hannah.Kruger1@Mail.example.COM ';

    // act
    const identity = normaliseIdentity(dataMap, 'email', raw);

    // assess
    expect(identity).toEqual({
      type: 'email',
      value: 'hannah.kruger1@mail.example.com',
      spellings: [' Hannah.Kruger1@Mail.example.COM ', 'Hannah.Kruger1@Mail.example.COM'],
    });
  });

  it.each([
    ['email', 'ada@example.com'],
    ['phone', '+4930123456'],
  ])('gives a %s already normalised no spellings', (type, value) => {
    // act
    const identity = normaliseIdentity(dataMap, type, value);

    // assess
    expect(identity).toEqual({ type, value });
    expect(Object.hasOwn(identity, 'spellings')).toBe(false);
  });

  it('keeps a phone number as it was written', () => {
    // act
    const identity = normaliseIdentity(dataMap, 'phone', '+49 30 1234-56');

    // assess
    expect(identity).toEqual({ type: 'phone', value: '+4930123456', spellings: ['+49 30 1234-56'] });
  });

  it.each([
    ['shoutedEmail', ' Ada@Example.com', ['ADA@EXAMPLE.COM', ' Ada@Example.com', 'Ada@Example.com']],
    ['shoutedEmail', 'ada@example.com', ['ADA@EXAMPLE.COM']],
    ['normalisedOnly', ' Ada@Example.com', []],
    ['upperOnly', ' Ada@Example.com', ['ADA@EXAMPLE.COM']],
    ['ipAddress', '2001:DB8:0:0:0:0:0:1', ['2001:DB8::1', '2001:DB8:0:0:0:0:0:1']],
    ['cookieId', ' 5dfa9377-e875 ', ['5DFA9377-E875', ' 5dfa9377-e875 ']],
  ])('%s given as %j is located by the declared forms %j too', (type, raw, expected) => {
    // act
    const identity = normaliseIdentity(dataMap, type, raw);

    // assess: the order is as-given, trimmed, upper, each once and never the value itself
    expect(new Set(identity.spellings ?? [])).toEqual(new Set(expected));
    expect(identity.spellings ?? []).not.toContain(identity.value);
  });

  it('drops an upper-case form that is another identity ("ß" upper-cases to "SS")', () => {
    // act
    const identity = normaliseIdentity(dataMap, 'intlEmail', 'straße@example.de');

    // assess
    expect(identity).toEqual({ type: 'intlEmail', value: 'straße@example.de' });
  });

  it('gives only spellings that normalise to the value, whatever the input', () => {
    // prepare
    const types = fc.constantFrom(...Object.keys(dataMap.identityTypes));
    const raws = fc.oneof(
      fc
        .emailAddress()
        .chain((address) =>
          fc
            .tuple(
              fc.array(fc.boolean(), { minLength: address.length, maxLength: address.length }),
              fc.string(),
            )
            .map(
              ([upper, padding]) =>
                `${padding.replace(/\S/g, ' ')}${[...address].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('')} `,
            ),
        ),
      fc.ipV6(),
      fc.string({ maxLength: 40 }),
    );

    // act
    const act = () =>
      fc.assert(
        fc.property(types, raws, (type, raw) => {
          let identity: Identity;
          try {
            identity = normaliseIdentity(dataMap, type, raw);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidIdentityError);
            return;
          }
          for (const spelling of identity.spellings ?? []) {
            expect(normaliseIdentity(dataMap, type, spelling).value).toBe(identity.value);
          }
          expect(new Set(spellingsOf(identity)).size).toBe(spellingsOf(identity).length);
        }),
        { numRuns: 1000 },
      );

    // assess
    expect(act).not.toThrow();
  });

  it('keys an identity by type and normalised value only', () => {
    // prepare
    const given = normaliseIdentity(dataMap, 'email', ' Ada@Example.com ');
    const plain = normaliseIdentity(dataMap, 'email', 'ada@example.com');

    // act
    const keys = [identityKey(given), identityKey(plain)];

    // assess
    expect(keys[0]).toBe(keys[1]);
  });
});

describe('normaliseSpelledIdentity', () => {
  it('normalises a stored identity and each of its spellings, keeping them all', () => {
    // prepare
    const stored: Identity = { type: 'email', value: ' Ada@Example.com', spellings: ['ADA@example.com'] };

    // act
    const identity = normaliseSpelledIdentity(dataMap, stored);

    // assess
    expect(identity).toEqual({
      type: 'email',
      value: 'ada@example.com',
      // As given first, then the forms normalising adds.
      spellings: [' Ada@Example.com', 'ADA@example.com', 'Ada@Example.com'],
    });
  });

  it('is idempotent: a normalised identity with its spellings comes back unchanged', () => {
    // prepare
    const once = normaliseSpelledIdentity(dataMap, {
      type: 'shoutedEmail',
      value: ' Ada@Example.com ',
      spellings: ['\tada@EXAMPLE.com'],
    });

    // act
    const twice = normaliseSpelledIdentity(dataMap, once);

    // assess
    expect(twice).toEqual(once);
  });

  it('keeps the spellings carried in only where the type keeps values as given', () => {
    // prepare
    const stored = { value: ' Ada@Example.com', spellings: ['ADA@example.com '] };

    // act
    const upperOnly = normaliseSpelledIdentity(dataMap, { type: 'upperOnly', ...stored });
    const normalisedOnly = normaliseSpelledIdentity(dataMap, { type: 'normalisedOnly', ...stored });

    // assess
    expect(upperOnly).toEqual({
      type: 'upperOnly',
      value: 'ada@example.com',
      spellings: ['ADA@EXAMPLE.COM'],
    });
    expect(normalisedOnly).toEqual({ type: 'normalisedOnly', value: 'ada@example.com' });
  });

  it('refuses a spelling of another value, without naming either value', () => {
    // prepare
    const stored: Identity = { type: 'email', value: 'ada@example.com', spellings: ['Bob@Example.com'] };

    // act
    const act = () => normaliseSpelledIdentity(dataMap, stored);

    // assess
    expect(act).toThrow(InvalidIdentityError);
    expect(act).toThrow('email identity is invalid: a spelling of the identity normalises to another value');
  });

  it('refuses an invalid spelling', () => {
    // act
    const act = () =>
      normaliseSpelledIdentity(dataMap, { type: 'email', value: 'ada@example.com', spellings: ['ada@'] });

    // assess
    expect(act).toThrow(InvalidIdentityError);
  });
});

describe('spellingsOf and mergeIdentities', () => {
  it('lists the value first, then the other spellings, each once', () => {
    // prepare
    const identity: Identity = { type: 'email', value: 'a@x.io', spellings: ['A@x.io', 'a@x.io', 'A@x.io'] };

    // act
    const spellings = spellingsOf(identity);

    // assess
    expect(spellings).toEqual(['a@x.io', 'A@x.io']);
  });

  it('unites lists by type and value, with every spelling, in the order first seen', () => {
    // prepare
    const first: Identity[] = [
      { type: 'email', value: 'a@x.io', spellings: ['A@x.io'] },
      { type: 'phone', value: '+4930123456' },
    ];
    const second: Identity[] = [
      { type: 'email', value: 'b@x.io' },
      { type: 'email', value: 'a@x.io', spellings: [' a@x.io', 'A@x.io'] },
      { type: 'phone', value: '+4930123456', spellings: ['030 123456'] },
      // Another type with the same value is another identity.
      { type: 'cookieId', value: 'a@x.io' },
    ];
    const copies = JSON.stringify([first, second]);

    // act
    const merged = mergeIdentities(first, second);

    // assess
    expect(merged).toEqual([
      { type: 'email', value: 'a@x.io', spellings: ['A@x.io', ' a@x.io'] },
      { type: 'phone', value: '+4930123456', spellings: ['030 123456'] },
      { type: 'email', value: 'b@x.io' },
      { type: 'cookieId', value: 'a@x.io' },
    ]);
    expect(JSON.stringify([first, second])).toBe(copies);
  });

  it('leaves no empty spellings list behind (so nothing extra is stored)', () => {
    // act
    const merged = mergeIdentities([{ type: 'email', value: 'a@x.io', spellings: ['a@x.io'] }]);

    // assess
    expect(merged).toEqual([{ type: 'email', value: 'a@x.io' }]);
    expect(Object.hasOwn(merged[0] ?? {}, 'spellings')).toBe(false);
  });
});

describe('spellings in the data map', () => {
  const map = (spellings: string) => `version: 1
identityTypes:
  email: { normalise: email, spellings: ${spellings} }
  cookieId: { normalise: opaque, caseSensitive: false, spellings: [upper] }
stores:
  - id: customers
    kind: dynamodb
    table: shop-customers
    keySchema: { partitionKey: { name: email } }
    locate: [{ identity: email, attribute: email }]
    categories: [user.contact.email]
    purpose: Running customer accounts
    lawfulBasis: contract
    source: Provided by the data subject
    erase: { action: delete }
`;

  it('loads declared spellings and leaves them out where none are declared (the default applies)', () => {
    // act
    const declared = parseDataMap(map('[as-given, trimmed, upper]'), 'shop.yaml');

    // assess
    expect(declared.identityTypes.email?.spellings).toEqual(['as-given', 'trimmed', 'upper']);
    expect(declared.identityTypes.cookieId?.spellings).toEqual(['upper']);
    expect(parseDataMap(map('[]'), 'shop.yaml').identityTypes.email?.spellings).toEqual([]);
  });
});
