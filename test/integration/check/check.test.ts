import { gzipSync } from 'node:zlib';
import { generateAdtechSeed } from '../../../examples/adtech/seed';
import { generateShopSeed, type ShopSeed, type StoredIdentity } from '../../../examples/shop/seed';
import { type CheckReport, checkStores, type SourceReport } from '../../../lib/check';
import { loadDataMap, parseDataMap } from '../../../lib/datamap/load';
import type { DataMap } from '../../../lib/datamap/schema';
import { importItems, importObjects, importSeed } from '../../../lib/local/import';
import { scanStoreValues } from '../../../lib/stores';
import { snapshotEverything } from '../../helpers/snapshot';
import { useLocalStores } from '../../helpers/stores';
import { EXAMPLE_DATAMAP_PATH, SEED_NOW } from '../../helpers/world';

/** The counts of one source of a report, found by store, role and identity. */
function source(report: CheckReport, storeId: string, role: 'locate' | 'link', identity: string) {
  const found = report.stores
    .find((store) => store.storeId === storeId)
    ?.sources.find((candidate) => candidate.role === role && candidate.identity === identity);
  if (!found) throw new Error(`no ${role} ${identity} in ${storeId}`);
  return found;
}

const counts = ({
  records,
  values,
  missing,
  notNormalising,
  notNormalised,
  onlyAsGiven,
  wouldMiss,
}: SourceReport) => ({ records, values, missing, notNormalising, notNormalised, onlyAsGiven, wouldMiss });

/** Expected counts of a source from the seed's stored identities of one type, one per record (null: none). */
function expectedFrom(stored: (StoredIdentity | null)[], exactMatch: boolean) {
  const present = stored.filter((identity): identity is StoredIdentity => identity !== null);
  const notNormalised = present.filter((identity) => identity.stored !== identity.value);
  return {
    records: stored.length,
    values: present.length,
    missing: stored.length - present.length,
    notNormalising: 0,
    notNormalised: notNormalised.length,
    onlyAsGiven: notNormalised.filter((identity) => identity.stored.trim() !== identity.stored).length,
    wouldMiss: exactMatch ? notNormalised.length : 0,
  };
}

