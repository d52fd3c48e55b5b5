import { randomUUID } from 'node:crypto';
import { appendAuditEvent, auditDepsOf, auditedSince } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import {
  type Identity,
  InvalidIdentityError,
  mergeIdentities,
  normaliseIdentity,
  normaliseSpelledIdentity,
} from '../datamap/identity';
import { rectifiableFields } from '../datamap/rights';
import type { LetheDeps } from '../deps';
import { dueDate } from './deadlines';
import { InvalidRequestError, RequestAlreadyExistsError } from './errors';
import { settleEndedRequest } from './outcome';
import { policyFor } from './policy';
import {
  type CorrectionValue,
  currentAttempt,
  executionIdFor,
  FINAL_STATUSES,
  MAX_SUBJECT_SPELLINGS,
  type RequestRecord,
  type SubmitRequest,
  type SubmitRequestInput,
  submitRequestSchema,
  WAITING_STATUSES,
} from './request';
import { findRequest, putNewRequest, updateRequest } from './requests-table';

/** Which run of a request to start: the execution is named by request id and attempt. */
export interface ExecutionStart {
  requestId: string;
  attempt: number;
}

export interface StartedExecution {
  executionId: string;
  /** The execution existed already (running, or ended): nothing new was started. */
  alreadyStarted: boolean;
  /** The execution had been started before and its process died; it was run again from the request's saved state. */
  resumed?: boolean;
}

/** Starts the workflow for a request: Step Functions on AWS, the embedded runtime locally. */
export interface WorkflowStarter {
  /** Idempotent per execution: the execution name is the request id and attempt (executionIdFor). */
  start(execution: ExecutionStart): Promise<StartedExecution>;
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/;

/**
 * Checks a rectification's corrections against the data map: each field must be one some store
 * declares rectifiable, and a field holding an identity type gets a valid value of it, normalised.
 * Problems name the field, never the value (a correction is personal data); a field name that is
 * not an attribute name (it could be a value typed in the wrong place) is not repeated either.
 */
function checkCorrections(
  deps: Pick<LetheDeps, 'dataMap'>,
  corrections: Record<string, CorrectionValue>,
  issues: string[],
): Record<string, CorrectionValue> {
  const fields = rectifiableFields(deps.dataMap);
  const known = [...fields.keys()];
  const checked: Record<string, CorrectionValue> = {};
  for (const [field, value] of Object.entries(corrections)) {
    if (!FIELD_NAME.test(field)) {
      issues.push('a correction names a field that is not an attribute name (letters, digits, _ . -)');
      continue;
    }
    const declared = fields.get(field);
    if (!declared) {
      issues.push(
        `field "${field}" is not rectifiable: ${known.length > 0 ? `the data map declares ${known.join(', ')}` : 'no store declares rectifiable attributes (rectify.attributes)'}`,
      );
      continue;
    }
    if (declared.identity) {
      if (typeof value !== 'string') {
        issues.push(
          `field "${field}" holds ${declared.identity} identities: give the corrected value as text`,
        );
        continue;
      }
      try {
        checked[field] = normaliseIdentity(deps.dataMap, declared.identity, value).value;
      } catch (error) {
        if (!(error instanceof InvalidIdentityError)) throw error;
        issues.push(`field "${field}": the corrected value is not a valid ${declared.identity}`);
      }
      continue;
    }
    if (typeof value === 'string' && value.trim().length === 0) {
      issues.push(
        `field "${field}": the corrected value is empty (erasure removes data; rectification corrects it)`,
      );
      continue;
    }
    checked[field] = value;
  }
  return checked;
}

/**
 * Parses and validates a submission: schema, then every identity against the data map, and a
 * rectification's corrections against the fields the data map declares rectifiable.
 * @throws InvalidRequestError listing every problem (identities by type, never by value)
 */
export function parseSubmission(
  deps: Pick<LetheDeps, 'dataMap'>,
  input: unknown,
): { request: SubmitRequest; identities: Identity[]; corrections?: Record<string, CorrectionValue> } {
  const parsed = submitRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) =>
        `${issue.path[0] === 'corrections' ? 'corrections' : issue.path.join('.') || 'request'}: ${issue.path.includes('value') || issue.path.includes('spellings') || (issue.path[0] === 'corrections' && issue.path.length > 1) ? 'invalid value' : issue.message}`,
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
  if (parsed.data.corrections === undefined) return { request: parsed.data, identities: subject };
  const corrections = checkCorrections(deps, parsed.data.corrections, issues);
  if (issues.length > 0) throw new InvalidRequestError(`invalid corrections: ${issues.join('; ')}`, issues);
  return { request: parsed.data, identities: subject, corrections };
}

/**
 * What submitting did: `created` a new request and ran it; `resumed` a request submitted before
 * whose run died (or whose submitting process died before starting it), run now from its saved
 * state; `unchanged` when the request had ended or is waiting for staff (retry, close, review), or
 * its execution is still running.
 */
export type SubmitOutcome = 'created' | 'resumed' | 'unchanged';

export interface SubmitResult {
  requestId: string;
  record: RequestRecord;
  outcome: SubmitOutcome;
  /** False when the request id existed already. */
  created: boolean;
  executionId?: string;
}

