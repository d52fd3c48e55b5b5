import { createHash, randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { canonicalJson } from '../audit/log';
import { getStore } from '../datamap/load';
import type { LetheDeps } from '../deps';
import { applyHolds } from '../holds';
import { exemptLockedRecords, locateInStore } from '../stores';
import type { StoreErasure } from '../stores/types';
import { ExportMismatchError, RequestStateError, ResidualDataError } from './errors';
import type { ExportResult } from './export';
import type { LocateStoreResult } from './locate';
import { workingIdentities } from './locate';
import type { RequestRecord, StoreOutcome } from './request';
import { getRequest, updateRequest } from './requests-table';

/** The workflow state Confirm receives: counts and keys only. */
export interface ConfirmInput {
  requestId: string;
  located: LocateStoreResult[];
  erased?: (StoreErasure & { requestId?: string })[];
  export?: ExportResult;
}

export interface ErasureCertificate {
  certificateId: string;
  requestId: string;
  requestType: 'erasure';
  jurisdiction: RequestRecord['jurisdiction'];
  subjectHashes: string[];
  receivedAt: string;
  erasedAt: string;
  issuedAt: string;
  dataMapDigest: string;
  stores: (StoreOutcome & { exemptions: StoreErasure['exemptions'] })[];
  /** SHA-256 over the canonical JSON of every other field: any edit changes it. */
  digest: string;
}

export interface ConfirmResult {
  requestId: string;
  confirmed: true;
  certificateDigest: string | null;
}

/** SHA-256 of the data map as loaded, so a certificate names the rules it was produced under. */
export function dataMapDigest(dataMap: LetheDeps['dataMap']): string {
  return createHash('sha256').update(canonicalJson(dataMap)).digest('hex');
}

/** Recomputes a certificate's digest; equal to `certificate.digest` when nothing was altered. */
export function certificateDigest(certificate: Omit<ErasureCertificate, 'digest'>): string {
  return createHash('sha256').update(canonicalJson(certificate)).digest('hex');
}

async function confirmErasure(
  deps: LetheDeps,
  record: RequestRecord,
  input: ConfirmInput,
): Promise<ConfirmResult> {
  const identities = workingIdentities(record, record.requestId);
  const erasures = new Map((input.erased ?? []).map((erasure) => [erasure.storeId, erasure]));
  const remaining: { store: string; count: number }[] = [];
  const stores: ErasureCertificate['stores'] = [];
  for (const located of input.located) {
    const store = getStore(deps.dataMap, located.storeId);
    const erasure = erasures.get(located.storeId);
    if (!erasure) throw new RequestStateError(`store ${located.storeId} was located but not erased`);
    // Locate again with every identity resolved before erasure: the links that revealed
    // them may be gone now, and what matters is whether anything of the subject is left.
    // Records that legal holds keep are exempted, as they were when locating, and so are those
    // S3 Object Lock keeps (erasure reported them exempted, with the retain-until date).
    const again = await exemptLockedRecords(
      deps.dataMap,
      store,
      await applyHolds(
        deps,
        store,
        await locateInStore(deps.dataMap, store, identities, deps.clients),
        identities,
      ),
      deps.clients,
    );
    const left = again.located - again.exempted;
    if (left > 0) remaining.push({ store: store.id, count: left });
    stores.push({
      store: store.id,
      located: located.located,
      exported: 0,
      erased: erasure.erased,
      masked: erasure.masked,
      exempted: erasure.exempted,
      remaining: left,
      exemptions: erasure.exemptions,
    });
  }
  if (remaining.length > 0) {
    await updateRequest(deps, record.requestId, {
      by: 'lethe:confirm',
      set: { stores: stores.map(({ exemptions: _exemptions, ...outcome }) => outcome) },
    });
    throw new ResidualDataError(remaining);
  }
  const now = deps.now().toISOString();
  const unsigned: Omit<ErasureCertificate, 'digest'> = {
    certificateId: randomUUID(),
    requestId: record.requestId,
    requestType: 'erasure',
    jurisdiction: record.jurisdiction,
    subjectHashes: record.subjectHashes,
    receivedAt: record.receivedAt,
    erasedAt: now,
    issuedAt: now,
    dataMapDigest: dataMapDigest(deps.dataMap),
    stores,
  };
  const certificate: ErasureCertificate = { ...unsigned, digest: certificateDigest(unsigned) };
  await updateRequest(deps, record.requestId, {
    by: 'lethe:confirm',
    set: { certificate, stores: stores.map(({ exemptions: _exemptions, ...outcome }) => outcome) },
  });
  deps.log.info('erasure confirmed', { requestId: record.requestId, digest: certificate.digest });
  return { requestId: record.requestId, confirmed: true, certificateDigest: certificate.digest };
}

async function confirmExport(
  deps: LetheDeps,
  record: RequestRecord,
  input: ConfirmInput,
): Promise<ConfirmResult> {
  const exported = input.export;
  if (!exported) throw new RequestStateError(`request ${record.requestId} has no export to confirm`);
  const head = await deps.clients.s3.send(
    new HeadObjectCommand({ Bucket: deps.resources.exportsBucket, Key: exported.exportKey }),
  );
  if (head.ContentLength !== exported.bytes) {
    throw new ExportMismatchError(
      `export package ${exported.exportKey} has ${head.ContentLength ?? 0} bytes, ${exported.bytes} were written`,
    );
  }
  const counts = new Map(exported.stores.map((store) => [store.storeId, store.exported]));
  const stores: StoreOutcome[] = input.located.map((located) => ({
    store: located.storeId,
    located: located.located,
    exported: counts.get(located.storeId) ?? 0,
    erased: 0,
    masked: 0,
    exempted: 0,
    remaining: located.located,
  }));
  const short = stores.filter((store) => store.exported !== store.located);
  if (short.length > 0) {
    throw new ExportMismatchError(
      `export incomplete: ${short.map((store) => `store ${store.store} located ${store.located}, exported ${store.exported}`).join('; ')}`,
    );
  }
  await updateRequest(deps, record.requestId, { by: 'lethe:confirm', set: { stores } });
  return { requestId: record.requestId, confirmed: true, certificateDigest: null };
}

/**
 * Confirm: after erasure, locates again and fails the request (naming store and count)
 * if anything but exempted records remains, else issues an erasure certificate; after an
 * export, checks the package holds every located record.
 */
export async function confirmRequest(deps: LetheDeps, input: ConfirmInput): Promise<ConfirmResult> {
  const record = await getRequest(deps, input.requestId);
  if (record.status !== 'in-progress') {
    throw new RequestStateError(`request ${input.requestId} is ${record.status}, not in progress`);
  }
  return record.type === 'erasure' ? confirmErasure(deps, record, input) : confirmExport(deps, record, input);
}
