import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type AdtechSeed, type SeedSubject, writeSeedFiles } from '../../examples/adtech/seed';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { ErasureCertificate } from '../../lib/rights/confirm';
import type { RequestSummary } from '../../lib/rights/summary';
import { holdsIdentifier } from '../helpers/at-rest';
import { includeAllInReview, initWithSeed, lethe, requestSubmitArgs, snapshotStateDir } from '../helpers/cli';
import { EXAMPLE_DATAMAP_PATH, exampleSeed, identifierValues, type SnapshotEntry } from '../helpers/world';
import { unzip } from '../helpers/zip';

/**
 * The planted-link attack: an attacker sends an inquiry that lists another person's phone number
 * and cookie id. The inquiry's links are claimed (typed into a form), so the attacker's access,
 * portability and erasure requests never export or erase the other person's records without staff
 * review; with the links declared verified they behave as they did before trust levels existed.
 */

const ATTACKER = 'mallory.planted@example.net';
const PLANTED_AT = '2026-10-20T09:00:00.000Z';
/** Each of these tests runs several requests, each to its end: more than jest's default on a loaded machine. */
const LONG_TEST_MS = 240_000;

/** A subject with calls and ad events and no partner role: the attacker's target. */
function victimOf(seed: AdtechSeed): SeedSubject {
  const victim = seed.subjects.find(
    (subject) =>
      subject.owns['call-recordings'] > 0 &&
      subject.owns['ad-events'] > 0 &&
      subject.partnerRoles.length === 0,
  );
  if (!victim) throw new Error('the seed has no subject with calls and ad events');
  return victim;
}

/** The victim's records the planted phone and cookie id reach, by the seed's ground truth. */
function plantedReach(victim: SeedSubject, entry: SnapshotEntry): boolean {
  if (typeof entry.record === 'string') return entry.record.startsWith(`calls/${victim.phone}/`);
  // Bid logs (Parquet) keep the cookie id in the nested column user.buyeruid.
  const user = entry.record.user as { buyeruid?: unknown } | undefined;
  const cookie = entry.record.cookieId ?? user?.buyeruid;
  return (
    entry.storeId !== 'inquiries' &&
    typeof cookie === 'string' &&
    cookie.toLowerCase() === victim.cookieIds[0]!.toLowerCase()
  );
}

/** Per store, how many of the victim's records the planted values reach. */
function countsByStore(entries: SnapshotEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of entries) counts[entry.storeId] = (counts[entry.storeId] ?? 0) + 1;
  return counts;
}

/** A fresh state directory with the seed and the attacker's inquiry, under the given data map. */
async function plantedWorld(root: string, seed: AdtechSeed, victim: SeedSubject, dataMapPath: string) {
  const seedDir = join(root, 'seed');
  writeSeedFiles(seed, seedDir);
  appendFileSync(
    join(seedDir, 'inquiries.jsonl'),
    `${JSON.stringify({
      email: ATTACKER,
      receivedAt: PLANTED_AT,
      name: 'M. Planted',
      phone: victim.phone,
      cookieIds: [victim.cookieIds[0]],
      channel: 'contact-form',
      topic: 'privacy',
      message: 'Please send me everything you hold about me.',
      locale: 'en-GB',
    })}\n`,
  );
  const stateDir = join(root, 'state');
  expect(await initWithSeed(stateDir, seedDir, dataMapPath)).toEqual([]);
  return stateDir;
}

