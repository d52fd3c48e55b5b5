import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { Eta } from 'eta';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkActorName } from '../audit/free-text';
import type { LetheBackend } from '../cli/backends';
import { checkField, type FieldErrors, text } from './forms';
import { addAuditPages } from './pages/audit';
import { addHoldPages } from './pages/holds';
import { addRequestPages } from './pages/requests';
import { addSweepPages } from './pages/sweeps';
import {
  type ConsoleIdentity,
  ConsoleSessions,
  installGuard,
  type StaffSession,
  sessionIdentity,
  setSessionCookie,
} from './security';
import { CONSOLE_CSS } from './templates';
import { createViews } from './views';

/** What every page of the console works with. */
export interface ConsoleContext {
  readonly backend: LetheBackend;
  readonly target: 'local' | 'aws';
  readonly views: Eta;
  /** Renders `template` in the layout, for the signed-in staff member, with their CSRF token. */
  page(
    request: FastifyRequest,
    reply: FastifyReply,
    template: string,
    data: Record<string, unknown> & { title: string; section?: string },
    status?: number,
  ): FastifyReply;
  /** The signed-in staff member (every page but the sign-in has one). */
  staff(request: FastifyRequest): StaffSession;
  /** A page with a form, shown with the values and errors given and what `data` reads fresh each time. */
  formPage(template: string, data: () => Promise<PageData> | PageData): FormPage;
}

type PageData = Record<string, unknown> & { title: string; section?: string };

/** Renders a form's page: first empty, or again with what was typed and a message by each bad field. */
export type FormPage = (
  request: FastifyRequest,
  reply: FastifyReply,
  values: Record<string, unknown>,
  errors: FieldErrors,
  status?: number,
  extra?: Record<string, unknown>,
) => Promise<FastifyReply>;

export interface ConsoleOptions {
  backend: LetheBackend;
  target: 'local' | 'aws';
  /** The one-time login token; default a fresh random one. */
  loginToken?: string;
  /**
   * Who the staff are, when not the local one-time login (on AWS: Cognito through API Gateway's
   * authoriser, lib/console/cognito.ts); `addRoutes` adds its sign-in routes.
   */
  identity?: ConsoleIdentity & { addRoutes?(app: FastifyInstance): void };
}

/** The console app, not yet listening; `hosts` are the Host values it answers (set when it listens). */
export interface ConsoleApp {
  app: FastifyInstance;
  sessions: ConsoleSessions;
  hosts: string[];
}

/** Fixed notices a redirect can ask for by name: never text from the query string. */
const NOTICES: Record<string, string> = {
  'hold-placed': 'The hold is placed.',
  'hold-released': 'The hold is released.',
  'signed-in': 'You are signed in.',
  'action-done': 'Done: the request has been updated.',
  submitted: 'The request was submitted and started: this page shows its progress.',
};

