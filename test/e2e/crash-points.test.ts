import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedSubject } from '../../examples/adtech/seed';
import { readAuditEvents } from '../../lib/audit/log';
import { openLocalEnvironment } from '../../lib/local/environment';
import { readHistory } from '../../lib/local/execution';
import type { RequestSummary } from '../../lib/rights/summary';
import { lethe, requestSubmitArgs } from '../helpers/cli';
import { type KillPoint, runCliChild } from '../helpers/crash/cli-child';
import { seededTemplate } from '../helpers/crash/template';
import { exampleSeed } from '../helpers/world';

/**
 * Requests whose CLI process is killed at one named point (see test/helpers/crash/kill-switch.ts),
 * each a place where the random crash trials (crash-requests.test.ts) found a request that did not
 * end as it must; here the point is hit every time.
 */
describe('a request whose CLI process is killed at a named point', () => {
  let work: string;
  let template: string;
  let subject: SeedSubject;
  let trial = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lethe-crash-points-'));
    const seed = exampleSeed(4, 1);
    subject = seed.subjects[0]!;
    ({ template } = await seededTemplate(work, seed));
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A fresh copy of the seeded state, a request id, and the request's CLI process killed at `kill`. */
  async function killed(type: 'access' | 'erasure', kill: KillPoint) {
    trial += 1;
    const stateDir = join(work, `trial-${trial}`);
    cpSync(template, stateDir, { recursive: true });
    const requestId = `crash-point-${trial}`;
    const args = (json: boolean) =>
      requestSubmitArgs(stateDir, type, [`email=${subject.email}`], ['--request-id', requestId]).filter(
        (arg) => json || arg !== '--json',
      );
    const run = await runCliChild(args(true), kill);
    expect(run.killedAt).toBeDefined();
    return { stateDir, requestId, resubmit: () => lethe(args(false)) };
  }

  async function auditTypes(stateDir: string, requestId: string): Promise<string[]> {
    const env = await openLocalEnvironment({ stateDir });
    try {
      const events = await readAuditEvents({ doc: env.deps.doc, auditTable: env.deps.resources.auditTable });
      return events.filter((event) => event.requestId === requestId).map((event) => event.type);
    } finally {
      await env.close();
    }
  }

  async function status(stateDir: string, requestId: string): Promise<RequestSummary> {
    const run = await lethe(['request', 'status', requestId, '--state-dir', stateDir, '--json']);
    return JSON.parse(run.out) as RequestSummary;
  }

  it('before its receipt reached the audit log: run again, the log has its receipt', async () => {
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
    expect(await auditTypes(stateDir, requestId)).toEqual(['request.received', 'request.completed']);
  }, 120_000);

  it('before its execution started: submitted again, it runs and says so', async () => {
    // prepare: the record and its receipt are written, the execution's history is not
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
  }, 120_000);
});
