import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  generateShopSeed,
  recordsOf,
  type ShopCustomer,
  type ShopSeed,
  type TruthRecord,
  writeShopSeedFiles,
} from '../../examples/shop/seed';
import { canonicalJson } from '../../lib/audit/log';
import { getStore, loadDataMap } from '../../lib/datamap';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { ErasureCertificate } from '../../lib/rights/confirm';
import type { RequestSummary } from '../../lib/rights/summary';
import { includeAllInReview, initShopWithSeed, lethe } from '../helpers/cli';
import { SEED_NOW, type SnapshotEntry, snapshotStores } from '../helpers/world';
import { unzip } from '../helpers/zip';

const DATAMAP_PATH = 'examples/shop/datamap.yaml';
const dataMap = loadDataMap(DATAMAP_PATH);
const supportBucket = (() => {
  const store = getStore(dataMap, 'support');
  if (store.kind !== 's3') throw new Error('support is an S3 store');
  return store.bucket;
})();

/** Every item and invoice by id (as the truth's `storeId|key`), and every support object as its lines. */
interface ShopSnapshot {
  records: Map<string, SnapshotEntry>;
  support: Map<string, string[]>;
}

/** The lines of an object as a reader splitting on "\n" sees them (no phantom line after a final break). */
function objectLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/**
 * Reads every store through a short-lived environment. The shared snapshot helper parses each
 * JSON line, which the support transcripts' malformed lines would break, so support objects are
 * kept as their raw lines here instead.
 */