describe('checkStores on the shop example (messy data, checked against the seed’s ground truth)', () => {
  const dataMap = loadDataMap('examples/shop/datamap.yaml');
  const local = useLocalStores(dataMap);
  const seed: ShopSeed = generateShopSeed({ customers: 40, seed: 7, now: SEED_NOW });

  beforeAll(() => importSeed(dataMap, seed, local.clients));

  it('counts exactly the legacy customers rows on the byEmail index as missed, and changes nothing anywhere', async () => {
    // prepare
    const legacy = seed.customers.filter((customer) => customer.storedEmail !== customer.email);
    const before = await snapshotEverything(local.clients);

    // act
    const report = await checkStores({ dataMap, clients: local.clients });

    // assess
    expect(legacy.length).toBeGreaterThan(0);
    expect(counts(source(report, 'customers', 'locate', 'email'))).toEqual({
      records: seed.customers.length,
      values: seed.customers.length,
      missing: 0,
      notNormalising: 0,
      notNormalised: legacy.length,
      onlyAsGiven: legacy.filter((customer) => customer.storedEmail.trim() !== customer.storedEmail).length,
      wouldMiss: legacy.length,
    });
    expect(report).toMatchObject({ wouldMiss: legacy.length, clean: false });
    expect(await snapshotEverything(local.clients)).toEqual(before);
  });

  it('counts every locate rule and link of every store as the seed says', async () => {
    // prepare
    const lines = seed.truth.records.filter((record) => record.storeId === 'support');
    const identityOf = (type: string) => (record: { identities: StoredIdentity[] }) =>
      record.identities.find((identity) => identity.type === type) ?? null;
    const orders = seed.truth.records.filter((record) => record.storeId === 'orders');

    // act
    const report = await checkStores({ dataMap, clients: local.clients });

    // assess
    expect(counts(source(report, 'customers', 'link', 'phone'))).toEqual({
      ...expectedFrom(
        seed.customers.map((customer) => ({
          type: 'phone',
          stored: customer.storedPhone,
          value: customer.phone,
        })),
        false,
      ),
      wouldMiss: null,
    });
    expect(counts(source(report, 'customers', 'locate', 'customerId'))).toEqual(
      expectedFrom(
        seed.customers.map((c) => ({ type: 'customerId', stored: c.customerId, value: c.customerId })),
        true,
      ),
    );
    expect(counts(source(report, 'orders', 'locate', 'customerId'))).toEqual(
      expectedFrom(orders.map(identityOf('customerId')), true),
    );
    expect(counts(source(report, 'loyalty', 'locate', 'customerId'))).toEqual(
      expectedFrom(
        seed.truth.records.filter((r) => r.storeId === 'loyalty').map(identityOf('customerId')),
        true,
      ),
    );
    expect(counts(source(report, 'invoices', 'locate', 'customerId'))).toEqual(
      expectedFrom(
        seed.truth.records.filter((r) => r.storeId === 'invoices').map(identityOf('customerId')),
        true,
      ),
    );
    // Support lines in mixed case or with spaces are not in normalised form, but lines are compared
    // normalised: nothing is missed there.
    const supportEmail = expectedFrom(lines.map(identityOf('email')), false);
    expect(supportEmail.notNormalised).toBeGreaterThan(0);
    expect(counts(source(report, 'support', 'locate', 'email'))).toEqual(supportEmail);
    expect(counts(source(report, 'support', 'locate', 'phone'))).toEqual(
      expectedFrom(lines.map(identityOf('phone')), false),
    );
    expect(report.stores.find((store) => store.storeId === 'support')).toMatchObject({
      records: lines.length,
      malformedLines: seed.truth.malformedLines.length,
      unreadableObjects: 0,
      wouldMiss: 0,
    });
  });

  it('reads in pages of at most the page size, and counts the same in small pages over parallel segments', async () => {
    // prepare
    const whole = await checkStores({ dataMap, clients: local.clients });
    const largest: number[] = [];
    const pages: number[] = [];

    // act
    for (const store of dataMap.stores) {
      let count = 0;
      let biggest = 0;
      for await (const page of scanStoreValues(dataMap, store, local.clients, { pageSize: 7, segments: 3 })) {
        count += 1;
        biggest = Math.max(biggest, page.records.length);
      }
      largest.push(biggest);
      pages.push(count);
    }
    const paged = await checkStores({ dataMap, clients: local.clients }, { pageSize: 7, segments: 3 });

    // assess
    expect(Math.max(...largest)).toBeLessThanOrEqual(7);
    expect(Math.min(...pages)).toBeGreaterThan(1);
    expect(paged).toEqual(whole);
  });

  it('reports progress page by page, then once done, per store', async () => {
    // prepare
    const progress: string[] = [];

    // act
    await checkStores(
      { dataMap, clients: local.clients },
      {
        storeIds: ['invoices', 'customers'],
        pageSize: 25,
        onProgress: (update) =>
          progress.push(`${update.storeId} ${update.records}${update.done ? ' done' : ''}`),
      },
    );

    // assess
    const invoices = seed.truth.records.filter((record) => record.storeId === 'invoices').length;
    expect(progress.filter((line) => line.startsWith('invoices')).at(-1)).toBe(`invoices ${invoices} done`);
    expect(progress.at(-1)).toBe(`customers ${seed.customers.length} done`);
    expect(progress.filter((line) => line.startsWith('customers ')).length).toBeGreaterThan(2);
  });

  it('refuses an unknown store before reading, naming the known ones', async () => {
    await expect(
      checkStores({ dataMap, clients: local.clients }, { storeIds: ['custmers'] }),
    ).rejects.toThrow(
      'unknown store "custmers"; the data map declares: customers, orders, loyalty, invoices, support',
    );
  });
});

describe('checkStores on the ad-tech example', () => {
  const dataMap = loadDataMap(EXAMPLE_DATAMAP_PATH);
  const local = useLocalStores(dataMap);
  const seed = generateAdtechSeed({ subjects: 12, recordsPerSubject: 4, seed: 7, now: SEED_NOW });

  beforeAll(() => importSeed(dataMap, seed, local.clients));

  it('is clean: every key holds normalised values, and upper-case cookie ids in the click logs are found', async () => {
    // prepare
    const clickLines = seed.s3.clickstream.flatMap((object) =>
      String(object.body)
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { cookieId: string }),
    );
    const upper = clickLines.filter((line) => line.cookieId !== line.cookieId.toLowerCase()).length;

    // act
    const report = await checkStores({ dataMap, clients: local.clients });

    // assess
    expect(report).toMatchObject({ clean: true, wouldMiss: 0 });
    expect(upper).toBeGreaterThan(0);
    expect(counts(source(report, 'clickstream', 'locate', 'cookieId'))).toMatchObject({
      records: clickLines.length,
      notNormalised: upper,
      wouldMiss: 0,
    });
  });
});

/**
 * Values the examples do not hold: numbers as keys, sets and lists of links, values that do not
 * normalise, keys outside a subject folder, broken lines and a compressed object.
 */
