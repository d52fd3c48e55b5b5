import { InvalidFreeTextError } from '../../../lib/audit/free-text';
import { readAuditEvents } from '../../../lib/audit/log';
import type { ExecutionProbe } from '../../../lib/deps';
import { RequestStateError } from '../../../lib/rights/errors';
import { closeRequest, retryRequest } from '../../../lib/rights/lifecycle';
import { recordFailure } from '../../../lib/rights/outcome';
import { executionIdFor } from '../../../lib/rights/request';
import { findRequest, getRequest } from '../../../lib/rights/requests-table';
import { type ExecutionStart, submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { verifyRequest } from '../../../lib/rights/verify';
import { createRequestSteps } from '../../../lib/workflow/request-step-set';
import { exampleEnvironment } from '../../helpers/environment';

/** Records what it was asked to start, and runs nothing. */
class RecordingStarter implements WorkflowStarter {
  readonly started: ExecutionStart[] = [];
  async start(execution: ExecutionStart) {
    this.started.push(execution);
    return { executionId: executionIdFor(execution.requestId, execution.attempt), alreadyStarted: false };
  }
}

/** An execution probe with a fixed answer per execution id (default: not running). */
const probe = (running: string[] = []): ExecutionProbe => ({
  isRunning: async (executionId) => running.includes(executionId),
});
const verification = { method: 'account-login' as const, verifiedBy: 'desk' };

describe('the request lifecycle: failed, dead, retried, closed', () => {
  const environment = exampleEnvironment('lethe-lifecycle-');
  let n = 0;
  const subject = () => {
    n += 1;
    return [{ type: 'email', value: `lifecycle${n}@example.com` }];
  };
  const submit = (
    who: { type: string; value: string }[],
    starter: WorkflowStarter = new RecordingStarter(),
  ) =>
    submitRequest(environment().deps, starter, {
      type: 'erasure',
      subject: who,
      jurisdiction: 'gdpr',
      verification,
    });

  it('recording the same failure twice (a retried RecordFailure) records it once', async () => {
    // prepare
    const request = await submit(subject());
    await verifyRequest(environment().deps, request.requestId);
    const failure = { requestId: request.requestId, attempt: 1, failure: { state: 'Confirm', error: 'X' } };
    await recordFailure(environment().deps, failure);

    // act
    const again = await recordFailure(environment().deps, { ...failure, failure: { error: 'Y' } });

    // assess
    expect(again.status).toBe('failed');
    const record = await getRequest(environment().deps, request.requestId);
    expect(record.failures?.map((entry) => entry.code)).toEqual(['X']);
    const events = await readAuditEvents(
      { doc: environment().deps.doc, auditTable: environment().deps.resources.auditTable },
      { requestId: request.requestId },
    );
    expect(events.filter((event) => event.type === 'request.failed')).toHaveLength(1);
  });

  it('a failed request keeps its identities and its lock; a new request for the subject is told to retry it', async () => {
    // prepare
    const who = subject();
    const first = await submit(who);
    await verifyRequest(environment().deps, first.requestId);
    await recordFailure(environment().deps, {
      requestId: first.requestId,
      failure: { state: 'EraseStores', error: 'X' },
    });

    // act
    const second = await submit(who);
    const verdict = await verifyRequest({ ...environment().deps, executions: probe() }, second.requestId);

    // assess
    const failed = await getRequest(environment().deps, first.requestId);
    expect(failed).toMatchObject({ status: 'failed', subject: who });
    expect(verdict.outcome).toBe('duplicate');
    const duplicate = await getRequest(environment().deps, second.requestId);
    expect(duplicate.duplicateOf).toBe(first.requestId);
    expect(duplicate.reason).toContain(`lethe request retry ${first.requestId}`);
  });

  it('a request whose execution died is marked failed (retryable, audited) when a new request meets its lock', async () => {
    // prepare: verified and running, then its process dies (the probe says it does not run)
    const who = subject();
    const dead = await submit(who);
    await verifyRequest(environment().deps, dead.requestId);

    // act
    const next = await submit(who);
    await verifyRequest({ ...environment().deps, executions: probe() }, next.requestId);

    // assess
    const record = await getRequest(environment().deps, dead.requestId);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'ExecutionDied' } });
    expect(record.failures).toEqual([expect.objectContaining({ attempt: 1, code: 'ExecutionDied' })]);
    const events = await readAuditEvents(
      { doc: environment().deps.doc, auditTable: environment().deps.resources.auditTable },
      { requestId: dead.requestId },
    );
    expect(events.map((event) => event.type)).toContain('request.failed');
  });

  it('a holder whose execution still runs makes the new request a plain duplicate and is left alone', async () => {
    const who = subject();
    const running = await submit(who);
    await verifyRequest(environment().deps, running.requestId);

    const next = await submit(who);
    await verifyRequest({ ...environment().deps, executions: probe([running.requestId]) }, next.requestId);

    expect((await getRequest(environment().deps, running.requestId)).status).toBe('in-progress');
    expect((await getRequest(environment().deps, next.requestId)).reason).toContain('already in progress');
  });

  it('on AWS, Verify asks the machine named in its payload whether the holder runs', async () => {
    // prepare
    const who = subject();
    const dead = await submit(who);
    await verifyRequest(environment().deps, dead.requestId);
    const next = await submit(who);
    const asked: string[] = [];
    const steps = createRequestSteps({
      ...environment().deps,
      executionProbeFor: (arn) => ({
        isRunning: async (executionId) => {
          asked.push(`${arn}|${executionId}`);
          return false;
        },
      }),
    });

    // act
    await steps.verify({
      requestId: next.requestId,
      attempt: 1,
      stateMachineArn: 'arn:aws:states:r:1:stateMachine:m',
    });

    // assess
    expect(asked).toEqual([`arn:aws:states:r:1:stateMachine:m|${dead.requestId}`]);
    expect((await getRequest(environment().deps, dead.requestId)).status).toBe('failed');
  });

  it('retry starts the next attempt of a failed request, audited; anything not failed is refused unchanged', async () => {
    // prepare
    const who = subject();
    const starter = new RecordingStarter();
    const request = await submit(who, starter);
    await verifyRequest(environment().deps, request.requestId);
    await expect(
      retryRequest(
        { ...environment().deps, executions: probe([request.requestId]) },
        starter,
        request.requestId,
        'desk',
      ),
    ).rejects.toThrow(RequestStateError);
    await recordFailure(environment().deps, { requestId: request.requestId, failure: { error: 'X' } });

    // act
    const retried = await retryRequest(environment().deps, starter, request.requestId, 'J. Doe');

    // assess
    expect(retried.attempt).toBe(2);
    expect(starter.started.at(-1)).toEqual({ requestId: request.requestId, attempt: 2 });
    const record = await getRequest(environment().deps, request.requestId);
    expect(record).toMatchObject({ status: 'received', attempt: 2, error: null });
    expect(record.attempts?.map((attempt) => [attempt.attempt, attempt.reason, attempt.by])).toEqual([
      [1, 'submitted', 'desk'],
      [2, 'retry', 'J. Doe'],
    ]);
    // a run of the old attempt acts no more
    await expect(verifyRequest(environment().deps, request.requestId, 1)).rejects.toThrow(/attempt 2/);
    await expect(retryRequest(environment().deps, starter, request.requestId, 'J. Doe')).rejects.toThrow(
      /only a failed request can be retried/,
    );
  });

  it('close ends a failed request: identities dropped, lock released, reason audited; a reason naming the subject is refused', async () => {
    // prepare
    const who = subject();
    const request = await submit(who);
    await verifyRequest(environment().deps, request.requestId);
    await recordFailure(environment().deps, { requestId: request.requestId, failure: { error: 'X' } });
    const before = await getRequest(environment().deps, request.requestId);

    // act
    const naming = closeRequest(environment().deps, request.requestId, 'desk', `asked by ${who[0]!.value}`);
    await expect(naming).rejects.toThrow(InvalidFreeTextError);
    expect(await getRequest(environment().deps, request.requestId)).toEqual(before);
    const closed = await closeRequest(
      environment().deps,
      request.requestId,
      'desk',
      'withdrawn, ticket 4711',
    );

    // assess
    expect(closed.status).toBe('closed');
    expect(closed.subject).toBeUndefined();
    expect(closed.identities).toBeUndefined();
    const next = await submit(who);
    expect((await verifyRequest(environment().deps, next.requestId)).outcome).toBe('proceed');
    expect(await findRequest(environment().deps, request.requestId)).toMatchObject({
      reason: 'withdrawn, ticket 4711',
    });
  });
});
