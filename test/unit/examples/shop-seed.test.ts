import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import {
  generateShopSeed,
  recordsOf,
  SHOP_DYNAMODB_STORES,
  SHOP_S3_STORES,
  type ShopSeed,
  spellingsOf,
  type TruthRecord,
  writeShopSeedFiles,
} from '../../../examples/shop/seed';
import { type DynamoStore, getStore, loadDataMap, normaliseIdentity } from '../../../lib/datamap';
import { checkItemsFile } from '../../../lib/local/import';

const DATAMAP_PATH = join(__dirname, '../../../examples/shop/datamap.yaml');
const dataMap = loadDataMap(DATAMAP_PATH);
const NOW = new Date('2026-06-15T00:00:00.000Z');

/** The normalised value, or undefined where the data map's normaliser rejects it. */
function normalised(type: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return normaliseIdentity(dataMap, type, value).value;
  } catch {
    return undefined;
  }
}

function dynamoStore(id: string): DynamoStore {
  const store = getStore(dataMap, id);
  if (store.kind !== 'dynamodb') throw new Error(`${id} is not a DynamoDB store`);
  return store;
}

function itemKey(store: DynamoStore, item: Record<string, unknown>): string {
  const { partitionKey, sortKey } = store.keySchema;
  return [item[partitionKey.name], ...(sortKey ? [item[sortKey.name]] : [])].map(String).join('|');
}

/** The exemption the data map's `when` conditions give an item, evaluated here from the YAML. */
function exemptionIndex(store: DynamoStore, item: Record<string, unknown>): number {
  return store.exemptions.findIndex(({ when }) => {
    if (!when) return true;
    const value = item[when.attribute];
    if (when.equals !== undefined) return value === when.equals;
    if (when.in !== undefined) return (when.in as unknown[]).includes(value);
    return (value !== undefined) === when.exists;
  });
}

