import { appendAuditEvent, auditDepsOf } from '../audit/log';
import { type Identity, mergeIdentities } from '../datamap/identity';
import { getStore } from '../datamap/validate';
import type { LetheDeps } from '../deps';
import { applyHolds, loadActiveHolds } from '../holds';
import { type FilterTally, sharedObjectFilter } from '../lake';
import { locateInStore, resolveIdentityGraph } from '../stores';
import { RequestStateError } from './errors';
import { manifestKey, writeManifest } from './manifests';
import { getRequest, updateRequest } from './requests-table';
import { recordUnits, reviewDecisionFor, sortByReview } from './review';
import { claimedIdentities, identityTrust } from './trust';

export interface ResolveResult {
  requestId: string;
  /** The data map's store ids: the items of the Locate map. */
  stores: string[];
  /** How many identities the subject has once links are followed (a count, never values). */
  identityCount: number;
  /** How many of them only claimed links reached: records they alone find wait for review. */
  claimedIdentities: number;
}

export interface LocateStoreResult {
  requestId: string;
  storeId: string;
  manifestKey: string;
  /** Records the request acts on (in the manifest): lines, for JSON-lines stores. */
  located: number;
  exempted: number;
  /** Records only claimed links reached, whatever review says of them (not in `located` unless included). */
  claimed: number;
  /** Of those, records waiting for review: the request pauses for them. */
  pendingReview: number;
  /** Of those, records staff excluded in review: left alone. */
  excluded: number;
}

/** The identities a running request works with: those resolved through links, else those submitted. */
export function workingIdentities(
  record: { identities?: Identity[]; subject?: Identity[] },
  requestId: string,
) {
  const identities = record.identities ?? record.subject;
  if (!identities || identities.length === 0) {
    throw new RequestStateError(
      `request ${requestId} holds no subject identities: it has ended or was never verified`,
    );
  }
  return identities;
}

/**
 * Resolve: follows the data map's links breadth-first from every identity the request knows
 * (those submitted and those resolved by an earlier run) and keeps the union on the request
 * record, where the later steps read it, with how far each is trusted (see trust.ts). The set
 * only grows: a rerun after a crash or a retry finds less (erasure deleted the rows that revealed
 * some identities), never more reason to forget what was found; and trust is never taken back.
 */
export async function resolveRequestIdentities(deps: LetheDeps, requestId: string): Promise<ResolveResult> {
  const record = await getRequest(deps, requestId);
  const known = mergeIdentities(record.subject, record.identities);
  const seed = workingIdentities({ subject: known }, requestId);
  const graph = await resolveIdentityGraph(deps.dataMap, seed, deps.clients);
  const identities = mergeIdentities(known, graph.identities);
  const trust = identityTrust({
    hashKey: deps.keys.subjectHash,
    identities,
    submitted: record.subject ?? [],
    edges: graph.edges,
    ...(record.identityTrust ? { previous: record.identityTrust } : {}),
  });
  await updateRequest(deps, requestId, { by: 'lethe:resolve', set: { identities, identityTrust: trust } });
  const claimed = trust.filter((entry) => entry.trust === 'claimed').length;
  deps.log.info('identities resolved', {
    requestId,
    identityCount: identities.length,
    claimedIdentities: claimed,
  });
  return {
    requestId,
    stores: deps.dataMap.stores.map((store) => store.id),
    identityCount: identities.length,
    claimedIdentities: claimed,
  };
}

/**
 * Locate one store: finds the subject's records by every resolved identity, marks those that
 * active legal holds keep (exempted, with the hold's reason), and writes those the request acts
 * on to a manifest; only the manifest key and counts go back into the workflow state. Records
 * that only claimed identities find are left out of the manifest unless staff included the store
 * in review: they wait for review (their finders' keyed hashes are noted in the manifest), or were
 * excluded.
 */
export async function locateRequestStore(
  deps: LetheDeps,
  requestId: string,
  storeId: string,
): Promise<LocateStoreResult> {
  const store = getStore(deps.dataMap, storeId);
  const record = await getRequest(deps, requestId);
  const identities = workingIdentities(record, requestId);
  const claimed = claimedIdentities(deps.keys.subjectHash, identities, record.identityTrust);
  const startedAt = deps.now().toISOString();
  const tally: FilterTally = { listed: 0, selected: 0, hits: 0 };
  const sharedObjects = await sharedObjectFilter(deps, store, identities, { tally });
  const location = applyHolds(
    deps,
    await loadActiveHolds(deps),
    store,
    await locateInStore(deps.dataMap, store, identities, deps.clients, {
      claimed,
      ...(sharedObjects ? { sharedObjects } : {}),
    }),
    identities,
  );
  if (sharedObjects) deps.log.info('identity index used', { requestId, storeId, ...tally });
  const reviewed = sortByReview(location.records, reviewDecisionFor(record, storeId));
  const located = reviewed.kept.reduce((sum, found) => sum + recordUnits(found), 0);
  const exempted = reviewed.kept.reduce((sum, found) => sum + (found.exemption ? recordUnits(found) : 0), 0);
  const key = await writeManifest(
    deps,
    {
      version: 1,
      requestId,
      storeId,
      createdAt: deps.now().toISOString(),
      startedAt,
      located,
      exempted,
      records: reviewed.kept,
      ...(reviewed.pending.records > 0 ? { review: reviewed.pending } : {}),
      ...(reviewed.excluded > 0 ? { excluded: reviewed.excluded } : {}),
    },
    manifestKey(requestId, storeId),
  );
  const counts = {
    located,
    exempted,
    claimed: reviewed.claimed,
    pendingReview: reviewed.pending.records,
    excluded: reviewed.excluded,
  };
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.located',
    actor: 'lethe:locate',
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, storeId, ...counts },
  });
  deps.log.info('store located', { requestId, storeId, ...counts });
  return { requestId, storeId, manifestKey: key, ...counts };
}
