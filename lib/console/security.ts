import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The console's guard: a one-time login token (printed by `lethe console`, as notebook servers
 * do) exchanged for a session cookie bound to the staff member's name; a CSRF token per session
 * on every POST; the Host header checked against the addresses the server listens on, so a
 * page on another site cannot reach it through DNS rebinding; strict headers on every answer.
 */

export const SESSION_COOKIE = 'lethe_console';

/**
 * Who is signed in: the name every action is audited with, the session's CSRF token, and whether
 * they may act (privacy staff) or only read (auditors).
 */
export interface StaffSession {
  name: string;
  csrf: string;
  canAct: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    staff: StaffSession | null;
  }
}

/** A fresh random token, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares secrets in constant time; false for anything that is not a non-empty string. */
export function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * No script runs on any page (there is none), nothing is framed, forms post only here, styles
 * come only from the console's own stylesheet.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: under it browsers send `Origin: null` with the console's own forms, and the
  // Origin check could not tell them from a sandboxed attacker's page.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  // Pages show request details: no copy of them in a shared cache or the browser's history cache.
  'cache-control': 'no-store',
};

/** The login and its session store: one token, usable once; sessions in memory, gone when the process ends. */
export class ConsoleSessions {
  private loginToken: string | null;
  private readonly sessions = new Map<string, StaffSession>();

  constructor(loginToken: string = newToken()) {
    this.loginToken = loginToken;
  }

  /** The token the printed URL carries, until someone has signed in with it. */
  get pendingLoginToken(): string | null {
    return this.loginToken;
  }

  /** Whether `token` is the login token, still unused. */
  loginTokenMatches(token: unknown): boolean {
    return this.loginToken !== null && sameSecret(token, this.loginToken);
  }

  /** Spends the login token on a session for `name`; returns the session id for the cookie. */
  signIn(name: string): string {
    this.loginToken = null;
    const id = newToken();
    this.sessions.set(id, { name, csrf: newToken(), canAct: true });
    return id;
  }

  find(id: string | undefined): StaffSession | null {
    return id === undefined ? null : (this.sessions.get(id) ?? null);
  }
}

/**
 * How the console knows who is there: locally a session from the one-time login token, on AWS the
 * Cognito identity API Gateway's authoriser vouched for (lib/console/cognito.ts).
 */
export interface ConsoleIdentity {
  /** Paths open without a signed-in staff member: the sign-in itself (and what it needs). */
  readonly openPaths: ReadonlySet<string>;
  /** Whether a request's Host is one this console answers (no DNS rebinding). */
  hostAllowed(host: string): boolean;
  /** The origin a form of this console is posted from, for a request to `host`. */
  originOf(host: string): string;
  /** The signed-in staff member a request comes from, or null. */
  staffOf(request: FastifyRequest): StaffSession | null;
  /** What to tell someone who is not signed in. */
  readonly signInHint: string;
}

/** The local identity: loopback Host values only, a session cookie from the one-time login token. */
export function sessionIdentity(sessions: ConsoleSessions, hosts: () => readonly string[]): ConsoleIdentity {
  return {
    openPaths: new Set(['/login', '/static/console.css']),
    hostAllowed: (host) => hosts().includes(host),
    originOf: (host) => `http://${host}`,
    staffOf: (request) => sessions.find(request.cookies[SESSION_COOKIE]),
    signInHint: 'Open the sign-in address that lethe console printed when it started.',
  };
}

/**
 * Installs the guard on `app`: headers on every reply, the Host check, the staff member's
 * identity, the sign-in requirement, the refusal of every POST from someone who may only read,
 * and the Origin and CSRF check of every POST.
 */
export function installGuard(
  app: FastifyInstance,
  options: {
    identity: ConsoleIdentity;
    refuse: (reply: FastifyReply, status: number, title: string, message: string) => FastifyReply;
  },
): void {
  const { identity } = options;
  app.decorateRequest('staff', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const host = (request.headers.host ?? '').toLowerCase();
    if (!identity.hostAllowed(host)) {
      return options.refuse(
        reply,
        421,
        'Unknown host',
        'This console answers only on the address lethe console printed.',
      );
    }
    request.staff = identity.staffOf(request);
    const path = request.url.split('?')[0] ?? '';
    if (!request.staff && !identity.openPaths.has(path)) {
      return options.refuse(reply, 401, 'Sign in first', identity.signInHint);
    }
    return undefined;
  });
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || !request.staff) return undefined;
    if (!request.staff.canAct) {
      return options.refuse(
        reply,
        403,
        'Read only',
        'You may review requests, holds, sweeps and the audit log, but not change them: acting is for privacy staff.',
      );
    }
    const origin = request.headers.origin;
    const host = (request.headers.host ?? '').toLowerCase();
    const originOk = origin === undefined || origin === identity.originOf(host);
    const body = request.body as Record<string, unknown> | undefined;
    if (!originOk || !sameSecret(body?._csrf, request.staff.csrf)) {
      return options.refuse(
        reply,
        403,
        'Form expired',
        'This form was not sent from a page of this console session; reload the page and send it again.',
      );
    }
    return undefined;
  });
}

/** The session cookie: only for this server's pages, never readable by a script, never sent cross-site. */
export function setSessionCookie(reply: FastifyReply, id: string): void {
  reply.setCookie(SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'strict' });
}
