import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { checkActorName } from '../audit/free-text';
import { CONSOLE_GROUPS, CONSOLE_ID_TOKEN_COOKIE, CONSOLE_SIGN_IN_PATHS } from '../aws/config';
import { type ConsoleIdentity, newToken, type StaffSession, sameSecret } from './security';

/**
 * The console's identity on AWS: staff sign in with the Cognito user pool's Hosted UI
 * (authorization code with PKCE), the ID token is kept in an HttpOnly cookie, and API Gateway's
 * authoriser verifies it on every request but the sign-in's own. The Lambda adapter
 * (lib/console/lambda.ts) hands the verified name and groups to the app in STAFF_HEADER, which it
 * first strips from what the browser sent; nothing else sets it.
 */

/** Where the adapter puts the identity the authoriser verified (never taken from the browser). */
export const STAFF_HEADER = 'x-lethe-staff';

const ID_TOKEN_COOKIE = CONSOLE_ID_TOKEN_COOKIE;
/** The sign-in's state and PKCE verifier, between the redirect to the Hosted UI and its callback. */
const SIGN_IN_COOKIE = '__Host-lethe_signin';

export interface CognitoConsoleOptions {
  /** The Hosted UI, e.g. `https://lethe-console.auth.eu-west-1.amazoncognito.com`. */
  hostedUiUrl: string;
  /** The user pool app client of the console (public: PKCE, no secret). */
  clientId: string;
  /** Calls the token endpoint; default the global fetch. */
  fetch?: typeof fetch;
}

const staffClaimsSchema = z.object({ name: z.string(), groups: z.array(z.string()) });

/** The identity the authoriser verified, as the adapter passes it: `{ name, groups }` as JSON. */
export function staffHeaderValue(name: string, groups: readonly string[]): string {
  return JSON.stringify({ name, groups });
}

/**
 * The staff member of a request: the verified name and groups from STAFF_HEADER, the CSRF token
 * derived from their ID token (a page of another site can read neither), and whether their group
 * may act. Someone in neither group is nobody here.
 */
export function cognitoStaff(request: FastifyRequest): StaffSession | null {
  const header = request.headers[STAFF_HEADER];
  const idToken = request.cookies[ID_TOKEN_COOKIE];
  if (typeof header !== 'string' || !idToken) return null;
  let claims: z.infer<typeof staffClaimsSchema>;
  let name: string;
  try {
    claims = staffClaimsSchema.parse(JSON.parse(header));
    name = checkActorName(claims.name, 'the signed-in name');
  } catch {
    return null;
  }
  const canAct = claims.groups.includes(CONSOLE_GROUPS.act);
  if (!canAct && !claims.groups.includes(CONSOLE_GROUPS.read)) return null;
  return { name, canAct, csrf: createHash('sha256').update(idToken).digest('base64url') };
}

const tokenResponseSchema = z.object({ id_token: z.string().min(1), expires_in: z.number().int().min(60) });

/** The console's identity behind API Gateway, with the Hosted UI sign-in and sign-out routes. */
export function cognitoIdentity(
  options: CognitoConsoleOptions,
): ConsoleIdentity & { addRoutes(app: FastifyInstance): void } {
  const hostedUi = options.hostedUiUrl.replace(/\/+$/, '');
  const callbackOf = (request: FastifyRequest) => `https://${request.headers.host ?? ''}/auth/callback`;
  const cookie = { path: '/', httpOnly: true, secure: true } as const;
  const failed = (reply: FastifyReply, message: string) =>
    reply.status(400).type('text/plain; charset=utf-8').send(`${message} Open /auth/login to sign in again.`);
  return {
    openPaths: new Set(CONSOLE_SIGN_IN_PATHS),
    // API Gateway answers only on its own domain, and the adapter sets Host from it.
    hostAllowed: (host) => host !== '',
    originOf: (host) => `https://${host}`,
    staffOf: cognitoStaff,
    signInHint: 'Sign in at /auth/login with your staff account.',
    addRoutes(app) {
      app.get('/auth/login', async (request, reply) => {
        const state = newToken();
        const verifier = newToken();
        reply.setCookie(SIGN_IN_COOKIE, `${state}.${verifier}`, { ...cookie, sameSite: 'lax', maxAge: 600 });
        const query = new URLSearchParams({
          response_type: 'code',
          client_id: options.clientId,
          redirect_uri: callbackOf(request),
          scope: 'openid email profile',
          state,
          code_challenge: createHash('sha256').update(verifier).digest('base64url'),
          code_challenge_method: 'S256',
        });
        return reply.redirect(`${hostedUi}/oauth2/authorize?${query}`, 303);
      });
      app.get('/auth/callback', async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        const [state, verifier] = (request.cookies[SIGN_IN_COOKIE] ?? '').split('.');
        if (!verifier || !sameSecret(query.state, state ?? '') || typeof query.code !== 'string')
          return failed(reply, 'This sign-in did not start here, or took too long.');
        const response = await (options.fetch ?? fetch)(`${hostedUi}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: options.clientId,
            code: query.code,
            redirect_uri: callbackOf(request),
            code_verifier: verifier,
          }).toString(),
        });
        const tokens = tokenResponseSchema.safeParse(response.ok ? await response.json() : undefined);
        if (!tokens.success) return failed(reply, 'The sign-in was refused.');
        reply.clearCookie(SIGN_IN_COOKIE, cookie);
        // Lax, not Strict: the first page after the Hosted UI's redirect must carry it.
        reply.setCookie(ID_TOKEN_COOKIE, tokens.data.id_token, {
          ...cookie,
          sameSite: 'lax',
          maxAge: tokens.data.expires_in,
        });
        return reply.redirect('/requests?done=signed-in', 303);
      });
      app.get('/auth/logout', async (request, reply) => {
        reply.clearCookie(ID_TOKEN_COOKIE, cookie);
        const query = new URLSearchParams({
          client_id: options.clientId,
          logout_uri: `https://${request.headers.host ?? ''}/auth/login`,
        });
        return reply.redirect(`${hostedUi}/logout?${query}`, 303);
      });
    },
  };
}
