import { appendAuditEvent } from '../audit/log';
import type { LetheDeps } from '../deps';
import { extendedDueDate } from './deadlines';
import { InvalidRequestError, RequestStateError } from './errors';
import { checkActor, checkNote, endUnfinishedRequest, failIfDead, type RetryResult } from './lifecycle';
import { auditDeps, settleEndedRequest } from './outcome';
import {
  type DenialReason,
  denialReasonSchema,
  executionIdFor,
  FINAL_STATUSES,
  type RequestRecord,
  type RequestStatus,
  requestStatusSchema,
} from './request';
import { getRequest, updateRequest } from './requests-table';
import type { WorkflowStarter } from './submit';

/**
 * What privacy staff decide about requests beside running them: approve or deny one the policy
 * holds for approval, cancel one not yet running, extend a due date as far as the law allows.
 * Each is a conditional transition of the request record and an audit event naming who and why.
 */

const RUNNING: readonly RequestStatus[] = ['received', 'verifying', 'in-progress'];

/** The request as it stands: an end left half-done is finished, a dead run is marked failed. */
async function current(deps: LetheDeps, requestId: string, actor: string): Promise<RequestRecord> {
  const found = await settleEndedRequest(deps, await getRequest(deps, requestId));
  return failIfDead(deps, found, `staff:${actor}`);
}

function describeState(record: RequestRecord): string {
  if (FINAL_STATUSES.includes(record.status)) return 'it has ended';
  if (RUNNING.includes(record.status)) return 'it is running';
  if (record.status === 'failed') return `it failed: "lethe request retry" or "lethe request close"`;
  if (record.status === 'pending-review')
    return `it waits for review: "lethe request review ${record.requestId}"`;
  return `it waits for approval: "lethe request approve ${record.requestId}" or "deny"`;
}

function requireStatus(record: RequestRecord, allowed: readonly RequestStatus[], verb: string): void {
  if (allowed.includes(record.status)) return;
  throw new RequestStateError(
    `request ${record.requestId} is ${record.status}: only a ${allowed.join(' or ')} request can be ${verb}; ${describeState(record)}`,
  );
}

/** Names compared as people write them: case and surrounding space aside. */
function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Approves a request the policy held for approval and starts its first attempt. Whoever
 * submitted a request may not approve it (four eyes).
 * @throws RequestStateError when it does not wait for approval (nothing changes)
 * @throws InvalidRequestError when `by` is missing or is the submitter
 */
export async function approveRequest(
  deps: LetheDeps,
  starter: WorkflowStarter,
  requestId: string,
  by: string,
): Promise<RetryResult> {
  const actor = checkActor(by);
  const record = await current(deps, requestId, actor);
  requireStatus(record, ['pending-approval'], 'approved');
  if (sameName(record.submittedBy, actor)) {
    throw new InvalidRequestError(
      `${actor} submitted request ${requestId} and cannot approve it too: another person approves`,
    );
  }
  const at = deps.now().toISOString();
  const executionId = executionIdFor(requestId, 1);
  await updateRequest(deps, requestId, {
    status: 'received',
    by: actor,
    note: 'approved',
    set: { approval: { by: actor, at }, attempt: 1 },
    append: { attempts: [{ attempt: 1, executionId, startedAt: at, by: actor, reason: 'submitted' }] },
    onlyIf: ['pending-approval'],
  });
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.approved',
    actor,
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, jurisdiction: record.jurisdiction, submittedBy: record.submittedBy },
  });
  deps.log.info('request approved', { requestId });
  const execution = await starter.start({ requestId, attempt: 1 });
  return { requestId, attempt: 1, execution };
}

export interface DenyInput {
  by: string;
  reason: string;
  /** The explanation the subject is given: it must not name anyone. */
  note: string;
}

/**
 * Denies a request that is not running (waiting for approval, failed, or waiting for review): it
 * ends `rejected` with the reason the subject is owed, as any ended request ends (identities
 * dropped, manifests deleted, locks released), audited as `request.denied`, and the subject is
 * notified with the reason.
 * @throws InvalidRequestError for a missing actor, an unknown reason, or a note that is missing or names the subject
 * @throws RequestStateError when the request is running or has ended (nothing changes)
 */
