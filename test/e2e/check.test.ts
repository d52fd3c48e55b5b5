import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShopSeed, type ShopSeed } from '../../examples/shop/seed';
import type { CheckReport } from '../../lib/check';
import { runCli } from '../../lib/cli/program';
import { openLocalEnvironment } from '../../lib/local/environment';
import { importSeed } from '../../lib/local/import';
import type { RequestSummary } from '../../lib/rights/summary';
import { includeAllInReview, lethe } from '../helpers/cli';
import { snapshotEverything } from '../helpers/snapshot';
import { EXAMPLE_DATAMAP_PATH, exampleSeed, identifierValues, SEED_NOW } from '../helpers/world';

const SHOP_DATAMAP = 'examples/shop/datamap.yaml';

/** A state directory initialised for a data map and loaded with seed data. */
async function seededStateDir(
  root: string,
  name: string,
  dataMapPath: string,
  seed: Parameters<typeof importSeed>[1],
) {
  const stateDir = join(root, name);
  const env = await openLocalEnvironment({ stateDir, dataMapPath, init: true, now: () => SEED_NOW });
  await importSeed(env.dataMap, seed, env.clients);
  await env.close();
  return stateDir;
}

/** Every table and bucket of a state directory, lethe's own included. */
async function snapshot(stateDir: string) {
  const env = await openLocalEnvironment({ stateDir });
  try {
    return await snapshotEverything(env.clients);
  } finally {
    await env.close();
  }
}

/**
 * Every stored value, key and identifier of the shop seed, as stored and normalised, trimmed where
 * it holds spaces: none may appear in what check prints.
 */
function shopSecrets(seed: ShopSeed): string[] {
  const values = new Set<string>();
  for (const record of seed.truth.records) {
    values.add(record.key);
    for (const identity of record.identities) {
      values.add(identity.stored);
      values.add(identity.stored.trim());
      values.add(identity.value);
    }
  }
  for (const customer of seed.customers) {
    for (const value of [
      customer.customerId,
      customer.email,
      customer.storedEmail.trim(),
      customer.phone,
      customer.storedPhone,
    ])
      values.add(value);
  }
  for (const item of seed.dynamodb.orders) values.add(String(item.orderId));
  return [...values].filter((value) => value.trim().length > 0);
}

