import { readObjectHead } from '../../../lib/discovery/content';
import {
  assignIdentityTypes,
  idPattern,
  type LocatedField,
  likelyCountryCode,
  opaqueTypeName,
} from '../../../lib/discovery/identities';
import { profileRecords, profileValues } from '../../../lib/discovery/profile';
import { matchesPattern, spread } from '../../../lib/discovery/sample';
import { shapeOfString } from '../../../lib/discovery/shapes';
import { guessKeySchema } from '../../../lib/discovery/tables';

describe('discovery: value shapes', () => {
  it.each([
    ['ada@example.com', 'email'],
    ['  Ada.Berg@Example.COM ', 'email'],
    ['+4930123456', 'phone-e164'],
    ['+49 30 1234 5678', 'phone-international'],
    ['0049 30 1234567', 'phone-international'],
    ['030 1234 5678', 'phone-national'],
    ['198.51.100.7', 'ip-address'],
    ['2001:db8::1', 'ip-address'],
    ['2504a77d-9d8b-46c6-8765-fdcc95b3e32e', 'uuid'],
    ['490154203237518', 'imei'],
    ['490154203237519', 'opaque-id'], // fifteen digits that fail the Luhn check: no IMEI
    ['2026-05-01T10:00:00Z', 'timestamp'],
    ['2024', 'timestamp'],
    ['Ada Berg', 'name'],
    ['How do I opt out of personalised ads on my phone?', 'free-text'],
    ['cus_zgh5e85h2era', 'opaque-id'],
    ['42', 'number'],
    ['contact-form', 'text'],
    ['   ', 'empty'],
  ])('%j is %s', (value, shape) => {
    expect(shapeOfString(value)).toBe(shape);
  });
});

