import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type AdtechSeed, type SeedSubject, writeSeedFiles } from '../../examples/adtech/seed';
import { openLocalEnvironment } from '../../lib/local/environment';
import type { FaultInjector } from '../../lib/local/execution';
import type { RequestSummary } from '../../lib/rights/summary';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { holdsIdentifier, identifiersAtRest } from '../helpers/at-rest';
import { includeAllInReview, initWithSeed, lethe, requestSubmitArgs } from '../helpers/cli';
import { exampleDataMap, exampleSeed, identifierValues } from '../helpers/world';
import { unzip } from '../helpers/zip';

/**
 * Leaks of subject identifiers found in review, each replayed end to end through the CLI; then the
 * whole state directory (every file and file name, raw bytes, LevelDB tables decompressed), the
 * requests table, the audit log and what `request status|history` print are searched for the
 * subject's identifiers, in any case and any spelling of a phone number.
 */

const dataMap = exampleDataMap();

/** A subject no store knows: once its request has ended, any trace of its identities is a leak. */
function ghost(n: number) {
  const nn = String(n).padStart(2, '0');
  return {
    email: `ghost${nn}.leak@example.net`,
    phone: `+49301555${nn}77`,
    cookieId: `0badc0de-0000-4000-8000-0000000000${nn}`,
    userId: `u-0bad00${nn}`,
  };
}

/** The export packages a request leaves for the subject (the lead's lifecycle work removes them after erasure). */
const isExportPackage = (path: string) => path.startsWith('exports/') || path.startsWith('s3/lethe-exports/');