/** The lines of an object as a reader splitting on "\n" sees them (no phantom line after a final break). */
function objectLines(body: string | Buffer): string[] {
  const text = String(body);
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

function supportRecords(seed: ShopSeed, key: string): TruthRecord[] {
  return seed.truth.records.filter((record) => record.storeId === 'support' && record.key === key);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('the shop example', () => {
  const options = { customers: 80, seed: 11, now: NOW };
  const seed = generateShopSeed(options);
  const customerById = new Map(seed.customers.map((customer) => [customer.customerId, customer]));

  it('has a data map that loads with the normal loader and names the stores the seed fills', () => {
    // prepare
    const kinds = Object.fromEntries(dataMap.stores.map((store) => [store.id, store.kind]));

    // act
    const generated = {
      ...Object.fromEntries(Object.keys(seed.dynamodb).map((id) => [id, 'dynamodb'])),
      ...Object.fromEntries(Object.keys(seed.s3).map((id) => [id, 's3'])),
    };

    // assess
    expect(generated).toEqual(kinds);
    expect(Object.keys(dataMap.identityTypes).sort()).toEqual(['customerId', 'email', 'phone']);
    expect(dataMap.stores.filter((store) => store.retention).length).toBeGreaterThanOrEqual(2);
    for (const id of SHOP_DYNAMODB_STORES) expect(seed.dynamodb[id].length).toBeGreaterThan(0);
    for (const id of SHOP_S3_STORES) expect(seed.s3[id].length).toBeGreaterThan(0);
  });

  it('is deterministic: the same options write byte-identical files', () => {
    // prepare
    const dirs = [mkdtempSync(join(tmpdir(), 'lethe-shop-a-')), mkdtempSync(join(tmpdir(), 'lethe-shop-b-'))];

    try {
      // act
      const again = generateShopSeed({ ...options, now: new Date(NOW.getTime()) });
      writeShopSeedFiles(seed, dirs[0]!);
      writeShopSeedFiles(again, dirs[1]!);

      // assess
      expect({ ...again, s3: null }).toEqual({ ...seed, s3: null });
      const files = dirs.map((dir) => listFiles(dir).map((file) => relative(dir, file).split(sep).join('/')));
      expect(files[1]!.sort()).toEqual(files[0]!.sort());
      for (const file of files[0]!) {
        expect(readFileSync(join(dirs[1]!, file)).equals(readFileSync(join(dirs[0]!, file)))).toBe(true);
      }
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives different data for a different seed', () => {
    // prepare
    const other = { ...options, seed: 12 };

    // act
    const second = generateShopSeed(other);

    // assess
    expect(second.customers.map((c) => c.customerId)).not.toEqual(seed.customers.map((c) => c.customerId));
    expect(second.customers.map((c) => c.email)).not.toEqual(seed.customers.map((c) => c.email));
    expect(second.dynamodb.orders).not.toEqual(seed.dynamodb.orders);
    expect(second.s3.support.map((o) => String(o.body))).not.toEqual(
      seed.s3.support.map((o) => String(o.body)),
    );
  });

  it('rejects counts that are not non-negative integers and produces nothing for zero customers', () => {
    // prepare
    const bad = [-1, 1.5, Number.NaN];

    // act
    const empty = generateShopSeed({ customers: 0, now: NOW });

    // assess
    for (const customers of bad) expect(() => generateShopSeed({ customers })).toThrow(RangeError);
    expect(empty.customers).toEqual([]);
    expect(empty.truth.records).toEqual([]);
    for (const items of Object.values(empty.dynamodb)) expect(items).toEqual([]);
    for (const objects of Object.values(empty.s3)) expect(objects).toEqual([]);
  });

  it('defaults now to the start of a UTC day', () => {
    // prepare
    const withoutNow = { customers: 1 };

    // act
    const generated = generateShopSeed(withoutNow);

    // assess
    expect(generated.now.getTime() % 86_400_000).toBe(0);
    expect(generated.seed).toBe(1);
  });

  it('keeps identities valid and unambiguous: one customer per id, email and phone', () => {
    // prepare
    const ids = seed.customers.map((c) => c.customerId);
    const emails = seed.customers.map((c) => c.email);
    const phones = seed.customers.map((c) => c.phone);

    // act
    const renormalised = seed.customers.map((c) => [
      normalised('customerId', c.customerId),
      normalised('email', c.email),
      normalised('phone', c.phone),
    ]);

    // assess
    expect(renormalised).toEqual(seed.customers.map((c) => [c.customerId, c.email, c.phone]));
    expect([new Set(ids).size, new Set(emails).size, new Set(phones).size]).toEqual([
      ids.length,
      ids.length,
      ids.length,
    ]);
  });

  it('has a truth record for every item, object and line of the output, and nothing else', () => {
    // prepare
    const truthKeys = (storeId: string) =>
      seed.truth.records.filter((record) => record.storeId === storeId).map((record) => record.key);

    // act
    const itemKeys = Object.fromEntries(
      SHOP_DYNAMODB_STORES.map((id) => [id, seed.dynamodb[id].map((item) => itemKey(dynamoStore(id), item))]),
    );

    // assess
    for (const id of SHOP_DYNAMODB_STORES) {
      expect(new Set(itemKeys[id]).size).toBe(itemKeys[id]!.length);
      expect([...itemKeys[id]!].sort()).toEqual(truthKeys(id).sort());
    }
    expect(seed.s3.invoices.map((object) => object.key).sort()).toEqual(truthKeys('invoices').sort());
    let blank = 0;
    for (const object of seed.s3.support) {
      const records = supportRecords(seed, object.key);
      const malformed = seed.truth.malformedLines.filter((line) => line.key === object.key);
      objectLines(object.body).forEach((text, index) => {
        const number = index + 1;
        const described = [
          ...records.filter((record) => record.line?.number === number).map((record) => record.line!.text),
          ...malformed.filter((line) => line.number === number).map((line) => line.text),
        ];
        if (text.trim() === '') {
          blank += 1;
          expect(described).toEqual([]);
        } else
          expect({ key: object.key, number, described }).toEqual({
            key: object.key,
            number,
            described: [text],
          });
      });
    }
    expect(blank).toBe(seed.truth.blankLines);
    expect(new Set(seed.s3.support.map((object) => object.key)).size).toBe(seed.s3.support.length);
  });

  it('names as owner exactly the customer the record itself points to, found from its content', () => {
    // prepare: owners from the records' own values, matched by normalised identity
    const byEmail = new Map(seed.customers.map((c) => [c.email, c.customerId]));
    const byPhone = new Map(seed.customers.map((c) => [c.phone, c.customerId]));
    const items = new Map(
      SHOP_DYNAMODB_STORES.flatMap((id) =>
        seed.dynamodb[id].map((item) => [`${id}|${itemKey(dynamoStore(id), item)}`, item] as const),
      ),
    );

    // act
    const derived = seed.truth.records.map((record) => {
      if (record.storeId === 'invoices') return record.key.split('/')[1];
      if (record.storeId !== 'support')
        return String(items.get(`${record.storeId}|${record.key}`)?.customerId);
      const line = JSON.parse(record.line!.text) as Record<string, unknown>;
      const owners = new Set(
        [
          byEmail.get(normalised('email', line.email) ?? ''),
          byPhone.get(normalised('phone', line.callerPhone) ?? ''),
        ].filter((owner) => owner !== undefined),
      );
      expect(owners.size).toBeLessThanOrEqual(1);
      return [...owners][0] ?? null;
    });

    // assess
    expect(derived).toEqual(seed.truth.records.map((record) => record.owner));
  });

  it('records every stored spelling as it is stored, standing for the owner’s normalised identity', () => {
    // prepare
    const content = (record: TruthRecord): string => {
      if (record.storeId === 'invoices') return record.key;
      if (record.storeId === 'support') return record.line!.text;
      const store = dynamoStore(record.storeId);
      const item = seed.dynamodb[record.storeId].find(
        (candidate) => itemKey(store, candidate) === record.key,
      );
      return JSON.stringify(item);
    };

    // act
    const checked = seed.truth.records.flatMap((record) =>
      record.identities.map((identity) => ({ record, identity, text: content(record) })),
    );

    // assess
    for (const { record, identity, text } of checked) {
      // As JSON escapes it: a legacy email's tab is \t in the item's and the line's JSON text.
      expect(text).toContain(JSON.stringify(identity.stored).slice(1, -1));
      const owner = record.owner === null ? undefined : customerById.get(record.owner);
      if (owner) expect(identity.value).toBe(owner[identity.type]);
      // Every spelling normalises to the owner's value, national phone numbers included (the phone
      // type names the shop's country).
      expect(normalised(identity.type, identity.stored)).toBe(identity.value);
    }
  });

  it('decides each record’s erasure outcome as the data map’s erase rule and exemptions say', () => {
    // prepare
    const truth = new Map(seed.truth.records.map((record) => [`${record.storeId}|${record.key}`, record]));

    // act
    const expected = SHOP_DYNAMODB_STORES.flatMap((id) => {
      const store = dynamoStore(id);
      return seed.dynamodb[id].map((item) => {
        const exempt = exemptionIndex(store, item) >= 0;
        const keyedByLocate = store.locate.some(
          (rule) => !rule.index && rule.attribute === store.keySchema.partitionKey.name,
        );
        return {
          id: `${id}|${itemKey(store, item)}`,
          erasure: exempt ? 'exempt' : store.erase.action,
          maskedByKey: !exempt && store.erase.action === 'mask' && keyedByLocate,
        };
      });
    });

    // assess
    for (const { id, erasure, maskedByKey } of expected) {
      expect({ id, erasure: truth.get(id)?.erasure, maskedByKey: truth.get(id)?.maskedByKey }).toEqual({
        id,
        erasure,
        maskedByKey,
      });
    }
    const invoices = seed.truth.records.filter((record) => record.storeId === 'invoices');
    expect(getStore(dataMap, 'invoices').exemptions[0]?.when).toBeUndefined();
    expect(invoices.every((record) => record.erasure === 'exempt' && record.exemption === 'invoice')).toBe(
      true,
    );
    const support = seed.truth.records.filter((record) => record.storeId === 'support');
    expect(support.every((record) => record.erasure === (record.owner === null ? null : 'rewrite'))).toBe(
      true,
    );
  });

  it('is really messy: legacy email spellings, national phones, guests, blank and malformed lines', () => {
    // prepare
    const rows = seed.dynamodb.customers;

    // act
    const legacyEmails = rows.filter((row) => row.email !== normalised('email', row.email));
    const nationalPhones = rows.filter((row) => /^0[1-9]/.test(String(row.phone)));
    const reformattedPhones = rows.filter((row) => {
      const value = normalised('phone', row.phone);
      return value !== undefined && value !== row.phone;
    });
    const withoutOrders = seed.customers.filter(
      (c) => !recordsOf(seed, c.customerId).some((record) => record.storeId === 'orders'),
    );
    const mixedCaseLines = seed.truth.records.filter((record) =>
      record.identities.some(
        (i) => record.storeId === 'support' && i.type === 'email' && /[A-Z]/.test(i.stored),
      ),
    );

    // assess
    expect(legacyEmails.length).toBeGreaterThan(0);
    for (const row of legacyEmails) {
      expect(String(row.email)).toMatch(/[A-Z]/);
      expect(String(row.email)).not.toBe(String(row.email).trim());
    }
    expect(nationalPhones.length).toBeGreaterThan(0);
    expect(reformattedPhones.length).toBeGreaterThan(0);
    expect(withoutOrders.length).toBeGreaterThan(0);
    expect(mixedCaseLines.length).toBeGreaterThan(0);
    expect(seed.truth.records.some((record) => record.storeId === 'support' && record.owner === null)).toBe(
      true,
    );
    expect(seed.truth.malformedLines.length).toBeGreaterThan(0);
    expect(seed.truth.blankLines).toBeGreaterThan(0);
    expect(seed.s3.support.some((object) => !String(object.body).endsWith('\n'))).toBe(true);
  });

  it('puts several customers into one support file, one of them in two spellings beside its near-miss twin', () => {
    // prepare
    const owners = seed.s3.support.map(
      (object) => new Set(supportRecords(seed, object.key).flatMap((record) => record.owner ?? [])),
    );
    const [first, , plain, twin] = seed.customers;

    // act
    const firstFile = supportRecords(seed, seed.s3.support[0]!.key);
    const spellings = (customerId: string) =>
      new Set(
        firstFile
          .filter((record) => record.owner === customerId)
          .flatMap((record) => record.identities.map((identity) => identity.stored)),
      );

    // assess
    expect(owners.filter((set) => set.size >= 2).length).toBeGreaterThan(0);
    expect(twin!.email).toContain(plain!.email);
    expect(twin!.email).not.toBe(plain!.email);
    expect([...owners[0]!]).toEqual(
      expect.arrayContaining([first!.customerId, plain!.customerId, twin!.customerId]),
    );
    expect(spellings(plain!.customerId).size).toBe(2);
    expect(spellings(first!.customerId).size).toBe(2);
  });

  it('gives the first six customers the documented traits', () => {
    // prepare
    const [legacy, national, plain, twin, chargeback, orderless] = seed.customers;
    const stores = (customerId: string) => recordsOf(seed, customerId).map((record) => record.storeId);

    // act
    const outcomes = (customerId: string) => recordsOf(seed, customerId).map((record) => record.erasure);

    // assess
    expect(legacy).toMatchObject({ legacy: true, loyaltyMember: true, phoneSpelling: 'international' });
    expect(legacy!.storedEmail).not.toBe(legacy!.email);
    expect(spellingsOf(seed, legacy!.customerId).email).toContain(legacy!.storedEmail);
    expect(recordsOf(seed, legacy!.customerId).filter((r) => r.maskedByKey).length).toBeGreaterThan(0);
    expect(recordsOf(seed, legacy!.customerId).some((r) => r.exemption === 'redemption')).toBe(true);
    expect(recordsOf(seed, legacy!.customerId).some((r) => r.exemption === 'open-order')).toBe(true);
    expect(national).toMatchObject({ legacy: false, loyaltyMember: false, phoneSpelling: 'national' });
    expect(
      recordsOf(seed, national!.customerId).some(
        (r) => r.storeId === 'support' && r.identities.every((identity) => identity.type === 'phone'),
      ),
    ).toBe(true);
    expect(plain).toMatchObject({
      legacy: false,
      loyaltyMember: false,
      chargebackOpen: false,
      phoneSpelling: 'e164',
    });
    expect(recordsOf(seed, plain!.customerId).some((r) => r.exemption === 'open-order')).toBe(true);
    expect(stores(plain!.customerId)).toEqual(
      expect.arrayContaining(['customers', 'orders', 'invoices', 'support']),
    );
    expect(twin).toMatchObject({ legacy: false, loyaltyMember: false });
    expect(chargeback).toMatchObject({ chargebackOpen: true, loyaltyMember: true });
    expect(outcomes(chargeback!.customerId)[0]).toBe('exempt');
    expect(stores(orderless!.customerId)).not.toContain('orders');
    expect(stores(orderless!.customerId)).not.toContain('invoices');
    const dormant = seed.dynamodb.customers.find((row) => row.customerId === orderless!.customerId)!;
    expect(Date.parse(String(dormant.lastLoginAt))).toBeLessThan(Date.parse('2023-06-15T00:00:00.000Z'));
    expect(Date.parse(String(dormant.createdAt))).toBeLessThan(Date.parse(String(dormant.lastLoginAt)));
  });

  it('writes files that lethe import reads back as the seed', async () => {
    // prepare
    const dir = mkdtempSync(join(tmpdir(), 'lethe-shop-files-'));

    try {
      // act
      const written = writeShopSeedFiles(seed, dir);

      // assess
      for (const id of SHOP_DYNAMODB_STORES) {
        const file = written.dynamodb[id]!;
        const lines = readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line !== '');
        expect(lines.map((line) => JSON.parse(line))).toEqual(seed.dynamodb[id]);
        // The legacy spellings are the point of the shop: imported as they are, as a copy of the table.
        await expect(checkItemsFile(dataMap, id, file, { locateKeys: 'keep' })).resolves.toMatchObject({
          items: seed.dynamodb[id].length,
        });
      }
      for (const id of SHOP_S3_STORES) {
        const folder = written.s3[id]!;
        const keys = listFiles(folder).map((file) => relative(folder, file).split(sep).join('/'));
        expect(keys.sort()).toEqual(seed.s3[id].map((object) => object.key).sort());
        for (const object of seed.s3[id]) {
          const file = join(folder, ...object.key.split('/'));
          expect(readFileSync(file).equals(Buffer.from(object.body))).toBe(true);
          expect(Math.abs(statSync(file).mtimeMs - object.lastModified.getTime())).toBeLessThan(1000);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
