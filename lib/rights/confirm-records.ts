import { randomUUID } from 'node:crypto';
import { getStore } from '../datamap/validate';
import type { LetheDeps } from '../deps';
import { checkStoreRecords, type StoreRecordsResult } from '../stores';
import { recordActionOf, suppressionHashes } from './apply';
import { auditCertificate, certificateDigest, dataMapDigest } from './confirm';
import { RecordsMismatchError, RequestStateError } from './errors';
import { checkLineRestriction, linesOf, restrictsLines } from './line-restrictions';
import type { LocateStoreResult } from './locate';
import { readManifest } from './manifests';
import type { RequestRecord, StoreOutcome } from './request';
import { updateRequest } from './requests-table';
import { suppressedHashes } from './suppression';

/**
 * Confirm for the rights that change records: every store's located records are read again and
 * must hold what the request wrote (the corrected values, the restriction mark or its absence,
 * consent withdrawn), and an objecting subject must be on the suppression list. Then a
 * certificate of what changed, per store: field names and counts, never values.
 */

/** What ApplyStore reported per store, in the workflow state. */
export type AppliedStore = StoreRecordsResult & { requestId?: string };

export interface RecordsCertificate {
  certificateId: string;
  requestId: string;
  requestType: 'rectification' | 'restriction' | 'restriction-lift' | 'objection';
  jurisdiction: RequestRecord['jurisdiction'];
  subjectHashes: string[];
  receivedAt: string;
  issuedAt: string;
  dataMapDigest: string;
  /** Objection: the scope, and how many keyed hashes the suppression list holds under it. */
  scope?: string;
  suppressed?: number;
  /** Per store: records updated, unchanged, skipped, held, unsupported; rectification adds fields with counts. */
  stores: (Omit<StoreRecordsResult, 'storeId'> & { store: string; located: number })[];
  digest: string;
}

export interface ConfirmRecordsInput {
  requestId: string;
  located: LocateStoreResult[];
  applied?: AppliedStore[];
}

/**
 * Confirm of a rectification, restriction, restriction-lift or objection.
 * @throws RecordsMismatchError naming stores and counts of records that do not hold what was written
 */
export async function confirmRecords(
  deps: LetheDeps,
  record: RequestRecord,
  input: ConfirmRecordsInput,
): Promise<{ requestId: string; confirmed: true; certificateDigest: string }> {
  if (
    record.type !== 'rectification' &&
    record.type !== 'restriction' &&
    record.type !== 'restriction-lift' &&
    record.type !== 'objection'
  ) {
    throw new RequestStateError(`request ${record.requestId} is a ${record.type} request`);
  }
  const now = deps.now().toISOString();
  const action = recordActionOf(record, now);
  const applied = new Map((input.applied ?? []).map((result) => [result.storeId, result]));
  const mismatched: { store: string; count: number }[] = [];
  const stores: RecordsCertificate['stores'] = [];
  for (const located of input.located) {
    const result = applied.get(located.storeId);
    if (!result) throw new RequestStateError(`store ${located.storeId} was located but not acted on`);
    if (action) {
      const store = getStore(deps.dataMap, located.storeId);
      const manifest = await readManifest(deps, located.manifestKey);
      const check = await checkStoreRecords(
        store,
        manifest.records,
        action,
        deps.clients,
        deps.retry,
        deps.dataMap,
      );
      const lines = linesOf(manifest.records);
      const lineMismatches =
        (action.kind === 'restrict' || action.kind === 'lift') && restrictsLines(store) && lines.length > 0
          ? await checkLineRestriction(deps, record, store, lines, action)
          : 0;
      const count = check.mismatched + lineMismatches;
      if (count > 0) mismatched.push({ store: store.id, count });
    }
    const { storeId, requestId: _request, ...counts } = result;
    stores.push({ store: storeId, located: located.located, ...counts });
  }
  let suppressed: number | undefined;
  if (record.type === 'objection' && record.scope) {
    const hashes = suppressionHashes(deps, record);
    const listed = await suppressedHashes(deps, hashes, record.scope);
    if (listed.length < hashes.length)
      mismatched.push({ store: 'suppression-list', count: hashes.length - listed.length });
    suppressed = listed.length;
  }
  const outcomes: StoreOutcome[] = stores.map((store) => ({
    store: store.store,
    located: store.located,
    exported: 0,
    erased: 0,
    masked: 0,
    exempted: 0,
    remaining: store.located,
  }));
  if (mismatched.length > 0) {
    await updateRequest(deps, record.requestId, { by: 'lethe:confirm', set: { stores: outcomes } });
    throw new RecordsMismatchError(mismatched);
  }
  const unsigned: Omit<RecordsCertificate, 'digest'> = {
    certificateId: randomUUID(),
    requestId: record.requestId,
    requestType: record.type,
    jurisdiction: record.jurisdiction,
    subjectHashes: record.subjectHashes,
    receivedAt: record.receivedAt,
    issuedAt: now,
    dataMapDigest: dataMapDigest(deps.dataMap),
    ...(record.scope ? { scope: record.scope } : {}),
    ...(suppressed !== undefined ? { suppressed } : {}),
    stores,
  };
  const certificate: RecordsCertificate = {
    ...unsigned,
    digest: certificateDigest(unsigned as unknown as Parameters<typeof certificateDigest>[0]),
  };
  await updateRequest(deps, record.requestId, {
    by: 'lethe:confirm',
    set: { certificate, stores: outcomes },
  });
  await auditCertificate(deps, record, certificate, {
    confirmed: {
      requestType: record.type,
      stores: certificate.stores,
      ...(suppressed !== undefined ? { suppressed } : {}),
    },
    issued: { requestType: record.type },
  });
  deps.log.info('records confirmed', { requestId: record.requestId, requestType: record.type });
  return { requestId: record.requestId, confirmed: true, certificateDigest: certificate.digest };
}
