import { appendAuditEvent, auditDepsOf, auditedSince } from '../audit/log';
import { spellingsOf } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { redactIdentifiers } from '../log';
import { StaleAttemptError } from './errors';
import { deleteManifests } from './manifests';
import { currentAttempt, executionIdFor, FINAL_STATUSES, type RequestRecord } from './request';
import { getRequest, inFlightLockKeys, releaseInFlightLock, updateRequest } from './requests-table';

export interface OutcomeResult {
  requestId: string;
  status: RequestRecord['status'];
}

/** The fields holding raw identifiers or other personal data (corrected values): removed when a request ends. */
export const IDENTIFYING_FIELDS: (keyof RequestRecord)[] = [
  'subject',
  'identities',
  'identityTrust',
  'corrections',
];

/** The audit log's view of the workflow's dependencies. */
export function auditDeps(deps: LetheDeps) {
  return auditDepsOf(deps);
}

function assertCurrent(record: RequestRecord, attempt: number): void {
  if (attempt !== currentAttempt(record)) {
    throw new StaleAttemptError(record.requestId, attempt, currentAttempt(record));
  }
}

/**
 * Whether a request has a final status but its end was not wholly recorded: the process ending it
 * died after the status was written and before its locks, manifests and audit event were dealt
 * with (`outcomePending`), or Verify ended it (rejected, duplicate) and RecordOutcome never ran.
 */
export function endUnsettled(record: RequestRecord): boolean {
  return (
    FINAL_STATUSES.includes(record.status) &&
    (record.outcomePending === true || record.completedAt === undefined)
  );
}

/** The audit event type of each way a request ends. */
const END_EVENT_TYPES = {
  completed: 'request.completed',
  duplicate: 'request.duplicate',
  closed: 'request.closed',
  rejected: 'request.rejected',
} as const;

/**
 * Who ended a request and from where, as its status history says: staff or the reaper for a
 * close (endUnfinishedRequest writes the close before the rest), the workflow otherwise.
 */
function endedBy(
  record: RequestRecord,
  status: RequestRecord['status'],
): { actor: string; previousStatus?: string } {
  // Staff deny (rejected) and cancel (closed) as they close: the history names who.
  if (status !== 'closed' && !record.denial) return { actor: 'lethe:workflow' };
  const history = record.statusHistory;
  const closedAt = history.findLastIndex((change) => change.status === status);
  const closing = history[closedAt];
  if (!closing) return { actor: 'lethe:workflow' };
  const before = history[closedAt - 1];
  return { actor: closing.by, ...(before ? { previousStatus: before.status } : {}) };
}

/**
 * Ends a request: its final status with `outcomePending` and its identities dropped (the keyed
 * hashes stay) in one update, then its manifests deleted, one audit event, its locks released and
 * the mark cleared. Whoever finds the mark finishes the rest, so a process that dies anywhere in
 * here leaves nothing behind for good, and the event is appended once: a rerun looks for it
 * first. The locks go last, so that until all else is done a new request for the subject meets
 * this one (see Verify) and finishes it. A rejected or duplicate request never held the subject,
 * so it has no locks or manifests of its own.
 */
export async function endRequest(deps: LetheDeps, record: RequestRecord): Promise<OutcomeResult> {
  const { requestId } = record;
  const finalStatus = FINAL_STATUSES.includes(record.status) ? record.status : 'completed';
  const completedAt = record.completedAt ?? deps.now().toISOString();
  const rerun = record.outcomePending === true;
  // A denied request may have run (failed, or waiting for review) and hold the subject.
  const heldSubject = finalStatus === 'completed' || finalStatus === 'closed' || record.denial !== undefined;
  if (!rerun || record.subject !== undefined || record.identities !== undefined) {
    await updateRequest(deps, requestId, {
      ...(finalStatus === record.status ? {} : { status: finalStatus }),
      by: 'lethe:record-outcome',
      set: { completedAt, outcomePending: true },
      remove: IDENTIFYING_FIELDS,
    });
  }
  if (heldSubject) await deleteManifests(deps, requestId);
  const type = record.denial
    ? 'request.denied'
    : record.cancellation
      ? 'request.cancelled'
      : (END_EVENT_TYPES[finalStatus as keyof typeof END_EVENT_TYPES] ?? 'request.completed');
  const audited = rerun && (await auditedSince(auditDeps(deps), { requestId, type, since: completedAt }));
  if (!audited) {
    const certificate = record.certificate as { digest?: string } | undefined;
    const { actor, previousStatus } = endedBy(record, finalStatus);
    await appendAuditEvent(auditDeps(deps), {
      type,
      actor,
      requestId,
      subjectHashes: record.subjectHashes,
      details: {
        requestType: record.type,
        status: finalStatus,
        attempt: currentAttempt(record),
        stores: record.stores ?? [],
        ...(previousStatus ? { previousStatus } : {}),
        ...(record.reason ? { reason: record.reason } : {}),
        ...(record.duplicateOf ? { duplicateOf: record.duplicateOf } : {}),
        ...(record.denial ? { denialReason: record.denial.reason, note: record.denial.note } : {}),
        ...(certificate?.digest ? { certificateDigest: certificate.digest } : {}),
        ...(record.export ? { exportSha256: record.export.sha256, exportBytes: record.export.bytes } : {}),
      },
    });
  }
  if (finalStatus === 'completed' || finalStatus === 'rejected') {
    // The subject is told: where the export is, or why the request was refused. A rerun may tell
    // again; notices are keyed by request id and status.
    await deps.notifier?.publish({
      requestId,
      status: finalStatus,
      at: completedAt,
      requestType: record.type,
      dueAt: record.dueAt,
      ...(record.reason ? { reason: record.reason } : {}),
      ...(record.export ? { export: record.export } : {}),
    });
  }
  if (heldSubject) {
    for (const lockKey of inFlightLockKeys(record)) await releaseInFlightLock(deps, lockKey, requestId);
  }
  await updateRequest(deps, requestId, { by: 'lethe:record-outcome', remove: ['outcomePending'] });
  deps.log.info('request ended', { requestId, status: finalStatus });
  return { requestId, status: finalStatus };
}

