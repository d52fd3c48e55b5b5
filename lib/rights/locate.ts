import { appendAuditEvent, auditDepsOf } from '../audit/log';
import { type Identity, mergeIdentities } from '../datamap/identity';
import { getStore } from '../datamap/load';
import type { LetheDeps } from '../deps';
import { applyHolds } from '../holds';
import { locateInStore, resolveIdentities } from '../stores';
import { RequestStateError } from './errors';
import { manifestKey, writeManifest } from './manifests';
import { getRequest, updateRequest } from './requests-table';

export interface ResolveResult {
  requestId: string;
  /** The data map's store ids: the items of the Locate map. */
  stores: string[];
  /** How many identities the subject has once links are followed (a count, never values). */
  identityCount: number;
}

export interface LocateStoreResult {
  requestId: string;
  storeId: string;
  manifestKey: string;
  located: number;
  exempted: number;
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
 * record, where the later steps read it. The set only grows: a rerun after a crash or a retry
 * finds less (erasure deleted the rows that revealed some identities), never more reason to
 * forget what was found.
 */
export async function resolveRequestIdentities(deps: LetheDeps, requestId: string): Promise<ResolveResult> {
  const record = await getRequest(deps, requestId);
  const known = mergeIdentities(record.subject, record.identities);
  const seed = workingIdentities({ subject: known }, requestId);
  const identities = mergeIdentities(known, await resolveIdentities(deps.dataMap, seed, deps.clients));
  await updateRequest(deps, requestId, { by: 'lethe:resolve', set: { identities } });
  deps.log.info('identities resolved', { requestId, identityCount: identities.length });
  return {
    requestId,
    stores: deps.dataMap.stores.map((store) => store.id),
    identityCount: identities.length,
  };
}

/**
 * Locate one store: finds the subject's records by every resolved identity, marks those that
 * active legal holds keep (exempted, with the hold's reason), and writes them to a manifest;
 * only the manifest key and counts go back into the workflow state.
 */
export async function locateRequestStore(
  deps: LetheDeps,
  requestId: string,
  storeId: string,
): Promise<LocateStoreResult> {
  const store = getStore(deps.dataMap, storeId);
  const record = await getRequest(deps, requestId);
  const identities = workingIdentities(record, requestId);
  const location = await applyHolds(
    deps,
    store,
    await locateInStore(deps.dataMap, store, identities, deps.clients),
    identities,
  );
  const key = await writeManifest(
    deps,
    {
      version: 1,
      requestId,
      storeId,
      createdAt: deps.now().toISOString(),
      located: location.located,
      exempted: location.exempted,
      records: location.records,
    },
    manifestKey(requestId, storeId),
  );
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.located',
    actor: 'lethe:locate',
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, storeId, located: location.located, exempted: location.exempted },
  });
  deps.log.info('store located', {
    requestId,
    storeId,
    located: location.located,
    exempted: location.exempted,
  });
  return { requestId, storeId, manifestKey: key, located: location.located, exempted: location.exempted };
}
