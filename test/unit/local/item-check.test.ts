import type { DynamoStore } from '../../../lib/datamap/schema';
import { type CheckedItem, createItemChecker, type RefusedItem } from '../../../lib/local/item-check';
import {
  attributeSize,
  canonicalNumber,
  itemSize,
  MAX_ITEM_BYTES,
  numberProblem,
} from '../../../lib/local/item-rules';
import { contact, importDataMap } from '../../helpers/import';

/** Checking one item before an import writes it: DynamoDB's rules and locate's, never echoing a value. */

const dataMap = importDataMap();
const contacts = dataMap.stores[0] as DynamoStore;
const check = createItemChecker(dataMap, contacts, 'refuse', 'json');

function refused(verdict: CheckedItem | RefusedItem): string[] {
  if (verdict.ok) throw new Error('expected the item to be refused');
  return verdict.problems;
}

function accepted(verdict: CheckedItem | RefusedItem): CheckedItem {
  if (!verdict.ok) throw new Error(`expected the item to pass: ${verdict.problems.join('; ')}`);
  return verdict;
}

describe('createItemChecker', () => {
  it('passes a valid item, marshalled, with an N key from a number or a decimal string and a B key from base64', () => {
    // Act
    const fromNumber = accepted(check(contact(1, { token: Buffer.from('key').toString('base64') })));
    const fromString = accepted(check({ email: 'a@example.com', seq: '12345678901234567890123' }));

    // Assess
    expect(fromNumber.item).toEqual({
      email: { S: 'person1@example.com' },
      seq: { N: '1' },
      name: { S: 'Person 1' },
      token: { B: Buffer.from('key') },
    });
    expect(fromString.item.seq).toEqual({ N: '12345678901234567890123' });
  });

  it.each([
    ['an array', [1, 2], /not a JSON object/],
    ['a string', 'person@example.com', /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['a missing partition key', { seq: 1 }, /key attribute "email" is missing/],
    ['a missing sort key', { email: 'a@example.com' }, /key attribute "seq" is missing/],
    ['an empty-string key', { email: '', seq: 1 }, /key attribute "email" is empty/],
    [
      'a number for an S key',
      { email: 1234, seq: 1 },
      /key attribute "email" must be a non-empty string \(S\); it is a number/,
    ],
    [
      'a word for an N key',
      { email: 'a@example.com', seq: 'first' },
      /key attribute "seq" must be a number \(N\).*; it is a string/,
    ],
    [
      'null for an N key',
      { email: 'a@example.com', seq: null },
      /key attribute "seq" must be a number \(N\).*; it is null/,
    ],
    [
      'an index key of the wrong type',
      contact(1, { cookieId: 42 }),
      /index byCookie key attribute "cookieId" must be a non-empty string \(S\); it is a number \(leave the attribute out/,
    ],
    ['an empty index key', contact(1, { cookieId: '' }), /index byCookie key attribute "cookieId" is empty/],
    [
      'null for an index key',
      contact(1, { cookieId: null }),
      /index byCookie key attribute "cookieId" must be .*; it is null/,
    ],
    [
      'text that is not base64 for a B index key',
      contact(1, { token: 'not base64!' }),
      /index byToken key attribute "token" must be base64 text \(B\); it is a string/,
    ],
    [
      'a partition key over 2,048 bytes',
      { email: `${'a'.repeat(2040)}@example.com`, seq: 1 },
      /key attribute "email" is 2,052 bytes, over DynamoDB's limit of 2,048/,
    ],
    [
      'an item over 400 KB',
      contact(1, { notes: 'x'.repeat(410 * 1024) }),
      /the item is 410\.\d KB, over DynamoDB's limit of 400 KB/,
    ],
    [
      'a whole number beyond 2^53',
      contact(1, { total: 2 ** 60 }),
      /attribute "total" holds a whole number beyond ±2\^53.*write it as a string/,
    ],
    [
      'a number DynamoDB cannot hold',
      contact(1, { tiny: 1e-200 }),
      /attribute "tiny" holds a number that is outside the range/,
    ],
    [
      'an N key with 39 significant digits',
      { email: 'a@example.com', seq: '1'.repeat(39) },
      /key attribute "seq" must be a number/,
    ],
    [
      'nesting deeper than 32 levels',
      contact(1, { deep: JSON.parse(`${'['.repeat(33)}${']'.repeat(33)}`) }),
      /attribute "deep" nests lists or objects deeper than DynamoDB's 32 levels/,
    ],
    ['an empty attribute name', contact(1, { '': 'x' }), /an attribute has an empty name/],
    [
      'a locate key not normalised',
      { email: '  Ada@Example.COM ', seq: 1 },
      /locate key "email" \(the table key\) is not a normalised email/,
    ],
    [
      'an index locate key not normalised',
      contact(1, { cookieId: 'ABC-1' }),
      /locate key "cookieId" \(index byCookie\) is not a normalised cookieId/,
    ],
    [
      'a locate key that is no identity',
      { email: 'not an address', seq: 1 },
      /locate key "email" \(the table key\) holds no valid email: expected an address/,
    ],
  ])('refuses %s, saying what is wrong and where', (_name, value, message) => {
    // Act
    const problems = refused(check(value));

    // Assess
    expect(problems.join('\n')).toMatch(message);
  });

  it('names every problem of an item, and each key of the wrong type once', () => {
    // Act
    const problems = refused(check({ email: 42, seq: 'x', cookieId: false }));

    // Assess
    expect(problems).toEqual([
      expect.stringMatching(/^key attribute "email" must be/),
      expect.stringMatching(/^key attribute "seq" must be/),
      expect.stringMatching(/^index byCookie key attribute "cookieId" must be/),
    ]);
  });

  it('never puts a value into a problem', () => {
    // Prepare
    const items = [
      { email: '  Secret.Person@Example.COM ', seq: 1 },
      { email: 'secret-person@example.com', seq: 'secret', cookieId: 'SECRET-COOKIE' },
      { email: 'not-an-address-secret', seq: 2, token: 'c2VjcmV0IHRva2Vu!', total: 2 ** 60, tiny: 1e-200 },
      { email: `secret${'x'.repeat(3000)}`, seq: 3, notes: 'secret'.repeat(80_000) },
    ];

    // Act
    const problems = items.flatMap((item) => refused(check(item))).join('\n');

    // Assess
    expect(problems).not.toMatch(/secret/i);
    expect(problems).toMatch(/locate key "email"/);
  });

  it('stores locate keys normalised with the normalise policy, and counts them', () => {
    // Prepare
    const normalise = createItemChecker(dataMap, contacts, 'normalise', 'json');

    // Act
    const verdict = accepted(normalise({ email: '  Ada@Example.COM ', seq: 1, cookieId: 'ABC-1' }));

    // Assess
    expect(verdict.item.email).toEqual({ S: 'ada@example.com' });
    expect(verdict.item.cookieId).toEqual({ S: 'abc-1' });
    expect(verdict.normalisedKeys).toBe(2);
    expect(verdict.keyDigest).toBe(accepted(check({ email: 'ada@example.com', seq: 1 })).keyDigest);
  });

  it('keeps locate keys as given with the keep policy, counting them, but still refuses what DynamoDB would', () => {
    // Prepare
    const keep = createItemChecker(dataMap, contacts, 'keep', 'json');

    // Act
    const kept = accepted(
      keep({ email: '  Ada@Example.COM ', seq: 1, cookieId: 'not normalised but opaque' }),
    );
    const invalid = accepted(keep({ email: 'not an address', seq: 2 }));

    // Assess
    expect(kept.item.email).toEqual({ S: '  Ada@Example.COM ' });
    expect(kept.keptKeys).toBe(1);
    expect(invalid.keptKeys).toBe(1);
    expect(refused(keep({ email: '', seq: 1 })).join()).toMatch(/is empty/);
  });

  it('refuses a locate key the normalise policy cannot fix, as a locate key problem', () => {
    // Prepare
    const normalise = createItemChecker(dataMap, contacts, 'normalise', 'json');

    // Act
    const verdict = normalise({ email: 'not an address', seq: 1 });

    // Assess
    expect(verdict).toMatchObject({ ok: false, locateKeys: true });
  });

  it('gives one key digest to numbers DynamoDB treats as the same key', () => {
    // Act
    const digests = [1, '1', '1.0', '0.1e1', '10e-1'].map(
      (seq) => accepted(check({ email: 'a@example.com', seq })).keyDigest,
    );

    // Assess
    expect(new Set(digests).size).toBe(1);
    expect(accepted(check({ email: 'a@example.com', seq: 2 })).keyDigest).not.toBe(digests[0]);
  });

  it('takes documents (sets, binary, undefined) as the document client does', () => {
    // Prepare
    const documents = createItemChecker(dataMap, contacts, 'refuse', 'document');

    // Act
    const verdict = accepted(
      documents({
        email: 'a@example.com',
        seq: 1,
        tags: new Set(['x', 'y']),
        token: Buffer.from('t'),
        gone: undefined,
      }),
    );

    // Assess
    expect(verdict.item).toEqual({
      email: { S: 'a@example.com' },
      seq: { N: '1' },
      tags: { SS: ['x', 'y'] },
      token: { B: Buffer.from('t') },
    });
  });
});

describe('DynamoDB item rules', () => {
  it.each([
    ['0', undefined],
    ['-12.5e3', undefined],
    ['1E-130', undefined],
    ['9.9999999999999999999999999999999999999E+125', undefined],
    ['1E+126', /outside the range/],
    ['1E-131', /outside the range/],
    [`1${'0'.repeat(40)}`, undefined],
    [`${'1'.repeat(38)}`, undefined],
    [`${'1'.repeat(39)}`, /more than 38 significant digits/],
    ['12a', /not a decimal number/],
    ['.', /not a decimal number/],
  ])('numberProblem(%s)', (text, expected) => {
    // Act
    const problem = numberProblem(text);

    // Assess
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('canonicalNumber gives every spelling of a number one text', () => {
    expect(['5', '5.0', '05', '0.5e1', '50e-1', '+5'].map(canonicalNumber)).toEqual(Array(6).fill('5e0'));
    expect(['0', '-0', '0.000', '0e10'].map(canonicalNumber)).toEqual(Array(4).fill('0'));
    expect(canonicalNumber('-1200')).toBe('-12e2');
  });

  it('counts an item as DynamoDB does: names, UTF-8 values, numbers by digits, containers with overhead', () => {
    // Prepare
    const item = {
      id: { S: 'ü1' }, // 2 + 3
      n: { N: '12345' }, // 1 + (3 + 1)
      ok: { BOOL: true }, // 2 + 1
      list: { L: [{ S: 'ab' }, { NULL: true }] }, // 4 + 3 + (1 + 2) + (1 + 1)
      map: { M: { k: { S: 'v' } } }, // 3 + 3 + (1 + 1 + 1)
    };

    // Act
    const size = itemSize(item);

    // Assess
    expect(size).toBe(5 + 5 + 3 + 12 + 9);
    expect(attributeSize({ B: Buffer.alloc(10) })).toBe(10);
    expect(MAX_ITEM_BYTES).toBe(409_600);
  });
});
