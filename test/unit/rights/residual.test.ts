import { join } from 'node:path';
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import { residualCount, retainedAttributes } from '../../../lib/rights/residual';
import type { LocatedRecord } from '../../../lib/stores/types';

const shop = loadDataMap(join(__dirname, '../../../examples/shop/datamap.yaml'));
const loyalty = getStore(shop, 'loyalty');
const customers = getStore(shop, 'customers');
const support = getStore(shop, 'support');
const invoices = getStore(shop, 'invoices');

const matched = { identity: 'customerId', attribute: 'customerId', value: 'cus_000000000001' };
const item = (
  entryId: string,
  extra: Partial<Extract<LocatedRecord, { kind: 'item' }>> = {},
): LocatedRecord => ({
  kind: 'item',
  key: { customerId: matched.value, entryId },
  matched,
  ...extra,
});
const exemption = { source: 'datamap' as const, reason: 'A redemption is a discount on an invoice' };

describe('residualCount: what Confirm counts as left after erasure', () => {
  it('counts the items of a masking store whose masked fields are not all masked, and only those', () => {
    // prepare
    const records = [
      item('e1', { masked: true }),
      item('e2'),
      item('e3', { exemption }),
      item('e4', { masked: true }),
      item('e5'),
    ];

    // act
    const residual = residualCount(loyalty, records);

    // assess
    expect(residual).toBe(2);
  });

  it('counts every located item of a deleting store that no exemption keeps, masked or not', () => {
    // prepare: a masked flag means nothing where the rule is delete
    const records = [item('a', { masked: true }), item('b'), item('c', { exemption })];

    // act
    const residual = residualCount(customers, records);

    // assess
    expect(residual).toBe(2);
  });

  it("counts the subject's lines in JSON-lines stores and the objects of per-subject stores", () => {
    // prepare
    const lines: LocatedRecord[] = [
      {
        kind: 'lines',
        key: 'support/a.jsonl',
        etag: 'e',
        lineCount: 3,
        matched: { identity: 'email', field: 'email', values: [] },
      },
      {
        kind: 'lines',
        key: 'support/b.jsonl',
        etag: 'e',
        lineCount: 2,
        matched: { identity: 'email', field: 'email', values: [] },
        exemption,
      },
    ];
    const objects: LocatedRecord[] = [
      { kind: 'object', key: 'invoices/x/1.pdf', size: 1 },
      { kind: 'object', key: 'invoices/x/2.pdf', size: 1, exemption },
    ];

    // act
    const residual = [residualCount(support, lines), residualCount(invoices, objects)];

    // assess
    expect(residual).toEqual([3, 1]);
  });

  it('finds nothing in nothing', () => {
    expect(residualCount(loyalty, [])).toBe(0);
  });
});

describe('retainedAttributes: what the certificate says a masked record keeps', () => {
  it('names the retained key of a masking store, an empty list for a masking store that keeps none, nothing for others', () => {
    // act
    const retained = ['loyalty', 'orders', 'customers', 'support'].map((id) =>
      retainedAttributes(getStore(shop, id)),
    );

    // assess
    expect(retained.map((entry) => entry?.map((attribute) => attribute.attribute))).toEqual([
      ['customerId'],
      [],
      undefined,
      undefined,
    ]);
  });
});

describe('residualCount: records only claimed links reached', () => {
  it('counts them only when staff included the store in review', () => {
    // prepare: the request never set out to erase what waited for review or was excluded
    const records = [item('e1'), item('e2', { claimedBy: ['hs256:phone'] })];

    // act
    const residual = [
      residualCount(customers, records),
      residualCount(customers, records, { includeClaimed: true }),
    ];

    // assess
    expect(residual).toEqual([1, 2]);
  });
});
