import type { AdtechSeed, SeedSubject } from '../../../examples/adtech/seed';
import { type LegalHold, placeHold } from '../../../lib/holds';
import { importSeed } from '../../../lib/local/import';
import { LocalSweepRunner } from '../../../lib/local/sweep-runner';
import { sweepStorePage } from '../../../lib/retention';
import type { ErasureCertificate } from '../../../lib/rights/confirm';
import { finishErasure as finish, type Located, startErasure as start } from '../../helpers/erasure';
import {
  applySeedAges,
  heldEntryIds,
  isExpiredAdtech,
  openTempEnvironment,
  type TempEnvironment,
} from '../../helpers/retention';
import { completeSweep } from '../../helpers/sweep';
import {
  belongsTo,
  EXAMPLE_DATAMAP_PATH,
  exampleSeed,
  SEED_NOW,
  type SnapshotEntry,
  snapshotStores,
} from '../../helpers/world';

/**
 * Legal holds in erasure requests (held records are kept and reported as exempted with the
 * hold's reason), and sweeps interleaved with erasure requests: both complete, and between them
 * nothing that should stay is gone.
 */

describe('legal holds and erasure requests', () => {
  let world: TempEnvironment;
  let seed: AdtechSeed;
  let subjects: SeedSubject[];
  let recordHold: { entry: SnapshotEntry; hold: LegalHold };
  let subjectHold: LegalHold;

  const startErasure = (subject: { type: string; value: string }) => start(world.env.deps, subject);
  const finishErasure = (requestId: string, located: Located[]) => finish(world.env.deps, requestId, located);

  /** What an erasure leaves of its subject: exempt billing contacts as they were, other partner rows masked. */
  function expectErased(
    subject: SeedSubject,
    before: Map<string, SnapshotEntry>,
    after: Map<string, SnapshotEntry>,
  ) {
    for (const entry of before.values()) {
      if (!belongsTo(world.env.dataMap, subject, entry)) continue;
      const now = after.get(entry.id);
      if (entry.storeId !== 'partner-contacts')
        expect({ id: entry.id, now }).toEqual({ id: entry.id, now: undefined });
      else if ((entry.record as Record<string, unknown>).role === 'billing') expect(now).toEqual(entry);
      else expect(String((now?.record as Record<string, unknown> | undefined)?.email)).toMatch(/^hmac:/);
    }
  }

  beforeAll(async () => {
    world = await openTempEnvironment({ path: EXAMPLE_DATAMAP_PATH }, { now: () => SEED_NOW });
    seed = exampleSeed();
    await importSeed(world.env.dataMap, seed, world.env.clients);
    await applySeedAges(
      world.stateDir,
      seed,
      Object.fromEntries(
        world.env.dataMap.stores.flatMap((store) => (store.kind === 's3' ? [[store.id, store.bucket]] : [])),
      ),
    );
    // Subjects with ad events of their own, most data first.
    subjects = [...seed.subjects]
      .filter((subject) => subject.owns['ad-events'] > 1)
      .sort(
        (a, b) =>
          Object.values(b.owns).reduce((x, y) => x + y) - Object.values(a.owns).reduce((x, y) => x + y),
      );
  });

  afterAll(async () => {
    await world?.close();
  });

  it('keeps everything of a held subject and reports it exempted with the hold reason', async () => {
    // Prepare: the hold names the e-mail; the request comes in by a cookie id the e-mail links to.
    const subject = subjects[0]!;
    subjectHold = await placeHold(world.env.deps, {
      subject: { type: 'email', value: subject.email },
      reason: 'Litigation hold, case 2026-0042',
      placedBy: 'legal-team',
    });
    const before = await snapshotStores(world.env.dataMap, world.env.clients);

    // Act
    const { requestId, located } = await startErasure({ type: 'cookieId', value: subject.cookieIds[0]! });
    const done = await finishErasure(requestId, located);

    // Assess: nothing changed, every located record exempted by the hold.
    expect(await snapshotStores(world.env.dataMap, world.env.clients)).toEqual(before);
    expect(done.status).toBe('completed');
    const certificate = done.certificate as ErasureCertificate;
    const withRecords = certificate.stores.filter((store) => store.located > 0);
    // A cookie id locates ad events, conversions, click logs and bid logs; the hold covers them all.
    expect(
      withRecords.every((store) =>
        ['ad-events', 'conversions', 'clickstream', 'bid-logs'].includes(store.store),
      ),
    ).toBe(true);
    expect(withRecords.some((store) => store.store === 'ad-events')).toBe(true);
    for (const store of withRecords) {
      expect(store).toMatchObject({ erased: 0, masked: 0, exempted: store.located, remaining: 0 });
      expect(store.exemptions).toEqual([
        { reason: 'Litigation hold, case 2026-0042', source: 'hold', count: store.located },
      ]);
    }
    const manifestRecord = located.find((store) => store.storeId === 'ad-events');
    expect(manifestRecord?.exempted).toBe(manifestRecord?.located);
  });

  it('keeps only the held record of a subject and erases the rest', async () => {
    // Prepare: a record hold on one ad event of the second subject.
    const subject = subjects[1]!;
    const before = await snapshotStores(world.env.dataMap, world.env.clients);
    const event = [...before.values()].find(
      (entry) => entry.storeId === 'ad-events' && belongsTo(world.env.dataMap, subject, entry),
    )!;
    const record = event.record as Record<string, unknown>;
    recordHold = {
      entry: event,
      hold: await placeHold(world.env.deps, {
        storeId: 'ad-events',
        key: { cookieId: String(record.cookieId), eventKey: String(record.eventKey) },
        reason: 'Fraud investigation FR-7',
        placedBy: 'fraud-desk',
      }),
    };

    // Act
    const { requestId, located } = await startErasure({ type: 'email', value: subject.email });
    const done = await finishErasure(requestId, located);

    // Assess
    const after = await snapshotStores(world.env.dataMap, world.env.clients);
    expect(after.get(event.id)).toEqual(event);
    const rest = new Map([...before].filter(([id]) => id !== event.id));
    expectErased(subject, rest, after);
    expect(done.status).toBe('completed');
    const adEvents = (done.certificate as ErasureCertificate).stores.find(
      (store) => store.store === 'ad-events',
    )!;
    expect(adEvents).toMatchObject({ exempted: 1, erased: adEvents.located - 1, remaining: 0 });
    expect(adEvents.exemptions).toEqual([{ reason: 'Fraud investigation FR-7', source: 'hold', count: 1 }]);
    for (const entry of before.values()) {
      const ofOthers = !belongsTo(world.env.dataMap, subject, entry);
      if (ofOthers && entry.storeId !== 'clickstream') expect(after.get(entry.id)).toEqual(entry);
    }
  });

  it('a sweep and erasure requests interleaved both complete, and nothing that should stay is gone', async () => {
    // Prepare: two more subjects; what the sweep must keep of everyone else.
    const [third, fourth] = [subjects[2]!, subjects[3]!];
    const before = await snapshotStores(world.env.dataMap, world.env.clients);
    const entries = [...before.values()];
    const held = heldEntryIds(world.env.dataMap, entries, {
      subjects: [subjects[0]!],
      recordIds: [recordHold.entry.id],
    });
    const expired = (entry: SnapshotEntry) => isExpiredAdtech(world.env.dataMap, seed, entry, SEED_NOW);

    // Act 1: the third subject is located, then a sweep runs over the first ad-events page only,
    // the fourth subject's erasure runs whole, and the sweep of ad-events finishes.
    const third1 = await startErasure({ type: 'email', value: third.email });
    let page = await sweepStorePage(world.env.deps, {
      storeId: 'ad-events',
      now: SEED_NOW,
      pageSize: 3,
      budgetMs: 0,
    });
    expect(page.nextToken).not.toBeNull();
    const fourthRequest = await startErasure({ type: 'email', value: fourth.email });
    const fourthDone = await finishErasure(fourthRequest.requestId, fourthRequest.located);
    let pages = 1;
    while (page.nextToken) {
      page = await sweepStorePage(world.env.deps, {
        storeId: 'ad-events',
        now: SEED_NOW,
        pageSize: 3,
        budgetMs: 0,
        token: page.nextToken,
      });
      pages += 1;
    }

    // Act 2: a whole sweep of every store between the third subject's Locate and Erase.
    const sweep = await completeSweep(new LocalSweepRunner(world.env), { segments: 2 });
    const thirdDone = await finishErasure(third1.requestId, third1.located);

    // Assess: both requests completed (Confirm found nothing left), the sweeps completed.
    expect(pages).toBeGreaterThan(2);
    expect(fourthDone.status).toBe('completed');
    expect(thirdDone.status).toBe('completed');
    for (const done of [thirdDone, fourthDone]) {
      for (const store of (done.certificate as ErasureCertificate).stores) expect(store.remaining).toBe(0);
    }
    expect(sweep.totals.held).toBeGreaterThan(0);
    const after = await snapshotStores(world.env.dataMap, world.env.clients);
    expectErased(third, before, after);
    expectErased(fourth, before, after);
    // Everyone else: expired unheld records gone; everything else as it was (lines of other
    // people in a JSON-lines object keep their bytes when the object is rewritten).
    for (const entry of entries) {
      if (belongsTo(world.env.dataMap, third, entry) || belongsTo(world.env.dataMap, fourth, entry)) continue;
      const shouldGo = expired(entry) && !held.has(entry.id);
      if (shouldGo && entry.storeId !== 'clickstream')
        expect({ id: entry.id, gone: !after.has(entry.id) }).toEqual({ id: entry.id, gone: true });
      if (!shouldGo)
        expect({ id: entry.id, kept: after.get(entry.id)?.content }).toEqual({
          id: entry.id,
          kept: entry.content,
        });
    }
    expect(subjectHold.status).toBe('active');
  });
});
