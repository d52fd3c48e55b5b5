import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type AuditEvent, readAuditEvents } from '../../../lib/audit/log';
import { placeHold } from '../../../lib/holds';
import { importItems } from '../../../lib/local/import';
import { type LocalSweepResult, LocalSweepRunner } from '../../../lib/local/sweep-runner';
import { type SweepPageResult, type SweepSummary, sweepStorePage } from '../../../lib/retention';
import { SWEEP_STATES } from '../../../lib/workflow/sweep-steps';
import {
  countCommands,
  openTempEnvironment,
  rawClientsOf,
  setLastModified,
  type TempEnvironment,
} from '../../helpers/retention';
import { completeSweep, foretoldCounts } from '../../helpers/sweep';
import { simulateVersionedBuckets } from '../../helpers/versioned-s3';
import { type SnapshotEntry, snapshotStores } from '../../helpers/world';

/**
 * Sweeps of small stores built for one behaviour each: anonymising by the mask rules, the number
 * of delete calls, a crash in the middle of a sweep, the audit events that account for what a
 * sweep killed between pages, or a page run twice, purged, and a versioned bucket with S3 Object
 * Lock, simulated in front of s3rver by the middleware of test/helpers/versioned-s3.ts (its
 * comment says exactly what it simulates: versions, delete markers, ListObjectVersions, versioned
 * deletes, Object Lock retention and legal holds; and what not: reading noncurrent versions,
 * If-Match on versioned writes, lifecycle rules, versioning Suspended).
 */

const DATAMAP = `
version: 1
identityTypes:
  userId: { normalise: opaque }
  email: { normalise: email }
stores:
  - id: profiles
    kind: dynamodb
    table: r-profiles
    keySchema: { partitionKey: { name: userId }, sortKey: { name: profileId } }
    locate: [{ identity: userId, attribute: userId }]
    links: [{ identity: email, attribute: email }]
    categories: [user.profile]
    purpose: Running the account
    lawfulBasis: contract
    source: Provided by the subject
    erase:
      action: mask
      fields:
        - { attribute: name, with: fixed, value: "[anonymised]" }
        - { attribute: email, with: hmac }
        - { attribute: phone, with: remove }
        - { attribute: note, with: hash }
    retention:
      period: P1Y
      from: { attribute: lastSeenAt, format: iso8601 }
      action: anonymise
  - id: events
    kind: dynamodb
    table: r-events
    keySchema: { partitionKey: { name: userId }, sortKey: { name: eventId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [behaviour.events]
    purpose: Analytics
    lawfulBasis: consent
    source: Collected automatically
    erase: { action: delete }
    retention:
      period: P30D
      from: { attribute: at, format: epochMillis }
  - id: sessions
    kind: dynamodb
    table: r-sessions
    keySchema: { partitionKey: { name: sessionId } }
    indexes:
      - { name: byUser, partitionKey: { name: userId } }
      - { name: byExpiry, partitionKey: { name: shard }, sortKey: { name: startedAt, type: N } }
    locate: [{ identity: userId, index: byUser, attribute: userId }]
    categories: [behaviour.sessions]
    purpose: Security
    lawfulBasis: legitimate-interests
    source: Collected automatically
    erase: { action: delete }
    retention:
      period: P30D
      from: { attribute: startedAt, format: epochSeconds }
      expiryIndex: { name: byExpiry, partitionValue: all }
  - id: files
    kind: s3
    bucket: r-files
    locate: [{ identity: userId, prefix: "files/{userId}/" }]
    categories: [user.content]
    purpose: Storing uploads
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
    retention:
      period: P30D
      from: { lastModified: true }
`;

const DAY = 86_400_000;
const byStore = (summary: SweepSummary, storeId: string) =>
  summary.stores.find((store) => store.storeId === storeId)!;
const storeEntries = (snapshot: Map<string, SnapshotEntry>, storeId: string) =>
  new Map([...snapshot].filter(([, entry]) => entry.storeId === storeId));
/** The audit events of one sweep, in order. */
const sweepEvents = async (world: TempEnvironment, sweepId: string): Promise<AuditEvent[]> =>
  (
    await readAuditEvents({ doc: world.env.deps.doc, auditTable: world.env.deps.resources.auditTable })
  ).filter((event) => event.details?.sweepId === sweepId);
