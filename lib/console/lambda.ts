import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { LetheBackend } from '../cli/backends/backend';
import { cognitoIdentity, STAFF_HEADER, staffHeaderValue } from './cognito';
import { createConsoleApp } from './server';

/**
 * The console as a Lambda function behind an API Gateway HTTP API: each event (payload format
 * 2.0) is answered by the same fastify app as `lethe console`, through fastify's own inject (no
 * socket, no HTTP parsing of our own).
 */

/** The part of an HTTP API event (payload format 2.0) the console reads. */
const httpApiEventSchema = z.object({
  rawPath: z.string().startsWith('/'),
  rawQueryString: z.string().optional(),
  cookies: z.array(z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.object({
    domainName: z.string().min(1),
    http: z.object({ method: z.string().min(1) }),
    authorizer: z
      .object({
        lambda: z.object({ name: z.string().optional(), groups: z.string().optional() }).nullish(),
      })
      .nullish(),
  }),
});

/** What API Gateway turns into the HTTP answer. */
export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

const TEXT = /^(text\/|application\/json)/;

/**
 * Answers one API Gateway event with `app`. The identity is what the authoriser put in the
 * request context (its `name` and comma-separated `groups`), passed on in STAFF_HEADER; a header
 * of that name from the browser is dropped, and Host is the API's own domain.
 */
export async function handleConsoleEvent(app: FastifyInstance, event: unknown): Promise<HttpApiResult> {
  const parsed = httpApiEventSchema.safeParse(event);
  if (!parsed.success) {
    return {
      statusCode: 400,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'not an API Gateway request',
      isBase64Encoded: false,
    };
  }
  const call = parsed.data;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower !== STAFF_HEADER && lower !== 'host' && lower !== 'cookie') headers[lower] = value;
  }
  headers.host = call.requestContext.domainName.toLowerCase();
  if (call.cookies?.length) headers.cookie = call.cookies.join('; ');
  const verified = call.requestContext.authorizer?.lambda;
  if (verified?.name) {
    const groups = (verified.groups ?? '').split(',').filter((group) => group !== '');
    headers[STAFF_HEADER] = staffHeaderValue(verified.name, groups);
  }
  const response = await app.inject({
    method: call.requestContext.http.method as 'GET',
    url: `${call.rawPath}${call.rawQueryString ? `?${call.rawQueryString}` : ''}`,
    headers,
    ...(call.body !== undefined
      ? { payload: call.isBase64Encoded ? Buffer.from(call.body, 'base64') : call.body }
      : {}),
  });
  const answerHeaders: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    if (name === 'set-cookie') cookies = Array.isArray(value) ? value : [String(value)];
    else answerHeaders[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  const text = TEXT.test(answerHeaders['content-type'] ?? 'text/');
  return {
    statusCode: response.statusCode,
    headers: answerHeaders,
    ...(cookies.length ? { cookies } : {}),
    body: text ? response.body : response.rawPayload.toString('base64'),
    isBase64Encoded: !text,
  };
}

export interface ConsoleHandlerOptions {
  /** `read`: answers GET and HEAD only (the function API Gateway sends them to has no write grant); `act`: everything. */
  mode: 'read' | 'act';
  /** The console's backend: the deployed stack's, as the CLI's aws target opens it. */
  backend: () => Promise<LetheBackend>;
  hostedUiUrl: string;
  clientId: string;
  /** Calls the Hosted UI's token endpoint; default the global fetch. */
  fetch?: typeof fetch;
}

/**
 * The Lambda handler of the deployed console: the app and its backend built once per container,
 * on first use, then every event answered by handleConsoleEvent.
 */
export function consoleHandler(options: ConsoleHandlerOptions): (event: unknown) => Promise<HttpApiResult> {
  let app: Promise<FastifyInstance> | undefined;
  const build = async () => {
    const backend = await options.backend();
    const identity = cognitoIdentity({
      hostedUiUrl: options.hostedUiUrl,
      clientId: options.clientId,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    return (await createConsoleApp({ backend, target: 'aws', identity })).app;
  };
  return async (event) => {
    const method = (event as { requestContext?: { http?: { method?: unknown } } })?.requestContext?.http
      ?.method;
    if (options.mode === 'read' && method !== 'GET' && method !== 'HEAD') {
      return {
        statusCode: 405,
        headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' },
        body: 'This function only reads.',
        isBase64Encoded: false,
      };
    }
    app ??= build();
    app.catch(() => {
      app = undefined;
    });
    return handleConsoleEvent(await app, event);
  };
}