describe('no identifier of a subject is left behind where it should not be', () => {
  let root: string;
  let stateDir: string;
  let seed: AdtechSeed;

  const submit = (type: string, subject: string[], faults?: FaultInjector) =>
    lethe(requestSubmitArgs(stateDir, type, subject), faults ? { faults } : {});

  /** The requests table and audit log as stored, and what `request status|history --json` print. */
  async function recordsAndOutputs(requestId: string) {
    const env = await openLocalEnvironment({ stateDir });
    const scan = async (table: string) =>
      JSON.stringify((await env.deps.doc.send(new ScanCommand({ TableName: table }))).Items);
    let requests: string;
    let audit: string;
    try {
      requests = await scan(env.deps.resources.requestsTable);
      audit = await scan(env.deps.resources.auditTable);
    } finally {
      await env.close();
    }
    const status = (await lethe(['request', 'status', requestId, '--state-dir', stateDir, '--json'])).out;
    const history = (await lethe(['request', 'history', requestId, '--state-dir', stateDir, '--json'])).out;
    expect(JSON.parse(history)).not.toEqual([]);
    return { requests, audit, status, history };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-leaks-'));
    stateDir = join(root, 'state');
    seed = exampleSeed(8, 2);
    writeSeedFiles(seed, join(root, 'seed'));
    expect(await initWithSeed(stateDir, join(root, 'seed'))).toEqual([]);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('a step fails with an error message holding the subject’s identifiers', () => {
    const cases: [string, 'access' | 'erasure', string[]][] = [
      [REQUEST_STATES.verify, 'access', []],
      [REQUEST_STATES.resolve, 'access', []],
      [REQUEST_STATES.locateStore, 'access', []],
      [REQUEST_STATES.exportPackage, 'access', []],
      [REQUEST_STATES.eraseStore, 'erasure', []],
      [REQUEST_STATES.confirm, 'erasure', []],
      [REQUEST_STATES.recordOutcome, 'access', []],
      // Recording the failure fails too: the request is found dead and failed by the close.
      [REQUEST_STATES.recordFailure, 'access', [REQUEST_STATES.verify]],
    ];

    it.each(cases.map(([state, type, alsoFailing], index) => [state, type, alsoFailing, index] as const))(
      '%s (%s request)',
      async (state, type, alsoFailing, index) => {
        // prepare: the message spells the identities as a store's error might
        const subject = ghost(index);
        const values = Object.values(subject);
        const spelledPhone = `${subject.phone.slice(0, 3)} ${subject.phone.slice(3, 5)} ${subject.phone.slice(5)}`;
        const faults: FaultInjector = (stateName) => {
          if (stateName !== state && !alsoFailing.includes(stateName)) return;
          const error = new Error(
            `simulated outage at calls/${subject.phone}/ for ${subject.email.toUpperCase()}, ` +
              `${spelledPhone}, cookie ${subject.cookieId.toUpperCase()}, account ${subject.userId}`,
          );
          error.name = 'StoreUnavailableError';
          throw error;
        };

        // act
        const run = await submit(
          type,
          Object.entries(subject).map(([identity, value]) => `${identity}=${value}`),
          faults,
        );

        // assess
        const summary = JSON.parse(run.out) as RequestSummary;
        expect(summary.status).not.toBe('completed');
        const failureRecorded = alsoFailing.length === 0;
        if (failureRecorded) {
          // the error keeps its name (Retry and Catch match on it) and all but the identifiers
          expect(summary.error).toMatchObject({ code: 'StoreUnavailableError' });
          expect(summary.error?.message).toMatch(
            /^simulated outage at calls\/\[redacted\]\/ for \[redacted\]/,
          );
        }
        // A failed request keeps its identities in its record (and so in the local DynamoDB
        // files) until it is retried or closed; nowhere else may they be. Searched before anything
        // opens the store again: reopening LevelDB churns it into compacting.
        const atRest = identifiersAtRest(stateDir, values, (path) => path.startsWith('dynamodb/'));
        const { audit, status, history } = await recordsAndOutputs(summary.requestId);
        for (const [place, text] of Object.entries({ audit, status, history })) {
          expect({ place, holdsIdentifier: holdsIdentifier(text, values) }).toEqual({
            place,
            holdsIdentifier: false,
          });
        }
        expect(atRest).toEqual([]);

        // Closed, the request drops its identities: then no trace of them is left anywhere.
        const closed = await lethe([
          'request',
          'close',
          summary.requestId,
          '--by',
          'leak test',
          '--reason',
          'abandoned in a leak test',
          '--state-dir',
          stateDir,
        ]);
        expect(closed.err).toBe('');
        const closedAtRest = identifiersAtRest(stateDir, values);
        const after = await recordsAndOutputs(summary.requestId);
        expect(holdsIdentifier(after.requests, values)).toBe(false);
        expect(closedAtRest).toEqual([]);
      },
    );
  });

  describe('a folder marker under a subject’s prefix', () => {
    let subject: SeedSubject;

    beforeAll(async () => {
      subject = seed.subjects.find(
        (candidate) =>
          candidate.owns['call-recordings'] > 0 && candidate.partnerRoles.length === 0 && !candidate.sharedIp,
      )!;
      const env = await openLocalEnvironment({ stateDir });
      try {
        const bucket = dataMap.stores.find((store) => store.id === 'call-recordings')!;
        if (bucket.kind !== 's3') throw new Error('call-recordings is an S3 store');
        await env.clients.s3.send(
          new PutObjectCommand({ Bucket: bucket.bucket, Key: `calls/${subject.phone}/`, Body: '' }),
        );
      } finally {
        await env.close();
      }
    });

    it('is no record: the access request exports the calls and nothing else', async () => {
      // act: the calls are reached through the inquiry's phone, a claimed link, so they wait for review
      const run = await submit('access', [`email=${subject.email}`]);
      const summary = await includeAllInReview(stateDir, JSON.parse(run.out) as RequestSummary);

      // assess
      expect(summary).toMatchObject({ status: 'completed', error: null });
      const files = await unzip(readFileSync(summary.export!.path!));
      const calls = [...files.keys()].filter((name) => name.startsWith('files/call-recordings/'));
      expect(calls).toHaveLength(subject.owns['call-recordings']);
      const outputs = await recordsAndOutputs(summary.requestId);
      expect(holdsIdentifier(Object.values(outputs).join('\n'), identifierValues(subject))).toBe(false);
    });

    it('goes with the erasure, and so does the earlier export package: nothing of the subject is left at rest', async () => {
      // prepare: the access request above left a package, in lethe's bucket and in the state directory
      expect(identifiersAtRest(stateDir, identifierValues(subject)).some(isExportPackage)).toBe(true);

      // act
      const run = await submit('erasure', [`email=${subject.email}`]);
      const summary = (await includeAllInReview(
        stateDir,
        JSON.parse(run.out) as RequestSummary,
      )) as RequestSummary & {
        certificate: { exportsDeleted: { requestId: string }[] };
      };

      // assess
      expect(summary).toMatchObject({ status: 'completed', error: null });
      expect(summary.certificate.exportsDeleted).toHaveLength(1);
      // Searched before anything opens the store again: reopening LevelDB churns it into compacting.
      expect(identifiersAtRest(stateDir, identifierValues(subject))).toEqual([]);
      const access = JSON.parse(
        (
          await lethe([
            'request',
            'status',
            summary.certificate.exportsDeleted[0]!.requestId,
            '--state-dir',
            stateDir,
            '--json',
          ])
        ).out,
      ) as RequestSummary;
      expect(access.export).toMatchObject({ path: null, url: null, deletedAt: expect.any(String) });
      expect(identifiersAtRest(stateDir, identifierValues(subject))).toEqual([]);
      const outputs = await recordsAndOutputs(summary.requestId);
      expect(holdsIdentifier(Object.values(outputs).join('\n'), identifierValues(subject))).toBe(false);
    });
  });

  describe('a hold reason that names the subject is refused before anything is written', () => {
    it.each([
      [
        'a phone number linked to the email, as written at home',
        (subject: SeedSubject) =>
          `Caller on 0${subject.phone.slice(3, 5)} ${subject.phone.slice(5)} disputes invoice 7731`,
      ],
      ['a pasted megabyte', () => `Pasted mail 7731: ${'x'.repeat(1024 * 1024)}`],
    ])('%s', async (_name, reasonFor) => {
      // prepare
      const subject = seed.subjects.at(-1)!;
      const reason = reasonFor(subject);

      // act
      const run = await lethe([
        'hold',
        'add',
        '--subject',
        `email=${subject.email}`,
        '--reason',
        reason,
        '--by',
        'legal',
        '--state-dir',
        stateDir,
      ]);

      // assess
      expect(run.code).toBe(2);
      expect(run.err.trim().split('\n')).toHaveLength(1);
      expect(run.err).toMatch(/the reason \(--reason\) .*case/);
      expect(holdsIdentifier(run.err, identifierValues(subject))).toBe(false);
      const holds = await lethe(['hold', 'list', '--state-dir', stateDir, '--json']);
      expect(JSON.parse(holds.out)).toEqual([]);
      expect(identifiersAtRest(stateDir, [reason.slice(0, 30)])).toEqual([]);
    });
  });
});