export async function denyRequest(
  deps: LetheDeps,
  requestId: string,
  input: DenyInput,
  /** Called once the denial is accepted, before anything is dropped (locally: ask for compaction). */
  beforeEnd?: () => void,
): Promise<RequestRecord> {
  const actor = checkActor(input.by);
  const parsed = denialReasonSchema.safeParse(input.reason);
  if (!parsed.success) {
    throw new InvalidRequestError(
      `give the reason for the denial: --reason ${denialReasonSchema.options.join('|')}`,
    );
  }
  const record = await current(deps, requestId, actor);
  requireStatus(record, ['pending-approval', 'failed', 'pending-review'], 'denied');
  const note = checkNote(input.note, record, 'note (--note)');
  const reason: DenialReason = parsed.data;
  const at = deps.now().toISOString();
  beforeEnd?.();
  // Ended as any request ends (endRequest), which audits it as request.denied and tells the subject.
  await endUnfinishedRequest(deps, record, {
    actor,
    reason: `denied (${reason}): ${note}`,
    onlyIf: [record.status],
    status: 'rejected',
    set: { denial: { reason, note, by: actor, at } },
  });
  return getRequest(deps, requestId);
}

/**
 * Cancels a request before it runs (while it waits for approval): it is closed with the reason,
 * its identities dropped, audited as `request.cancelled`.
 * @throws RequestStateError when the request is running, waiting for something else, or ended
 * @throws InvalidRequestError for a missing actor or a reason that is missing or names the subject
 */
export async function cancelRequest(
  deps: LetheDeps,
  requestId: string,
  by: string,
  reason: string,
  beforeEnd?: () => void,
): Promise<RequestRecord> {
  const actor = checkActor(by);
  const record = await current(deps, requestId, actor);
  requireStatus(record, ['pending-approval'], 'cancelled');
  const note = checkNote(reason, record, 'reason');
  beforeEnd?.();
  await endUnfinishedRequest(deps, record, {
    actor,
    reason: `cancelled: ${note}`,
    onlyIf: ['pending-approval'],
    set: { cancellation: { by: actor, at: deps.now().toISOString() } },
  });
  return getRequest(deps, requestId);
}

export interface ExtendInput {
  by: string;
  days: number;
  /** Why more time is needed, as the subject is told: it must not name anyone. */
  reason: string;
}

/**
 * Extends a request's due date, once, as far as its law allows (see extendedDueDate), recorded
 * with who and why, audited as `request.extended`, and the subject notified of the new date.
 * @throws InvalidRequestError when the law does not allow it (saying which rule), or for bad input
 * @throws RequestStateError when the request has ended (nothing changes)
 */
export async function extendRequest(
  deps: LetheDeps,
  requestId: string,
  input: ExtendInput,
): Promise<RequestRecord> {
  const actor = checkActor(input.by);
  const record = await getRequest(deps, requestId);
  if (FINAL_STATUSES.includes(record.status)) {
    throw new RequestStateError(
      `request ${requestId} is ${record.status}: an ended request has no deadline to extend`,
    );
  }
  const reason = checkNote(input.reason, record, 'reason');
  const now = deps.now();
  const extended = extendedDueDate(record, input.days, now);
  if ('refused' in extended)
    throw new InvalidRequestError(`cannot extend request ${requestId}: ${extended.refused}`);
  const dueAt = extended.dueAt.toISOString();
  const at = now.toISOString();
  await updateRequest(deps, requestId, {
    by: actor,
    set: { dueAt, extension: { days: input.days, by: actor, at, reason, previousDueAt: record.dueAt } },
    onlyIf: requestStatusSchema.options.filter((status) => !FINAL_STATUSES.includes(status)),
    unlessSet: ['extension'],
  });
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.extended',
    actor,
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, days: input.days, previousDueAt: record.dueAt, dueAt, reason },
  });
  deps.log.info('request extended', { requestId, days: input.days });
  await deps.notifier?.publish({
    requestId,
    status: 'extended',
    at,
    requestType: record.type,
    dueAt,
    reason,
  });
  return getRequest(deps, requestId);
}
