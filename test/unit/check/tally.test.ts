import { createClassifier, emptyTallies, tallyRecord } from '../../../lib/check/tally';
import { parseDataMap } from '../../../lib/datamap/load';
import type { ValueSource } from '../../../lib/stores';

/** Counting stored values against their identity type, without a server. */

const dataMap = parseDataMap(`
version: 1
identityTypes:
  email: { normalise: email }
  phone: { normalise: e164 }
  cookieId: { normalise: opaque, caseSensitive: false }
stores:
  - id: contacts
    kind: dynamodb
    table: contacts
    keySchema: { partitionKey: { name: email } }
    locate: [{ identity: email, attribute: email }]
    categories: [user.contact.email]
    purpose: Testing
    lawfulBasis: contract
    source: Tests
    erase: { action: delete }
`);
const classify = createClassifier(dataMap);

describe('createClassifier', () => {
  it.each([
    ['email', 'ann@example.com', 'normalised'],
    ['email', 'Ann@Example.COM', 'notNormalised'],
    ['email', ' ann@example.com', 'onlyAsGiven'],
    ['email', 'Ann@Example.COM\t', 'onlyAsGiven'],
    ['email', 'not an address', 'notNormalising'],
    ['email', '', 'notNormalising'],
    ['phone', '+4930123456', 'normalised'],
    ['phone', '+49 30 123456', 'notNormalised'],
    // No defaultCountryCode: a national number is no phone identity at all.
    ['phone', '030 123456', 'notNormalising'],
    ['cookieId', 'ABC-1', 'notNormalised'],
    ['cookieId', 'abc-1', 'normalised'],
  ])('%s %j is %s', (type, raw, expected) => {
    expect(classify(type, raw)).toBe(expected);
  });

  it('calls anything but a string not normalising', () => {
    for (const raw of [42, true, { S: 'ann@example.com' }, ['ann@example.com']]) {
      expect(classify('email', raw)).toBe('notNormalising');
    }
  });

  it('gives the same answer from its cache as the first time', () => {
    const first = classify('email', 'Bob@Example.com');
    expect(classify('email', 'Bob@Example.com')).toBe(first);
  });
});

describe('tallyRecord', () => {
  const sources: ValueSource[] = [
    { role: 'locate', identity: 'email', use: 'index', attribute: 'email', index: 'byEmail' },
    { role: 'link', identity: 'cookieId', use: 'link', attribute: 'cookieIds' },
    { role: 'locate', identity: 'phone', use: 'jsonLines', attribute: 'phone', keyPrefix: 'calls/' },
  ];

  it('counts records, values, missing, not normalising, not normalised and only-as-given per source', () => {
    // Prepare
    const tallies = emptyTallies(sources);
    const records = [
      { values: ['ann@example.com', ['abc', 'ABC', ' abc '], '+4930123456'] },
      { values: [' Bob@Example.com', [], undefined] },
      { values: [null, ['x', 7], '030 1'] },
      { values: [['a@b.io'], 'abc', 'phone'] },
    ];

    // Act
    for (const record of records) tallyRecord(tallies, record, classify);

    // Assess
    // The sources come back as they went in, with their counts.
    expect(tallies).toEqual([
      // a list in a locate attribute is one value that matches nothing
      {
        ...sources[0],
        records: 4,
        values: 3,
        missing: 1,
        notNormalising: 1,
        notNormalised: 1,
        onlyAsGiven: 1,
      },
      // a link's list is one value per element; a string is one value
      {
        ...sources[1],
        records: 4,
        values: 6,
        missing: 0,
        notNormalising: 1,
        notNormalised: 2,
        onlyAsGiven: 1,
      },
      {
        ...sources[2],
        records: 4,
        values: 3,
        missing: 1,
        notNormalising: 2,
        notNormalised: 0,
        onlyAsGiven: 0,
      },
    ]);
  });

  it('leaves a source out of a record it does not cover', () => {
    // Prepare
    const tallies = emptyTallies(sources);

    // Act
    tallyRecord(
      tallies,
      { values: ['ann@example.com', undefined, 'Ann'], applies: [true, true, false] },
      classify,
    );

    // Assess
    expect(tallies.map((tally) => [tally.records, tally.missing, tally.notNormalising])).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
  });
});
