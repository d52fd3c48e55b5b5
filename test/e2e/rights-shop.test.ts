import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, GetObjectTaggingCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  generateShopSeed,
  type ShopCustomer,
  type ShopSeed,
  writeShopSeedFiles,
} from '../../examples/shop/seed';
import { canonicalJson } from '../../lib/audit/log';
import { getStore, loadDataMap } from '../../lib/datamap';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { RequestSummary } from '../../lib/rights/summary';
import { initShopWithSeed, lethe, requestSubmitArgs, submitIncludingReview } from '../helpers/cli';
import { changedAttributes, SEED_NOW, type SnapshotEntry, snapshotStores } from '../helpers/world';
import { unzip } from '../helpers/zip';

/**
 * Rectification, restriction, its lift and objection on the shop example, end to end through the
 * local state machine: exactly the customer's records change (the customers row, their orders,
 * their invoices' tags), every other record stays as it was, restricted records are shown as such
 * in an export and kept by a sweep, and no identifier or corrected value stays in the requests
 * table, the audit log or the execution history.
 */

jest.setTimeout(300_000);

const DATAMAP_PATH = 'examples/shop/datamap.yaml';
const dataMap = loadDataMap(DATAMAP_PATH);
// Support transcripts hold malformed lines the snapshot cannot parse; no right here changes them.
const snapshotMap = { ...dataMap, stores: dataMap.stores.filter((store) => store.id !== 'support') };
const bucketOf = (id: string) => {
  const store = getStore(dataMap, id);
  if (store.kind !== 's3') throw new Error(`${id} is an S3 store`);
  return store.bucket;
};
const invoicesBucket = bucketOf('invoices');
const supportBucket = bucketOf('support');
const CORRECTED_NAME = 'Berenike Korrektur-Beispiel';
const CORRECTED_PHONE = '+49 30 9876 5432';

