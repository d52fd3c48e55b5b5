import { type AuditEventType, appendAuditEvent, auditDepsOf } from '../audit/log';
import { hashIdentities } from '../audit/subject-hash';
import { identityKey } from '../datamap/identity';
import { getStore } from '../datamap/validate';
import type { LetheDeps } from '../deps';
import { applyToStoreRecords, type RecordAction, type StoreRecordsResult } from '../stores';
import { RequestStateError } from './errors';
import { applyLineRestriction, linesOf, restrictsLines } from './line-restrictions';
import { workingIdentities } from './locate';
import { readManifest } from './manifests';
import type { RequestRecord } from './request';
import { getRequest } from './requests-table';
import { addToSuppressionList } from './suppression';
import { claimedIdentities } from './trust';

/**
 * The steps of rectification, restriction, its lift and objection: ApplyStore acts on one store's
 * located records (corrections, the restriction mark, consent withdrawn), RecordSuppression puts
 * an objecting subject on the suppression list. What they did goes back as counts only.
 */

/** The request types whose records ApplyStore changes. */
export const RECORD_CHANGING_TYPES = [
  'rectification',
  'restriction',
  'restriction-lift',
  'objection',
] as const;

/** The consent purpose of an objection's scope (`consent:PURPOSE`), if it names one. */
export function consentPurposeOf(scope: string | undefined): string | undefined {
  return scope?.startsWith('consent:') ? scope.slice('consent:'.length) : undefined;
}

/**
 * What a request does to its subject's records: undefined for an objection that names no consent
 * purpose (it changes no record: the suppression list says it all).
 * @throws RequestStateError for a request of another type, or a rectification whose corrections are gone
 */
export function recordActionOf(record: RequestRecord, at: string): RecordAction | undefined {
  switch (record.type) {
    case 'rectification':
      if (!record.corrections) {
        throw new RequestStateError(`request ${record.requestId} holds no corrections: it has ended`);
      }
      return { kind: 'rectify', corrections: record.corrections };
    case 'restriction':
      return { kind: 'restrict', mark: record.requestId };
    case 'restriction-lift':
      return { kind: 'lift' };
    case 'objection': {
      const purpose = consentPurposeOf(record.scope);
      return purpose ? { kind: 'withdraw-consent', purpose, at } : undefined;
    }
    default:
      throw new RequestStateError(
        `request ${record.requestId} is a ${record.type} request: it changes no records`,
      );
  }
}

const EVENT_OF: Record<RecordAction['kind'], AuditEventType> = {
  rectify: 'request.rectified',
  restrict: 'request.restricted',
  lift: 'request.restriction-lifted',
  'withdraw-consent': 'request.consent-withdrawn',
};

function assertRunning(record: RequestRecord): void {
  if (record.status !== 'in-progress') {
    throw new RequestStateError(`request ${record.requestId} is ${record.status}, not in progress`);
  }
}

export interface ApplyStoreResult extends StoreRecordsResult {
  requestId: string;
}

/**
 * ApplyStore: applies the request's action to exactly the records in one store's manifest, each
 * only while it still belongs to the subject, and audits what it did (field names and counts,
 * never values). Safe to run again: what holds the wanted values already is counted unchanged.
 */
export async function applyRequestStore(
  deps: LetheDeps,
  requestId: string,
  storeId: string,
  key: string,
  attempt = 1,
): Promise<ApplyStoreResult> {
  const record = await getRequest(deps, requestId);
  assertRunning(record);
  const store = getStore(deps.dataMap, storeId);
  const manifest = await readManifest(deps, key);
  if (manifest.requestId !== requestId || manifest.storeId !== storeId) {
    throw new RequestStateError(`manifest ${key} does not belong to request ${requestId}, store ${storeId}`);
  }
  const action = recordActionOf(record, deps.now().toISOString());
  const empty = { storeId, updated: 0, unchanged: 0, skipped: 0, failed: 0, held: 0, unsupported: 0 };
  // Lines of shared objects are restricted by lethe's records, never by marking the object.
  const byRecord =
    action && (action.kind === 'restrict' || action.kind === 'lift') && restrictsLines(store)
      ? action
      : undefined;
  const lines = byRecord ? linesOf(manifest.records) : [];
  const others = byRecord ? manifest.records.filter((entry) => entry.kind !== 'lines') : manifest.records;
  const result = action
    ? await applyToStoreRecords(store, others, action, deps.clients, deps.retry, deps.dataMap)
    : empty;
  if (byRecord && lines.length > 0) {
    const counts = await applyLineRestriction(deps, record, store, lines, byRecord);
    result.updated += counts.updated;
    result.unchanged += counts.unchanged;
  }
  if (action && manifest.records.length > 0) {
    const { storeId: _store, ...counts } = result;
    await appendAuditEvent(auditDepsOf(deps), {
      type: EVENT_OF[action.kind],
      actor: 'lethe:apply',
      requestId,
      subjectHashes: record.subjectHashes,
      details: {
        requestType: record.type,
        attempt,
        storeId,
        ...counts,
        ...(record.scope ? { scope: record.scope } : {}),
      },
    });
  }
  deps.log.info('store records changed', {
    requestId,
    storeId,
    requestType: record.type,
    updated: result.updated,
    unchanged: result.unchanged,
    skipped: result.skipped,
  });
  return { requestId, ...result };
}

/** The keyed hashes an objection puts on the list: of every identity verified as the subject's. */
export function suppressionHashes(deps: LetheDeps, record: RequestRecord): string[] {
  const identities = workingIdentities(record, record.requestId);
  // A claimed identity (a phone typed into a form) may be someone else's: only verified ones go on the list.
  const claimed = claimedIdentities(deps.keys.subjectHash, identities, record.identityTrust);
  return hashIdentities(
    deps.keys.subjectHash,
    identities.filter((identity) => !claimed.has(identityKey(identity))),
  );
}

export interface RecordSuppressionResult {
  requestId: string;
  /** Keyed hashes on the list under the request's scope. */
  suppressed: number;
}

/**
 * RecordSuppression: puts the objecting subject (the keyed hash of every verified identity, links
 * followed: an opt-out by email covers the cookie ids the email reveals) on the suppression list
 * under the request's scope, and audits it.
 */
export async function recordRequestSuppression(
  deps: LetheDeps,
  requestId: string,
  attempt = 1,
): Promise<RecordSuppressionResult> {
  const record = await getRequest(deps, requestId);
  assertRunning(record);
  if (record.type !== 'objection' || !record.scope) {
    throw new RequestStateError(`request ${requestId} is a ${record.type} request: nothing to suppress`);
  }
  const hashes = suppressionHashes(deps, record);
  await addToSuppressionList(deps, hashes, {
    scope: record.scope,
    at: deps.now().toISOString(),
    requestId,
    jurisdiction: record.jurisdiction,
  });
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.suppression-recorded',
    actor: 'lethe:suppress',
    requestId,
    subjectHashes: hashes,
    details: { requestType: record.type, attempt, scope: record.scope, suppressed: hashes.length },
  });
  deps.log.info('suppression recorded', { requestId, scope: record.scope, suppressed: hashes.length });
  return { requestId, suppressed: hashes.length };
}
