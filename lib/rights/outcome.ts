import { appendAuditEvent } from '../audit/log';
import { spellingsOf } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { redactIdentifiers } from '../log';
import { deleteManifests } from './manifests';
import { FINAL_STATUSES, type RequestRecord } from './request';
import { getRequest, releaseInFlightLock, updateRequest } from './requests-table';
import { inFlightLockKeys } from './verify';

export interface OutcomeResult {
  requestId: string;
  status: RequestRecord['status'];
}

/** The fields holding raw identifiers: removed when a request ends. */
const IDENTIFYING_FIELDS: (keyof RequestRecord)[] = ['subject', 'identities'];

async function closeRequest(deps: LetheDeps, record: RequestRecord): Promise<void> {
  for (const lockKey of inFlightLockKeys(record)) await releaseInFlightLock(deps, lockKey, record.requestId);
  await deleteManifests(deps, record.requestId);
}

function auditDeps(deps: LetheDeps) {
  return { doc: deps.doc, auditTable: deps.resources.auditTable, now: deps.now };
}

/**
 * Record outcome: the request's final status, its identities dropped from the record (the
 * keyed hashes stay), manifests deleted, the in-flight lock released, one audit event.
 */
export async function recordOutcome(deps: LetheDeps, requestId: string): Promise<OutcomeResult> {
  const record = await getRequest(deps, requestId);
  const finalStatus = FINAL_STATUSES.includes(record.status) ? record.status : 'completed';
  const completedAt = deps.now().toISOString();
  await updateRequest(deps, requestId, {
    ...(finalStatus === record.status ? {} : { status: finalStatus }),
    by: 'lethe:record-outcome',
    set: { completedAt },
    remove: IDENTIFYING_FIELDS,
  });
  if (finalStatus === 'completed') await closeRequest(deps, record);
  const certificate = record.certificate as { digest?: string } | undefined;
  await appendAuditEvent(auditDeps(deps), {
    type:
      finalStatus === 'completed'
        ? 'request.completed'
        : finalStatus === 'duplicate'
          ? 'request.duplicate'
          : 'request.rejected',
    actor: 'lethe:workflow',
    requestId,
    subjectHashes: record.subjectHashes,
    details: {
      requestType: record.type,
      status: finalStatus,
      stores: record.stores ?? [],
      ...(record.reason ? { reason: record.reason } : {}),
      ...(certificate?.digest ? { certificateDigest: certificate.digest } : {}),
      ...(record.export ? { exportSha256: record.export.sha256, exportBytes: record.export.bytes } : {}),
    },
  });
  deps.log.info('request ended', { requestId, status: finalStatus });
  return { requestId, status: finalStatus };
}

export interface FailureInput {
  requestId: string;
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
 * Record failure: marks the request failed with the failing state and error, drops its
 * identities, deletes manifests, releases the lock and appends an audit event. The error
 * text is redacted against the subject's own identities before it is stored anywhere.
 */
export async function recordFailure(deps: LetheDeps, input: FailureInput): Promise<OutcomeResult> {
  const record = await getRequest(deps, input.requestId);
  const known = [...(record.subject ?? []), ...(record.identities ?? [])].flatMap(spellingsOf);
  const code = input.failure.error ?? 'UnknownError';
  const message = redactIdentifiers(causeMessage(input.failure.cause), known).slice(0, 1000);
  const state = input.failure.state;
  await updateRequest(deps, input.requestId, {
    status: 'failed',
    by: 'lethe:record-failure',
    note: `${state ? `${state}: ` : ''}${code}`,
    set: { error: { code, message, ...(state ? { state } : {}) }, completedAt: deps.now().toISOString() },
    remove: IDENTIFYING_FIELDS,
  });
  await closeRequest(deps, record);
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.failed',
    actor: 'lethe:workflow',
    requestId: input.requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, state: state ?? null, error: code, message },
  });
  deps.log.warn('request failed', { requestId: input.requestId, state, error: code });
  return { requestId: input.requestId, status: 'failed' };
}
