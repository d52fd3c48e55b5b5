import { appendAuditEvent, auditDepsOf } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import type { LetheDeps } from '../deps';
import { InvalidRequestError, RequestStateError, StaleAttemptError } from './errors';
import { failIfDead } from './lifecycle';
import { settleEndedRequest } from './outcome';
import { policyFor } from './policy';
import { currentAttempt, FINAL_STATUSES, type RequestRecord, type RequestType } from './request';
import {
  acquireInFlightLock,
  findRequest,
  getRequest,
  inFlightLockKeys,
  releaseInFlightLock,
  updateRequest,
} from './requests-table';
import { auditReceipt, parseSubmission } from './submit';

export type VerifyOutcome = 'proceed' | 'rejected' | 'duplicate';

export interface VerifyResult {
  requestId: string;
  type: RequestType;
  outcome: VerifyOutcome;
}

/**
 * Whether the requester must have been verified as the subject: for every right, since each
 * discloses, changes or destroys data or stops processing, but an opt-out of sale or sharing,
 * which CCPA lets anyone make unverified.
 */
export function needsVerification(record: Pick<RequestRecord, 'type' | 'scope'>): boolean {
  return !(record.type === 'objection' && record.scope === 'sale-or-sharing');
}
const ACTOR = 'lethe:verify';

