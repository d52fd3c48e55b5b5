import type { AdtechSeed, SeedSubject } from '../../../examples/adtech/seed';
import { readAuditEvents } from '../../../lib/audit/log';
import {
  HoldAlreadyReleasedError,
  InvalidHoldError,
  type LegalHold,
  listHolds,
  placeHold,
  releaseHold,
} from '../../../lib/holds';
import { importSeed } from '../../../lib/local/import';
import { LocalSweepRunner } from '../../../lib/local/sweep-runner';
import type { SweepSummary } from '../../../lib/retention';
import {
  applySeedAges,
  heldEntryIds,
  isExpiredAdtech,
  objectKeyOf,
  openTempEnvironment,
  type TempEnvironment,
} from '../../helpers/retention';
import { completeSweep, foretoldCounts } from '../../helpers/sweep';
import {
  belongsTo,
  EXAMPLE_DATAMAP_PATH,
  exampleSeed,
  identifierValues,
  SEED_NOW,
  type SnapshotEntry,
  snapshotStores,
} from '../../helpers/world';

/**
 * The example stores swept with a fixed now: exactly the expired records no legal hold keeps are
 * purged, and everything else is left byte for byte. The expectation is computed here from the
 * seed's own timestamps, independently of the sweep code.
 */

// Whole sweeps through the local workflow beside the crash trials' CLI processes: once over 60 s.
jest.setTimeout(180_000);

