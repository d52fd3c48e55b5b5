import { buildInventory, inventoryCsv } from '../../../lib/rights/inventory';
import { exampleDataMap } from '../../helpers/world';

describe('the record of processing activities (GDPR Art. 30) from the data map', () => {
  const dataMap = exampleDataMap();

  it('has a row per store with what the data map says of it, in data-map order', () => {
    const inventory = buildInventory(dataMap);

    expect(inventory.rows.map((row) => row.storeId)).toEqual(dataMap.stores.map((store) => store.id));
    const inquiries = inventory.rows[0];
    expect(inquiries).toMatchObject({
      kind: 'dynamodb',
      location: 'adtech-inquiries',
      lawfulBasis: 'legitimate-interests',
      retention: 'P3Y from receivedAt, then delete',
      erase: 'delete',
    });
    expect(inventory.organisation.name).toBe('Example Ads Ltd.');
  });

  it('says "until erased on request" for a store with no retention rule, and names masked fields', () => {
    const [first] = dataMap.stores;
    const variant = {
      ...dataMap,
      stores: [
        {
          ...first,
          retention: undefined,
          erase: { action: 'mask' as const, fields: [{ attribute: 'phone', with: 'hmac' as const }] },
        },
      ],
    } as typeof dataMap;

    const [row] = buildInventory(variant).rows;

    expect(row?.retention).toBe('until erased on request');
    expect(row?.erase).toBe('mask phone (hmac)');
  });

  it('writes CSV a spreadsheet cannot run: a formula in a purpose is quoted as text', () => {
    const [first] = dataMap.stores;
    const variant = {
      ...dataMap,
      stores: [{ ...first, purpose: '=HYPERLINK("http://x","y")' }],
    } as typeof dataMap;

    const [header, row] = inventoryCsv(buildInventory(variant)).trimEnd().split('\n');

    expect(header?.split(',')).toHaveLength(12);
    expect(row).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
  });
});
