import { InvalidRequestError, RequestAlreadyExistsError } from '../../../lib/rights/errors';
import { recordOutcome } from '../../../lib/rights/outcome';
import { getRequest } from '../../../lib/rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../../../lib/rights/submit';
import { verifyRequest } from '../../../lib/rights/verify';
import { exampleEnvironment } from '../../helpers/environment';

const noExecution: WorkflowStarter = {
  start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }),
};
const verification = { method: 'account-login' as const, verifiedBy: 'desk' };

describe('submitting and verifying requests', () => {
  const environment = exampleEnvironment('lethe-verify-');

  it('marks a second in-flight request for the same person and right as duplicate, and frees the right when the first ends', async () => {
    // prepare
    const subject = [{ type: 'email', value: 'dup@example.com' }];
    const first = await submitRequest(environment().deps, noExecution, {
      type: 'erasure',
      subject,
      jurisdiction: 'gdpr',
      verification,
    });
    const second = await submitRequest(environment().deps, noExecution, {
      type: 'erasure',
      subject: [
        { type: 'email', value: ' DUP@example.com ' },
        { type: 'phone', value: '+4930999888' },
      ],
      jurisdiction: 'gdpr',
      verification,
    });
    const access = await submitRequest(environment().deps, noExecution, {
      type: 'access',
      subject,
      jurisdiction: 'gdpr',
      verification,
    });

    // act
    const firstVerdict = await verifyRequest(environment().deps, first.requestId);
    const secondVerdict = await verifyRequest(environment().deps, second.requestId);
    const accessVerdict = await verifyRequest(environment().deps, access.requestId);
    await recordOutcome(environment().deps, second.requestId);
    await recordOutcome(environment().deps, first.requestId);
    const third = await submitRequest(environment().deps, noExecution, {
      type: 'erasure',
      subject,
      jurisdiction: 'gdpr',
      verification,
    });
    const thirdVerdict = await verifyRequest(environment().deps, third.requestId);

    // assess
    expect([
      firstVerdict.outcome,
      secondVerdict.outcome,
      accessVerdict.outcome,
      thirdVerdict.outcome,
    ]).toEqual(['proceed', 'duplicate', 'proceed', 'proceed']);
    const duplicate = await getRequest(environment().deps, second.requestId);
    expect(duplicate.status).toBe('duplicate');
    expect(duplicate.reason).toContain(first.requestId);
    expect(duplicate.subject).toBeUndefined();
  });

  it('rejects access and erasure without evidence that the requester was verified', async () => {
    // prepare
    const { requestId } = await submitRequest(environment().deps, noExecution, {
      type: 'access',
      subject: [{ type: 'email', value: 'unverified@example.com' }],
      jurisdiction: 'ccpa',
    });

    // act
    const verdict = await verifyRequest(environment().deps, requestId);

    // assess
    expect(verdict.outcome).toBe('rejected');
    const record = await getRequest(environment().deps, requestId);
    expect(record.reason).toMatch(/identity verification is required for access requests/);
    expect(record.statusHistory.map((change) => change.status)).toEqual(['received', 'rejected']);
  });

  it('sets the due date by jurisdiction: GDPR one calendar month, CCPA 45 days', async () => {
    // prepare
    const receivedAt = '2027-01-31T09:00:00.000Z';
    const subject = [{ type: 'email', value: 'due@example.com' }];

    // act
    const gdpr = await submitRequest(environment().deps, noExecution, {
      type: 'access',
      subject,
      jurisdiction: 'gdpr',
      receivedAt,
      verification,
    });
    const ccpa = await submitRequest(environment().deps, noExecution, {
      type: 'access',
      subject,
      jurisdiction: 'ccpa',
      receivedAt,
      verification,
    });

    // assess
    expect(gdpr.record.dueAt).toBe('2027-02-28T09:00:00.000Z');
    expect(ccpa.record.dueAt).toBe('2027-03-17T09:00:00.000Z');
  });

  it('refuses a malformed submission with every problem named, writing nothing', async () => {
    // prepare
    const input = {
      requestId: 'bad-request-0001',
      type: 'erasure',
      subject: [
        { type: 'email', value: 'not an email' },
        { type: 'phone', value: '030 1234' },
      ],
      jurisdiction: 'gdpr',
      verification,
    };

    // act
    const submitting = submitRequest(environment().deps, noExecution, input);

    // assess
    await expect(submitting).rejects.toThrow(InvalidRequestError);
    await expect(submitRequest(environment().deps, noExecution, input)).rejects.toThrow(
      /email identity is invalid.*phone identity is invalid/,
    );
    await expect(getRequest(environment().deps, 'bad-request-0001')).rejects.toThrow('does not exist');
  });

  it('keeps the address as given as a spelling to locate by, verifies it again, and drops it when the request ends', async () => {
    // prepare
    const asGiven = ' Sam.Spelled@Example.COM ';
    const { requestId, record } = await submitRequest(environment().deps, noExecution, {
      type: 'access',
      subject: [
        { type: 'email', value: asGiven },
        { type: 'email', value: 'sam.spelled@example.com', spellings: ['SAM.SPELLED@EXAMPLE.COM'] },
      ],
      jurisdiction: 'gdpr',
      verification,
    });

    // act
    const verdict = await verifyRequest(environment().deps, requestId);
    const stored = await getRequest(environment().deps, requestId);
    await recordOutcome(environment().deps, requestId);
    const ended = await getRequest(environment().deps, requestId);

    // assess: one identity, every spelling; the keyed hash is of the normalised value only
    expect(verdict.outcome).toBe('proceed');
    expect(stored.subject).toEqual([
      {
        type: 'email',
        value: 'sam.spelled@example.com',
        spellings: [asGiven, asGiven.trim(), 'SAM.SPELLED@EXAMPLE.COM'],
      },
    ]);
    expect(stored.subjectHashes).toEqual(record.subjectHashes);
    expect(stored.subjectHashes).toHaveLength(1);
    expect(ended.subject).toBeUndefined();
    expect(JSON.stringify(ended).toLowerCase()).not.toContain('sam.spelled');
  });

  it('refuses a spelling that is another address, naming neither', async () => {
    // prepare
    const input = {
      requestId: 'bad-spelling-0001',
      type: 'access',
      subject: [{ type: 'email', value: 'tom@example.com', spellings: ['Tim@Example.com'] }],
      jurisdiction: 'gdpr',
      verification,
    };

    // act
    const submitting = submitRequest(environment().deps, noExecution, input);

    // assess
    await expect(submitting).rejects.toThrow(InvalidRequestError);
    const message = await submitting.then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message).toContain('a spelling of the identity normalises to another value');
    expect(message.toLowerCase()).not.toMatch(/tom@|tim@/);
    await expect(getRequest(environment().deps, 'bad-spelling-0001')).rejects.toThrow('does not exist');
  });

  it('refuses a different request under a request id already used', async () => {
    // prepare
    const subject = [{ type: 'email', value: 'same-id@example.com' }];
    await submitRequest(environment().deps, noExecution, {
      requestId: 'reused-id-0001',
      type: 'access',
      subject,
      jurisdiction: 'gdpr',
      verification,
    });

    // act
    const reuse = submitRequest(environment().deps, noExecution, {
      requestId: 'reused-id-0001',
      type: 'erasure',
      subject,
      jurisdiction: 'gdpr',
      verification,
    });

    // assess
    await expect(reuse).rejects.toThrow(RequestAlreadyExistsError);
  });
});