const purgedBy = (events: AuditEvent[]) =>
  events
    .filter((event) => event.type === 'sweep.page')
    .reduce((sum, event) => sum + Number(event.details?.purged), 0);

describe('sweeps of single-purpose stores', () => {
  let world: TempEnvironment;
  let runner: LocalSweepRunner;
  // Everything is dated relative to the sweep's now: a month ahead of the real clock, so objects
  // uploaded just now are 31 days old (past P30D) unless their LastModified says otherwise.
  const now = new Date(Math.floor((Date.now() + 31 * DAY) / 1000) * 1000);

  beforeAll(async () => {
    world = await openTempEnvironment({ yaml: DATAMAP }, { now: () => now });
    runner = new LocalSweepRunner(world.env);
  });

  afterAll(async () => {
    await world?.close();
  });

  /** Sessions `<name>-<n>`: the first `expired` a second and more before the cut-off, then `fresh` after it. */
  const importSessions = async (name: string, expired: number, fresh: number) => {
    const cutoffS = Math.floor((now.getTime() - 30 * DAY) / 1000);
    await importItems(
      world.env.dataMap,
      'sessions',
      Array.from({ length: expired + fresh }, (_, n) => ({
        sessionId: `${name}-${n}`,
        userId: `${name}${n % 9}`,
        shard: 'all',
        startedAt: n < expired ? cutoffS - 1 - n : cutoffS + 60 + n,
      })),
      world.env.clients,
    );
  };

  describe('anonymise', () => {
    let before: Map<string, SnapshotEntry>;

    beforeAll(async () => {
      // Prepare: expired, fresh, exactly-at-the-cut-off, unreadable and held profiles.
      const iso = (ms: number) => new Date(ms).toISOString();
      const limit = Date.UTC(
        now.getUTCFullYear() - 1,
        now.getUTCMonth(),
        now.getUTCDate(),
        now.getUTCHours(),
        now.getUTCMinutes(),
        now.getUTCSeconds(),
      );
      const profile = (n: number, lastSeenAt: unknown) => ({
        userId: `u${n}`,
        profileId: 'main',
        name: `Person ${n}`,
        email: `person${n}@example.com`,
        phone: `+49301234${String(n).padStart(3, '0')}`,
        note: `likes ${n}`,
        plan: 'pro',
        ...(lastSeenAt === undefined ? {} : { lastSeenAt }),
      });
      await importItems(
        world.env.dataMap,
        'profiles',
        [
          ...[1, 2, 3, 4, 5].map((n) => profile(n, iso(limit - n * DAY))),
          profile(6, iso(limit - 1)),
          profile(7, iso(limit)), // at the cut-off: kept
          profile(8, iso(limit + 1)),
          profile(9, undefined), // no timestamp: skipped
          profile(10, 'last tuesday'), // unreadable: skipped
          profile(11, iso(limit - 10 * DAY)), // held
        ],
        world.env.clients,
      );
      await placeHold(world.env.deps, {
        storeId: 'profiles',
        key: '{"userId":"u11","profileId":"main"}',
        reason: 'Audit by the regulator',
        placedBy: 'dpo',
      });
      before = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'profiles');
    });

    it('masks exactly the expired unheld profiles by the mask rules, and nothing else', async () => {
      // Act
      const dry = await completeSweep(runner, { storeId: 'profiles', dryRun: true });
      const afterDry = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'profiles');
      const real = await completeSweep(runner, { storeId: 'profiles' });

      // Assess
      expect(afterDry).toEqual(before);
      expect(byStore(dry, 'profiles')).toMatchObject({
        examined: 11,
        expired: 7,
        purged: 0,
        anonymised: 0,
        wouldPurge: 0,
        wouldAnonymise: 6,
        alreadyAnonymised: 0,
        held: 1,
        skipped: 2,
      });
      expect(byStore(real, 'profiles')).toMatchObject({ anonymised: 6, wouldAnonymise: 0 });
      expect(foretoldCounts(real)).toEqual(foretoldCounts(dry));
      const after = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'profiles');
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [id, entry] of before) {
        const record = entry.record as Record<string, unknown>;
        const now = after.get(id)!;
        if (['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].includes(String(record.userId))) {
          const masked = now.record as Record<string, unknown>;
          expect(masked).toEqual({
            userId: record.userId,
            profileId: 'main',
            lastSeenAt: record.lastSeenAt,
            plan: 'pro',
            name: '[anonymised]',
            email: expect.stringMatching(/^hmac:[0-9a-f]{64}$/),
            note: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
          });
        } else {
          expect(now.content).toBe(entry.content);
        }
      }
    });

    it('anonymises once: a second sweep changes nothing and says so', async () => {
      // Prepare
      const first = await snapshotStores(world.env.dataMap, world.env.clients);

      // Act
      const again = await completeSweep(runner, { storeId: 'profiles' });

      // Assess
      expect(await snapshotStores(world.env.dataMap, world.env.clients)).toEqual(first);
      expect(byStore(again, 'profiles')).toMatchObject({
        anonymised: 0,
        alreadyAnonymised: 6,
        held: 1,
        expired: 7,
      });
    });
  });

  describe('delete calls', () => {
    it('DynamoDB: ceil(N / 25) BatchWriteItem calls for N expired items, by Scan or by expiry index', async () => {
      // Prepare: 110 expired and 20 fresh events (scanned), 60 expired and 9 fresh sessions (indexed).
      const cutoffMs = now.getTime() - 30 * DAY;
      await importItems(
        world.env.dataMap,
        'events',
        Array.from({ length: 130 }, (_, n) => ({
          userId: `u${n % 13}`,
          eventId: `e${n}`,
          at: n < 110 ? cutoffMs - 1 - n : cutoffMs + n,
        })),
        world.env.clients,
      );
      await importItems(
        world.env.dataMap,
        'sessions',
        Array.from({ length: 69 }, (_, n) => ({
          sessionId: `s${n}`,
          userId: `u${n % 7}`,
          shard: 'all',
          startedAt: n < 60 ? Math.floor(cutoffMs / 1000) - 1 - n : Math.ceil(cutoffMs / 1000) + n,
        })),
        world.env.clients,
      );
      const counts = new Map<string, number>();
      const remove = countCommands(world.env.clients.dynamodb, counts);

      // Act: small pages, so the deletes of many pages are batched together.
      let events: SweepPageResult | undefined;
      let sessions: SweepPageResult | undefined;
      try {
        events = await sweepStorePage(world.env.deps, {
          storeId: 'events',
          now,
          pageSize: 20,
          budgetMs: 60_000,
        });
        const eventsCalls = counts.get('BatchWriteItemCommand') ?? 0;
        sessions = await sweepStorePage(world.env.deps, {
          storeId: 'sessions',
          now,
          pageSize: 7,
          budgetMs: 60_000,
        });
        counts.set('events', eventsCalls);
      } finally {
        remove();
      }

      // Assess
      expect(events).toMatchObject({ examined: 130, expired: 110, purged: 110, nextToken: null });
      expect(counts.get('events')).toBe(Math.ceil(110 / 25));
      expect(sessions).toMatchObject({ examined: 60, expired: 60, purged: 60, nextToken: null });
      expect((counts.get('BatchWriteItemCommand') ?? 0) - (counts.get('events') ?? 0)).toBe(
        Math.ceil(60 / 25),
      );
      // The expiry index, until the last page says there is no more; and each sweepStorePage call
      // reads the active legal holds with one Query of the holds table's index.
      expect(counts.get('QueryCommand')).toBe(Math.ceil(61 / 7) + 2);
      const left = await snapshotStores(world.env.dataMap, world.env.clients);
      expect(storeEntries(left, 'events').size).toBe(20);
      expect(storeEntries(left, 'sessions').size).toBe(9);
    });

    it('S3: ceil(N / 1000) DeleteObjects calls for N expired objects', async () => {
      // Prepare: 1,001 objects 31 days old, 4 exactly at the cut-off or younger.
      const keys = Array.from(
        { length: 1005 },
        (_, n) => `files/u${n % 50}/${String(n).padStart(4, '0')}.txt`,
      );
      const queue = [...keys];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let key = queue.shift(); key; key = queue.shift()) {
            await world.env.clients.s3.send(new PutObjectCommand({ Bucket: 'r-files', Key: key, Body: key }));
          }
        }),
      );
      const young = keys.slice(-4);
      // Every object's age set explicitly (which also waits until s3rver has written it).
      for (const [n, key] of keys.entries()) {
        const age = n < 1001 ? now.getTime() - 31 * DAY : now.getTime() - 30 * DAY + (n - 1001) * 1000;
        await setLastModified(world.stateDir, 'r-files', key, new Date(age), key.length);
      }
      const counts = new Map<string, number>();
      const remove = countCommands(world.env.clients.s3, counts);

      // Act
      let page: SweepPageResult | undefined;
      try {
        page = await sweepStorePage(world.env.deps, {
          storeId: 'files',
          now,
          pageSize: 250,
          budgetMs: 60_000,
        });
      } finally {
        remove();
      }

      // Assess
      expect(page).toMatchObject({ examined: 1005, expired: 1001, purged: 1001, nextToken: null });
      expect(counts.get('DeleteObjectsCommand')).toBe(Math.ceil(1001 / 1000));
      const left = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'files');
      expect([...left.values()].map((entry) => entry.record).sort()).toEqual(young);
    });
  });

  describe('a versioned bucket (simulated)', () => {
    it('purges every version of an expired object, keeps a fresh one, and reports a locked one with its date', async () => {
      // Prepare: an expired object with three versions and a delete marker between; a fresh one;
      // an expired one whose earlier version is under Object Lock retention.
      const raw = await rawClientsOf(world);
      const versions = simulateVersionedBuckets(world.env.clients.s3, raw.s3, ['r-files']);
      const putVersion = async (key: string, body: string) =>
        (await world.env.clients.s3.send(new PutObjectCommand({ Bucket: 'r-files', Key: key, Body: body })))
          .VersionId as string;
      const expired = 'files/v1/expired.txt';
      const fresh = 'files/v2/fresh.txt';
      const locked = 'files/v3/locked.txt';
      const retainUntil = new Date('2099-06-30T00:00:00.000Z');
      let page: SweepPageResult | undefined;
      try {
        await putVersion(expired, 'one');
        await putVersion(expired, 'two');
        await world.env.clients.s3.send(new DeleteObjectCommand({ Bucket: 'r-files', Key: expired }));
        await putVersion(expired, 'three');
        const freshVersion = await putVersion(fresh, 'fresh');
        const kept = await putVersion(locked, 'locked one');
        await versions.lock('r-files', locked, kept, { retainUntil, mode: 'COMPLIANCE' });
        await putVersion(locked, 'locked two');
        // Uploaded now, every object is 31 days old at the sweep's now, but the fresh one.
        const freshAt = new Date(now.getTime() - DAY);
        await setLastModified(world.stateDir, 'r-files', fresh, freshAt, 'fresh'.length);
        await versions.backdate('r-files', fresh, freshAt);

        // Act
        page = await sweepStorePage(world.env.deps, { storeId: 'files', now, budgetMs: 60_000 });

        // Assess
        expect(page).toMatchObject({
          expired: 2,
          purged: 1,
          locked: 1,
          lockedUntil: retainUntil.toISOString(),
        });
        expect(await versions.versions('r-files', expired)).toEqual([]);
        expect((await versions.versions('r-files', fresh)).map((version) => version.versionId)).toEqual([
          freshVersion,
        ]);
        expect((await versions.versions('r-files', locked)).map((version) => version.versionId)).toEqual([
          kept,
        ]);
      } finally {
        versions.remove();
        raw.s3.destroy();
        raw.dynamodb.destroy();
      }
    });
  });

  describe('a crash in the middle of a sweep', () => {
    it('fails after some deletions, and the next sweep completes with nothing that should stay gone', async () => {
      // Prepare: 100 expired and 10 fresh events; the second BatchWriteItem call fails hard.
      const cutoffMs = now.getTime() - 30 * DAY;
      const items = Array.from({ length: 110 }, (_, n) => ({
        userId: `c${n % 11}`,
        eventId: `crash-${n}`,
        at: n < 100 ? cutoffMs - 1000 - n : cutoffMs + 1000 + n,
      }));
      await importItems(world.env.dataMap, 'events', items, world.env.clients);
      const before = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'events');
      const counts = new Map<string, number>();
      const remove = countCommands(world.env.clients.dynamodb, counts, (command, count) => {
        if (command === 'BatchWriteItemCommand' && count === 2) {
          throw Object.assign(new Error('the process died'), { name: 'ProcessCrashed' });
        }
      });

      // Act
      let crashed: LocalSweepResult | undefined;
      try {
        crashed = await runner.run({ storeId: 'events', pageSize: 30, sweepId: 'sweep-crash-1' });
      } finally {
        remove();
      }
      const between = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'events');
      const rerun = await completeSweep(runner, {
        storeId: 'events',
        pageSize: 30,
        sweepId: 'sweep-crash-2',
      });

      // Assess: the crash left a partial purge (never of a fresh record); the rerun finished it.
      expect(crashed?.status).toBe('FAILED');
      expect(between.size).toBeLessThan(before.size);
      expect(between.size).toBeGreaterThan(10);
      const after = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'events');
      const fresh = [...before].filter(
        ([, entry]) => Number((entry.record as Record<string, unknown>).at) >= cutoffMs,
      );
      expect([...after.keys()].sort()).toEqual(fresh.map(([id]) => id).sort());
      for (const [id, entry] of fresh) expect(after.get(id)?.content).toBe(entry.content);
      expect(byStore(rerun, 'events').purged).toBe(between.size - fresh.length);
      const events = await readAuditEvents({
        doc: world.env.deps.doc,
        auditTable: world.env.deps.resources.auditTable,
      });
      // The sweep was audited from its start.
      expect(events.find((event) => event.details?.sweepId === 'sweep-crash-1')?.type).toBe('sweep.started');
      const failed = events.filter((event) => event.type === 'sweep.failed');
      expect(failed.at(-1)?.details).toMatchObject({
        sweepId: 'sweep-crash-1',
        // The page failed inside the Map over stores, whose Catch names the Map state.
        state: 'SweepStores',
        error: 'ProcessCrashed',
      });
      expect(events.filter((event) => event.type === 'sweep.completed').at(-1)?.details).toMatchObject({
        sweepId: 'sweep-crash-2',
      });
    });

    it('a sweep killed between pages leaves sweep.started and page events that account for every record gone', async () => {
      // Prepare: 90 expired and 5 fresh sessions, swept 30 a page; from the third page on, the
      // page's function is killed every time it starts (retried as a crash, then the sweep fails).
      await importSessions('kill', 90, 5);
      const before = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'sessions');
      let pagesStarted = 0;
      const killing = new LocalSweepRunner(world.env, {
        faults: (state) => {
          if (state !== SWEEP_STATES.sweepPage) return;
          pagesStarted += 1;
          if (pagesStarted >= 3) {
            throw Object.assign(new Error('Runtime exited with error: signal: killed'), {
              name: 'Runtime.ExitError',
            });
          }
        },
      });

      // Act
      const result = await killing.run({
        storeId: 'sessions',
        pageSize: 30,
        budgetMs: 0,
        sweepId: 'sweep-killed',
      });

      // Assess: two pages of 30 went, and the audit log says so before the sweep's failure.
      expect(result.status).toBe('FAILED');
      const after = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'sessions');
      const gone = [...before.keys()].filter((id) => !after.has(id));
      expect(gone).toHaveLength(60);
      const events = await sweepEvents(world, 'sweep-killed');
      expect(events.map((event) => event.type)).toEqual([
        'sweep.started',
        'sweep.page',
        'sweep.page',
        'sweep.failed',
      ]);
      expect(events[0]?.details).toEqual({
        sweepId: 'sweep-killed',
        now: now.toISOString(),
        dryRun: false,
        stores: [
          {
            storeId: 'sessions',
            kind: 'dynamodb',
            action: 'delete',
            period: 'P30D',
            cutoff: new Date(now.getTime() - 30 * DAY).toISOString(),
            segments: 1,
          },
        ],
      });
      expect(events[1]?.details).toMatchObject({
        storeId: 'sessions',
        segment: 0,
        totalSegments: 1,
        page: 1,
        dryRun: false,
        examined: 30,
        expired: 30,
        purged: 30,
        done: false,
      });
      expect(events[2]?.details).toMatchObject({ page: 2, done: false });
      expect(purgedBy(events)).toBe(gone.length);
    });

    it('a page run again after its function died past its page event is recorded twice and counted once', async () => {
      // Prepare: more expired sessions; the second page's function dies right after its page event
      // is written (as a Lambda killed at that moment would), so the state machine runs it again.
      await importSessions('again', 60, 0);
      const before = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'sessions');
      let pageEvents = 0;
      const stack = world.env.clients.dynamodb.middlewareStack as {
        add: (middleware: unknown, options: { step: string; name: string }) => void;
        remove: (name: string) => boolean;
      };
      stack.add(
        (next: (args: { input: unknown }) => Promise<unknown>) => async (args: { input: unknown }) => {
          const output = await next(args);
          const written = JSON.stringify(args.input);
          if (written.includes('sweep.page') && written.includes('sweep-again')) {
            pageEvents += 1;
            if (pageEvents === 2) {
              throw Object.assign(new Error('Task timed out after 300.00 seconds'), {
                name: 'Sandbox.Timedout',
              });
            }
          }
          return output;
        },
        { step: 'initialize', name: 'die-after-page-event' },
      );

      // Act
      let summary: SweepSummary;
      try {
        summary = await completeSweep(runner, {
          storeId: 'sessions',
          pageSize: 30,
          budgetMs: 0,
          sweepId: 'sweep-again',
        });
      } finally {
        stack.remove('die-after-page-event');
      }

      // Assess: page 2 is in the log twice; the page events account for every record gone; the
      // completed totals count the run of each page that returned, and so never more than went.
      const after = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'sessions');
      const gone = [...before.keys()].filter((id) => !after.has(id));
      expect(gone.length).toBe(90);
      const events = await sweepEvents(world, 'sweep-again');
      const pages = events.filter((event) => event.type === 'sweep.page').map((event) => event.details?.page);
      expect(pages.slice(0, 3)).toEqual([1, 2, 2]);
      expect(purgedBy(events)).toBe(gone.length);
      const sessions = byStore(summary, 'sessions');
      expect(sessions.pages).toBe(pages.length - 1);
      expect(sessions.purged).toBeLessThan(gone.length);
      expect(events.at(-1)?.type).toBe('sweep.completed');
    });
  });

  describe('folder markers', () => {
    it('purges an expired folder marker like an object (its key names the subject), unless held', async () => {
      // Prepare: what earlier tests left expired in the store is swept first, so the counts below
      // are this test's; then two subjects' folders with a marker and one upload, all expired,
      // one subject held.
      await sweepStorePage(world.env.deps, { storeId: 'files', now, budgetMs: 60_000 });
      const keys = ['files/m1/', 'files/m1/a.txt', 'files/m2/', 'files/m2/b.txt'];
      for (const key of keys) {
        const body = key.endsWith('/') ? '' : key;
        await world.env.clients.s3.send(new PutObjectCommand({ Bucket: 'r-files', Key: key, Body: body }));
        await setLastModified(
          world.stateDir,
          'r-files',
          key,
          new Date(now.getTime() - 40 * DAY),
          body.length,
        );
      }
      await placeHold(world.env.deps, {
        subject: 'userId=m2',
        reason: 'Audit by the regulator',
        placedBy: 'dpo',
      });

      // Act
      const page = await sweepStorePage(world.env.deps, { storeId: 'files', now, budgetMs: 60_000 });

      // Assess
      expect(page).toMatchObject({ purged: 2, held: 2 });
      const left = storeEntries(await snapshotStores(world.env.dataMap, world.env.clients), 'files');
      const keysLeft = [...left.values()].map((entry) => entry.record);
      expect(keysLeft.filter((key) => String(key).startsWith('files/m'))).toEqual([
        'files/m2/',
        'files/m2/b.txt',
      ]);
    });
  });
});