function rejectionReason(deps: Pick<LetheDeps, 'dataMap'>, record: RequestRecord): string | undefined {
  try {
    parseSubmission(deps, {
      type: record.type,
      subject: record.subject ?? [],
      jurisdiction: record.jurisdiction,
      ...(record.scope ? { scope: record.scope } : {}),
      ...(record.corrections ? { corrections: record.corrections } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.message;
    throw error;
  }
  // Which rights need a verified requester is the request policy's (built-in defaults, the data
  // map's rules); an opt-out of sale or sharing never does (needsVerification).
  if (
    needsVerification(record) &&
    policyFor(deps.dataMap, record.type, record.jurisdiction).verification &&
    !record.verification?.verifiedBy
  ) {
    return `identity verification is required for ${record.type} requests: record the method and who verified the requester`;
  }
  return undefined;
}

/** How things stand with the request holding a lock another request wants. */
type HolderState = 'running' | 'failed' | 'pending-review' | 'ended';

/**
 * Looks at the request holding an in-flight lock. A holder still marked as running whose
 * execution is no longer running is marked failed (see failIfDead), so it is finished instead of
 * blocking its subject forever.
 */
async function holderState(deps: LetheDeps, holderId: string): Promise<HolderState> {
  const found = await findRequest(deps, holderId);
  if (!found) return 'ended';
  if (FINAL_STATUSES.includes(found.status)) {
    // Its process died while ending it: finish that (manifests, audit) before taking its lock.
    await settleEndedRequest(deps, found);
    return 'ended';
  }
  const holder = await failIfDead(deps, found, ACTOR);
  if (holder.status === 'failed' || holder.status === 'pending-review') return holder.status;
  return FINAL_STATUSES.includes(holder.status) ? 'ended' : 'running';
}

function duplicateNote(type: RequestType, holderId: string, state: Exclude<HolderState, 'ended'>): string {
  switch (state) {
    case 'running':
      return `the same ${type} request for this subject is already in progress as ${holderId}`;
    case 'failed':
      return `the same ${type} request for this subject failed as ${holderId} and still holds the subject: finish it with "lethe request retry ${holderId}" or end it with "lethe request close ${holderId}"`;
    case 'pending-review':
      return `the same ${type} request for this subject is waiting for review as ${holderId}: "lethe request review ${holderId}"`;
  }
}

/**
 * Takes every in-flight lock of the request, or none: returns the holder that keeps one and how
 * it stands. A lock left by a request that has ended (its process died between recording the
 * outcome and releasing the lock) is taken over.
 */
async function acquireLocks(
  deps: LetheDeps,
  requestId: string,
  lockKeys: string[],
): Promise<{ holderId: string; state: Exclude<HolderState, 'ended'> } | undefined> {
  const acquired: string[] = [];
  for (const lockKey of lockKeys) {
    let holder = await acquireInFlightLock(deps, lockKey, requestId);
    if (holder !== requestId && (await holderState(deps, holder)) === 'ended') {
      await releaseInFlightLock(deps, lockKey, holder);
      holder = await acquireInFlightLock(deps, lockKey, requestId);
    }
    if (holder !== requestId) {
      for (const held of acquired) await releaseInFlightLock(deps, held, requestId);
      const state = await holderState(deps, holder);
      return { holderId: holder, state: state === 'ended' ? 'running' : state };
    }
    acquired.push(lockKey);
  }
  return undefined;
}

/**
 * Verify: re-checks the request as stored (schema, identities, evidence of verification), and marks a request duplicate when the same request for
 * the same subject is already in flight — or has failed or waits for review, in which case the
 * note says which request to retry, close or review instead. Running it twice for one request
 * (a resumed run, a retry) is harmless.
 * @throws StaleAttemptError when the execution runs an attempt the request has moved past
 */
export async function verifyRequest(deps: LetheDeps, requestId: string, attempt = 1): Promise<VerifyResult> {
  const record = await getRequest(deps, requestId);
  if (attempt !== currentAttempt(record))
    throw new StaleAttemptError(requestId, attempt, currentAttempt(record));
  // The process that submitted it died before the audit log heard of it.
  if (record.receiptPending) await auditReceipt(deps, record, true);
  if (FINAL_STATUSES.includes(record.status)) {
    const outcome: VerifyOutcome = record.status === 'duplicate' ? 'duplicate' : 'rejected';
    return { requestId, type: record.type, outcome };
  }
  if (record.status === 'failed' || record.status === 'pending-review') {
    throw new RequestStateError(
      `request ${requestId} is ${record.status}: it runs again only through "lethe request ${record.status === 'failed' ? 'retry' : 'review'}"`,
    );
  }
  if (record.status === 'pending-approval') {
    throw new RequestStateError(
      `request ${requestId} waits for approval: it runs only through "lethe request approve"`,
    );
  }

  const reason = rejectionReason(deps, record);
  if (reason) {
    await updateRequest(deps, requestId, { status: 'rejected', by: ACTOR, note: reason, set: { reason } });
    deps.log.info('request rejected', { requestId, requestType: record.type });
    return { requestId, type: record.type, outcome: 'rejected' };
  }

  const hashes = hashIdentities(deps.keys.subjectHash, record.subject ?? []);
  const blocked = await acquireLocks(
    deps,
    requestId,
    inFlightLockKeys({ subjectHashes: hashes, type: record.type }),
  );
  if (blocked) {
    const note = duplicateNote(record.type, blocked.holderId, blocked.state);
    await updateRequest(deps, requestId, {
      status: 'duplicate',
      by: ACTOR,
      note,
      set: { reason: note, duplicateOf: blocked.holderId },
    });
    deps.log.info('request duplicate', { requestId, duplicateOf: blocked.holderId, holder: blocked.state });
    return { requestId, type: record.type, outcome: 'duplicate' };
  }
  if (record.status !== 'in-progress') {
    await updateRequest(deps, requestId, {
      status: 'in-progress',
      by: ACTOR,
      set: { subjectHashes: hashes },
    });
  }
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.verified',
    actor: ACTOR,
    requestId,
    subjectHashes: hashes,
    details: {
      requestType: record.type,
      attempt,
      verification: record.verification?.method ?? null,
      verifiedBy: record.verification?.verifiedBy ?? null,
    },
  });
  deps.log.info('request verified', { requestId, requestType: record.type, attempt });
  return { requestId, type: record.type, outcome: 'proceed' };
}