/** Builds the console: security guard, sign-in, and every page, over `backend`. */
export async function createConsoleApp(options: ConsoleOptions): Promise<ConsoleApp> {
  const views = createViews();
  const sessions = new ConsoleSessions(options.loginToken);
  const hosts: string[] = [];
  // Body size: forms are a few fields; nothing legitimate comes near 64 KiB.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  const render = (reply: FastifyReply, template: string, data: Record<string, unknown>, status = 200) =>
    reply.status(status).type('text/html; charset=utf-8').send(views.render(template, data));
  const refuse = (reply: FastifyReply, status: number, title: string, message: string) =>
    render(reply, '@message', { title, message, staff: null, target: options.target }, status);
  installGuard(app, { identity: options.identity ?? sessionIdentity(sessions, () => hosts), refuse });

  const context: ConsoleContext = {
    backend: options.backend,
    target: options.target,
    views,
    staff: (request) => request.staff as StaffSession,
    formPage:
      (template, data) =>
      async (request, reply, values, errors, status = 200, extra = {}) =>
        context.page(request, reply, template, { ...(await data()), values, errors, ...extra }, status),
    page: (request, reply, template, data, status = 200) => {
      const notice = NOTICES[String((request.query as Record<string, unknown>)?.done ?? '')];
      return render(
        reply,
        template,
        {
          errors: {},
          values: {},
          ...data,
          notice: (data.notice as string | undefined) ?? notice,
          staff: request.staff,
          csrf: request.staff?.csrf,
          target: options.target === 'aws' ? 'deployed stack' : 'local runtime',
        },
        status,
      );
    },
  };

  app.get('/static/console.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(CONSOLE_CSS),
  );
  if (options.identity) options.identity.addRoutes?.(app);
  else addLoginRoutes(app, sessions, render, refuse);
  app.get('/', async (_request, reply) => reply.redirect('/requests', 303));

  addRequestPages(app, context);
  addHoldPages(app, context);
  addSweepPages(app, context);
  addAuditPages(app, context);

  app.setNotFoundHandler((request, reply) =>
    request.staff
      ? context.page(
          request,
          reply,
          '@message',
          { title: 'Not found', message: 'There is no such page.' },
          404,
        )
      : refuse(reply, 404, 'Not found', 'There is no such page.'),
  );
  app.setErrorHandler((error, request, reply) => {
    // Domain errors never carry identifiers; anything else is reported by name only.
    const known = error instanceof Error && /NotFound/.test(error.name);
    const message = known
      ? error.message
      : `Something failed (${(error as Error).name ?? 'Error'}); see the server's output.`;
    if (!known) console.error(error);
    const status = known ? 404 : ((error as { statusCode?: number }).statusCode ?? 500);
    return request.staff
      ? context.page(request, reply, '@message', { title: known ? 'Not found' : 'Failed', message }, status)
      : refuse(reply, status, 'Failed', message);
  });
  return { app, sessions, hosts };
}

type Render = (
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown>,
  status?: number,
) => FastifyReply;
type Refuse = (reply: FastifyReply, status: number, title: string, message: string) => FastifyReply;

/** The local sign-in: the one-time token of the printed address, spent on a session for the name given. */
function addLoginRoutes(
  app: FastifyInstance,
  sessions: ConsoleSessions,
  render: Render,
  refuse: Refuse,
): void {
  app.get('/login', async (request, reply) => {
    const token = (request.query as Record<string, unknown>).token;
    if (!sessions.loginTokenMatches(token))
      return refuse(
        reply,
        401,
        'Sign in first',
        'This sign-in address is not valid (it works once): restart lethe console for a new one.',
      );
    return render(reply, '@login', { title: 'Sign in', token, values: {}, errors: {}, staff: null });
  });
  app.post('/login', async (request, reply) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (!sessions.loginTokenMatches(body?.token))
      return refuse(
        reply,
        401,
        'Sign in first',
        'This sign-in address is not valid (it works once): restart lethe console for a new one.',
      );
    const errors: FieldErrors = {};
    const name = checkField('name', () => checkActorName(text(body, 'name'), 'your name'), errors);
    if (name === undefined) {
      return render(
        reply,
        '@login',
        { title: 'Sign in', token: body?.token, values: { name: text(body, 'name') }, errors, staff: null },
        400,
      );
    }
    setSessionCookie(reply, sessions.signIn(name));
    return reply.redirect('/requests?done=signed-in', 303);
  });
}

/** A running console: where it listens, the one-time sign-in address, and how to stop it. */
export interface RunningConsole {
  url: string;
  loginUrl: string;
  close(): Promise<void>;
}

/** Starts the console on 127.0.0.1:`port` (0: any free port); only loopback, never another interface. */
export async function startConsole(options: ConsoleOptions & { port: number }): Promise<RunningConsole> {
  const consoleApp = await createConsoleApp(options);
  await consoleApp.app.listen({ host: '127.0.0.1', port: options.port });
  const address = consoleApp.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  consoleApp.hosts.push(`127.0.0.1:${port}`, `localhost:${port}`);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    loginUrl: `${url}/login?token=${consoleApp.sessions.pendingLoginToken ?? ''}`,
    close: () => consoleApp.app.close(),
  };
}