describe('retention sweep of the example stores', () => {
  let world: TempEnvironment;
  let runner: LocalSweepRunner;
  let seed: AdtechSeed;
  let heldSubject: SeedSubject;
  let before: Map<string, SnapshotEntry>;
  let recordHolds: { entry: SnapshotEntry; hold: LegalHold }[];
  let subjectHold: LegalHold;
  let dryRun: SweepSummary;
  let expectedGone: Set<string>;
  let expectedHeld: Set<string>;

  beforeAll(async () => {
    // Prepare: the seed, its S3 ages, a subject hold and two record holds.
    world = await openTempEnvironment({ path: EXAMPLE_DATAMAP_PATH }, { now: () => SEED_NOW });
    const { env } = world;
    runner = new LocalSweepRunner(env);
    seed = exampleSeed();
    await importSeed(env.dataMap, seed, env.clients);
    await applySeedAges(
      world.stateDir,
      seed,
      Object.fromEntries(
        env.dataMap.stores.flatMap((store) => (store.kind === 's3' ? [[store.id, store.bucket]] : [])),
      ),
    );
    before = await snapshotStores(env.dataMap, env.clients);
    const expired = [...before.values()].filter((entry) =>
      isExpiredAdtech(env.dataMap, seed, entry, SEED_NOW),
    );

    // The subject with the most expired records is held as a whole; among those whose lines are in
    // some but not all expired clickstream objects, so both outcomes occur there too.
    const expiredOf = (subject: SeedSubject) =>
      expired.filter((entry) => belongsTo(env.dataMap, subject, entry)).length;
    const expiredClickObjects = new Set(
      expired.filter((entry) => entry.storeId === 'clickstream').map(objectKeyOf),
    );
    const clickObjectsOf = (subject: SeedSubject) =>
      new Set(
        expired
          .filter((entry) => entry.storeId === 'clickstream' && belongsTo(env.dataMap, subject, entry))
          .map(objectKeyOf),
      ).size;
    const candidates = seed.subjects.filter(
      (subject) => clickObjectsOf(subject) > 0 && clickObjectsOf(subject) < expiredClickObjects.size,
    );
    heldSubject = [...candidates].sort((a, b) => expiredOf(b) - expiredOf(a))[0]!;
    subjectHold = await placeHold(env.deps, {
      subject: `email=${heldSubject.email.toUpperCase()}`,
      reason: 'Litigation hold, case 2026-0042',
      placedBy: 'legal-team',
    });
    // One expired ad event and one expired application of other subjects are held as records.
    const others = (storeId: string) =>
      expired.find(
        (entry) => entry.storeId === storeId && !belongsTo(env.dataMap, heldSubject, entry),
      ) as SnapshotEntry;
    const event = others('ad-events');
    const application = others('recruitment') ?? others('call-recordings');
    recordHolds = [];
    const eventRecord = event.record as Record<string, unknown>;
    recordHolds.push({
      entry: event,
      hold: await placeHold(env.deps, {
        storeId: 'ad-events',
        key: JSON.stringify({ eventKey: eventRecord.eventKey, cookieId: eventRecord.cookieId }),
        reason: 'Fraud investigation FR-7',
        placedBy: 'fraud-desk',
      }),
    });
    recordHolds.push({
      entry: application,
      hold: await placeHold(env.deps, {
        storeId: application.storeId,
        key: objectKeyOf(application),
        reason: 'Employment tribunal claim ET-12',
        placedBy: 'hr-legal',
      }),
    });

    // Expected: held = the subject's records (whole clickstream objects holding a line of theirs)
    // and the two records; gone = every other expired record.
    expectedHeld = heldEntryIds(env.dataMap, expired, {
      subjects: [heldSubject],
      recordIds: recordHolds.map((held) => held.entry.id),
    });
    expectedGone = new Set(expired.filter((entry) => !expectedHeld.has(entry.id)).map((entry) => entry.id));
  });

  afterAll(async () => {
    await world?.close();
  });

  it('places holds with only hashes and names, and audits them without identifiers', async () => {
    // Act
    const holds = await listHolds(world.env.deps, { status: 'active' });
    const events = await readAuditEvents({
      doc: world.env.deps.doc,
      auditTable: world.env.deps.resources.auditTable,
    });

    // Assess
    expect(holds).toHaveLength(3);
    const subject = holds.find((hold) => hold.scope === 'subject')!;
    expect(subject.identityType).toBe('email');
    expect(subject.identityCount).toBeGreaterThan(1); // linked cookie ids and the phone too
    expect(JSON.stringify(subject)).not.toContain(heldSubject.email);
    const placed = events.filter((event) => event.type === 'hold.placed');
    expect(placed).toHaveLength(3);
    const text = JSON.stringify(placed);
    for (const value of [
      ...identifierValues(heldSubject),
      ...recordHolds.map(({ hold }) => hold.recordKey!),
    ]) {
      expect(text).not.toContain(value);
    }
    expect(placed.map((event) => event.details?.recordHash ?? null).filter(Boolean)).toHaveLength(2);
  });

  it('dry run: reports what would go and changes nothing', async () => {
    // Act
    dryRun = await completeSweep(runner, { dryRun: true, segments: 3, pageSize: 7 });

    // Assess
    const after = await snapshotStores(world.env.dataMap, world.env.clients);
    expect(after).toEqual(before);
    // The seed has expired records to purge and to hold in every store with retention.
    for (const storeId of [
      'inquiries',
      'ad-events',
      'conversions',
      'call-recordings',
      'recruitment',
      'clickstream',
    ]) {
      expect({ storeId, gone: [...expectedGone].some((id) => id.startsWith(`${storeId}|`)) }).toEqual({
        storeId,
        gone: true,
      });
    }
    expect([...expectedHeld].some((id) => id.startsWith('clickstream|'))).toBe(true);
    expect([...expectedHeld].some((id) => id.startsWith('ad-events|'))).toBe(true);
    const objectsGone = (storeId: string) =>
      new Set([...expectedGone].filter((id) => id.startsWith(`${storeId}|`)).map((id) => id.split('|')[1]))
        .size;
    const itemsGone = (storeId: string) =>
      [...expectedGone].filter((id) => id.startsWith(`${storeId}|`)).length;
    const byStore = Object.fromEntries(dryRun.stores.map((store) => [store.storeId, store]));
    expect(byStore.inquiries?.wouldPurge).toBe(itemsGone('inquiries'));
    expect(byStore['ad-events']?.wouldPurge).toBe(itemsGone('ad-events'));
    expect(byStore.conversions?.wouldPurge).toBe(itemsGone('conversions'));
    expect(byStore['call-recordings']?.wouldPurge).toBe(objectsGone('call-recordings'));
    expect(byStore.recruitment?.wouldPurge).toBe(objectsGone('recruitment'));
    expect(byStore.clickstream?.wouldPurge).toBe(objectsGone('clickstream'));
    expect(byStore['partner-contacts']).toBeUndefined();
    // A dry run purges nothing: what it would purge is counted under wouldPurge only.
    expect(dryRun.totals).toMatchObject({ purged: 0, anonymised: 0 });
    expect(dryRun.totals.held).toBeGreaterThanOrEqual(3);
    expect(dryRun.totals.examined).toBeGreaterThanOrEqual(dryRun.totals.expired);
  });

  it('purges exactly the expired, unheld records and leaves everything else byte for byte', async () => {
    // Act
    const summary = await completeSweep(runner, { segments: 3, pageSize: 7 });

    // Assess
    const after = await snapshotStores(world.env.dataMap, world.env.clients);
    const expected = new Map([...before].filter(([id]) => !expectedGone.has(id)));
    expect([...after.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, entry] of after) expect(entry.content).toBe(expected.get(id)?.content);
    for (const id of expectedHeld) expect(after.has(id)).toBe(true);
    expect(foretoldCounts(summary)).toEqual(foretoldCounts(dryRun));
    expect(summary.totals).toMatchObject({ wouldPurge: 0, wouldAnonymise: 0 });
  });

  it('appends sweep.completed with per-store counts and the duration, and no identifiers', async () => {
    const events = await readAuditEvents({
      doc: world.env.deps.doc,
      auditTable: world.env.deps.resources.auditTable,
    });
    const sweeps = events.filter((event) => event.type === 'sweep.completed');
    expect(sweeps).toHaveLength(2);
    const [dry, real] = sweeps;
    expect(dry?.details?.dryRun).toBe(true);
    expect(real?.details?.dryRun).toBe(false);
    // The dry run's event says what would go, under the would-names; it purged nothing.
    expect(dry?.details?.totals).toMatchObject({
      purged: 0,
      anonymised: 0,
      wouldPurge: dryRun.totals.wouldPurge,
      wouldAnonymise: dryRun.totals.wouldAnonymise,
    });
    expect(dryRun.totals.wouldPurge).toBeGreaterThan(0);
    expect(real?.details?.totals).toMatchObject({ wouldPurge: 0, wouldAnonymise: 0 });
    const dryPages = events.filter(
      (event) => event.type === 'sweep.page' && event.details?.sweepId === dry?.details?.sweepId,
    );
    expect(dryPages.every((event) => event.details?.dryRun === true && event.details?.purged === 0)).toBe(
      true,
    );
    expect(dryPages.reduce((sum, event) => sum + Number(event.details?.wouldPurge), 0)).toBe(
      dryRun.totals.wouldPurge,
    );
    expect(real?.details?.stores as unknown[]).toHaveLength(7);
    expect(typeof real?.details?.durationMs).toBe('number');
    const text = JSON.stringify(sweeps);
    for (const subject of seed.subjects)
      for (const value of identifierValues(subject)) expect(text).not.toContain(value);
  });

  it('sweeps again to nothing more, until a hold is released', async () => {
    // Act: a second sweep, then the record hold on the ad event is released and a third runs.
    const again = await completeSweep(runner);
    const release = recordHolds[0]!;
    await releaseHold(world.env.deps, release.hold.holdId, 'fraud-desk');
    const third = await completeSweep(runner, { storeId: 'ad-events' });

    // Assess
    expect(again.totals.purged).toBe(0);
    expect(again.totals.held).toBe(dryRun.totals.held);
    expect(third.totals.purged).toBe(1);
    const after = await snapshotStores(world.env.dataMap, world.env.clients);
    expect(after.has(release.entry.id)).toBe(false);
    expect(after.has(recordHolds[1]!.entry.id)).toBe(true);
    const holds = await listHolds(world.env.deps);
    const released = holds.find((hold) => hold.holdId === release.hold.holdId)!;
    expect(released).toEqual(expect.objectContaining({ status: 'released', releasedBy: 'fraud-desk' }));
    await expect(releaseHold(world.env.deps, release.hold.holdId, 'x')).rejects.toThrow(
      HoldAlreadyReleasedError,
    );
    expect(subjectHold.status).toBe('active');
  });

  it('refuses holds it could not honour or audit safely', async () => {
    const { deps } = world.env;
    await expect(
      placeHold(deps, { storeId: 'ad-events', key: '{"cookieId":"x"}', reason: 'Case 1', placedBy: 'a' }),
    ).rejects.toThrow(InvalidHoldError);
    await expect(
      placeHold(deps, { storeId: 'recruitment', key: 'elsewhere/x.pdf', reason: 'Case 1', placedBy: 'a' }),
    ).rejects.toThrow(InvalidHoldError);
    await expect(
      placeHold(deps, {
        subject: `email=${heldSubject.email}`,
        reason: `Hold for ${heldSubject.email}`,
        placedBy: 'a',
      }),
    ).rejects.toThrow(/audit log/);
    await expect(
      placeHold(deps, { subject: `email=${heldSubject.email}`, reason: 'Case 1', placedBy: ' ' }),
    ).rejects.toThrow(InvalidHoldError);
  });
});
