import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { readAuditEvents } from '../../../lib/audit/log';
import type { LetheDeps } from '../../../lib/deps';
import { RequestStateError } from '../../../lib/rights/errors';
import { closeRequest, retryRequest } from '../../../lib/rights/lifecycle';
import { recordFailure, recordOutcome } from '../../../lib/rights/outcome';
import { reapStaleRequests } from '../../../lib/rights/reaper';
import { executionIdFor } from '../../../lib/rights/request';
import { getRequest, inFlightLockKeys } from '../../../lib/rights/requests-table';
import { type ExecutionStart, submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { verifyRequest } from '../../../lib/rights/verify';
import { exampleEnvironment } from '../../helpers/environment';
import { listAll } from '../../helpers/stores';

/** Runs nothing: the steps are called by the test. */
class IdleStarter implements WorkflowStarter {
  async start(execution: ExecutionStart) {
    return { executionId: executionIdFor(execution.requestId, execution.attempt), alreadyStarted: false };
  }
}

class Crash extends Error {
  override readonly name = 'Crash';
}

/**
 * A process that dies at the audit write of RecordOutcome, as a kill would leave it: the
 * audit append fails (it is never made) or it is made and the process dies right after it.
 */
function dyingAtAudit(deps: LetheDeps, when: 'before' | 'after'): LetheDeps {
  const send = async (command: unknown) => {
    const auditPut = command instanceof PutCommand && command.input.TableName === deps.resources.auditTable;
    if (auditPut && when === 'before') throw new Crash('killed before the audit append');
    const result = await deps.doc.send(command as PutCommand);
    if (auditPut) throw new Crash('killed after the audit append');
    return result;
  };
  return { ...deps, doc: { send } as unknown as DynamoDBDocumentClient };
}

describe('a request whose process died while ending it', () => {
  const environment = exampleEnvironment('lethe-outcome-');
  let n = 0;
  const verification = { method: 'account-login' as const, verifiedBy: 'desk' };
  const submit = (who: { type: string; value: string }[], requestId?: string) =>
    submitRequest(environment().deps, new IdleStarter(), {
      ...(requestId ? { requestId } : {}),
      type: 'erasure',
      subject: who,
      jurisdiction: 'gdpr',
      verification,
    });

  /** A verified request holding its subject (its in-flight lock), with a manifest. */
  async function holdingItsSubject() {
    n += 1;
    const who = [{ type: 'email', value: `ending${n}@example.com` }];
    const { requestId } = await submit(who);
    await verifyRequest(environment().deps, requestId);
    await environment().clients.s3.send(
      new PutObjectCommand({
        Bucket: environment().deps.resources.manifestsBucket,
        Key: `requests/${requestId}/inquiries.json`,
        Body: '{}',
      }),
    );
    return { requestId, who };
  }

  /** A request holding its subject whose RecordOutcome died at the audit write. */
  async function diedEnding(when: 'before' | 'after') {
    const { requestId, who } = await holdingItsSubject();
    await expect(recordOutcome(dyingAtAudit(environment().deps, when), requestId)).rejects.toThrow(Crash);
    return { requestId, who };
  }

  /** What is left of the request: its mark, identities, manifests, locks, and its completion events. */
  async function leftOf(requestId: string) {
    const record = await getRequest(environment().deps, requestId);
    const locks = await Promise.all(
      inFlightLockKeys(record).map((key) =>
        environment().deps.doc.send(
          new GetCommand({
            TableName: environment().deps.resources.requestsTable,
            Key: { requestId: `lock#${key}` },
          }),
        ),
      ),
    );
    const events = await readAuditEvents(
      { doc: environment().deps.doc, auditTable: environment().deps.resources.auditTable },
      { requestId },
    );
    return {
      status: record.status,
      pending: record.outcomePending ?? false,
      identities: record.subject !== undefined,
      manifests: await listAll(
        environment().clients.s3,
        environment().deps.resources.manifestsBucket,
        `requests/${requestId}/`,
      ),
      completions: events.filter((event) => event.type === 'request.completed').length,
      closings: events.filter((event) => event.type === 'request.closed').map((event) => event.actor),
      locksHeld: locks.filter((lock) => lock.Item?.holder === requestId).length,
    };
  }

  it.each(['before', 'after'] as const)(
    'killed %s its end was audited: submitted again, it is ended, audited once',
    async (when) => {
      // prepare
      const { requestId, who } = await diedEnding(when);
      expect(await getRequest(environment().deps, requestId)).toMatchObject({
        status: 'completed',
        outcomePending: true,
      });

      // act
      const again = await submit(who, requestId);

      // assess
      expect(again.outcome).toBe('unchanged');
      expect(await leftOf(requestId)).toMatchObject({
        status: 'completed',
        pending: false,
        identities: false,
        manifests: [],
        completions: 1,
        locksHeld: 0,
      });
    },
  );

  it('retried, it is refused as ended, and ended', async () => {
    // prepare
    const { requestId } = await diedEnding('after');

    // act
    const retry = retryRequest(environment().deps, new IdleStarter(), requestId, 'desk');

    // assess
    await expect(retry).rejects.toThrow(RequestStateError);
    expect(await leftOf(requestId)).toMatchObject({ pending: false, manifests: [], completions: 1 });
  });

  it('a new request for the subject takes it over and ends it', async () => {
    // prepare
    const { requestId, who } = await diedEnding('before');

    // act
    const fresh = await submit(who);
    const verdict = await verifyRequest(environment().deps, fresh.requestId);

    // assess
    expect(verdict.outcome).toBe('proceed');
    expect(await leftOf(requestId)).toMatchObject({ pending: false, manifests: [], completions: 1 });
  });

  /** A failed request holding its subject, with a manifest, that staff closed while the process died at the audit write. */
  async function diedClosing(when: 'before' | 'after') {
    const { requestId, who } = await holdingItsSubject();
    await recordFailure(environment().deps, { requestId, failure: { error: 'Boom' } });
    await expect(
      closeRequest(
        dyingAtAudit(environment().deps, when),
        requestId,
        'desk-officer',
        'given up after review',
      ),
    ).rejects.toThrow(Crash);
    return { requestId, who };
  }

  it.each(['before', 'after'] as const)(
    'closed by staff, killed %s the close was audited: a new request for the subject finishes the close, audited once as staff',
    async (when) => {
      // prepare
      const { requestId, who } = await diedClosing(when);
      expect(await getRequest(environment().deps, requestId)).toMatchObject({
        status: 'closed',
        outcomePending: true,
      });

      // act
      const fresh = await submit(who);
      const verdict = await verifyRequest(environment().deps, fresh.requestId);

      // assess
      expect(verdict.outcome).toBe('proceed');
      expect(await leftOf(requestId)).toMatchObject({
        status: 'closed',
        pending: false,
        identities: false,
        manifests: [],
        closings: ['desk-officer'],
        locksHeld: 0,
      });
    },
  );

  it('a close left half recorded is finished by the reaper an hour later, and not before', async () => {
    // prepare
    const { requestId } = await diedClosing('before');
    const closedAt = Date.parse((await getRequest(environment().deps, requestId)).completedAt ?? '');

    // act
    const soon = await reapStaleRequests(environment().deps, {
      now: new Date(closedAt + 60_000),
      dryRun: false,
    });
    const left = await leftOf(requestId);
    const later = await reapStaleRequests(environment().deps, {
      now: new Date(closedAt + 2 * 60 * 60 * 1000),
      dryRun: false,
    });

    // assess
    expect(soon.settled).toBe(0);
    expect(left).toMatchObject({ pending: true, closings: [] });
    expect(later.settled).toBeGreaterThanOrEqual(1);
    expect(await leftOf(requestId)).toMatchObject({
      status: 'closed',
      pending: false,
      manifests: [],
      closings: ['desk-officer'],
      locksHeld: 0,
    });
  });
});
