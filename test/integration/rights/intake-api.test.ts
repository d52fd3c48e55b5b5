import { handleIntakeApi, type IntakeApiEvent } from '../../../lib/aws/intake-api';
import { findRequest } from '../../../lib/rights/requests-table';
import type { WorkflowStarter } from '../../../lib/rights/submit';
import { exampleEnvironment } from '../../helpers/environment';

const started: string[] = [];
const starter: WorkflowStarter = {
  start: async ({ requestId }) => {
    started.push(requestId);
    return { executionId: requestId, alreadyStarted: false };
  },
};

const call = (httpMethod: string, resource: string, extra: Partial<IntakeApiEvent> = {}): IntakeApiEvent => ({
  httpMethod,
  resource,
  requestContext: { identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/portal/session' } },
  ...extra,
});

describe('intake API handler: the same intake code as the CLI', () => {
  const environment = exampleEnvironment('lethe-intake-api-');

  it('submits a request, answers its id and status without the subject, and reads it back', async () => {
    // prepare
    const body = JSON.stringify({
      requestId: 'portal-request-0001',
      type: 'access',
      subject: [{ type: 'email', value: 'Portal.User@Example.com' }],
      jurisdiction: 'gdpr',
      verification: { method: 'account-login', verifiedBy: 'portal' },
    });

    // act
    const submitted = await handleIntakeApi(environment().deps, starter, call('POST', '/requests', { body }));
    const read = await handleIntakeApi(
      environment().deps,
      starter,
      call('GET', '/requests/{requestId}', { pathParameters: { requestId: 'portal-request-0001' } }),
    );

    // assess
    expect(submitted.statusCode).toBe(201);
    expect(JSON.parse(submitted.body)).toMatchObject({
      requestId: 'portal-request-0001',
      status: 'received',
      created: true,
    });
    expect(started).toEqual(['portal-request-0001']);
    const record = await findRequest(environment().deps, 'portal-request-0001');
    expect(record).toMatchObject({
      channel: 'api',
      submittedBy: 'arn:aws:sts::123456789012:assumed-role/portal/session',
    });
    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ requestId: 'portal-request-0001', type: 'access' });
    for (const response of [submitted, read])
      expect(response.body.toLowerCase()).not.toContain('portal.user');
  });

  it('answers bad input with 4xx and its reason, never naming the subject, and writes nothing', async () => {
    // act
    const answers = await Promise.all(
      [
        call('POST', '/requests', { body: 'not json' }),
        call('POST', '/requests', {
          body: JSON.stringify({
            type: 'access',
            subject: [{ type: 'email', value: 'not-an-email' }],
            jurisdiction: 'gdpr',
          }),
        }),
        call('GET', '/requests/{requestId}', { pathParameters: { requestId: 'no-such-request' } }),
        call('GET', '/requests/{requestId}', { pathParameters: { requestId: 'bad id' } }),
        call('DELETE', '/requests'),
      ].map((event) => handleIntakeApi(environment().deps, starter, event)),
    );

    // assess
    expect(answers.map((answer) => answer.statusCode)).toEqual([400, 400, 404, 400, 404]);
    expect(answers[1]!.body).not.toContain('not-an-email');
    expect(started).toEqual(['portal-request-0001']);
  });
});
