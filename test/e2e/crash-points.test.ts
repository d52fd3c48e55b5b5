import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedSubject } from '../../examples/adtech/seed';
import { readAuditEvents } from '../../lib/audit/log';
import { openLocalEnvironment } from '../../lib/local/environment';
import { readHistory } from '../../lib/local/execution';
import type { RequestSummary } from '../../lib/rights/summary';
import { identifiersAtRest } from '../helpers/at-rest';
import { includeAllInReview, lethe, requestSubmitArgs, reviewIncludingAllArgs } from '../helpers/cli';
import { type KillPoint, runCliChild } from '../helpers/crash/cli-child';
import { seededTemplate } from '../helpers/crash/template';
import { listAll } from '../helpers/stores';
import { exampleSeed, identifierValues } from '../helpers/world';

/**
 * Requests whose CLI process is killed at one named point (see test/helpers/crash/kill-switch.ts),
 * each a place where the random crash trials (crash-requests.test.ts) found a request that did not
 * end as it must; here the point is hit every time.
 */
/** A CLI process and the recovery take seconds; on a machine loaded by other work, minutes. */
const TIMEOUT_MS = 300_000;
/** What the audit log tells of a request that waited for review and was then completed. */
const REVIEWED_REQUEST_EVENTS = [
  'request.received',
  'request.review-requested',
  'request.reviewed',
  'request.completed',
];
/**
 * The events of a request's life, which must each be audited once however often its process died;
 * the steps' own events (verified, located, erased per store…) repeat with every attempt that runs them.
 */
const LIFECYCLE_EVENTS = new Set([
  'request.received',
  'request.review-requested',
  'request.reviewed',
  'request.retried',
  'request.failed',
  'request.closed',
  'request.duplicate',
  'request.rejected',
  'request.completed',
]);

