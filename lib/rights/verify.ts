import { hashIdentities } from '../audit/subject-hash';
import type { LetheDeps } from '../deps';
import { InvalidRequestError } from './errors';
import { FINAL_STATUSES, type RequestRecord, type RequestType, SUPPORTED_REQUEST_TYPES } from './request';
import { acquireInFlightLock, getRequest, releaseInFlightLock, updateRequest } from './requests-table';
import { parseSubmission } from './submit';

export type VerifyOutcome = 'proceed' | 'rejected' | 'duplicate';

export interface VerifyResult {
  requestId: string;
  type: RequestType;
  outcome: VerifyOutcome;
}

/** Rights whose fulfilment discloses or destroys data: the requester must have been verified. */
const NEEDS_VERIFICATION: readonly RequestType[] = ['access', 'portability', 'erasure', 'rectification'];
const ACTOR = 'lethe:verify';

/** The lock keys that make a request a duplicate: one per identity hash and request type. */
export function inFlightLockKeys(record: Pick<RequestRecord, 'subjectHashes' | 'type'>): string[] {
  return record.subjectHashes.map((hash) => `${hash}#${record.type}`);
}

function rejectionReason(deps: Pick<LetheDeps, 'dataMap'>, record: RequestRecord): string | undefined {
  if (!SUPPORTED_REQUEST_TYPES.includes(record.type)) {
    return `${record.type} requests are not supported yet; supported: ${SUPPORTED_REQUEST_TYPES.join(', ')}`;
  }
  try {
    parseSubmission(deps, {
      type: record.type,
      subject: record.subject ?? [],
      jurisdiction: record.jurisdiction,
    });
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.message;
    throw error;
  }
  if (NEEDS_VERIFICATION.includes(record.type) && !record.verification?.verifiedBy) {
    return `identity verification is required for ${record.type} requests: record the method and who verified the requester`;
  }
  return undefined;
}

/**
 * Verify: re-checks the request as stored (schema, identities, evidence of verification),
 * refuses types not supported yet, and marks a request duplicate when the same request for
 * the same subject is already in flight. Running it twice for one request is harmless.
 */
export async function verifyRequest(deps: LetheDeps, requestId: string): Promise<VerifyResult> {
  const record = await getRequest(deps, requestId);
  if (FINAL_STATUSES.includes(record.status)) {
    const outcome: VerifyOutcome = record.status === 'duplicate' ? 'duplicate' : 'rejected';
    return { requestId, type: record.type, outcome };
  }

  const reason = rejectionReason(deps, record);
  if (reason) {
    await updateRequest(deps, requestId, { status: 'rejected', by: ACTOR, note: reason, set: { reason } });
    deps.log.info('request rejected', { requestId, requestType: record.type });
    return { requestId, type: record.type, outcome: 'rejected' };
  }

  const hashes = hashIdentities(deps.keys.subjectHash, record.subject ?? []);
  const lockKeys = inFlightLockKeys({ subjectHashes: hashes, type: record.type });
  const acquired: string[] = [];
  for (const lockKey of lockKeys) {
    const holder = await acquireInFlightLock(deps, lockKey, requestId);
    if (holder !== requestId) {
      for (const held of acquired) await releaseInFlightLock(deps, held, requestId);
      const note = `the same ${record.type} request for this subject is already in progress as ${holder}`;
      await updateRequest(deps, requestId, { status: 'duplicate', by: ACTOR, note, set: { reason: note } });
      deps.log.info('request duplicate', { requestId, duplicateOf: holder });
      return { requestId, type: record.type, outcome: 'duplicate' };
    }
    acquired.push(lockKey);
  }
  await updateRequest(deps, requestId, { status: 'in-progress', by: ACTOR, set: { subjectHashes: hashes } });
  deps.log.info('request verified', { requestId, requestType: record.type });
  return { requestId, type: record.type, outcome: 'proceed' };
}