/**
 * Record outcome: the request's final status, its identities dropped from the record (the
 * keyed hashes stay), manifests deleted, the in-flight lock released, one audit event. Run again
 * (a retried Lambda, a resumed run) it finishes what an earlier run left and repeats nothing.
 * @throws StaleAttemptError when the request has moved on to a later attempt
 */
export async function recordOutcome(deps: LetheDeps, requestId: string, attempt = 1): Promise<OutcomeResult> {
  const record = await getRequest(deps, requestId);
  assertCurrent(record, attempt);
  if (FINAL_STATUSES.includes(record.status) && !endUnsettled(record)) {
    return { requestId, status: record.status };
  }
  return endRequest(deps, record);
}

/**
 * Finishes ending a request whose process died while ending it (see endUnsettled), unless an
 * execution still runs it: called wherever the request is met again (submitted again, retried,
 * holding a subject another request wants). Returns the record as it stands.
 */
export async function settleEndedRequest(deps: LetheDeps, record: RequestRecord): Promise<RequestRecord> {
  if (!endUnsettled(record)) return record;
  const executionId = executionIdFor(record.requestId, currentAttempt(record));
  if (await deps.executions?.isRunning(executionId)) return record;
  await endRequest(deps, record);
  return getRequest(deps, record.requestId);
}

export interface FailureInput {
  requestId: string;
  attempt?: number;
  failure: { state?: string; error?: string; cause?: string };
}

/** The message of a Lambda error Cause (JSON with errorMessage) or the Cause itself. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: a Step Functions cause in plain words
  }
  return cause;
}

/**
 * Record failure: marks the request failed with the failing state and error and appends an audit
 * event. The request keeps its identities, manifests and in-flight locks: it is not over, and
 * `lethe request retry` finishes it from what it had resolved (erasure may have deleted the very
 * rows that revealed some identities), or `lethe request close` ends it. The error text is
 * redacted against the subject's own identities before it is stored anywhere.
 * A failure of a stale attempt (the request was retried since), or one recorded already for this
 * attempt (the step is retried generously), changes nothing.
 */
export async function recordFailure(deps: LetheDeps, input: FailureInput): Promise<OutcomeResult> {
  const record = await getRequest(deps, input.requestId);
  const attempt = input.attempt ?? 1;
  if (attempt !== currentAttempt(record) || FINAL_STATUSES.includes(record.status)) {
    deps.log.warn('failure of a run that no longer counts', { requestId: input.requestId, attempt });
    return { requestId: input.requestId, status: record.status };
  }
  if (record.status === 'failed' && (record.failures ?? []).some((failure) => failure.attempt === attempt)) {
    // Recorded already: RecordFailure retried after it had written, or the execution-ended rule came first.
    return { requestId: input.requestId, status: 'failed' };
  }
  const known = [...(record.subject ?? []), ...(record.identities ?? [])].flatMap(spellingsOf);
  const code = input.failure.error ?? 'UnknownError';
  const message = redactIdentifiers(causeMessage(input.failure.cause), known).slice(0, 1000);
  const state = input.failure.state;
  await updateRequest(deps, input.requestId, {
    status: 'failed',
    by: 'lethe:record-failure',
    note: `${state ? `${state}: ` : ''}${code}`,
    set: { error: { code, message, ...(state ? { state } : {}) } },
    append: { failures: [{ attempt, at: deps.now().toISOString(), code, ...(state ? { state } : {}) }] },
  });
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.failed',
    actor: 'lethe:workflow',
    requestId: input.requestId,
    subjectHashes: record.subjectHashes,
    details: {
      requestType: record.type,
      state: state ?? null,
      error: code,
      message,
      attempt,
      retryable: true,
    },
  });
  deps.log.warn('request failed', { requestId: input.requestId, state, error: code, attempt });
  return { requestId: input.requestId, status: 'failed' };
}
