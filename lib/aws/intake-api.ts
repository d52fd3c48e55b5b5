import * as z from 'zod';
import type { LetheDeps } from '../deps';
import { requestIdSchema } from '../rights/request';
import { getRequest } from '../rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../rights/submit';
import { summariseRequest } from '../rights/summary';

/**
 * The intake HTTP API (API Gateway, IAM-authorised) for a privacy portal: `POST /requests`
 * submits a request through the same intake code as the CLI (submitRequest), `GET
 * /requests/{requestId}` reads its status. API Gateway validates the body against a model first;
 * submitRequest validates it again, as it does for every caller. Answers never carry the subject.
 */

/** The part of an API Gateway (REST, Lambda proxy) event the intake API reads. */
const apiEventSchema = z.object({
  httpMethod: z.string(),
  resource: z.string(),
  pathParameters: z.record(z.string(), z.string()).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.object({
    identity: z.object({ userArn: z.string().nullish(), caller: z.string().nullish() }).partial().optional(),
  }),
});
export type IntakeApiEvent = z.infer<typeof apiEventSchema>;

export interface IntakeApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Whether an invocation came through API Gateway (else it is a direct invoke with the request JSON). */
export function isIntakeApiEvent(event: unknown): boolean {
  return apiEventSchema.safeParse(event).success;
}

/** The HTTP status of each error an intake call can end with: bad input is the caller's, the rest ours. */
const STATUS_OF_ERROR: Record<string, number> = {
  InvalidRequestError: 400,
  InvalidIdentityError: 400,
  RequestNotFoundError: 404,
  RequestAlreadyExistsError: 409,
};

function respond(statusCode: number, body: unknown): IntakeApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function parseBody(event: IntakeApiEvent): unknown {
  const text = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Answers one intake API call. The submitter recorded is the body's `submittedBy`, else the IAM
 * principal that signed the call (the portal's role), so approvals can tell who submitted.
 * Errors of the caller's input are 4xx with their message (which never names the subject); any
 * other error is a 500 without detail, logged.
 */
export async function handleIntakeApi(
  deps: LetheDeps,
  starter: WorkflowStarter,
  event: unknown,
): Promise<IntakeApiResponse> {
  const parsed = apiEventSchema.safeParse(event);
  if (!parsed.success) return respond(400, { error: 'not an API Gateway request' });
  const call = parsed.data;
  try {
    if (call.httpMethod === 'POST' && call.resource === '/requests') {
      const body = parseBody(call);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return respond(400, { error: 'the body must be a JSON object: the request' });
      }
      const principal = call.requestContext.identity?.userArn ?? call.requestContext.identity?.caller;
      const input = {
        channel: 'api',
        ...(principal ? { submittedBy: principal } : {}),
        ...body,
      };
      const { requestId, created, record } = await submitRequest(deps, starter, input);
      return respond(created ? 201 : 200, {
        requestId,
        created,
        status: record.status,
        dueAt: record.dueAt,
      });
    }
    if (call.httpMethod === 'GET' && call.resource === '/requests/{requestId}') {
      const requestId = requestIdSchema.safeParse(call.pathParameters?.requestId);
      if (!requestId.success) return respond(400, { error: 'not a request id' });
      return respond(200, summariseRequest(await getRequest(deps, requestId.data)));
    }
    return respond(404, { error: `no ${call.httpMethod} ${call.resource}` });
  } catch (error) {
    const status = STATUS_OF_ERROR[(error as Error).name];
    if (status) return respond(status, { error: (error as Error).message });
    deps.log.error('intake API call failed', { error: (error as Error).name });
    return respond(500, { error: 'internal error' });
  }
}