/**
 * Validates a request, writes it to the requests table and starts its workflow with the
 * request id as execution name. Submitting the same request again creates nothing: a request
 * whose run died is resumed from its saved state, one still running or already ended is left as
 * it is. A different request under a used id is refused.
 * @throws InvalidRequestError (nothing is written) or RequestAlreadyExistsError
 */
export async function submitRequest(
  deps: LetheDeps,
  starter: WorkflowStarter,
  input: SubmitRequestInput | unknown,
): Promise<SubmitResult> {
  const { request, identities, corrections } = parseSubmission(deps, input);
  const requestId = request.requestId ?? randomUUID();
  const receivedAt = request.receivedAt ? new Date(request.receivedAt) : deps.now();
  const subjectHashes = hashIdentities(deps.keys.subjectHash, identities);
  const submittedBy = request.submittedBy ?? request.verification?.verifiedBy ?? 'unknown';
  const now = deps.now().toISOString();
  // The policy may hold it for staff: then it waits, with no execution, until approved.
  const waits = policyFor(deps.dataMap, request.type, request.jurisdiction).approval;
  const status = waits ? 'pending-approval' : 'received';
  const record: RequestRecord = {
    requestId,
    type: request.type,
    jurisdiction: request.jurisdiction,
    channel: request.channel,
    status,
    receivedAt: receivedAt.toISOString(),
    dueAt: dueDate(request.jurisdiction, receivedAt).toISOString(),
    ...(request.verification
      ? { verification: { ...request.verification, verifiedAt: request.verification.verifiedAt ?? now } }
      : {}),
    submittedBy,
    ...(request.scope ? { scope: request.scope } : {}),
    ...(corrections ? { corrections } : {}),
    subject: identities,
    subjectHashes,
    statusHistory: [{ status, at: now, by: submittedBy }],
    attempt: 1,
    attempts: waits
      ? []
      : [
          {
            attempt: 1,
            executionId: executionIdFor(requestId, 1),
            startedAt: now,
            by: submittedBy,
            reason: 'submitted',
          },
        ],
    receiptPending: true,
  };

  const created = await putNewRequest(deps, record);
  if (!created) {
    const existing = await findRequest(deps, requestId);
    if (
      !existing ||
      existing.type !== record.type ||
      existing.scope !== record.scope ||
      existing.subjectHashes.join() !== record.subjectHashes.join()
    ) {
      throw new RequestAlreadyExistsError(requestId);
    }
    if (FINAL_STATUSES.includes(existing.status)) {
      // Its process may have died while ending it: finish that, then say nothing was run again.
      const settled = await settleEndedRequest(deps, existing);
      return { requestId, record: settled, outcome: 'unchanged', created: false };
    }
    if (WAITING_STATUSES.includes(existing.status)) {
      return { requestId, record: existing, outcome: 'unchanged', created: false };
    }
    // The same request again while it is not over: starting is idempotent, so a crash between
    // the put and the start, or a process that died mid-run, heals here. Whatever the starter
    // did not find started, this submission ran: its process died before the execution began.
    const started = await starter.start({ requestId, attempt: currentAttempt(existing) });
    return {
      requestId,
      record: existing,
      outcome: started.alreadyStarted ? 'unchanged' : 'resumed',
      created: false,
      executionId: started.executionId,
    };
  }
  await auditReceipt(deps, record);
  deps.log.info('request received', {
    requestId,
    requestType: record.type,
    jurisdiction: record.jurisdiction,
    status,
  });
  if (waits) return { requestId, record, outcome: 'created', created: true };
  const started = await starter.start({ requestId, attempt: 1 });
  return { requestId, record, outcome: 'created', created: true, executionId: started.executionId };
}

/**
 * Appends a request's `request.received` audit event and clears its `receiptPending` mark. Called
 * once the record is written, and by Verify for a request whose submitting process died before
 * (`recovering`): then the event is appended only if that process had not appended it already.
 */
export async function auditReceipt(
  deps: LetheDeps,
  record: RequestRecord,
  recovering = false,
): Promise<void> {
  const audit = auditDepsOf(deps);
  const since = record.statusHistory[0]?.at ?? record.receivedAt;
  const audited =
    recovering &&
    (await auditedSince(audit, { requestId: record.requestId, type: 'request.received', since }));
  if (!audited) {
    await appendAuditEvent(audit, {
      type: 'request.received',
      actor: record.submittedBy ?? 'unknown',
      requestId: record.requestId,
      subjectHashes: record.subjectHashes,
      details: {
        requestType: record.type,
        jurisdiction: record.jurisdiction,
        channel: record.channel,
        dueAt: record.dueAt,
        ...(record.status === 'pending-approval' ? { awaitsApproval: true } : {}),
        ...(record.scope ? { scope: record.scope } : {}),
        // The fields a rectification corrects, never their values.
        ...(record.corrections ? { fields: Object.keys(record.corrections).sort() } : {}),
      },
    });
  }
  await updateRequest(deps, record.requestId, { by: 'lethe:submit', remove: ['receiptPending'] });
}