const MESSY_DATAMAP = `
version: 1
identityTypes:
  email: { normalise: email }
  phone: { normalise: e164 }
  memberNo: { normalise: opaque, pattern: "[0-9]+" }
stores:
  - id: members
    kind: dynamodb
    table: check-members
    keySchema: { partitionKey: { name: memberNo, type: N } }
    indexes:
      - { name: byEmail, partitionKey: { name: email, type: S } }
    locate:
      - { identity: memberNo, attribute: memberNo }
      - { identity: email, index: byEmail, attribute: email }
    links:
      - { identity: phone, attribute: phones }
    categories: [user.contact.email]
    purpose: Testing the check
    lawfulBasis: contract
    source: Tests
    erase: { action: delete }
  - id: calls
    kind: s3
    bucket: check-calls
    locate:
      - { identity: phone, prefix: "calls/{phone}/" }
    categories: [user.contact.phone]
    purpose: Testing the check
    lawfulBasis: contract
    source: Tests
    erase: { action: delete }
  - id: chats
    kind: s3
    bucket: check-chats
    locate:
      - { identity: email, jsonLines: { prefix: "chats/", field: email } }
    links:
      - { identity: phone, attribute: phone }
    categories: [user.contact.email]
    purpose: Testing the check
    lawfulBasis: contract
    source: Tests
    erase: { action: rewrite }
`;

describe('checkStores on values the examples do not hold', () => {
  const dataMap: DataMap = parseDataMap(MESSY_DATAMAP);
  const local = useLocalStores(dataMap);

  beforeAll(async () => {
    await importItems(
      dataMap,
      'members',
      [
        { memberNo: 1, email: 'ann@example.com', phones: ['+4930111111', '030 1111'] },
        { memberNo: 2, email: ' Bob@Example.com ', phones: ['+49 30 222222'] },
        { memberNo: 3, email: 'Cy@Example.com', phones: new Set(['+4930333333']) },
        { memberNo: 4 },
        { memberNo: 5, email: 'not-an-email', phones: [42] },
        { memberNo: 6, email: 'dee@example.com', phones: null },
      ],
      local.clients,
    );
    await importObjects(
      dataMap,
      'calls',
      [
        'calls/+4930111111/a.wav',
        'calls/+49 30 222222/b.wav',
        'calls/030 1111/c.wav',
        'calls/readme.txt',
        'other/+4930111111/x.wav',
      ].map((key) => ({ key, body: 'RIFF' })),
      local.clients,
    );
    await importObjects(
      dataMap,
      'chats',
      [
        {
          key: 'chats/1.jsonl',
          body: [
            '{"email":"ann@example.com","phone":"+4930111111"}',
            '{"email":"ANN@EXAMPLE.COM"}',
            '{"email":" ann@example.com ","phone":"+49 30 111111"}',
            'not json',
            '',
            '{"email":["ann@example.com"]}',
            '{"phone":"030 1"}',
          ].join('\n'),
        },
        { key: 'chats/2.jsonl', body: gzipSync('{"email":"ann@example.com"}\n') },
        { key: 'outside/3.jsonl', body: '{"email":"Eve@Example.com"}\n' },
      ],
      local.clients,
    );
  });

  it('reads numbers as key text, lists and sets as several link values, null as missing', async () => {
    // act
    const report = await checkStores({ dataMap, clients: local.clients }, { storeIds: ['members'] });

    // assess
    expect(counts(source(report, 'members', 'locate', 'memberNo'))).toEqual({
      records: 6,
      values: 6,
      missing: 0,
      notNormalising: 0,
      notNormalised: 0,
      onlyAsGiven: 0,
      wouldMiss: 0,
    });
    expect(counts(source(report, 'members', 'locate', 'email'))).toEqual({
      records: 6,
      values: 5,
      missing: 1,
      notNormalising: 1,
      notNormalised: 2,
      onlyAsGiven: 1,
      wouldMiss: 3,
    });
    expect(counts(source(report, 'members', 'link', 'phone'))).toEqual({
      records: 6,
      values: 5,
      missing: 2,
      notNormalising: 2,
      notNormalised: 1,
      onlyAsGiven: 0,
      wouldMiss: null,
    });
  });

  it('takes the placeholder text of keys under a subject folder, and counts other keys as missing', async () => {
    // act
    const report = await checkStores({ dataMap, clients: local.clients }, { storeIds: ['calls'] });

    // assess
    expect(counts(source(report, 'calls', 'locate', 'phone'))).toEqual({
      records: 4,
      values: 3,
      missing: 1,
      notNormalising: 1,
      notNormalised: 1,
      onlyAsGiven: 0,
      wouldMiss: 2,
    });
  });

  it('counts broken lines and compressed objects apart, and misses in JSON lines only what does not normalise', async () => {
    // act
    const report = await checkStores({ dataMap, clients: local.clients }, { storeIds: ['chats'] });

    // assess
    expect(report.stores[0]).toMatchObject({
      records: 5,
      malformedLines: 1,
      unreadableObjects: 1,
      wouldMiss: 1,
    });
    expect(counts(source(report, 'chats', 'locate', 'email'))).toEqual({
      records: 5,
      values: 4,
      missing: 1,
      notNormalising: 1,
      notNormalised: 2,
      onlyAsGiven: 1,
      wouldMiss: 1,
    });
    expect(counts(source(report, 'chats', 'link', 'phone'))).toEqual({
      records: 5,
      values: 3,
      missing: 2,
      notNormalising: 1,
      notNormalised: 1,
      onlyAsGiven: 0,
      wouldMiss: null,
    });
  });
});
