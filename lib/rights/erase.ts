import { appendAuditEvent, auditDepsOf } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import { getStore } from '../datamap/validate';
import type { LetheDeps } from '../deps';
import { loadActiveHolds, markHeld } from '../holds';
import { followRewrites, isIndexed } from '../lake';
import { EraseIncompleteError, eraseInStore } from '../stores';
import type { RewrittenObject, StoreErasure } from '../stores/types';
import { RequestStateError } from './errors';
import { workingIdentities } from './locate';
import { readManifest } from './manifests';
import type { ErasureLogEntry, RequestRecord } from './request';
import { getRequest, updateRequest } from './requests-table';

export interface EraseStoreResult extends StoreErasure {
  requestId: string;
}

/** Appends what one store's erasure did to the request's erasure log and to the audit log. */
async function logErasure(
  deps: LetheDeps,
  record: RequestRecord,
  attempt: number,
  erasure: StoreErasure,
  complete: boolean,
) {
  const { requestId, subjectHashes } = record;
  const entry: ErasureLogEntry = {
    attempt,
    storeId: erasure.storeId,
    at: deps.now().toISOString(),
    erased: erasure.erased,
    masked: erasure.masked,
    exempted: erasure.exempted,
    skipped: erasure.skipped,
    failed: erasure.failed,
  };
  await updateRequest(deps, requestId, { by: 'lethe:erase', append: { erasureLog: [entry] } });
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.erased',
    actor: 'lethe:erase',
    requestId,
    subjectHashes,
    details: { requestType: 'erasure', ...entry, complete },
  });
}

/**
 * Brings the store's identity index up to what erasure rewrote. A failure here is logged, not
 * thrown: the data is erased either way, and an object the index does not describe at its current
 * version is read by every locate (only the subject's keyed hashes may outlive it until the next
 * indexing of the object).
 */
async function followIndex(
  deps: LetheDeps,
  store: ReturnType<typeof getStore>,
  rewritten: RewrittenObject[],
  records: Parameters<typeof followRewrites>[3],
  requestId: string,
): Promise<void> {
  if (rewritten.length === 0) return;
  try {
    await followRewrites(deps, store, rewritten, records);
  } catch (error) {
    deps.log.warn('identity index not updated after erasure', {
      requestId,
      storeId: store.id,
      objects: rewritten.length,
      error: (error as Error).name,
    });
  }
}

/**
 * Erase one store: deletes, masks or rewrites exactly the records in the store's manifest,
 * as the data map says, keeping exempted records. Legal holds are applied again first, so a
 * hold placed since Locate still keeps its records. Safe to run again after a crash: what is
 * already gone is simply not found again. What it did is appended to the request's erasure log
 * under `attempt`, for the certificate.
 */
export async function eraseRequestStore(
  deps: LetheDeps,
  requestId: string,
  storeId: string,
  key: string,
  attempt = 1,
): Promise<EraseStoreResult> {
  const record = await getRequest(deps, requestId);
  if (record.type !== 'erasure' || record.status !== 'in-progress') {
    throw new RequestStateError(
      `request ${requestId} is a ${record.type} request in status ${record.status}: nothing to erase`,
    );
  }
  const store = getStore(deps.dataMap, storeId);
  const manifest = await readManifest(deps, key);
  if (manifest.requestId !== requestId || manifest.storeId !== storeId) {
    throw new RequestStateError(`manifest ${key} does not belong to request ${requestId}, store ${storeId}`);
  }
  const active = await loadActiveHolds(deps);
  const records =
    active.count === 0
      ? manifest.records
      : markHeld(
          store,
          manifest.records,
          active,
          active.subjects.size > 0
            ? hashIdentities(deps.keys.subjectHash, workingIdentities(record, requestId))
            : [],
        ).records;
  let erasure: StoreErasure;
  const rewritten: RewrittenObject[] = [];
  try {
    erasure = await eraseInStore(deps.dataMap, store, records, deps.clients, {
      hmacKey: deps.keys.mask,
      now: deps.now,
      ...(deps.retry ? { retry: deps.retry } : {}),
      ...(isIndexed(deps, store) ? { onRewritten: (object: RewrittenObject) => rewritten.push(object) } : {}),
    });
  } catch (error) {
    await followIndex(deps, store, rewritten, records, requestId);
    // What a partial erasure did achieve stays on record, so the certificate of the attempt that
    // finishes the request accounts for it.
    if (error instanceof EraseIncompleteError && error.outcome)
      await logErasure(deps, record, attempt, error.outcome, false);
    throw error;
  }
  await followIndex(deps, store, rewritten, records, requestId);
  await logErasure(deps, record, attempt, erasure, true);
  deps.log.info('store erased', {
    requestId,
    storeId,
    erased: erasure.erased,
    masked: erasure.masked,
    exempted: erasure.exempted,
  });
  return { requestId, ...erasure };
}
