import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAuditEvents } from '../../../lib/audit/log';
import { type LocalEnvironment, openLocalEnvironment } from '../../../lib/local/environment';
import { LocalSweepRunner } from '../../../lib/local/sweep-runner';
import { recordFailure } from '../../../lib/rights/outcome';
import { listRequestsBy } from '../../../lib/rights/overdue';
import { reapStaleRequests } from '../../../lib/rights/reaper';
import { executionIdFor } from '../../../lib/rights/request';
import { getRequest } from '../../../lib/rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { verifyRequest } from '../../../lib/rights/verify';
import { EXAMPLE_DATAMAP_PATH } from '../../helpers/world';

const noExecution: WorkflowStarter = {
  start: async ({ requestId, attempt }) => ({
    executionId: executionIdFor(requestId, attempt),
    alreadyStarted: false,
  }),
};
const verification = { method: 'account-login' as const, verifiedBy: 'desk' };

describe('the reaper: requests nobody finishes do not keep identities for ever', () => {
  let stateDir: string;
  let env: LocalEnvironment;
  let clock = new Date('2026-01-01T00:00:00Z');
  let n = 0;

  /** A request left in a status: failed, or verified and then abandoned (its process died). */
  async function leave(status: 'failed' | 'in-progress' | 'received') {
    n += 1;
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'erasure',
      subject: [{ type: 'email', value: `reap${n}@example.com` }],
      jurisdiction: 'gdpr',
      verification,
    });
    if (status !== 'received') await verifyRequest(env.deps, requestId);
    if (status === 'failed') await recordFailure(env.deps, { requestId, failure: { error: 'X' } });
    return requestId;
  }

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'lethe-reaper-'));
    env = await openLocalEnvironment({
      stateDir,
      dataMapPath: EXAMPLE_DATAMAP_PATH,
      init: true,
      now: () => clock,
    });
  });

  afterAll(async () => {
    await env.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('closes what stood still longer than the limit, audited; leaves recent and running requests; a dry run only counts', async () => {
    // prepare: three stale requests, then one recent failed one, and one whose execution still runs
    clock = new Date('2026-01-01T00:00:00Z');
    const stale = [await leave('failed'), await leave('in-progress'), await leave('received')];
    const running = await leave('in-progress');
    clock = new Date('2026-01-25T00:00:00Z');
    const recent = await leave('failed');
    const now = new Date('2026-02-05T00:00:00Z');
    const deps = {
      ...env.deps,
      executions: { isRunning: async (id: string) => id === running },
    };

    // act
    const dry = await reapStaleRequests(deps, { now, dryRun: true });
    const unchanged = await Promise.all(stale.map((id) => getRequest(env.deps, id)));
    const result = await reapStaleRequests(deps, { now, dryRun: false, staleAfterDays: 30 });

    // assess
    expect({ ...dry, requestIds: [...dry.requestIds].sort() }).toEqual({
      reaped: 0,
      wouldReap: 3,
      requestIds: [...stale].sort(),
      settled: 0,
      awaitingApproval: [],
    });
    expect(unchanged.map((record) => record.status)).toEqual(['failed', 'in-progress', 'received']);
    expect(result).toMatchObject({ reaped: 3, wouldReap: 0 });
    expect(result.requestIds.sort()).toEqual([...stale].sort());
    for (const id of stale) {
      const record = await getRequest(env.deps, id);
      expect(record).toMatchObject({ status: 'closed' });
      expect(record.subject).toBeUndefined();
      expect(record.identities).toBeUndefined();
      expect(record.reason).toMatch(/not finished within 30 days/);
      const events = await readAuditEvents(
        { doc: env.deps.doc, auditTable: env.deps.resources.auditTable },
        { requestId: id },
      );
      expect(events.at(-1)).toMatchObject({ type: 'request.closed', actor: 'lethe:reaper' });
    }
    expect((await getRequest(env.deps, recent)).status).toBe('failed');
    expect((await getRequest(env.deps, running)).status).toBe('in-progress');
  });

  it('never approves, closes or denies a request waiting for approval: it flags it, and the overdue list shows it', async () => {
    // prepare: a CCPA portability request, which the example's policy holds for approval
    clock = new Date('2026-03-01T00:00:00Z');
    const { requestId } = await submitRequest(env.deps, noExecution, {
      type: 'portability',
      subject: [{ type: 'email', value: 'waiting@example.com' }],
      jurisdiction: 'ccpa',
      verification,
    });
    const now = new Date('2026-05-01T00:00:00Z');

    // act
    const result = await reapStaleRequests(env.deps, { now, dryRun: false, staleAfterDays: 30 });
    const overdue = await listRequestsBy(env.deps, { overdue: true }, now);

    // assess
    expect(result.awaitingApproval).toEqual([requestId]);
    expect(result.requestIds).not.toContain(requestId);
    const record = await getRequest(env.deps, requestId);
    expect(record.status).toBe('pending-approval');
    expect(record.subject).toBeDefined();
    expect(overdue.map((each) => each.requestId)).toContain(requestId);
  });

  it('runs with every retention sweep, after the stores are swept', async () => {
    // prepare
    clock = new Date('2026-03-01T00:00:00Z');
    const abandoned = await leave('failed');
    const runner = new LocalSweepRunner(env);

    // act
    const result = await runner.run({ now: '2026-05-01T00:00:00Z' });

    // assess
    expect(result.status).toBe('SUCCEEDED');
    expect((await getRequest(env.deps, abandoned)).status).toBe('closed');
  });
});