async function snapshotShop(stateDir: string): Promise<ShopSnapshot> {
  const env = await openLocalEnvironment({ stateDir });
  try {
    const withoutSupport = { ...env.dataMap, stores: env.dataMap.stores.filter((s) => s.id !== 'support') };
    const records = await snapshotStores(withoutSupport, env.clients);
    const support = new Map<string, string[]>();
    let token: string | undefined;
    do {
      const page = await env.clients.s3.send(
        new ListObjectsV2Command({ Bucket: supportBucket, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const body = await env.clients.s3.send(
          new GetObjectCommand({ Bucket: supportBucket, Key: object.Key! }),
        );
        support.set(object.Key!, objectLines(await body.Body!.transformToString('utf8')));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { records, support };
  } finally {
    await env.close();
  }
}

/** The seeded item of a DynamoDB truth record. */
function seededItem(seed: ShopSeed, record: TruthRecord): Record<string, unknown> {
  const store = getStore(dataMap, record.storeId);
  if (store.kind !== 'dynamodb') throw new Error(`${record.storeId} is not a DynamoDB store`);
  const items = seed.dynamodb[record.storeId as keyof ShopSeed['dynamodb']];
  const item = items.find(
    (candidate) =>
      [candidate[store.keySchema.partitionKey.name], candidate[store.keySchema.sortKey?.name ?? '']]
        .filter((part) => part !== undefined)
        .join('|') === record.key,
  );
  if (!item) throw new Error(`no seeded item ${record.storeId}|${record.key}`);
  return item;
}

/** What differs between a masked item and the item before, per the data map's mask rules. */
function maskProblems(
  storeId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string[] {
  const store = getStore(dataMap, storeId);
  if (store.erase.action !== 'mask') return [`${storeId} does not mask`];
  const problems: string[] = [];
  const masked = new Set(store.erase.fields.map((field) => field.attribute));
  for (const field of store.erase.fields) {
    const was = before[field.attribute];
    const now = after[field.attribute];
    const ok =
      was === undefined || field.with === 'remove'
        ? now === undefined
        : field.with === 'fixed'
          ? now === field.value
          : typeof now === 'string' &&
            new RegExp(`^${field.with === 'hmac' ? 'hmac' : 'sha256'}:[0-9a-f]{64}$`).test(now);
    if (!ok) problems.push(`${field.attribute} not masked with ${field.with}`);
  }
  const kept = (item: Record<string, unknown>) =>
    canonicalJson(Object.fromEntries(Object.entries(item).filter(([name]) => !masked.has(name))));
  if (kept(after) !== kept(before)) problems.push('an attribute that is not masked changed');
  return problems;
}

/**
 * Compares the stores after an erasure of `customer` with the ground truth: each of its records
 * deleted, masked as the data map says, rewritten out, or kept unchanged when exempt; every other
 * item, invoice and support line byte-for-byte as before; nothing new. Returns what is wrong.
 */
function erasureProblems(seed: ShopSeed, customer: ShopCustomer, before: ShopSnapshot, after: ShopSnapshot) {
  const problems: string[] = [];
  const mine = recordsOf(seed, customer.customerId);
  const truth = new Map(mine.map((record) => [`${record.storeId}|${record.key}`, record]));
  for (const [id, entry] of before.records) {
    const record = truth.get(id);
    const now = after.records.get(id);
    if (!record) {
      if (now?.content !== entry.content) problems.push(`${id}: another customer's record changed`);
    } else if (record.erasure === 'delete') {
      if (now) problems.push(`${id}: still there, should be deleted`);
    } else if (record.erasure === 'exempt') {
      if (now?.content !== entry.content)
        problems.push(`${id}: exempt (${record.exemption}) but changed or gone`);
    } else if (!now) {
      problems.push(`${id}: gone, should be masked`);
    } else {
      const wrong = maskProblems(
        record.storeId,
        entry.record as Record<string, unknown>,
        now.record as Record<string, unknown>,
      );
      for (const problem of wrong) problems.push(`${id}: ${problem}`);
    }
  }
  for (const id of after.records.keys()) if (!before.records.has(id)) problems.push(`${id}: appeared`);
  // By text, not line number: an earlier rewrite of the same object may have moved the lines.
  for (const [key, lines] of before.support) {
    const erased = new Set(
      mine.filter((record) => record.storeId === 'support' && record.key === key).map((r) => r.line!.text),
    );
    const expected = lines.filter((line) => !erased.has(line));
    const actual = after.support.get(key);
    if (actual === undefined && expected.every((line) => line.trim() === '')) continue;
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      const left = [...erased].filter((line) => actual?.includes(line)).length;
      problems.push(
        `support|${key}: ${left} of ${erased.size} of the customer's lines left, or others' lines changed`,
      );
    }
  }
  return problems;
}

/** Compares an access package with the ground truth, store by store. Returns what is wrong. */
async function exportProblems(seed: ShopSeed, customer: ShopCustomer, summary: RequestSummary) {
  if (!summary.export?.path) return [`no export package (status ${summary.status})`];
  const files = await unzip(readFileSync(summary.export.path));
  const problems: string[] = [];
  for (const store of dataMap.stores) {
    const truth = recordsOf(seed, customer.customerId).filter((record) => record.storeId === store.id);
    const exported = (
      JSON.parse(files.get(`data/${store.id}.json`)?.toString('utf8') ?? '{"records":[]}') as {
        records: { key: unknown; data?: unknown; file?: string }[];
      }
    ).records;
    const expected =
      store.kind === 'dynamodb'
        ? truth.map((record) => canonicalJson(seededItem(seed, record)))
        : store.id === 'support'
          ? truth.map((record) => canonicalJson(JSON.parse(record.line!.text)))
          : truth.map((record) => record.key);
    const actual = exported.map((record) =>
      store.kind === 'dynamodb' || store.id === 'support' ? canonicalJson(record.data) : String(record.key),
    );
    const missing = expected.filter((value) => !actual.includes(value)).length;
    const extra = actual.filter((value) => !expected.includes(value)).length;
    if (missing + extra > 0) {
      problems.push(
        `${store.id}: ${missing} of ${expected.length} records missing, ${extra} not the customer's`,
      );
    }
    for (const record of exported.filter((r) => r.file !== undefined)) {
      const object = seed.s3.invoices.find((candidate) => candidate.key === record.key);
      if (!object || !files.get(record.file!)?.equals(Buffer.from(object.body))) {
        problems.push(`${store.id}: file ${record.file} differs from the stored object`);
      }
    }
  }
  return problems;
}

describe('lethe end to end on the shop example: messy data, checked against the seed’s ground truth', () => {
  let root: string;
  let stateDir: string;
  let seed: ShopSeed;
  // The seed's first six customers carry fixed traits (see examples/shop/seed.ts).
  let legacy: ShopCustomer;
  let nationalPhone: ShopCustomer;
  let plain: ShopCustomer;
  let chargeback: ShopCustomer;

  /** Submits a request with the customer's email as given: by default the normalised address. */
  const submit = async (type: 'access' | 'erasure', customer: ShopCustomer, email = customer.email) => {
    const run = await lethe([
      ...'request submit --jurisdiction gdpr --verified-by privacy-desk --json'.split(' '),
      ...['--type', type, '--state-dir', stateDir],
      ...['--subject', `email=${email}`],
    ]);
    return JSON.parse(run.out) as RequestSummary;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-shop-e2e-'));
    stateDir = join(root, 'state');
    seed = generateShopSeed({ customers: 12, seed: 7, now: SEED_NOW });
    [legacy, nationalPhone, plain, , chargeback] = seed.customers as [
      ShopCustomer,
      ShopCustomer,
      ShopCustomer,
      ShopCustomer,
      ShopCustomer,
    ];
    const files = writeShopSeedFiles(seed, join(root, 'seed'));
    // The legacy spellings are what this suite is about: imported as a copy of the table holds them.
    expect(await initShopWithSeed(stateDir, DATAMAP_PATH, files)).toEqual([]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exports every record of a plain customer, and only theirs, from every store', async () => {
    // prepare
    const before = await snapshotShop(stateDir);

    // act
    const summary = await submit('access', plain);

    // assess
    expect(summary.status).toBe('completed');
    expect(await exportProblems(seed, plain, summary)).toEqual([]);
    expect(await snapshotShop(stateDir)).toEqual(before);
    // The page names what each store holds in the data map's words, not by category code.
    const page = (await unzip(readFileSync(summary.export!.path!))).get('index.html')?.toString('utf8');
    expect(page).toContain('Loyalty points earned and redeemed');
    expect(page).toContain('Standard Contractual Clauses');
  });

  it('erases a plain customer as the truth says, leaving the near-miss twin and everyone else untouched', async () => {
    // prepare
    const before = await snapshotShop(stateDir);

    // act
    const summary = await submit('erasure', plain);

    // assess
    expect(summary).toMatchObject({ status: 'completed', error: null });
    expect(erasureProblems(seed, plain, before, await snapshotShop(stateDir))).toEqual([]);
  });

  // The legacy customers row holds the email exactly as the old sign-up form stored it
  // ("  Ada.Berg1@Example.COM "), and the byEmail index matches only that exact value. A requester who
  // gives the address in that spelling is found: the value as given is one of the spellings located by.
  test('exports everything of a customer whose email the legacy sign-up form stored with capitals and spaces, given in that spelling', async () => {
    // prepare
    const before = await snapshotShop(stateDir);

    // act
    const summary = await submit('access', legacy, legacy.storedEmail);

    // assess
    expect(legacy.storedEmail).not.toBe(legacy.email);
    expect(summary.status).toBe('completed');
    expect(await exportProblems(seed, legacy, summary)).toEqual([]);
    expect(await snapshotShop(stateDir)).toEqual(before);
  });

  // Given only in lower case, no spelling lethe has reaches a row stored in arbitrary mixed case: the
  // customers row, and the customer id it would reveal (orders, loyalty, invoices), stay out of
  // reach. lethe must not pretend otherwise: the package holds what was found (the support lines,
  // matched on normalised values) and nothing it did not find. Finding such rows is `lethe check`'s
  // job; the remedy is a normalised copy of the attribute with its own index.
  test('exports only what a lower-case address reaches of a legacy-spelled customer, and claims nothing more', async () => {
    // prepare
    const before = await snapshotShop(stateDir);
    const truth = recordsOf(seed, legacy.customerId);
    const support = truth.filter((record) => record.storeId === 'support').length;

    // act
    const summary = await submit('access', legacy, legacy.email);

    // assess
    expect(support).toBeGreaterThan(0);
    expect(await exportProblems(seed, legacy, summary)).toEqual(
      ['customers', 'orders', 'loyalty', 'invoices']
        .map((storeId) => [storeId, truth.filter((record) => record.storeId === storeId).length] as const)
        .filter(([, count]) => count > 0)
        .map(([storeId, count]) => `${storeId}: ${count} of ${count} records missing, 0 not the customer's`),
    );
    expect(summary.stores.find((store) => store.store === 'support')?.located).toBe(support);
    expect(
      summary.stores.filter((store) => store.store !== 'support').every((store) => store.located === 0),
    ).toBe(true);
    expect(await snapshotShop(stateDir)).toEqual(before);
  });

  // Given in the spelling the legacy row holds, the customer is located everywhere and erased as the
  // truth says; the loyalty entries, masked but still keyed by the customer id, are erased by masking.
  test('erases a legacy-spelled customer as the truth says, and says completed only then', async () => {
    // prepare
    const before = await snapshotShop(stateDir);

    // act
    const summary = await submit('erasure', legacy, legacy.storedEmail);

    // assess
    expect(erasureProblems(seed, legacy, before, await snapshotShop(stateDir))).toEqual([]);
    expect(summary).toMatchObject({ status: 'completed', error: null });
  });

  // The loyalty ledger is keyed by the customer id, which masking cannot change: Confirm locates the
  // masked entries again by that key and must count them as erased-by-masking, not as remaining.
  test('erases a loyalty member: entries masked, redemptions and the chargeback account kept, request completed', async () => {
    // prepare
    const before = await snapshotShop(stateDir);

    // act
    const summary = await submit('erasure', chargeback);

    // assess
    expect(erasureProblems(seed, chargeback, before, await snapshotShop(stateDir))).toEqual([]);
    expect(summary).toMatchObject({ status: 'completed', error: null });
    const entries = recordsOf(seed, chargeback.customerId).filter((record) => record.storeId === 'loyalty');
    const certified = (summary.certificate as ErasureCertificate).stores.find((s) => s.store === 'loyalty');
    expect(certified).toMatchObject({
      located: entries.length,
      masked: entries.filter((record) => record.erasure === 'mask').length,
      exempted: entries.filter((record) => record.erasure === 'exempt').length,
      remaining: 0,
      retained: [
        { attribute: 'customerId', reason: expect.stringContaining('cannot change a key in place') },
      ],
    });
    expect(certified?.masked).toBeGreaterThan(0);
  });

  // The customers row stores the phone as "030 1234 5678": without the phone type's
  // defaultCountryCode it would not normalise, the link to the support call would be lost and the
  // erasure would report "completed" with that line still in the transcripts. The phone was typed at
  // sign-up (a claimed link), so the call known by it alone waits for review before it is erased.
  test('erases the support call of a customer whose phone the account stores in national form, once reviewed', async () => {
    // prepare
    const before = await snapshotShop(stateDir);
    // The support lines known by the caller's phone alone (no email on them): what waits for review.
    const calls = recordsOf(seed, nationalPhone.customerId).filter(
      (record) =>
        record.storeId === 'support' && !record.identities.some((identity) => identity.type === 'email'),
    );

    // act
    const paused = await submit('erasure', nationalPhone);
    const whileWaiting = await snapshotShop(stateDir);
    const summary = await includeAllInReview(stateDir, paused);

    // assess
    expect(paused).toMatchObject({ status: 'pending-review', error: null });
    expect(paused.review?.stores).toEqual([
      expect.objectContaining({ store: 'support', records: calls.length }),
    ]);
    expect(calls.length).toBeGreaterThan(0);
    expect(whileWaiting).toEqual(before);
    expect(erasureProblems(seed, nationalPhone, before, await snapshotShop(stateDir))).toEqual([]);
    expect(summary).toMatchObject({ status: 'completed', error: null });
  });
});
