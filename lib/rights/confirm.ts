import { createHash, randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { appendAuditEvent, auditDepsOf, canonicalJson } from '../audit/log';
import { type Identity, identityKey } from '../datamap/identity';
import type { RetainedAttribute } from '../datamap/masking';
import { getStore } from '../datamap/validate';
import type { LetheDeps } from '../deps';
import { applyHolds, loadActiveHolds } from '../holds';
import { changedSinceFilter, isIndexed, sharedObjectFilter } from '../lake';
import { exemptLockedRecords, locateInStore } from '../stores';
import { isSharedObjectRule } from '../stores/s3/prefixes';
import type { SharedObjectFilter, StoreErasure } from '../stores/types';
import { caveatsFor, type RequestCaveat } from './caveats';
import { type AppliedStore, confirmRecords } from './confirm-records';
import { type DeletedExport, deleteEarlierExports } from './earlier-exports';
import { ExportMismatchError, RequestStateError, ResidualDataError } from './errors';
import type { ExportResult } from './export';
import type { LocateStoreResult } from './locate';
import { workingIdentities } from './locate';
import { readManifest } from './manifests';
import type { AttemptRecord, RequestRecord, ReviewDecision, StoreOutcome } from './request';
import { getRequest, updateRequest } from './requests-table';
import { residualCount, retainedAttributes } from './residual';
import { reviewDecisionFor } from './review';
import { claimedIdentities } from './trust';

/** The workflow state Confirm receives: counts and keys only. */
export interface ConfirmInput {
  requestId: string;
  attempt?: number;
  located: LocateStoreResult[];
  erased?: (StoreErasure & { requestId?: string })[];
  export?: ExportResult;
  /** Rectification, restriction, restriction-lift, objection: what ApplyStore did per store. */
  applied?: AppliedStore[];
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
  /** Per store; `retained` (stores that mask): what masked records keep of the subject, and why. */
  stores: (StoreOutcome & { exemptions: StoreErasure['exemptions']; retained?: RetainedAttribute[] })[];
  /** Every run of the request, with how the ones before the last failed: the counts are over all of them. */
  attempts: CertificateAttempt[];
  /** Earlier export packages of the subject (full copies of their data) this erasure deleted. */
  exportsDeleted: DeletedExport[];
  /** What the last `lethe check` said of the stores searched: values locate cannot reach, or never checked. */
  caveats: RequestCaveat[];
  /** Staff's decisions on records only claimed links reached (included or excluded per store). */
  review?: ReviewDecision[];
  /** SHA-256 over the canonical JSON of every other field: any edit changes it. */
  digest: string;
}

export interface CertificateAttempt {
  attempt: number;
  startedAt: string;
  by: string;
  reason: 'submitted' | 'retry' | 'review';
  /** Per store, what erasure did in this attempt (stores it did not reach are absent). */
  erased: { store: string; erased: number; masked: number }[];
  failed: { code: string; state?: string; at: string } | null;
}

/**
 * The attempts of a request as the certificate lists them. Records written before attempts were
 * kept count as one attempt with the erasure the current run reports.
 */
export function certificateAttempts(
  record: RequestRecord,
  current: readonly StoreErasure[],
): CertificateAttempt[] {
  const attempts: AttemptRecord[] = record.attempts ?? [
    {
      attempt: 1,
      executionId: record.requestId,
      startedAt: record.receivedAt,
      by: record.submittedBy ?? 'unknown',
      reason: 'submitted',
    },
  ];
  const log = record.erasureLog ?? [];
  return attempts.map((attempt) => {
    const entries = log.filter((entry) => entry.attempt === attempt.attempt);
    const erased =
      entries.length > 0 || record.erasureLog !== undefined
        ? entries.map((entry) => ({ store: entry.storeId, erased: entry.erased, masked: entry.masked }))
        : current.map((erasure) => ({
            store: erasure.storeId,
            erased: erasure.erased,
            masked: erasure.masked,
          }));
    const failure = (record.failures ?? []).find((candidate) => candidate.attempt === attempt.attempt);
    return {
      attempt: attempt.attempt,
      startedAt: attempt.startedAt,
      by: attempt.by,
      reason: attempt.reason,
      erased,
      failed: failure
        ? { code: failure.code, ...(failure.state ? { state: failure.state } : {}), at: failure.at }
        : null,
    };
  });
}

/**
 * A store's erased count over every attempt (what each deleted is gone for good), and its masked
 * count as the last attempt found it (masking again what is masked changes nothing).
 */
function storeTotals(
  attempts: readonly CertificateAttempt[],
  storeId: string,
): { erased: number; masked: number } {
  let erased = 0;
  let masked = 0;
  for (const attempt of attempts) {
    const entry = attempt.erased.find((candidate) => candidate.store === storeId);
    if (!entry) continue;
    erased += entry.erased;
    masked = entry.masked;
  }
  return { erased, masked };
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

/**
 * Which shared objects Confirm reads again: those Locate found the subject in (Erase rewrote them)
 * and those modified since Locate began, indexed store or not, never the rest of the lake; with an
 * index, of those modified only the ones it does not describe at their version or says hold the
 * subject. A manifest from before Locate noted its start falls back to the index alone (where it
 * says the subject is, where Erase rewrote, and what changed since the watermark) or a full read.
 */
async function confirmFilter(
  deps: LetheDeps,
  store: ReturnType<typeof getStore>,
  identities: Identity[],
  manifestKey: string,
): Promise<SharedObjectFilter | undefined> {
  if (store.kind !== 's3' || !store.locate.some(isSharedObjectRule)) return undefined;
  const manifest = await readManifest(deps, manifestKey);
  const located = manifest.records.flatMap((found) => (found.kind === 'lines' ? [found.key] : []));
  const indexed = isIndexed(deps, store)
    ? await sharedObjectFilter(deps, store, identities, { alsoRead: located })
    : undefined;
  if (manifest.startedAt === undefined) return indexed;
  const changed = changedSinceFilter(located, new Date(manifest.startedAt));
  if (!indexed) return changed;
  // Both: an object changed since Locate that the index describes at its current version, without
  // the subject, needs no read either.
  return {
    async select(objects) {
      const [byTime, byIndex] = await Promise.all([changed.select(objects), indexed.select(objects)]);
      return byTime.map((read, index) => read && byIndex[index] === true);
    },
  };
}

async function confirmErasure(
  deps: LetheDeps,
  record: RequestRecord,
  input: ConfirmInput,
): Promise<ConfirmResult> {
  const identities = workingIdentities(record, record.requestId);
  const claimed = claimedIdentities(deps.keys.subjectHash, identities, record.identityTrust);
  const erasures = new Map((input.erased ?? []).map((erasure) => [erasure.storeId, erasure]));
  const attempts = certificateAttempts(record, input.erased ?? []);
  const remaining: { store: string; count: number }[] = [];
  const stores: ErasureCertificate['stores'] = [];
  // Read once for every store this step confirms.
  const holds = await loadActiveHolds(deps);
  for (const located of input.located) {
    const store = getStore(deps.dataMap, located.storeId);
    const erasure = erasures.get(located.storeId);
    if (!erasure) throw new RequestStateError(`store ${located.storeId} was located but not erased`);
    // Locate again with every identity resolved before erasure: the links that revealed
    // them may be gone now, and what matters is whether anything of the subject is left.
    // Records that legal holds keep are exempted, as they were when locating, and so are those
    // S3 Object Lock keeps (erasure reported them exempted, with the retain-until date).
    const sharedObjects = await confirmFilter(deps, store, identities, located.manifestKey);
    const again = await exemptLockedRecords(
      deps.dataMap,
      store,
      applyHolds(
        deps,
        holds,
        store,
        await locateInStore(deps.dataMap, store, identities, deps.clients, {
          claimed,
          ...(sharedObjects ? { sharedObjects } : {}),
        }),
        identities,
      ),
      deps.clients,
    );
    // Masked records a table key still finds are erased-by-masking, not residual (see residual.ts);
    // nor are those only claimed links reach, unless staff included them in review.
    const left = residualCount(store, again.records, {
      includeClaimed: reviewDecisionFor(record, store.id) === 'include',
    });
    const retained = retainedAttributes(store);
    if (left > 0) remaining.push({ store: store.id, count: left });
    const totals = storeTotals(attempts, store.id);
    stores.push({
      store: store.id,
      located: located.located,
      exported: 0,
      erased: totals.erased,
      masked: totals.masked,
      exempted: erasure.exempted,
      remaining: left,
      ...(located.excluded ? { excludedByReview: located.excluded } : {}),
      exemptions: erasure.exemptions,
      ...(retained ? { retained } : {}),
    });
  }
  if (remaining.length > 0) {
    await updateRequest(deps, record.requestId, {
      by: 'lethe:confirm',
      set: { stores: stores.map(({ exemptions: _exemptions, retained: _retained, ...outcome }) => outcome) },
    });
    throw new ResidualDataError(remaining);
  }
  // Earlier export packages of this person are copies of what was just erased: they go too.
  // Only by the identities verified as the subject's: a claimed one (a phone typed into a form)
  // could be another person's, and would delete that person's packages.
  const exportsDeleted = await deleteEarlierExports(
    deps,
    record.requestId,
    identities.filter((identity) => !claimed.has(identityKey(identity))),
  );
  const caveats = await caveatsFor(
    deps,
    input.located.map((located) => located.storeId),
  );
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
    attempts,
    exportsDeleted,
    caveats,
    ...(record.reviewDecisions?.length ? { review: record.reviewDecisions } : {}),
  };
  const certificate: ErasureCertificate = { ...unsigned, digest: certificateDigest(unsigned) };
  await updateRequest(deps, record.requestId, {
    by: 'lethe:confirm',
    set: {
      certificate,
      caveats,
      stores: stores.map(({ exemptions: _exemptions, retained: _retained, ...outcome }) => outcome),
    },
  });
  const totals = stores.map(({ store, erased, masked, exempted, remaining }) => ({
    store,
    erased,
    masked,
    exempted,
    remaining,
  }));
  await auditCertificate(deps, record, certificate, {
    confirmed: { requestType: 'erasure', stores: totals },
    issued: { stores: totals, exportsDeleted: exportsDeleted.length, caveats: caveats.length },
  });
  deps.log.info('erasure confirmed', { requestId: record.requestId, digest: certificate.digest });
  return { requestId: record.requestId, confirmed: true, certificateDigest: certificate.digest };
}

/**
 * Audits a certificate: `request.confirmed` with what was confirmed, then
 * `request.certificate-issued` with the certificate's id and digest (what `lethe request
 * certificate` checks it against) and `details.issued`.
 */
export async function auditCertificate(
  deps: LetheDeps,
  record: RequestRecord,
  certificate: { certificateId: string; digest: string; issuedAt: string; dataMapDigest: string },
  details: { confirmed: Record<string, unknown>; issued: Record<string, unknown> },
): Promise<void> {
  const audit = auditDepsOf(deps);
  const event = { actor: 'lethe:confirm', requestId: record.requestId, subjectHashes: record.subjectHashes };
  await appendAuditEvent(audit, { ...event, type: 'request.confirmed', details: details.confirmed });
  await appendAuditEvent(audit, {
    ...event,
    type: 'request.certificate-issued',
    details: {
      certificateId: certificate.certificateId,
      digest: certificate.digest,
      issuedAt: certificate.issuedAt,
      dataMapDigest: certificate.dataMapDigest,
      ...details.issued,
    },
  });
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
    ...(located.excluded ? { excludedByReview: located.excluded } : {}),
  }));
  // A portability export leaves out the stores whose data the subject did not provide.
  const omitted = new Set(exported.stores.filter((store) => store.omitted).map((store) => store.storeId));
  const short = stores.filter((store) => !omitted.has(store.store) && store.exported !== store.located);
  if (short.length > 0) {
    throw new ExportMismatchError(
      `export incomplete: ${short.map((store) => `store ${store.store} located ${store.located}, exported ${store.exported}`).join('; ')}`,
    );
  }
  const caveats = await caveatsFor(
    deps,
    input.located.map((located) => located.storeId),
  );
  await updateRequest(deps, record.requestId, { by: 'lethe:confirm', set: { stores, caveats } });
  await appendAuditEvent(auditDepsOf(deps), {
    type: 'request.confirmed',
    actor: 'lethe:confirm',
    requestId: record.requestId,
    subjectHashes: record.subjectHashes,
    details: {
      requestType: record.type,
      sha256: exported.sha256,
      bytes: exported.bytes,
      stores: stores.map(({ store, located, exported: count }) => ({ store, located, exported: count })),
    },
  });
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
  if (record.type === 'erasure') return confirmErasure(deps, record, input);
  if (record.type === 'access' || record.type === 'portability') return confirmExport(deps, record, input);
  return confirmRecords(deps, record, input);
}
