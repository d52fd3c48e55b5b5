import { join } from 'node:path';
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import type { DynamoStore, MaskField } from '../../../lib/datamap/schema';
import {
  attributeToJson,
  distinctItems,
  itemIdentities,
  itemKeyOf,
  keyId,
  keyToAttributes,
} from '../../../lib/stores/dynamodb/keys';
import { checkMaskRules, isMaskedItem } from '../../../lib/stores/dynamodb/mask';
import { UnsupportedStoreError } from '../../../lib/stores/errors';
import { ExemptionTally } from '../../../lib/stores/exemptions';
import type { LocatedItem } from '../../../lib/stores/types';

/** The pure parts of the DynamoDB adapter: keys, values, masks and exemption counts, without a server. */

const dataMap = loadDataMap(join(__dirname, '../../../examples/adtech/datamap.yaml'));
const adEvents = getStore(dataMap, 'ad-events') as DynamoStore;
const inquiries = getStore(dataMap, 'inquiries') as DynamoStore;

describe('values and keys', () => {
  it('turns attribute values into plain JSON without losing a digit', () => {
    expect(attributeToJson({ N: '42' })).toBe(42);
    expect(attributeToJson({ N: '12345678901234567890' })).toBe('12345678901234567890');
    expect(attributeToJson({ N: '1.50' })).toBe('1.50');
    expect(attributeToJson({ B: Buffer.from('hi') })).toBe(Buffer.from('hi').toString('base64'));
    expect(attributeToJson({ SS: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(attributeToJson({ M: { n: { NULL: true }, l: { L: [{ BOOL: true }] } } })).toEqual({
      n: null,
      l: [true],
    });
  });

  it('reads an item key in the key schema, and round-trips it to attributes', () => {
    // Prepare
    const [partitionKey, sortKey] = [adEvents.keySchema.partitionKey, adEvents.keySchema.sortKey];
    const item = {
      [partitionKey.name]: { S: 'p' },
      ...(sortKey ? { [sortKey.name]: sortKey.type === 'N' ? { N: '7' } : { S: 's' } } : {}),
      other: { S: 'x' },
    };

    // Act
    const key = itemKeyOf(adEvents, item);

    // Assess
    expect(Object.keys(key)).toEqual([partitionKey.name, ...(sortKey ? [sortKey.name] : [])]);
    const { other: _other, ...keyOnly } = item;
    expect(keyToAttributes(adEvents, key)).toEqual(keyOnly);
    expect(() => itemKeyOf(adEvents, { other: { S: 'x' } })).toThrow(UnsupportedStoreError);
  });

  it('gives one key id for a number written as 5 or "5"', () => {
    const name = inquiries.keySchema.partitionKey.name;
    expect(keyId(inquiries, { [name]: 5 })).toBe(keyId(inquiries, { [name]: '5' }));
  });

  it('keeps each located item once, and refuses records of another kind', () => {
    const name = inquiries.keySchema.partitionKey.name;
    const item = (value: string, attribute: string): LocatedItem => ({
      kind: 'item',
      key: { [name]: value },
      matched: { identity: 'email', attribute, value: 'x' },
    });
    expect(distinctItems(inquiries, [item('a', 'first'), item('b', 'first'), item('a', 'second')])).toEqual([
      item('a', 'first'),
      item('b', 'first'),
    ]);
    expect(() => distinctItems(inquiries, [{ kind: 'object', key: 'k', size: 1 }])).toThrow(
      UnsupportedStoreError,
    );
  });

  it('reads the identities an item holds in its locate and link attributes, normalised, with the spelling stored', () => {
    // Prepare: every attribute the store locates or links by holds an e-mail spelt in upper case.
    const attributes = [
      ...inquiries.locate.filter((rule) => rule.identity === 'email').map((rule) => rule.attribute),
      ...inquiries.links.filter((link) => link.identity === 'email').map((link) => link.attribute),
    ];

    // Act
    const found = itemIdentities(
      inquiries,
      Object.fromEntries(attributes.map((attribute) => [attribute, { S: 'Ann@Example.COM' }])),
      dataMap,
    );

    // Assess
    expect(attributes.length).toBeGreaterThan(0);
    expect(found).toEqual([{ type: 'email', value: 'ann@example.com', spellings: ['Ann@Example.COM'] }]);
  });

  it('reads no identity from an attribute in its masked form, even where that form is a valid identity', () => {
    // Prepare: a device id type with no pattern (so "hmac:<hex>" is a valid one), masked with hmac in one store
    const devices = {
      ...dataMap,
      identityTypes: {
        ...dataMap.identityTypes,
        deviceId: { normalise: 'opaque' as const, caseSensitive: true },
      },
    };
    const masking: DynamoStore = {
      ...inquiries,
      links: [{ identity: 'deviceId', attribute: 'devices' }],
      erase: { action: 'mask', fields: [{ attribute: 'devices', with: 'hmac' }] },
    } as DynamoStore;
    const deleting: DynamoStore = { ...masking, erase: { action: 'delete' } };
    const pseudonym = { S: `hmac:${'c'.repeat(64)}` };

    // Act + Assess: masked in the masking store; the same value in a store that never masks is read
    expect(itemIdentities(masking, { devices: pseudonym }, devices)).toEqual([]);
    expect(itemIdentities(masking, { devices: { S: 'dev-1' } }, devices)).toEqual([
      { type: 'deviceId', value: 'dev-1' },
    ]);
    expect(itemIdentities(deleting, { devices: pseudonym }, devices)).toEqual([
      { type: 'deviceId', value: pseudonym.S },
    ]);
  });
});

describe('masks', () => {
  const fields: MaskField[] = [
    { attribute: 'name', with: 'fixed', value: '[anonymised]' },
    { attribute: 'email', with: 'hmac' },
    { attribute: 'note', with: 'hash' },
    { attribute: 'phone', with: 'remove' },
  ];

  it('tells an item masked before (or with nothing to mask) from one that still holds data', () => {
    const masked = {
      name: { S: '[anonymised]' },
      email: { S: `hmac:${'a'.repeat(64)}` },
      note: { S: `sha256:${'b'.repeat(64)}` },
    };
    expect(isMaskedItem(fields, masked)).toBe(true);
    expect(isMaskedItem(fields, {})).toBe(true);
    expect(isMaskedItem(fields, { ...masked, phone: { S: '+4930' } })).toBe(false);
    expect(isMaskedItem(fields, { ...masked, email: { S: 'ann@example.com' } })).toBe(false);
  });

  it('refuses a string mask on an index key of another type, and allows removing it', () => {
    // Prepare
    const store = {
      ...inquiries,
      indexes: [{ name: 'byAge', partitionKey: { name: 'age', type: 'N' as const } }],
    } as DynamoStore;

    // Act + Assess
    expect(() => checkMaskRules(store, [{ attribute: 'age', with: 'hash' }])).toThrow(UnsupportedStoreError);
    expect(() => checkMaskRules(store, [{ attribute: 'age', with: 'remove' }])).not.toThrow();
  });
});

describe('ExemptionTally', () => {
  it('counts kept records by source, reason and legal basis, in the order first seen', () => {
    // Act
    const tally = new ExemptionTally();
    tally.add({ source: 'datamap', reason: 'Invoices', legalBasis: 'HGB §257' });
    tally.add({ source: 'hold', reason: 'Case 1', holdId: 'h1' }, 3);
    tally.add({ source: 'datamap', reason: 'Invoices', legalBasis: 'HGB §257' }, 2);
    tally.add({ source: 'datamap', reason: 'Invoices' });

    // Assess
    expect(tally.total).toBe(7);
    expect(tally.entries()).toEqual([
      { source: 'datamap', reason: 'Invoices', legalBasis: 'HGB §257', count: 3 },
      { source: 'hold', reason: 'Case 1', count: 3 },
      { source: 'datamap', reason: 'Invoices', count: 1 },
    ]);
  });
});
