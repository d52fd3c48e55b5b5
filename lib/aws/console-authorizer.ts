import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import * as z from 'zod';
import { CONSOLE_GROUPS, CONSOLE_ID_TOKEN_COOKIE } from './config';

/**
 * API Gateway's authoriser of the deployed console: the staff member's Cognito ID token, from its
 * HttpOnly cookie (a browser sends no Authorization header with a page), verified against the
 * user pool (signature by the pool's published keys, issuer, audience = the console's app client,
 * token use, expiry). Staff in neither console group are refused here already.
 */

/** The answer of an HTTP API Lambda authoriser in the simple format. */
export interface AuthorizerResult {
  isAuthorized: boolean;
  /** What the console reads from the request context: the audited name and the groups, comma-separated. */
  context?: { name: string; groups: string };
}

/** Checks a token: the claims it carries when valid; throws when it is not. */
export type IdTokenVerifier = (token: string) => Promise<Record<string, unknown>>;

/**
 * The verifier of the pool's ID tokens for the console's app client.
 * @param jwks the pool's keys, when known (tests); otherwise fetched from the pool and cached
 */
export function cognitoIdTokenVerifier(userPoolId: string, clientId: string, jwks?: Jwks): IdTokenVerifier {
  const verifier = CognitoJwtVerifier.create({ userPoolId, clientId, tokenUse: 'id' });
  if (jwks) verifier.cacheJwks(jwks);
  return async (token) => (await verifier.verify(token)) as Record<string, unknown>;
}

const eventSchema = z.object({
  cookies: z.array(z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const claimsSchema = z.object({
  'cognito:username': z.string().min(1).optional(),
  email: z.string().min(1).optional(),
  'cognito:groups': z.array(z.string()).optional(),
});

/** The value of cookie `name` in an authoriser event (its `cookies`, or a Cookie header). */
function cookieOf(event: z.infer<typeof eventSchema>, name: string): string | undefined {
  const pairs = event.cookies ?? (event.headers?.cookie ?? '').split(';');
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * Decides one request: authorised, with the staff member's Cognito username (else e-mail: staff,
 * never a subject) and groups, when the cookie holds a valid ID token of someone in a console group.
 */
export async function authorizeConsoleRequest(
  verify: IdTokenVerifier,
  event: unknown,
): Promise<AuthorizerResult> {
  const parsed = eventSchema.safeParse(event);
  const token = parsed.success ? cookieOf(parsed.data, CONSOLE_ID_TOKEN_COOKIE) : undefined;
  if (!token) return { isAuthorized: false };
  let claims: z.infer<typeof claimsSchema>;
  try {
    claims = claimsSchema.parse(await verify(token));
  } catch {
    return { isAuthorized: false };
  }
  const name = claims['cognito:username'] ?? claims.email;
  const groups = (claims['cognito:groups'] ?? []).filter(
    (group) => group === CONSOLE_GROUPS.act || group === CONSOLE_GROUPS.read,
  );
  if (!name || groups.length === 0) return { isAuthorized: false };
  return { isAuthorized: true, context: { name, groups: groups.join(',') } };
}
