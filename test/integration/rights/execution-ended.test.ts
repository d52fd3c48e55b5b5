import { readAuditEvents } from '../../../lib/audit/log';
import { endedExecutionFromEvent, InvalidExecutionEventError } from '../../../lib/aws/execution-events';
import { closeRequest, failEndedExecution, retryRequest } from '../../../lib/rights/lifecycle';
import { recordFailure } from '../../../lib/rights/outcome';
import { getRequest } from '../../../lib/rights/requests-table';
import { verifyRequest } from '../../../lib/rights/verify';
import { exampleEnvironment } from '../../helpers/environment';
import { noExecutionStarter, submitErasure } from '../../helpers/requests';
import { SEED_NOW } from '../../helpers/world';

/**
 * What the EventBridge rule on request executions that ended failed, timed out or aborted does
 * (lambdas/execution-ended.ts: the event parsed, then failEndedExecution), against dynalite.
 */

const notRunning = { isRunning: async () => false };

/** The event Step Functions sends, as EventBridge delivers it to the function. */
const statusChange = (name: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: 'e2f7c2a4-0000-0000-0000-000000000000',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '123456789012',
  time: SEED_NOW.toISOString(),
  region: 'eu-west-1',
  resources: [`arn:aws:states:eu-west-1:123456789012:execution:RequestStateMachine:${name}`],
  detail: {
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:RequestStateMachine:${name}`,
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:RequestStateMachine',
    name,
    input: '{}',
    output: null,
    ...detail,
  },
});

describe('the handler of executions that ended outside the failure path', () => {
  const env = exampleEnvironment('lethe-ended-');
  let n = 0;
  const subject = () => {
    n += 1;
    return [{ type: 'email', value: `ended${n}@example.com` }];
  };
  const submit = (who: { type: string; value: string }[]) => submitErasure(env(), who);
  /** The lambda's handler, on the local environment's deps. */
  const handle = (event: unknown) => failEndedExecution(env().deps, endedExecutionFromEvent(event));
  const failedEvents = async (requestId: string) =>
    (
      await readAuditEvents(
        { doc: env().deps.doc, auditTable: env().deps.resources.auditTable },
        { requestId },
      )
    ).filter((event) => event.type === 'request.failed');

  it('marks a running request failed with the error, redacted and audited; its subject is no longer blocked as in progress', async () => {
    // prepare: a request past Verify (running, holding its subject's lock)
    const who = subject();
    const request = await submit(who);
    await verifyRequest(env().deps, request.requestId);
    const blocked = await submit(who);
    await verifyRequest({ ...env().deps, executions: { isRunning: async () => true } }, blocked.requestId);
    expect((await getRequest(env().deps, blocked.requestId)).reason).toMatch(/already in progress/);

    // act: the execution died of an error no Catch can catch
    const result = await handle(
      statusChange(request.requestId, {
        status: 'FAILED',
        error: 'States.Runtime',
        cause: `An error occurred while executing the state 'Confirm' for ${who[0]!.value}`,
      }),
    );

    // assess
    expect(result).toEqual({ requestId: request.requestId, status: 'failed', changed: true });
    const record = await getRequest(env().deps, request.requestId);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'States.Runtime' } });
    expect(JSON.stringify(record.error)).not.toContain(who[0]!.value);
    expect(record.failures).toEqual([expect.objectContaining({ attempt: 1, code: 'States.Runtime' })]);
    const events = await failedEvents(request.requestId);
    expect(events).toEqual([
      expect.objectContaining({
        actor: 'lethe:execution-ended',
        details: expect.objectContaining({ error: 'States.Runtime' }),
      }),
    ]);
    // A new request for the subject is told to retry or close the failed one, not to wait for it.
    const next = await submit(who);
    await verifyRequest({ ...env().deps, executions: notRunning }, next.requestId);
    expect((await getRequest(env().deps, next.requestId)).reason).toMatch(
      new RegExp(`failed as ${request.requestId}.*lethe request retry`),
    );
    // Closing it frees the subject.
    await closeRequest(env().deps, request.requestId, 'desk', 'the execution died, ticket 99');
    const after = await submit(who);
    expect((await verifyRequest(env().deps, after.requestId)).outcome).toBe('proceed');
  });

  it('a timed-out or aborted execution without an error is named by how it ended', async () => {
    for (const [status, code] of [
      ['TIMED_OUT', 'ExecutionTimedOut'],
      ['ABORTED', 'ExecutionAborted'],
    ] as const) {
      const request = await submit(subject());
      await verifyRequest(env().deps, request.requestId);
      await handle(statusChange(request.requestId, { status, error: null, cause: null }));
      expect((await getRequest(env().deps, request.requestId)).error).toMatchObject({ code });
    }
  });

  it('changes nothing when the workflow recorded the failure itself', async () => {
    // prepare: RecordFailure ran, then the execution ended at its Fail state
    const request = await submit(subject());
    await verifyRequest(env().deps, request.requestId);
    await recordFailure(env().deps, {
      requestId: request.requestId,
      failure: { state: 'Confirm', error: 'ResidualDataError' },
    });
    const before = await getRequest(env().deps, request.requestId);

    // act
    const result = await handle(
      statusChange(request.requestId, {
        status: 'FAILED',
        error: 'RequestFailed',
        cause: 'The request failed',
      }),
    );

    // assess
    expect(result.changed).toBe(false);
    expect(await getRequest(env().deps, request.requestId)).toEqual(before);
    expect(await failedEvents(request.requestId)).toHaveLength(1);
  });

  it('changes nothing for an earlier attempt of a request that was retried since', async () => {
    // prepare: attempt 2 runs; attempt 1's execution reports its end late
    const request = await submit(subject());
    await verifyRequest(env().deps, request.requestId);
    await recordFailure(env().deps, { requestId: request.requestId, failure: { error: 'X' } });
    await retryRequest(
      { ...env().deps, executions: notRunning },
      noExecutionStarter,
      request.requestId,
      'desk',
    );
    const before = await getRequest(env().deps, request.requestId);

    // act
    const result = await handle(statusChange(request.requestId, { status: 'ABORTED' }));

    // assess
    expect(result).toMatchObject({ changed: false, status: 'received' });
    expect(await getRequest(env().deps, request.requestId)).toEqual(before);
  });

  it('refuses an event that is not an execution ending unsuccessfully, naming fields but no values', () => {
    const succeeded = statusChange('r-1', { status: 'SUCCEEDED' });
    expect(() => endedExecutionFromEvent(succeeded)).toThrow(InvalidExecutionEventError);
    expect(() => endedExecutionFromEvent({ detail: { name: 'someone@example.com' } })).toThrow(
      /source, detail-type, detail\.status/,
    );
    expect(() => endedExecutionFromEvent({ detail: { name: 'someone@example.com' } })).not.toThrow(/someone/);
  });
});