describe('a link planted in an inquiry', () => {
  let root: string;
  let seed: AdtechSeed;
  let victim: SeedSubject;

  const submit = async (stateDir: string, type: string) => {
    const run = await lethe(requestSubmitArgs(stateDir, type, [`email=${ATTACKER}`]));
    expect(run.err).toBe('');
    return JSON.parse(run.out) as RequestSummary;
  };
  const review = (stateDir: string, requestId: string, args: string[]) =>
    lethe(['request', 'review', requestId, ...args, '--state-dir', stateDir, '--json']);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'lethe-planted-'));
    seed = exampleSeed(8, 2);
    victim = victimOf(seed);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('through claimed links (the example as it is)', () => {
    let stateDir: string;
    let planted: SnapshotEntry[];

    beforeAll(async () => {
      stateDir = await plantedWorld(join(root, 'claimed'), seed, victim, EXAMPLE_DATAMAP_PATH);
      planted = [...(await snapshotStateDir(stateDir)).values()].filter((entry) =>
        plantedReach(victim, entry),
      );
      expect(countsByStore(planted)).toMatchObject({
        'call-recordings': expect.any(Number),
        'ad-events': expect.any(Number),
      });
    });

    it(
      'refuses a review that leaves a waiting store undecided or names one that does not wait, changing nothing',
      async () => {
        // prepare
        const paused = await submit(stateDir, 'access');
        const [first, ...rest] = paused.review!.stores.map((store) => store.store);

        // act
        const partial = await review(stateDir, paused.requestId, ['--include', first!, '--by', 'desk']);
        const unknown = await review(stateDir, paused.requestId, [
          '--exclude',
          first!,
          ...rest,
          'inquiries',
          '--by',
          'desk',
        ]);
        const both = await review(stateDir, paused.requestId, [
          '--include',
          first!,
          '--exclude',
          first!,
          ...rest,
          '--by',
          'desk',
        ]);
        const neither = await review(stateDir, paused.requestId, ['--by', 'desk']);
        const status = JSON.parse(
          (await lethe(['request', 'status', paused.requestId, '--state-dir', stateDir, '--json'])).out,
        ) as RequestSummary;
        const closed = await lethe([
          'request',
          'close',
          paused.requestId,
          '--by',
          'desk',
          '--reason',
          'test',
          '--state-dir',
          stateDir,
        ]);
        const afterClose = await review(stateDir, paused.requestId, [
          '--exclude',
          first!,
          ...rest,
          '--by',
          'desk',
        ]);

        // assess
        for (const run of [partial, unknown, both, neither, afterClose]) {
          expect({ code: run.code, lines: run.err.trim().split('\n').length }).toEqual({ code: 2, lines: 1 });
        }
        expect(rest.length).toBeGreaterThan(0);
        expect(partial.err).toContain(rest.join(', '));
        expect(unknown.err).toContain('not waiting for review');
        expect(status).toMatchObject({ status: 'pending-review', attempt: 1 });
        expect(status.review?.decisions).toEqual([]);
        expect(closed.code).toBe(0);
      },
      LONG_TEST_MS,
    );

    it(
      "pauses the attacker's portability request for review, and exports none of the victim's records once excluded",
      async () => {
        // act
        const paused = await submit(stateDir, 'portability');
        const excluded = await review(stateDir, paused.requestId, [
          '--exclude',
          ...(paused.review?.stores.map((store) => store.store) ?? []),
          '--by',
          'privacy-desk',
          '--note',
          'ticket 4711: the phone and cookie are not the requester’s',
        ]);

        // assess: the pause names the stores and counts, and how they were reached, by keyed hashes only
        expect(paused).toMatchObject({ status: 'pending-review', export: null, error: null });
        const waiting = Object.fromEntries(
          paused.review!.stores.map((store) => [store.store, store.records]),
        );
        expect(waiting).toEqual(countsByStore(planted));
        for (const store of paused.review!.stores) {
          expect(store.paths.length).toBeGreaterThan(0);
          for (const path of store.paths) {
            expect(path.from).toEqual({
              identity: 'email',
              hash: expect.stringMatching(/^hs256:[0-9a-f]{64}$/),
            });
            expect(path.steps[0]).toMatchObject({ store: 'inquiries', trust: 'claimed' });
          }
        }
        expect(holdsIdentifier(JSON.stringify(paused), identifierValues(victim))).toBe(false);

        expect(excluded.err).toBe('');
        const done = JSON.parse(excluded.out) as RequestSummary;
        expect(done).toMatchObject({ status: 'completed', error: null, attempt: 2 });
        const files = await unzip(readFileSync(done.export!.path!));
        expect([...files.keys()].filter((name) => name.startsWith('files/call-recordings/'))).toEqual([]);
        // A store holding nothing the subject provided is left out of a portability export; one
        // in it must hold none of the victim's records.
        for (const store of ['ad-events', 'conversions', 'clickstream']) {
          const file = files.get(`data/${store}.json`);
          const records = file
            ? (JSON.parse(file.toString('utf8')) as { records: unknown[] }).records.length
            : 0;
          expect({ store, records }).toEqual({ store, records: 0 });
        }
        const inquiries = JSON.parse(files.get('data/inquiries.json')!.toString('utf8')) as {
          records: unknown[];
        };
        expect(inquiries.records).toHaveLength(1); // the attacker's own inquiry, as typed
        expect(done.stores.filter((store) => (store.excludedByReview ?? 0) > 0)).toEqual(
          Object.entries(countsByStore(planted)).map(([store, count]) =>
            expect.objectContaining({ store, located: 0, excludedByReview: count }),
          ),
        );
      },
      LONG_TEST_MS,
    );

    it(
      "pauses the attacker's erasure with nothing erased, and leaves the victim's records alone once excluded",
      async () => {
        // prepare: the victim asked for a copy of their own data; the desk confirmed their inquiry's links
        const victims = await includeAllInReview(
          stateDir,
          JSON.parse(
            (await lethe(requestSubmitArgs(stateDir, 'access', [`email=${victim.email}`]))).out,
          ) as RequestSummary,
        );
        expect(victims).toMatchObject({ status: 'completed', export: { deletedAt: null } });
        const before = await snapshotStateDir(stateDir);

        // act
        const paused = await submit(stateDir, 'erasure');
        const whileWaiting = await snapshotStateDir(stateDir);
        const excluded = await review(stateDir, paused.requestId, [
          '--exclude',
          ...(paused.review?.stores.map((store) => store.store) ?? []),
          '--by',
          'privacy-desk',
        ]);

        // assess
        expect(paused.status).toBe('pending-review');
        expect(whileWaiting).toEqual(before);
        expect(excluded.err).toBe('');
        const done = JSON.parse(excluded.out) as RequestSummary;
        expect(done).toMatchObject({ status: 'completed', error: null });
        const after = await snapshotStateDir(stateDir);
        for (const entry of planted) expect(after.get(entry.id)).toEqual(entry);
        const attackers = [...before.values()].filter(
          (entry) => typeof entry.record !== 'string' && entry.record.email === ATTACKER,
        );
        expect(attackers).toHaveLength(1);
        expect(
          [...after.values()].filter(
            (entry) => typeof entry.record !== 'string' && entry.record.email === ATTACKER,
          ),
        ).toEqual([]);
        expect(after.size).toBe(before.size - 1);
        const certificate = done.certificate as ErasureCertificate;
        expect(certificate.review).toEqual(
          paused.review!.stores.map((store) =>
            expect.objectContaining({
              store: store.store,
              decision: 'exclude',
              by: 'privacy-desk',
              attempt: 1,
            }),
          ),
        );
        for (const store of certificate.stores) expect(store.remaining).toBe(0);
        // The victim's package is not the attacker's: it stays (only claimed identities lead to it).
        expect(certificate.exportsDeleted.map((deleted) => deleted.requestId)).not.toContain(
          victims.requestId,
        );
        const victimsNow = JSON.parse(
          (await lethe(['request', 'status', victims.requestId, '--state-dir', stateDir, '--json'])).out,
        ) as RequestSummary;
        expect(victimsNow.export).toMatchObject({ deletedAt: null, path: victims.export!.path });
        expect(existsSync(victims.export!.path!)).toBe(true);
      },
      LONG_TEST_MS,
    );

    it('audits the pause and the decision with keyed hashes only', async () => {
      // act
      const env = await openLocalEnvironment({ stateDir });
      let events: Record<string, unknown>[];
      try {
        events = (await env.deps.doc.send(new ScanCommand({ TableName: env.deps.resources.auditTable })))
          .Items as Record<string, unknown>[];
      } finally {
        await env.close();
      }

      // assess
      const types = events.map((event) => event.type);
      // the attacker's access (refused reviews, then closed), portability and erasure, and the victim's access
      expect(types.filter((type) => type === 'request.review-requested')).toHaveLength(4);
      expect(types.filter((type) => type === 'request.reviewed')).toHaveLength(3);
      expect(holdsIdentifier(JSON.stringify(events), [...identifierValues(victim), ATTACKER])).toBe(false);
    });
  });

  describe('through links declared verified', () => {
    it(
      'exports and erases what the planted values reach, as before trust levels existed',
      async () => {
        // prepare: the same data map with every link verified
        const dir = join(root, 'verified');
        const dataMapPath = join(root, 'verified-datamap.yaml');
        writeFileSync(
          dataMapPath,
          readFileSync(EXAMPLE_DATAMAP_PATH, 'utf8').replaceAll('trust: claimed', 'trust: verified'),
        );
        const stateDir = await plantedWorld(dir, seed, victim, dataMapPath);
        const before = await snapshotStateDir(stateDir);
        const planted = [...before.values()].filter((entry) => plantedReach(victim, entry));

        // act: the package is read before the erasure, which deletes it
        const access = await submit(stateDir, 'access');
        const files = await unzip(readFileSync(access.export!.path!));
        const erasure = await submit(stateDir, 'erasure');

        // assess: no review, and the victim's records go with the attacker's
        expect(access).toMatchObject({ status: 'completed', review: null });
        expect([...files.keys()].filter((name) => name.startsWith('files/call-recordings/'))).toHaveLength(
          countsByStore(planted)['call-recordings']!,
        );
        expect(erasure).toMatchObject({ status: 'completed', review: null });
        const after = await snapshotStateDir(stateDir);
        for (const entry of planted) expect(after.get(entry.id)).toBeUndefined();
        expect(after.size).toBe(before.size - planted.length - 1);
      },
      LONG_TEST_MS,
    );
  });
});