describe('lethe check, end to end through the CLI', () => {
  let root: string;
  let shopDir: string;
  let adtechDir: string;
  let seed: ShopSeed;
  let legacy: number;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-check-e2e-'));
    seed = generateShopSeed({ customers: 24, seed: 5, now: SEED_NOW });
    legacy = seed.customers.filter((customer) => customer.storedEmail !== customer.email).length;
    shopDir = await seededStateDir(root, 'shop', SHOP_DATAMAP, seed);
    adtechDir = await seededStateDir(root, 'adtech', EXAMPLE_DATAMAP_PATH, exampleSeed(12, 4));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('exits 1 on the shop example, naming the index that misses the legacy rows, changes no store, and later requests carry the caveat', async () => {
    // prepare
    const before = await snapshot(shopDir);

    // act
    const run = await lethe(['check', '--state-dir', shopDir]);

    // assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 1, err: '' });
    expect(legacy).toBeGreaterThan(0);
    expect(run.out).toContain(`Locate would miss ${legacy} record(s) whose value is not in normalised form:`);
    expect(run.out).toContain(`  customers by email (index byEmail key email): ${legacy}\n`);
    expect(run.out).toContain('"Values locate cannot reach" in docs/DATAMAP.md');
    // Every store unchanged; lethe's requests table holds the findings (counts only), nothing else.
    const ownRequests = (key: string) => key.startsWith('table lethe-requests');
    const after = [...(await snapshot(shopDir))];
    expect(after.filter(([key]) => !ownRequests(key))).toEqual(
      [...before].filter(([key]) => !ownRequests(key)),
    );
    const findings = after
      .filter(([key]) => key.startsWith('table lethe-requests #'))
      .map(([, item]) => item);
    expect(findings).toHaveLength(5);
    for (const item of findings) expect(item).toContain('"recordType":{"S":"check"}');
    // A request that searched the customers store now says what it cannot vouch for.
    const customer = seed.customers.find((candidate) => candidate.storedEmail === candidate.email)!;
    const request = await lethe([
      'request',
      'submit',
      '--type',
      'access',
      '--subject',
      `email=${customer.email}`,
      '--jurisdiction',
      'gdpr',
      '--verified-by',
      'desk',
      '--state-dir',
      shopDir,
      '--json',
    ]);
    // The phone typed at sign-up is a claimed link: the support lines it alone finds wait for review.
    const answered = await includeAllInReview(shopDir, JSON.parse(request.out) as RequestSummary);
    const status = await lethe(['request', 'status', answered.requestId, '--state-dir', shopDir]);
    expect(answered.status).toBe('completed');
    expect(status.out).toContain(
      `caveat: customers held ${legacy} record(s) whose value locate cannot reach`,
    );
  });

  it('prints the report as JSON with --json, and exits 0 for a store locate reaches in full', async () => {
    // act
    const all = await lethe(['check', '--state-dir', shopDir, '--json']);
    const support = await lethe(['check', '--state-dir', shopDir, '--json', '--store', 'support']);

    // assess
    const report = JSON.parse(all.out) as CheckReport;
    expect(all.code).toBe(1);
    expect(report).toMatchObject({ clean: false, wouldMiss: legacy });
    expect(report.stores.map((store) => store.storeId)).toEqual([
      'customers',
      'orders',
      'loyalty',
      'invoices',
      'support',
    ]);
    const supportReport = JSON.parse(support.out) as CheckReport;
    expect(support.code).toBe(0);
    expect(supportReport.stores).toEqual([report.stores[4]]);
    expect(supportReport.stores[0]?.sources[0]?.notNormalised).toBeGreaterThan(0);
  });

  it('never prints a stored value, key or identifier', async () => {
    // prepare
    const secrets = shopSecrets(seed);

    // act
    const runs = [
      await lethe(['check', '--state-dir', shopDir]),
      await lethe(['check', '--state-dir', shopDir, '--json']),
      await lethe(['check', '--state-dir', shopDir, '--store', 'support']),
    ];

    // assess
    const printed = runs.map((run) => run.out + run.err).join('\n');
    expect(secrets.length).toBeGreaterThan(100);
    expect(secrets.filter((value) => printed.includes(value))).toEqual([]);
  });

  it('exits 0 on the ad-tech example, whose keys all hold normalised values, printing none of them', async () => {
    // act
    const run = await lethe(['check', '--state-dir', adtechDir]);

    // assess
    expect({ code: run.code, err: run.err }).toEqual({ code: 0, err: '' });
    expect(run.out).toContain('Every locate rule reaches every record it covers by the normalised value.');
    const subjects = exampleSeed(12, 4).subjects;
    expect(subjects.flatMap(identifierValues).filter((value) => run.out.includes(value))).toEqual([]);
  });

  it('refuses an unknown store with exit 2 and one line naming the known ones', async () => {
    // act
    const run = await lethe(['check', '--state-dir', shopDir, '--store', 'custmers']);

    // assess
    expect(run).toEqual({
      code: 2,
      out: '',
      err: 'lethe: unknown store "custmers"; the data map declares: customers, orders, loyalty, invoices, support\n',
    });
  });

  it('shows progress per store on a terminal, and none with --json', async () => {
    // prepare
    const progress: { line: string; final: boolean }[] = [];
    const io = {
      out: () => {},
      err: () => {},
      progress: (line: string, final?: boolean) => progress.push({ line, final: final === true }),
    };

    // act
    await runCli(['check', '--state-dir', shopDir, '--store', 'orders'], { io });
    const shown = [...progress];
    progress.length = 0;
    await runCli(['check', '--state-dir', shopDir, '--store', 'orders', '--json'], { io });

    // assess
    expect(shown.at(-1)).toEqual({
      line: `orders: ${seed.dynamodb.orders.length} record(s) read — done`,
      final: true,
    });
    expect(shown.slice(0, -1).every((update) => !update.final && update.line.startsWith('orders: '))).toBe(
      true,
    );
    expect(progress).toEqual([]);
  });
});
