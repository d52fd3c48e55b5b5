import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedSubject } from '../../examples/adtech/seed';
import { LocalBackend } from '../../lib/cli/backends';
import { type RunningConsole, startConsole } from '../../lib/console/server';
import { listHolds } from '../../lib/holds';
import { listRequests } from '../../lib/rights/requests-table';
import { seedStateDir } from '../helpers/cli';
import { httpRequest } from '../helpers/console';
import { snapshotEverything } from '../helpers/snapshot';
import { exampleSeed } from '../helpers/world';

/**
 * The console's guard and its forms, over a real loopback socket (no browser needed):
 * what is refused is refused before anything changes, and stored text is inert in every page.
 */
const TOKEN = 'one-time-login-token-for-tests';

describe('lethe console security and form validation', () => {
  let root: string;
  let backend: LocalBackend;
  let running: RunningConsole;
  let host: string;
  let cookie: string;
  let csrf: string;
  let subject: SeedSubject;

  const get = (url: string, headers: Record<string, string> = {}) =>
    httpRequest(`${running.url}${url}`, { headers: { host, cookie, ...headers } });
  const post = (url: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
    httpRequest(`${running.url}${url}`, {
      method: 'POST',
      headers: { host, cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(
        Object.entries(form).flatMap(([name, value]) =>
          (Array.isArray(value) ? value : [value]).map((entry): [string, string] => [name, entry]),
        ),
      ).toString(),
    });
  const everything = () => snapshotEverything(backend.env.clients);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lethe-console-security-'));
    const seed = exampleSeed(4, 2);
    subject = seed.subjects[0] as SeedSubject;
    await seedStateDir(join(root, 'state'), seed);
    backend = await LocalBackend.open({ stateDir: join(root, 'state') });
    running = await startConsole({ backend, target: 'local', loginToken: TOKEN, port: 0 });
    host = new URL(running.url).host;
    cookie = '';
    // A name with markup: every page that shows it must show it as text.
    const login = await post('/login', { token: TOKEN, name: '<script>alert("name")</script>' });
    expect(login.statusCode).toBe(303);
    cookie = String(login.headers['set-cookie']).split(';')[0] as string;
    const page = await get('/holds');
    csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
    expect(csrf).toBeTruthy();
  }, 120_000);

  afterAll(async () => {
    await running?.close();
    await backend?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses every page without a session, and a second sign-in with the spent token', async () => {
    const anonymous = await get('/requests', { cookie: '' });
    const forged = await get('/requests', { cookie: 'lethe_console=forged' });
    const again = await post('/login', { token: TOKEN, name: 'Mallory' }, { cookie: '' });
    const wrong = await get('/login?token=guess', { cookie: '' });

    expect([anonymous.statusCode, forged.statusCode, again.statusCode, wrong.statusCode]).toEqual([
      401, 401, 401, 401,
    ]);
    expect(anonymous.body).not.toContain('<table');
  });

  it('refuses a foreign Host header (DNS rebinding), even with a valid session', async () => {
    const rebound = await get('/requests', { host: 'attacker.example' });

    expect(rebound.statusCode).toBe(421);
    expect(rebound.body).not.toContain('<table');
  });

  it('sends strict security headers on every answer', async () => {
    const page = await get('/requests');

    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    expect(page.body).not.toMatch(/<script/i);
  });

  it('refuses a POST without a CSRF token, with a wrong one, or from another origin, changing nothing', async () => {
    const before = await everything();
    const hold = {
      scope: 'subject',
      identityType: 'email',
      identityValue: subject.email,
      reason: 'Case 2026-0042',
    };

    const missing = await post('/holds', hold);
    const wrong = await post('/holds', { ...hold, _csrf: `${csrf}x` });
    const crossSite = await post('/holds', { ...hold, _csrf: csrf }, { origin: 'http://attacker.example' });
    const sweep = await post('/sweeps', { mode: 'sweep' });

    expect([missing.statusCode, wrong.statusCode, crossSite.statusCode, sweep.statusCode]).toEqual([
      403, 403, 403, 403,
    ]);
    expect(await everything()).toEqual(before);
  });

  it('renders stored markup inert: the signed-in name and a hold reason are shown as text', async () => {
    const placed = await post('/holds', {
      _csrf: csrf,
      scope: 'record',
      store: 'inquiries',
      key: JSON.stringify({ email: 'nobody-held@example.test', receivedAt: '2026-01-01T00:00:00Z' }),
      reason: '<img src=x onerror=alert(1)> <script>alert(2)</script> case 42',
    });
    expect(placed.statusCode).toBe(303);

    const page = await get('/holds');

    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.body).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(page.body).not.toMatch(/<script|<img/i);
  });

  it('refuses bad input in every form with a message by the field, changing nothing', async () => {
    const before = await everything();
    const requestsBefore = (await listRequests(backend.deps)).length;
    const holdsBefore = (await listHolds(backend.deps)).length;

    const request = await post('/requests', {
      _csrf: csrf,
      type: 'forget-me',
      jurisdiction: 'mars',
      identityType: ['email', 'phone'],
      identityValue: ['not-an-email', ''],
      verification: 'psychic',
      verifiedBy: '',
      channel: 'web',
      requestId: 'x',
    });
    const noSubject = await post('/requests', {
      _csrf: csrf,
      type: 'access',
      jurisdiction: 'gdpr',
      verification: 'other',
      verifiedBy: 'Desk',
      channel: 'web',
    });
    const hold = await post('/holds', {
      _csrf: csrf,
      scope: 'subject',
      identityType: 'email',
      identityValue: 'nope',
      reason: 'x',
    });
    const recordHold = await post('/holds', {
      _csrf: csrf,
      scope: 'record',
      store: 'no-such-store',
      key: 'k',
      reason: 'Case 2026-0042',
    });
    const sweep = await post('/sweeps', {
      _csrf: csrf,
      store: 'no-such-store',
      mode: 'purge-all',
      now: '2026-02-30T00:00:00Z',
    });
    const list = await get('/requests?status=lost&dueWithin=soon');
    const audit = await get('/audit?from=yesterday&to=2026-01-01');
    const release = await post('/holds/not-a-hold/release', { _csrf: csrf });

    expect(request.statusCode).toBe(400);
    for (const field of [
      'type',
      'jurisdiction',
      'identityValue0',
      'identityValue1',
      'verification',
      'verifiedBy',
      'requestId',
    ])
      expect(request.body).toContain(`id="${field}-error"`);
    expect(noSubject.body).toContain('id="identityValue0-error"');
    expect(hold.statusCode).toBe(400);
    expect(hold.body).toContain('id="identityValue-error"');
    expect(hold.body).toContain('id="reason-error"');
    expect(recordHold.body).toContain('id="store-error"');
    expect(sweep.statusCode).toBe(400);
    for (const field of ['store', 'mode', 'now']) expect(sweep.body).toContain(`id="${field}-error"`);
    expect(list.statusCode).toBe(400);
    expect(list.body).toContain('id="status-error"');
    expect(list.body).toContain('id="dueWithin-error"');
    expect(audit.body).toContain('id="from-error"');
    expect(release.statusCode).toBe(400);
    // What was typed is shown back in its field, escaped; never an identifier in a message.
    expect(request.body).toContain('value="not-an-email"');
    expect((await listRequests(backend.deps)).length).toBe(requestsBefore);
    expect((await listHolds(backend.deps)).length).toBe(holdsBefore);
    expect(await everything()).toEqual(before);
  });

  it('approval from the page: the submitter cannot approve, a deny needs a known reason, a deny ends the request', async () => {
    // prepare: the example's policy holds CCPA portability requests for approval
    const requestId = 'console-approval-0001';
    const submitted = await post('/requests', {
      _csrf: csrf,
      type: 'portability',
      jurisdiction: 'ccpa',
      identityType: ['email'],
      identityValue: [subject.email],
      verification: 'account-login',
      verifiedBy: 'Desk',
      channel: 'web',
      requestId,
    });
    expect(submitted.statusCode).toBe(303);
    expect((await backend.status(requestId)).status).toBe('pending-approval');

    // act
    const selfApproval = await post(`/requests/${requestId}/approve`, { _csrf: csrf });
    const badReason = await post(`/requests/${requestId}/deny`, {
      _csrf: csrf,
      reason: 'because',
      note: 'We could not confirm the request.',
    });
    const afterRefusals = (await backend.status(requestId)).status;
    const denied = await post(`/requests/${requestId}/deny`, {
      _csrf: csrf,
      reason: 'excessive',
      note: 'The same request was answered last week.',
    });

    // assess
    expect(selfApproval.statusCode).toBe(400);
    expect(selfApproval.body).toContain('class="error"');
    expect(badReason.statusCode).toBe(400);
    expect(badReason.body).toContain('the reason is one of');
    expect(afterRefusals).toBe('pending-approval');
    expect(denied.statusCode).toBe(303);
    expect((await backend.status(requestId)).status).toBe('rejected');
  });

  it('answers a request id that cannot exist, and one that does not, with a page that says so', async () => {
    const malformed = await get('/requests/<script>');
    const unknown = await get('/requests/no-such-request-0001');

    expect(malformed.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(malformed.body).not.toContain('<script>');
  });
});