describe('a request whose CLI process is killed at a named point', () => {
  let work: string;
  let template: string;
  let subject: SeedSubject;
  let trial = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lethe-crash-points-'));
    const seed = exampleSeed(4, 1);
    // No exempt record and no shared IP: once erased, none of its identifiers may be left anywhere.
    subject = seed.subjects.find((candidate) => candidate.partnerRoles.length === 0 && !candidate.sharedIp)!;
    ({ template } = await seededTemplate(work, seed));
  }, TIMEOUT_MS);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /**
   * A fresh copy of the seeded state, a request id, and the request's CLI process killed at `kill`:
   * the process submitting it, or (`review`) staff's review of it once it waits for review (the
   * example's links are claimed), which runs the rest of the request.
   */
  async function killed(
    type: 'access' | 'erasure',
    kill: KillPoint,
    killedProcess: 'submit' | 'review' = 'submit',
  ) {
    trial += 1;
    const stateDir = join(work, `trial-${trial}`);
    cpSync(template, stateDir, { recursive: true });
    const requestId = `crash-point-${trial}`;
    const args = (json: boolean) =>
      requestSubmitArgs(stateDir, type, [`email=${subject.email}`], ['--request-id', requestId]).filter(
        (arg) => json || arg !== '--json',
      );
    let run: Awaited<ReturnType<typeof runCliChild>>;
    if (killedProcess === 'submit') run = await runCliChild(args(true), kill);
    else {
      const paused = JSON.parse((await lethe(args(true))).out) as RequestSummary;
      expect(paused.status).toBe('pending-review');
      run = await runCliChild(reviewIncludingAllArgs(stateDir, paused), kill);
    }
    expect(run.killedAt).toBeDefined();
    return {
      stateDir,
      requestId,
      /** Submits it again, then reviews it if it waits for review, as staff would. */
      resubmit: async () => {
        const again = await lethe(args(false));
        await includeAllInReview(stateDir, await status(stateDir, requestId));
        return again;
      },
    };
  }

  async function auditTypes(stateDir: string, requestId: string): Promise<string[]> {
    const env = await openLocalEnvironment({ stateDir });
    try {
      const events = await readAuditEvents({ doc: env.deps.doc, auditTable: env.deps.resources.auditTable });
      return events
        .filter((event) => event.requestId === requestId && LIFECYCLE_EVENTS.has(event.type))
        .map((event) => event.type);
    } finally {
      await env.close();
    }
  }

  /** What an ended request may not leave behind: manifests, and locks a new request would stumble on. */
  async function leftovers(stateDir: string, requestId: string, type: 'access' | 'erasure') {
    const env = await openLocalEnvironment({ stateDir });
    let manifests: string[];
    try {
      manifests = await listAll(env.clients.s3, env.deps.resources.manifestsBucket, `requests/${requestId}/`);
    } finally {
      await env.close();
    }
    const fresh = await lethe(
      requestSubmitArgs(stateDir, type, [`email=${subject.email}`], ['--request-id', `${requestId}-fresh`]),
    );
    const freshRequest = await includeAllInReview(stateDir, JSON.parse(fresh.out) as RequestSummary);
    return { manifests, freshRequest: freshRequest.status };
  }

  async function status(stateDir: string, requestId: string): Promise<RequestSummary> {
    const run = await lethe(['request', 'status', requestId, '--state-dir', stateDir, '--json']);
    return JSON.parse(run.out) as RequestSummary;
  }

  it(
    'before its receipt reached the audit log: run again, the log has its receipt',
    async () => {
      // prepare
      const { stateDir, requestId, resubmit } = await killed('erasure', {
        on: 'dynamodb PutItem lethe-audit',
        at: 1,
        when: 'before',
      });

      // act
      await resubmit();

      // assess
      expect((await status(stateDir, requestId)).status).toBe('completed');
      expect(await auditTypes(stateDir, requestId)).toEqual(REVIEWED_REQUEST_EVENTS);
    },
    TIMEOUT_MS,
  );

  it(
    'before its execution started: submitted again, it runs, says so, and audits its receipt once',
    async () => {
      // prepare: the record and its receipt are written, the mark saying so and the execution's history are not
      const { stateDir, requestId, resubmit } = await killed('access', {
        on: 'dynamodb PutItem lethe-audit',
        at: 1,
        when: 'after',
      });
      expect(readHistory({ executionsDir: join(stateDir, 'executions') }, requestId)).toEqual([]);

      // act
      const run = await resubmit();

      // assess
      expect(run.out.split('\n')[0]).toMatch(/^Resumed: /);
      expect((await status(stateDir, requestId)).status).toBe('completed');
      // Appended before the kill, not again after it.
      expect(await auditTypes(stateDir, requestId)).toEqual(REVIEWED_REQUEST_EVENTS);
    },
    TIMEOUT_MS,
  );

  it.each([
    ['after it was marked completed', { on: 'dynamodb UpdateItem lethe-requests', when: 'after' as const }],
    ['before its end was audited', { on: 'dynamodb PutItem lethe-audit', when: 'before' as const }],
    ['after its end was audited', { on: 'dynamodb PutItem lethe-audit', when: 'after' as const }],
  ])(
    'in RecordOutcome, %s: it ends with no manifest or lock left and its end audited once',
    async (_name, point) => {
      // prepare
      const { stateDir, requestId, resubmit } = await killed(
        'erasure',
        { from: 'RecordOutcome', at: 1, ...point },
        'review',
      );

      // act
      await resubmit();

      // assess
      expect((await status(stateDir, requestId)).status).toBe('completed');
      expect(
        (await auditTypes(stateDir, requestId)).filter((type) => type === 'request.completed'),
      ).toHaveLength(1);
      expect(await leftovers(stateDir, requestId, 'erasure')).toEqual({
        manifests: [],
        freshRequest: 'completed',
      });
    },
    TIMEOUT_MS,
  );

  it(
    'after its execution ended, before the store was compacted: the next command compacts it',
    async () => {
      // prepare: what an uninterrupted run leaves at rest (other people's values that look like the
      // subject's: the seed's phone numbers share digits), and a run killed as its execution ended
      const { stateDir, requestId } = await killed('erasure', { tailMs: 0 }, 'review');
      const uninterrupted = join(work, 'uninterrupted');
      cpSync(template, uninterrupted, { recursive: true });
      const submitted = await lethe(
        requestSubmitArgs(uninterrupted, 'erasure', [`email=${subject.email}`], ['--request-id', requestId]),
      );
      await includeAllInReview(uninterrupted, JSON.parse(submitted.out) as RequestSummary);
      // LevelDB's table files are numbered by how many were ever written: compared by kind, not number.
      const atRest = (dir: string) =>
        identifiersAtRest(dir, identifierValues(subject)).map((path) =>
          path.replace(/^dynamodb\/\d+\.ldb$/, 'dynamodb/(table file)'),
        );
      const leftByAnyRun = atRest(uninterrupted);
      const leftByTheKill = atRest(stateDir);

      // act
      const summary = await status(stateDir, requestId);

      // assess: the kill left deleted values in the store's files; the status command removed them
      expect(leftByTheKill.length).toBeGreaterThan(leftByAnyRun.length);
      expect(summary.status).toBe('completed');
      expect(atRest(stateDir)).toEqual(leftByAnyRun);
    },
    TIMEOUT_MS,
  );
});