describe('rights that change records (shop example)', () => {
  let root: string;
  let stateDir: string;
  let seed: ShopSeed;
  let customer: ShopCustomer;

  async function snapshot() {
    const env = await openLocalEnvironment({ stateDir });
    try {
      const records = await snapshotStores(snapshotMap, env.clients);
      const tags = new Map<string, string>();
      const page = await env.clients.s3.send(new ListObjectsV2Command({ Bucket: invoicesBucket }));
      for (const object of page.Contents ?? []) {
        const tagging = await env.clients.s3.send(
          new GetObjectTaggingCommand({ Bucket: invoicesBucket, Key: object.Key! }),
        );
        tags.set(object.Key!, canonicalJson(tagging.TagSet ?? []));
      }
      // Support objects as their bytes: the snapshot cannot parse their malformed lines.
      const support = new Map<string, string>();
      const listed = await env.clients.s3.send(new ListObjectsV2Command({ Bucket: supportBucket }));
      for (const object of listed.Contents ?? []) {
        const got = await env.clients.s3.send(
          new GetObjectCommand({ Bucket: supportBucket, Key: object.Key! }),
        );
        support.set(object.Key!, await got.Body!.transformToString());
      }
      return { records, tags, support };
    } finally {
      await env.close();
    }
  }

  async function traces(requestId: string): Promise<string> {
    const history = await lethe(['request', 'history', requestId, '--state-dir', stateDir, '--json']);
    const audit = await lethe(['audit', 'timeline', requestId, '--state-dir', stateDir, '--json']);
    const status = await lethe(['request', 'status', requestId, '--state-dir', stateDir, '--json']);
    return [history, audit, status]
      .map((run) => run.out + run.err)
      .join('\n')
      .toLowerCase();
  }

  const isMine = (entry: SnapshotEntry) =>
    (entry.record as Record<string, unknown>).customerId === customer.customerId;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-shop-rights-'));
    stateDir = join(root, 'state');
    seed = generateShopSeed({ customers: 8, seed: 7, now: SEED_NOW });
    // A customer whose row spells the email as given, with an order, and who agreed to the newsletter.
    customer = seed.customers.find((candidate) => {
      const row = seed.dynamodb.customers.find((item) => item.customerId === candidate.customerId);
      return (
        !candidate.legacy &&
        row?.marketingOptIn === true &&
        seed.dynamodb.orders.some((order) => order.customerId === candidate.customerId)
      );
    })!;
    expect(customer).toBeDefined();
    const files = writeShopSeedFiles(seed, join(root, 'seed'));
    expect(await initShopWithSeed(stateDir, DATAMAP_PATH, files)).toEqual([]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('rectification corrects name and phone on the customer’s row only, the phone normalised', async () => {
    // prepare
    const before = await snapshot();
    // act
    const summary = await submitIncludingReview(
      requestSubmitArgs(
        stateDir,
        'rectification',
        [`email=${customer.email}`],
        ['--set', `name=${CORRECTED_NAME}`, '--set', `phone=${CORRECTED_PHONE}`],
      ),
    );
    const after = await snapshot();
    // assess
    expect(summary.status).toBe('completed');
    for (const [id, entry] of before.records) {
      const now = after.records.get(id);
      if (entry.storeId === 'customers' && isMine(entry)) {
        expect(changedAttributes(entry, now)).toEqual(['name', 'phone']);
        expect(now!.record).toMatchObject({ name: CORRECTED_NAME, phone: '+4930987654' + '32' });
      } else {
        expect({ id, content: now?.content }).toEqual({ id, content: entry.content });
      }
    }
    expect(after.tags).toEqual(before.tags);
    expect(after.support).toEqual(before.support);
    const leaks = await traces(summary.requestId);
    for (const value of [
      customer.email,
      customer.customerId,
      CORRECTED_NAME.toLowerCase(),
      '+493098765432',
    ]) {
      expect({ value, leaked: leaks.includes(value.toLowerCase()) }).toEqual({ value, leaked: false });
    }
  });

  test('rectification corrects the name on the customer’s support lines only: every other line byte for byte, the certificate counts the field', async () => {
    // prepare: a customer whose chats carry their name, in a file shared with other people
    const named = seed.truth.records.filter(
      (record) =>
        record.storeId === 'support' && record.owner !== null && record.line?.text.includes('"customerName"'),
    );
    const owner = seed.customers.find((candidate) =>
      named.some((record) => record.owner === candidate.customerId),
    )!;
    const mine = new Set(
      seed.truth.records
        .filter((record) => record.storeId === 'support' && record.owner === owner.customerId)
        .map((record) => `${record.key}#${record.line!.number}`),
    );
    const before = await snapshot();
    // act
    const summary = await submitIncludingReview(
      requestSubmitArgs(
        stateDir,
        'rectification',
        [`email=${owner.email}`],
        ['--set', `customerName=${CORRECTED_NAME}`],
      ),
    );
    const after = await snapshot();
    const certificate = await lethe([
      'request',
      'certificate',
      summary.requestId,
      '--state-dir',
      stateDir,
      '--json',
    ]);
    // assess
    expect(summary.status).toBe('completed');
    expect(after.records).toEqual(before.records);
    let corrected = 0;
    for (const [key, text] of before.support) {
      const lines = text.split('\n');
      const now = after.support.get(key)!.split('\n');
      expect({ key, lines: now.length }).toEqual({ key, lines: lines.length });
      lines.forEach((line, index) => {
        const id = `${key}#${index + 1}`;
        if (!mine.has(id) || !line.includes('"customerName"')) {
          expect({ id, line: now[index] }).toEqual({ id, line });
          return;
        }
        expect(JSON.parse(now[index]!)).toEqual({ ...JSON.parse(line), customerName: CORRECTED_NAME });
        corrected += 1;
      });
    }
    expect(corrected).toBe(named.filter((record) => record.owner === owner.customerId).length);
    expect(corrected).toBeGreaterThan(0);
    const support = (
      JSON.parse(certificate.out) as {
        certificate: { stores: { store: string; updated: number; fields?: unknown }[] };
      }
    ).certificate.stores.find((store) => store.store === 'support');
    expect(support).toMatchObject({
      updated: corrected,
      fields: [{ field: 'customerName', updated: corrected, unchanged: 0 }],
    });
    const leaks = await traces(summary.requestId);
    for (const value of [owner.email, CORRECTED_NAME]) {
      expect({ value, leaked: leaks.includes(value.toLowerCase()) }).toEqual({ value, leaked: false });
    }
  });

  test('rectification of a field no store declares is refused naming the field: exit 2, one line, nothing changed', async () => {
    // prepare
    const before = await snapshot();
    // act
    const run = await lethe(
      requestSubmitArgs(
        stateDir,
        'rectification',
        [`email=${customer.email}`],
        ['--set', 'message=Something else'],
      ).filter((arg) => arg !== '--json'),
    );
    // assess
    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toContain('field "message" is not rectifiable');
    expect(await snapshot()).toEqual(before);
  });

  test('restriction marks the customer’s row, orders and invoices; an export shows them restricted; the lift restores everything', async () => {
    // prepare
    const before = await snapshot();
    // act
    const restricted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction', [`email=${customer.email}`]),
    );
    const during = await snapshot();
    const access = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'access', [`email=${customer.email}`]),
    );
    const lifted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction-lift', [`email=${customer.email}`]),
    );
    const after = await snapshot();
    // assess
    expect([restricted.status, access.status, lifted.status]).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    let marked = 0;
    for (const [id, entry] of before.records) {
      const now = during.records.get(id);
      if ((entry.storeId === 'customers' || entry.storeId === 'orders') && isMine(entry)) {
        expect({ id, changed: changedAttributes(entry, now) }).toEqual({
          id,
          changed: ['processingRestricted'],
        });
        marked += 1;
      } else {
        expect({ id, content: now?.content }).toEqual({ id, content: entry.content });
      }
    }
    for (const [key, tags] of before.tags) {
      if (key.startsWith(`invoices/${customer.customerId}/`)) {
        expect(JSON.parse(during.tags.get(key)!)).toEqual([
          { Key: 'lethe-restricted', Value: restricted.requestId },
        ]);
      } else {
        expect(during.tags.get(key)).toBe(tags);
      }
    }
    expect(marked).toBeGreaterThan(1);
    const files = await unzip(readFileSync(access.export!.path!));
    const rows = (
      JSON.parse(files.get('data/customers.json')!.toString('utf8')) as { records: { restricted?: true }[] }
    ).records;
    expect(rows.map((row) => row.restricted)).toEqual([true]);
    expect(files.get('index.html')!.toString('utf8')).toContain('processing restricted at your request');
    expect(after).toEqual(before);
  });

  test('withdrawal of newsletter consent sets the consent record; an opt-out of sale or sharing needs no verification', async () => {
    // prepare
    const before = await snapshot();
    // act
    const withdrawal = await submitIncludingReview(
      requestSubmitArgs(
        stateDir,
        'objection',
        [`email=${customer.email}`],
        ['--scope', 'consent:newsletter'],
      ),
    );
    const optOut = await lethe([
      'request',
      'submit',
      '--type',
      'objection',
      '--scope',
      'sale-or-sharing',
      '--subject',
      `email=${customer.email}`,
      '--jurisdiction',
      'ccpa',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    const after = await snapshot();
    const check = async (scope: string) =>
      (
        await lethe([
          'suppression',
          'check',
          '--subject',
          `email=${customer.email}`,
          '--scope',
          scope,
          '--state-dir',
          stateDir,
        ])
      ).code;
    // assess
    expect(withdrawal.status).toBe('completed');
    expect((JSON.parse(optOut.out) as RequestSummary).status).toBe('completed');
    for (const [id, entry] of before.records) {
      const now = after.records.get(id);
      if (entry.storeId === 'customers' && isMine(entry)) {
        expect(changedAttributes(entry, now)).toEqual(['marketingOptIn', 'marketingOptOutAt']);
        expect((now!.record as Record<string, unknown>).marketingOptIn).toBe(false);
      } else {
        expect({ id, content: now?.content }).toEqual({ id, content: entry.content });
      }
    }
    expect([
      await check('consent:newsletter'),
      await check('sale-or-sharing'),
      await check('profiling'),
    ]).toEqual([0, 0, 3]);
    expect((await traces(withdrawal.requestId)).includes(customer.email)).toBe(false);
  });

  test('a sweep keeps a restricted customer row past its retention, counted held with the restriction as reason', async () => {
    // prepare
    const restricted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction', [`email=${customer.email}`]),
    );
    // act: far enough ahead that every customer row has expired
    const swept = await lethe([
      'sweep',
      '--now',
      '2040-01-01T00:00:00Z',
      '--store',
      'customers',
      '--state-dir',
      stateDir,
      '--json',
    ]);
    const after = await snapshot();
    // assess
    expect(restricted.status).toBe('completed');
    expect(swept.code).toBe(0);
    const customers = [...after.records.values()].filter((entry) => entry.storeId === 'customers');
    expect(customers.map((entry) => (entry.record as Record<string, unknown>).customerId)).toContain(
      customer.customerId,
    );
    expect(swept.out).toMatch(/"restricted": 1\b/);
  });

  test('a restriction keeps the customer’s support lines through a sweep that purges everyone else’s, and the lift lets them go', async () => {
    // prepare: a customer with support lines in files shared with others
    const owner = seed.customers.find((candidate) =>
      seed.truth.records.some(
        (record) => record.storeId === 'support' && record.owner === candidate.customerId,
      ),
    )!;
    const mine = seed.truth.records.filter(
      (record) => record.storeId === 'support' && record.owner === owner.customerId,
    );
    const restricted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction', [`email=${owner.email}`]),
    );
    const before = await snapshot();
    // act
    const access = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'access', [`email=${owner.email}`]),
    );
    const sweep = async () =>
      lethe([
        'sweep',
        '--now',
        '2040-01-01T00:00:00Z',
        '--store',
        'support',
        '--state-dir',
        stateDir,
        '--json',
      ]);
    const kept = await sweep();
    const during = await snapshot();
    const lifted = await submitIncludingReview(
      requestSubmitArgs(stateDir, 'restriction-lift', [`email=${owner.email}`]),
    );
    const purged = await sweep();
    const after = await snapshot();
    // assess
    expect([restricted.status, access.status, lifted.status]).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    expect([kept.code, purged.code]).toEqual([0, 0]);
    const files = await unzip(readFileSync(access.export!.path!));
    const lines = (
      JSON.parse(files.get('data/support.json')!.toString('utf8')) as { records: { restricted?: true }[] }
    ).records;
    expect(lines.length).toBe(mine.length);
    expect(lines.every((line) => line.restricted === true)).toBe(true);
    const objectsWithMine = new Set(mine.map((record) => record.key));
    for (const key of before.support.keys()) {
      const expected = mine
        .filter((record) => record.key === key)
        .sort((a, b) => a.line!.number - b.line!.number)
        // As the file holds them now (an earlier test corrected names on some of them).
        .map((record) => before.support.get(key)!.split('\n')[record.line!.number - 1]);
      const now = during.support.get(key);
      if (objectsWithMine.has(key)) {
        expect({ key, lines: now?.split('\n').filter((line) => line !== '') }).toEqual({
          key,
          lines: expected,
        });
      } else {
        expect({ key, now }).toEqual({ key, now: undefined });
      }
    }
    expect(kept.out).toMatch(new RegExp(`"restricted": ${objectsWithMine.size}\\b`));
    expect(after.support.size).toBe(0);
    expect(after.records).toEqual(before.records);
    const leaks = await traces(restricted.requestId);
    expect(leaks.includes(owner.email.toLowerCase())).toBe(false);
  });
});