describe('discovery: classifying fields by name and values', () => {
  const classOf = (name: string, values: unknown[]) =>
    profileRecords(values.map((value) => ({ [name]: value })))[0]?.classification.class;

  it.each([
    ['contactEmail', ['a@example.com', 'b@example.com'], 'email'],
    ['notes', ['a@example.com', 'b@example.com'], 'email'], // values outweigh a name that says otherwise
    ['Mobile', ['0171 2345678', '+491712345678'], 'phone'],
    ['cookieIds', [['2504a77d-9d8b-46c6-8765-fdcc95b3e32e']], 'cookie-id'],
    ['installId', ['2504a77d-9d8b-46c6-8765-fdcc95b3e32e'], 'id'],
    ['visitor', ['2504a77d-9d8b-46c6-8765-fdcc95b3e32e'], 'subject-id'],
    ['customer_id', ['c-1001', 'c-1002'], 'subject-id'],
    ['orderId', ['ord-1', 'ord-2'], 'id'],
    ['company', ['Northwind Media', 'Contoso Ltd'], 'other'],
    ['shippingName', ['Ada Berg', 'Bo Lind'], 'name'],
    ['lastLoginAt', ['2026-01-01T00:00:00Z'], 'timestamp'],
    ['eventAt', [1_700_000_000_000], 'timestamp'],
    ['userAgent', ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124'], 'user-agent'],
    ['defaultAddress', [{ line1: 'Main St 1', city: 'Berlin' }], 'address'],
    ['status', ['open', 'closed'], 'other'],
  ])('%s holding %j is %s', (name, values, expected) => {
    expect(classOf(name, values)).toBe(expected);
  });

  it('counts values not in normalised form', () => {
    const [profile] = profileRecords([{ email: ' A@Example.com ' }, { email: 'b@example.com' }]);
    expect(profile?.notNormalised).toBe(1);
  });
});

describe('discovery: identity types', () => {
  it('names opaque types after the field, one type however the name is spelt', () => {
    expect(['customerId', 'customer_ids', 'cust_ref', 'CustomerID', 'memberNo'].map(opaqueTypeName)).toEqual([
      'customerId',
      'customerId',
      'customerId',
      'customerId',
      'memberId',
    ]);
  });

  it('gives an unnamed id the type of the identity field whose values it shares', () => {
    // Prepare
    const ids = ['PR-1', 'PR-2', 'PR-3'];
    const fields: LocatedField[] = [
      { store: 'patients', profile: profileValues('patientRef', ids) },
      { store: 'devices', profile: profileValues('owner', ids.slice(0, 2)) },
      { store: 'rooms', profile: profileValues('owner', ['RM-1', 'RM-2']) },
    ];

    // Act
    assignIdentityTypes(fields);

    // Assess
    expect(fields.map((field) => field.identity)).toEqual(['patientId', 'patientId', undefined]);
  });

  it('takes the country of national numbers from the same numbers written internationally', () => {
    const phones = profileValues('phone', [
      '030 1234 5678',
      '+49 30 1234 5678',
      '+43 1 234567',
      '+43 1 234568',
      '+43 1 234569',
    ]);
    expect(likelyCountryCode([phones])).toBe('49');
    expect(likelyCountryCode([profileValues('phone', ['+43 1 234567'])])).toBeUndefined();
  });

  it('shows a pattern of ids only when enough values share it, never a value', () => {
    expect(
      idPattern([
        profileValues('id', ['cus_a1b2c3', 'cus_d4e5f6', 'cus_0a9b8c', 'cus_77aa11', 'cus_abcdef']),
      ]),
    ).toBe('cus_[0-9a-f]{6}');
    expect(idPattern([profileValues('id', ['cus_a1b2c3', 'cus_d4e5f6'])])).toBeUndefined();
  });
});

describe('discovery: keys, patterns, samples and object heads', () => {
  it('guesses an identity partition key with the attribute that tells its items apart as sort key', () => {
    // Prepare
    const items = [
      { cookieId: 'c1', eventKey: 'e1', eventAt: 1 },
      { cookieId: 'c1', eventKey: 'e2', eventAt: 2 },
      { cookieId: 'c2', eventKey: 'e3', eventAt: 3 },
    ];
    const fields = profileRecords(items).map((profile) => ({
      store: 't',
      profile,
      ...(profile.name === 'cookieId' ? { identity: 'cookieId' } : {}),
    }));

    // Act
    const keys = guessKeySchema(items, fields);

    // Assess
    expect(keys).toEqual({
      partitionKey: { name: 'cookieId', type: 'S' },
      sortKey: { name: 'eventKey', type: 'S' },
    });
  });

  it('matches globs and spreads a sample over a listing', () => {
    expect(
      ['shop-orders', 'shop', 'blog-posts'].filter((name) => matchesPattern(name, 'shop-*, blog-?osts')),
    ).toEqual(['shop-orders', 'blog-posts']);
    expect(spread([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)).toEqual([1, 5, 9]);
  });

  it.each([
    ['a.jsonl', 'json-lines', '{"a":1}\n{"b":2}\nnot json\n', false, 2, 1],
    ['a.jsonl', 'json-lines', '{"a":1}\n{"b":', true, 1, 0], // the cut last line of a head is dropped
    ['a.json', 'json', '[{"a":1},{"a":2}]', false, 2, 0],
    ['a.csv', 'csv', 'email,name\nx@example.com,"Berg, Ada"\n', false, 1, 0],
    ['a.parquet', 'parquet', 'PAR1\u0000\u0001', false, 0, 0],
    ['a.bin', 'binary', '\u0000\u0001\u0002', false, 0, 0],
    ['a.txt', 'text', 'Dear team', false, 0, 0],
  ])('reads %s as %s', (key, format, body, truncated, records, badLines) => {
    const object = readObjectHead(key, Buffer.from(body, 'latin1'), truncated, 10);
    expect({ format: object.format, records: object.records.length, badLines: object.badLines }).toEqual({
      format,
      records,
      badLines,
    });
  });
});
