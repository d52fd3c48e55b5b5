import { join } from 'node:path';
import { getStore, loadDataMap } from '../../../lib/datamap/load';
import { indexKeyMaskProblem, retainedKeyAttributes } from '../../../lib/datamap/masking';
import type { DynamoStore } from '../../../lib/datamap/schema';

const shop = loadDataMap(join(__dirname, '../../../examples/shop/datamap.yaml'));
const adtech = loadDataMap(join(__dirname, '../../../examples/adtech/datamap.yaml'));
const dynamo = (dataMap: typeof shop, id: string) => getStore(dataMap, id) as DynamoStore;

describe('retainedKeyAttributes: what a masked record keeps of the subject', () => {
  it('names the partition key a masked store is located by, and why it stays', () => {
    // prepare
    const loyalty = dynamo(shop, 'loyalty');

    // act
    const retained = retainedKeyAttributes(loyalty);

    // assess: the sort key (entryId) locates nobody, so it is not named
    expect(retained).toEqual([
      {
        attribute: 'customerId',
        reason:
          'partition key of the table: DynamoDB cannot change a key in place; once masked, the record holds no other attribute that locates or links the subject',
      },
    ]);
  });

  it('names a sort key that a link reads', () => {
    // prepare
    const loyalty = dynamo(shop, 'loyalty');
    const linked = {
      ...loyalty,
      links: [{ identity: 'customerId', attribute: 'entryId', trust: 'verified' as const }],
    };

    // act
    const retained = retainedKeyAttributes(linked);

    // assess
    expect(retained.map((entry) => entry.attribute)).toEqual(['customerId', 'entryId']);
    expect(retained[1]?.reason).toMatch(/^sort key of the table: /);
  });

  it.each([
    ['orders', shop, 'located through an index whose key is masked'],
    ['partner-contacts', adtech, 'located through indexes; its table key locates nobody'],
    ['customers', shop, 'deleted, not masked'],
  ])('names nothing for %s (%s)', (id, dataMap) => {
    // act
    const retained = retainedKeyAttributes(dynamo(dataMap, id));

    // assess
    expect(retained).toEqual([]);
  });
});

describe('indexKeyMaskProblem', () => {
  const contacts = dynamo(adtech, 'partner-contacts');
  const numeric: DynamoStore = {
    ...contacts,
    indexes: [
      ...contacts.indexes,
      { name: 'byAge', partitionKey: { name: 'group', type: 'S' }, sortKey: { name: 'age', type: 'N' } },
    ],
  };

  it.each([
    [{ attribute: 'age', with: 'hash' as const }, 'the sort key of index "byAge" of type N'],
    [{ attribute: 'age', with: 'fixed' as const, value: '0' }, 'of type N'],
    [{ attribute: 'group', with: 'fixed' as const, value: '' }, 'cannot hold an empty string'],
    [{ attribute: 'age', with: 'remove' as const }, undefined],
    [{ attribute: 'group', with: 'fixed' as const, value: 'x'.repeat(2048) }, undefined],
    [{ attribute: 'group', with: 'fixed' as const, value: 'x'.repeat(2049) }, 'more than 2048 bytes'],
    [{ attribute: 'title', with: 'fixed' as const, value: '' }, undefined],
  ])('judges %j', (field, problem) => {
    // act
    const found = indexKeyMaskProblem(numeric, field);

    // assess
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
