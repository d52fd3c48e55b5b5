import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DataMapError } from '../../../lib/datamap';
import { rectifiableFields } from '../../../lib/datamap/rights';
import { checkDataMap } from '../../../lib/datamap/validate';
import { parseSubmission } from '../../../lib/rights/submit';

/** The shop example as plain values, with `change` applied to its first store (customers) and third (invoices). */
function shopWith(
  change: (stores: Record<string, unknown>[], types: Record<string, Record<string, unknown>>) => void,
) {
  const document = parse(readFileSync('examples/shop/datamap.yaml', 'utf8')) as {
    stores: Record<string, unknown>[];
    identityTypes: Record<string, Record<string, unknown>>;
  };
  change(document.stores, document.identityTypes);
  return document;
}

function issuesOf(document: unknown): string[] {
  try {
    checkDataMap(document, 'datamap.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof DataMapError)) throw error;
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
}

const storeIndex = (stores: Record<string, unknown>[], id: string) =>
  stores.findIndex((store) => store.id === id);

describe('rectify, restrict and consent in the data map', () => {
  it('accepts both examples as they are', () => {
    expect(issuesOf(shopWith(() => {}))).toEqual([]);
  });

  it.each([
    [
      'a rectifiable attribute holding an identity type that is not rectifiable',
      (_stores: Record<string, unknown>[], types: Record<string, Record<string, unknown>>) => {
        delete types.phone?.rectifiable;
      },
      /stores\[0\]\.rectify\.attributes\[1\]: "phone" holds phone identities, and identity type phone is not rectifiable: set identityTypes\.phone\.rectifiable: true/,
    ],
    [
      'a rectifiable key attribute',
      (stores: Record<string, unknown>[]) => {
        stores[0]!.rectify = { attributes: ['customerId'] };
      },
      /stores\[0\]\.rectify\.attributes\[0\]: "customerId" is a key attribute of the table/,
    ],
    [
      'rectify on an S3 store of per-subject objects',
      (stores: Record<string, unknown>[]) => {
        stores[storeIndex(stores, 'invoices')]!.rectify = { attributes: ['name'] };
      },
      /stores\[3\]\.rectify: rectify corrects fields of JSON-lines lines: objects under a per-subject prefix are files lethe does not edit/,
    ],
    [
      'a rectifiable JSON-lines field that locate matches lines on',
      (stores: Record<string, unknown>[]) => {
        stores[storeIndex(stores, 'support')]!.rectify = { attributes: ['customerName', 'email'] };
      },
      /stores\[4\]\.rectify\.attributes\[1\]: "email" is the field locate matches lines on/,
    ],
    [
      'a restriction tag on a DynamoDB store',
      (stores: Record<string, unknown>[]) => {
        stores[0]!.restrict = { tag: 'lethe-restricted' };
      },
      /stores\[0\]\.restrict: a DynamoDB store marks restricted items with an attribute/,
    ],
    [
      'a restriction attribute on an S3 store',
      (stores: Record<string, unknown>[]) => {
        stores[storeIndex(stores, 'invoices')]!.restrict = { attribute: 'processingRestricted' };
      },
      /stores\[3\]\.restrict: an S3 store marks restricted objects with an object tag/,
    ],
    [
      'the same consent purpose twice',
      (stores: Record<string, unknown>[]) => {
        const consent = stores[0]!.consent as unknown[];
        consent.push({ purpose: 'newsletter', attribute: 'newsletterOptIn' });
      },
      /stores\[0\]\.consent\[1\]\.purpose: purpose "newsletter" is listed twice/,
    ],
  ])('refuses %s, naming the path and the fix', (_rule, change, message) => {
    const issues = issuesOf(shopWith(change));
    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
    // A tag on a DynamoDB store (an attribute on an S3 one) is also named where it stands.
    expect(issues.length).toBeLessThanOrEqual(2);
  });

  it('lists each rectifiable field with the stores that declare it and the identity type it holds', () => {
    const dataMap = checkDataMap(
      shopWith(() => {}),
      'datamap.yaml',
    );
    expect(Object.fromEntries(rectifiableFields(dataMap))).toEqual({
      name: { stores: ['customers'] },
      phone: { stores: ['customers'], identity: 'phone' },
      shippingName: { stores: ['orders'] },
      shippingAddress: { stores: ['orders'] },
      customerName: { stores: ['support'] },
    });
  });
});

describe('a rectification as submitted', () => {
  const dataMap = checkDataMap(
    shopWith(() => {}),
    'datamap.yaml',
  );
  const submit = (corrections: Record<string, unknown>) =>
    parseSubmission(
      { dataMap },
      {
        type: 'rectification',
        subject: [{ type: 'email', value: 'ada@example.com' }],
        jurisdiction: 'gdpr',
        corrections,
      },
    );

  it('normalises a corrected identity as its type says and keeps other values as given', () => {
    expect(submit({ phone: '030 1234 5678', name: ' Ada Berg ' }).corrections).toEqual({
      phone: '+493012345678',
      name: ' Ada Berg ',
    });
  });

  it.each([
    [
      { email: 'new@example.com' },
      'field "email" is not rectifiable: the data map declares name, phone, shippingName, shippingAddress',
    ],
    [{ phone: 'not a phone' }, 'field "phone": the corrected value is not a valid phone'],
    [{ name: '   ' }, 'field "name": the corrected value is empty'],
    [{ 'ada@example.com': 'x' }, 'a correction names a field that is not an attribute name'],
  ])('refuses %j naming the field, never the value', (corrections, message) => {
    expect(() => submit(corrections)).toThrow(message);
    try {
      submit(corrections);
    } catch (error) {
      for (const value of Object.values(corrections)) {
        if (value.trim()) expect((error as Error).message).not.toContain(value);
      }
      expect((error as Error).message).not.toContain('ada@example.com');
    }
  });

  it('needs corrections, and refuses them on other request types', () => {
    expect(() => submit({})).toThrow('a rectification needs corrections');
    expect(() =>
      parseSubmission(
        { dataMap },
        {
          type: 'erasure',
          subject: [{ type: 'email', value: 'a@example.com' }],
          jurisdiction: 'gdpr',
          corrections: { name: 'x' },
        },
      ),
    ).toThrow('corrections are given with rectification requests only');
  });

  it('needs a scope for an objection, one of the known ones', () => {
    const object = (scope?: string) =>
      parseSubmission(
        { dataMap },
        {
          type: 'objection',
          subject: [{ type: 'email', value: 'a@example.com' }],
          jurisdiction: 'ccpa',
          ...(scope ? { scope } : {}),
        },
      );
    expect(() => object()).toThrow('an objection needs a scope');
    expect(() => object('newsletter')).toThrow('the scope is marketing, sale-or-sharing');
    expect(object('consent:newsletter').request.scope).toBe('consent:newsletter');
  });
});
