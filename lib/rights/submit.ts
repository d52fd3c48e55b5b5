import { randomUUID } from 'node:crypto';
import { appendAuditEvent } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import {
  type Identity,
  InvalidIdentityError,
  mergeIdentities,
  normaliseSpelledIdentity,
} from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { dueDate } from './deadlines';
import { InvalidRequestError, RequestAlreadyExistsError } from './errors';
import {
  MAX_SUBJECT_SPELLINGS,
  type RequestRecord,
  type SubmitRequest,
  type SubmitRequestInput,
  submitRequestSchema,
} from './request';
import { findRequest, putNewRequest } from './requests-table';

/** Starts the workflow for a request: Step Functions on AWS, the embedded runtime locally. */
export interface WorkflowStarter {
  /** Must be idempotent per request id: the execution name is the request id. */
  start(requestId: string): Promise<{ executionId: string; alreadyStarted: boolean }>;
}

/**
 * Parses and validates a submission: schema, then every identity against the data map.
 * @throws InvalidRequestError listing every problem (identities by type, never by value)
 */
export function parseSubmission(
  deps: Pick<LetheDeps, 'dataMap'>,
  input: unknown,
): { request: SubmitRequest; identities: Identity[] } {
  const parsed = submitRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) =>
        `${issue.path.join('.') || 'request'}: ${issue.path.includes('value') || issue.path.includes('spellings') ? 'invalid value' : issue.message}`,
    );
    throw new InvalidRequestError(`invalid request: ${issues.join('; ')}`, issues);
  }
  const identities: Identity[] = [];
  const issues: string[] = [];
  for (const given of parsed.data.subject) {
    try {
      // The value as given is kept as a spelling: a store may hold it exactly so.
      identities.push(normaliseSpelledIdentity(deps.dataMap, given));
    } catch (error) {
      if (!(error instanceof InvalidIdentityError)) throw error;
      issues.push(error.message);
    }
  }
  const subject = mergeIdentities(identities);
  for (const identity of subject) {
    if ((identity.spellings?.length ?? 0) > MAX_SUBJECT_SPELLINGS) {
      issues.push(`${identity.type} identity has more than ${MAX_SUBJECT_SPELLINGS} spellings`);
    }
  }
  if (issues.length > 0) throw new InvalidRequestError(`invalid subject: ${issues.join('; ')}`, issues);
  return { request: parsed.data, identities: subject };
}

export interface SubmitResult {
  requestId: string;
  record: RequestRecord;
  /** False when the request id existed already: nothing was written or started again. */
  created: boolean;
  executionId?: string;
}

/**
 * Validates a request, writes it to the requests table and starts its workflow with the
 * request id as execution name. Submitting the same request id again changes nothing and
 * starts nothing new; a different request under a used id is refused.
 * @throws InvalidRequestError (nothing is written) or RequestAlreadyExistsError
 */
export async function submitRequest(
  deps: LetheDeps,
  starter: WorkflowStarter,
  input: SubmitRequestInput | unknown,
): Promise<SubmitResult> {
  const { request, identities } = parseSubmission(deps, input);
  const requestId = request.requestId ?? randomUUID();
  const receivedAt = request.receivedAt ? new Date(request.receivedAt) : deps.now();
  const subjectHashes = hashIdentities(deps.keys.subjectHash, identities);
  const submittedBy = request.submittedBy ?? request.verification?.verifiedBy ?? 'unknown';
  const record: RequestRecord = {
    requestId,
    type: request.type,
    jurisdiction: request.jurisdiction,
    channel: request.channel,
    status: 'received',
    receivedAt: receivedAt.toISOString(),
    dueAt: dueDate(request.jurisdiction, receivedAt).toISOString(),
    ...(request.verification
      ? {
          verification: {
            ...request.verification,
            verifiedAt: request.verification.verifiedAt ?? deps.now().toISOString(),
          },
        }
      : {}),
    submittedBy,
    subject: identities,
    subjectHashes,
    statusHistory: [{ status: 'received', at: deps.now().toISOString(), by: submittedBy }],
  };

  const created = await putNewRequest(deps, record);
  if (!created) {
    const existing = await findRequest(deps, requestId);
    if (
      !existing ||
      existing.type !== record.type ||
      existing.subjectHashes.join() !== record.subjectHashes.join()
    ) {
      throw new RequestAlreadyExistsError(requestId);
    }
    // The same request again: start is idempotent, so a crash between put and start heals here.
    const started = await starter.start(requestId);
    return { requestId, record: existing, created: false, executionId: started.executionId };
  }
  await appendAuditEvent(
    { doc: deps.doc, auditTable: deps.resources.auditTable, now: deps.now },
    {
      type: 'request.received',
      actor: submittedBy,
      requestId,
      subjectHashes,
      details: {
        requestType: record.type,
        jurisdiction: record.jurisdiction,
        channel: record.channel,
        dueAt: record.dueAt,
      },
    },
  );
  deps.log.info('request received', {
    requestId,
    requestType: record.type,
    jurisdiction: record.jurisdiction,
  });
  const started = await starter.start(requestId);
  return { requestId, record, created: true, executionId: started.executionId };
}
