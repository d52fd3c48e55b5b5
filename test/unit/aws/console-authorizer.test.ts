import { createSign, generateKeyPairSync } from 'node:crypto';
import { CONSOLE_ID_TOKEN_COOKIE } from '../../../lib/aws/config';
import { authorizeConsoleRequest, cognitoIdTokenVerifier } from '../../../lib/aws/console-authorizer';

/**
 * The deployed console's authoriser with the real verifier (aws-jwt-verify) over a key pair made
 * here, standing in for the user pool's: what it accepts, and everything it refuses.
 */
const POOL = 'eu-west-1_TestPool1';
const CLIENT = 'console-client';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const { n, e } = publicKey.export({ format: 'jwk' });
const jwk = { kty: 'RSA', n: n as string, e: e as string, kid: 'key-1', alg: 'RS256', use: 'sig' };
const verify = cognitoIdTokenVerifier(POOL, CLIENT, { keys: [jwk] });

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function idToken(claims: Record<string, unknown>, key = privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'RS256', kid: 'key-1', typ: 'JWT' });
  const payload = base64url({
    sub: '5b2c0f4e-0000-4000-8000-000000000001',
    iss: `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`,
    aud: CLIENT,
    token_use: 'id',
    iat: now,
    exp: now + 3600,
    'cognito:username': 'dana.privacy',
    ...claims,
  });
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

const withCookie = (token: string) => ({ cookies: ['other=1', `${CONSOLE_ID_TOKEN_COOKIE}=${token}`] });

it('authorises a valid ID token of privacy staff, with the Cognito username and the console groups', async () => {
  const result = await authorizeConsoleRequest(
    verify,
    withCookie(idToken({ 'cognito:groups': ['privacy-staff', 'unrelated'] })),
  );

  expect(result).toEqual({ isAuthorized: true, context: { name: 'dana.privacy', groups: 'privacy-staff' } });
});

it('authorises an auditor as an auditor', async () => {
  const result = await authorizeConsoleRequest(
    verify,
    withCookie(idToken({ 'cognito:groups': ['auditors'] })),
  );

  expect(result.context?.groups).toBe('auditors');
});

it.each([
  ['no cookie', { cookies: [] }],
  [
    'a token signed by another key',
    withCookie(idToken({ 'cognito:groups': ['auditors'] }, other.privateKey)),
  ],
  [
    'a token of another app client',
    withCookie(idToken({ aud: 'other-client', 'cognito:groups': ['auditors'] })),
  ],
  ['an access token', withCookie(idToken({ token_use: 'access', 'cognito:groups': ['auditors'] }))],
  ['an expired token', withCookie(idToken({ exp: 1_000_000_000, 'cognito:groups': ['auditors'] }))],
  ['a user in no console group', withCookie(idToken({ 'cognito:groups': ['everyone'] }))],
  ['not a token', withCookie('not-a-jwt')],
])('refuses %s', async (_case, event) => {
  expect(await authorizeConsoleRequest(verify, event)).toEqual({ isAuthorized: false });
});
