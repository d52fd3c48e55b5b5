import { createHash } from 'node:crypto';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { auditDepsOf, readAuditEvents } from '../../../lib/audit/log';
import { CONSOLE_ID_TOKEN_COOKIE } from '../../../lib/aws/config';
import { AwsBackend, type LetheBackend } from '../../../lib/cli/backends';
import { consoleHandler, type HttpApiResult } from '../../../lib/console/lambda';
import { createLetheResources } from '../../../lib/local/environment';
import { createLocalClients, type LocalServers, startLocalServers } from '../../../lib/local/servers';
import { listRequests } from '../../../lib/rights/requests-table';
import { mockDeployedStack, STACK_STATE_MACHINE } from '../../helpers/aws-stack';
import { exampleDataMap } from '../../helpers/world';

/**
 * The deployed console's handler, given API Gateway events as the HTTP API sends them (payload
 * format 2.0, with the authoriser's verified name and groups in the request context), over the
 * CLI's aws backend: CloudFormation, Secrets Manager and Step Functions are mocked, the tables
 * and buckets are a real dynalite and s3rver.
 */
describe('the console on AWS (Lambda behind API Gateway)', () => {
  let servers: LocalServers;
  let backend: LetheBackend;
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const sfn = mockClient(SFNClient);
  const DOMAIN = 'abc123.execute-api.eu-west-1.amazonaws.com';
  const HOSTED_UI = 'https://lethe-test.auth.eu-west-1.amazoncognito.com';

  beforeAll(async () => {
    servers = await startLocalServers();
    await createLetheResources(createLocalClients(servers));
    mockDeployedStack('Acme', cloudFormation, secrets);
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STACK_STATE_MACHINE}:x` });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    backend = await AwsBackend.open({
      stackPrefix: 'Acme',
      dataMap: exampleDataMap(),
      waitSeconds: 0,
      clients: {
        cloudFormation: new CloudFormationClient({}),
        secrets: new SecretsManagerClient({}),
        sfn: new SFNClient({}),
        ...createLocalClients(servers),
      },
    });
  });

  afterAll(async () => {
    await backend.dispose();
    await servers.stop();
  });

  const tokenExchange = jest.fn<Promise<Response>, Parameters<typeof fetch>>();
  const handlerFor = (mode: 'read' | 'act') =>
    consoleHandler({
      mode,
      backend: async () => backend,
      hostedUiUrl: HOSTED_UI,
      clientId: 'console-client',
      fetch: tokenExchange as unknown as typeof fetch,
    });
  const act = handlerFor('act');
  const read = handlerFor('read');

  interface Caller {
    /** What the authoriser verified; absent: a request that did not go through it. */
    claims?: { name: string; groups: string };
    idToken?: string;
  }
  const DANA: Caller = {
    claims: { name: 'dana.privacy', groups: 'privacy-staff' },
    idToken: 'dana-id-token',
  };
  const OLIVER: Caller = { claims: { name: 'oliver.audit', groups: 'auditors' }, idToken: 'oliver-id-token' };
  /** The CSRF token of a caller's pages: derived from their ID token, which no other site can read. */
  const csrfOf = (caller: Caller) =>
    createHash('sha256')
      .update(caller.idToken ?? '')
      .digest('base64url');

  function event(
    method: 'GET' | 'POST',
    path: string,
    caller: Caller,
    options: { body?: Record<string, string>; headers?: Record<string, string>; query?: string } = {},
  ) {
    return {
      version: '2.0',
      routeKey: `${method} /{proxy+}`,
      rawPath: path,
      rawQueryString: options.query ?? '',
      cookies: caller.idToken ? [`${CONSOLE_ID_TOKEN_COOKIE}=${caller.idToken}`] : [],
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: `https://${DOMAIN}`,
        ...options.headers,
      },
      ...(options.body ? { body: new URLSearchParams(options.body).toString(), isBase64Encoded: false } : {}),
      requestContext: {
        domainName: DOMAIN,
        http: { method, path },
        ...(caller.claims ? { authorizer: { lambda: caller.claims } } : {}),
      },
    };
  }

  const submission = (caller: Caller) => ({
    type: 'access',
    jurisdiction: 'gdpr',
    identityType: 'email',
    identityValue: 'ada@example.com',
    verification: 'email-confirmation',
    verifiedBy: 'desk',
    channel: 'web',
    _csrf: csrfOf(caller),
  });

  it("refuses an auditor's POST with 403 and changes nothing, and shows auditors no action form", async () => {
    // prepare
    sfn.resetHistory();
    const before = await listRequests(backend.deps, {});

    // act: a well-formed submission, with the CSRF token of the auditor's own session
    const posted = await act(event('POST', '/requests', OLIVER, { body: submission(OLIVER) }));
    const hold = await act(
      event('POST', '/holds', OLIVER, {
        body: {
          identityType: 'email',
          identityValue: 'ada@example.com',
          reason: 'case 7',
          _csrf: csrfOf(OLIVER),
        },
      }),
    );
    const list = await read(event('GET', '/requests', OLIVER));
    const holds = await read(event('GET', '/holds', OLIVER));

    // assess
    expect([posted.statusCode, hold.statusCode]).toEqual([403, 403]);
    expect(posted.body).toContain('Read only');
    expect(await listRequests(backend.deps, {})).toEqual(before);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('oliver.audit');
    expect(list.body).toContain('(read only)');
    expect(list.body).not.toContain('Submit a request');
    expect(holds.body).not.toContain('<form method="post"');
  });

  it('records a privacy-staff submission with the Cognito name and answers once it is started', async () => {
    // prepare
    sfn.resetHistory();
    const form = await read(event('GET', '/requests/new', DANA));
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];

    // act
    const posted = await act(
      event('POST', '/requests', DANA, { body: { ...submission(DANA), _csrf: csrf ?? '' } }),
    );

    // assess
    expect(form.statusCode).toBe(200);
    expect(posted.statusCode).toBe(303);
    const requestId = /^\/requests\/([A-Za-z0-9_-]+)\?done=submitted$/.exec(
      posted.headers.location ?? '',
    )?.[1];
    expect(requestId).toBeDefined();
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const events = await readAuditEvents(auditDepsOf(backend.deps), { requestId: requestId as string });
    expect(events.find((audit) => audit.type === 'request.received')?.actor).toBe('dana.privacy');
    const page = await read(event('GET', `/requests/${requestId}`, DANA));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('reload this page');
    expect(page.body).not.toContain('ada@example.com');
  });

  it("refuses a privacy-staff POST without the session's CSRF token or from another origin", async () => {
    const noToken = await act(
      event('POST', '/requests', DANA, { body: { ...submission(DANA), _csrf: 'x' } }),
    );
    const otherToken = await act(event('POST', '/requests', DANA, { body: submission(OLIVER) }));
    const foreign = await act(
      event('POST', '/requests', DANA, {
        body: submission(DANA),
        headers: { origin: 'https://evil.example' },
      }),
    );

    expect([noToken.statusCode, otherToken.statusCode, foreign.statusCode]).toEqual([403, 403, 403]);
  });

  it("refuses a request without the authoriser's claims, even with a staff header of its own", async () => {
    // act
    const page = await read(event('GET', '/requests', { idToken: 'forged' }));
    const forged = await act(
      event(
        'POST',
        '/requests',
        { idToken: 'forged' },
        {
          body: submission({ idToken: 'forged' }),
          headers: { 'x-lethe-staff': JSON.stringify({ name: 'mallory', groups: ['privacy-staff'] }) },
        },
      ),
    );
    const noCookie = await read(event('GET', '/requests', { ...DANA, idToken: undefined }));
    const noGroup = await read(
      event('GET', '/requests', { claims: { name: 'eve', groups: '' }, idToken: 't' }),
    );

    // assess
    expect([page.statusCode, forged.statusCode, noCookie.statusCode, noGroup.statusCode]).toEqual([
      401, 401, 401, 401,
    ]);
    expect(page.body).toContain('/auth/login');
  });

  it('answers only GET in the function that has no write grant', async () => {
    const posted: HttpApiResult = await read(event('POST', '/requests', DANA, { body: submission(DANA) }));

    expect(posted.statusCode).toBe(405);
  });

  it('signs in through the Hosted UI with state and PKCE, keeping the ID token in a __Host- cookie', async () => {
    // prepare
    tokenExchange.mockResolvedValue(
      new Response(JSON.stringify({ id_token: 'the-id-token', expires_in: 3600, token_type: 'Bearer' }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    );

    // act
    const login = await read(event('GET', '/auth/login', {}));
    const location = new URL(login.headers.location ?? '');
    const signInCookie = (login.cookies?.[0] ?? '').split(';')[0] as string;
    const state = location.searchParams.get('state') ?? '';
    const callback = (query: string) =>
      read({ ...event('GET', '/auth/callback', {}, { query }), cookies: [signInCookie] });
    const wrongState = await callback('code=abc&state=not-it');
    const signedIn = await callback(`code=abc&state=${state}`);

    // assess
    expect(login.statusCode).toBe(303);
    expect(`${location.origin}${location.pathname}`).toBe(`${HOSTED_UI}/oauth2/authorize`);
    expect(location.searchParams.get('client_id')).toBe('console-client');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('redirect_uri')).toBe(`https://${DOMAIN}/auth/callback`);
    expect(wrongState.statusCode).toBe(400);
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe('/requests?done=signed-in');
    const idCookie = signedIn.cookies?.find((cookie) => cookie.startsWith(`${CONSOLE_ID_TOKEN_COOKIE}=`));
    expect(idCookie).toMatch(/^__Host-lethe_id=the-id-token;.*HttpOnly/);
    expect(idCookie).toMatch(/Secure/);
    expect(idCookie).toMatch(/SameSite=Lax/);
    const [url, init] = tokenExchange.mock.calls[0] ?? [];
    expect(url).toBe(`${HOSTED_UI}/oauth2/token`);
    const exchanged = new URLSearchParams(String(init?.body));
    expect(
      createHash('sha256')
        .update(exchanged.get('code_verifier') ?? '')
        .digest('base64url'),
    ).toBe(location.searchParams.get('code_challenge'));
  });
});
