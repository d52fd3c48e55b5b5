import type { AuditEvent } from '../audit/log';
import { certificateDigest, type ErasureCertificate } from './confirm';
import { RequestStateError } from './errors';
import type { RequestRecord } from './request';

/** An erasure certificate as handed over: checked against its digest and the audit events that back it. */
export interface CheckedCertificate {
  requestId: string;
  /** The digest matches the certificate's content, and the audit log recorded the same digest when it was issued. */
  ok: boolean;
  digest: { stored: string; computed: string; matches: boolean };
  /** The audit log's `request.certificate-issued` event carries this digest. */
  issuedEventMatches: boolean;
  problems: string[];
  certificate: ErasureCertificate;
  /** The request's audit events: its chain of custody, from received to completed. */
  backedBy: { seq: number; at: string; type: string; actor: string; hash: string }[];
}

/**
 * Checks a request's erasure certificate: its digest recomputed over its content, and the digest
 * the audit log recorded when the certificate was issued. Either disagreeing means the certificate
 * (or the record holding it) was altered since.
 * @param events the request's audit events, in order
 * @throws RequestStateError when the request has no certificate (not an erasure, or not confirmed)
 */
export function checkCertificate(record: RequestRecord, events: readonly AuditEvent[]): CheckedCertificate {
  const certificate = record.certificate as ErasureCertificate | undefined;
  if (!certificate || typeof certificate !== 'object' || typeof certificate.digest !== 'string') {
    throw new RequestStateError(
      `request ${record.requestId} has no erasure certificate: only a confirmed erasure request has one (lethe request status ${record.requestId})`,
    );
  }
  const { digest: stored, ...unsigned } = certificate;
  const computed = certificateDigest(unsigned);
  const issued = events.filter((event) => event.type === 'request.certificate-issued');
  const issuedEventMatches = issued.some(
    (event) => event.details?.digest === stored && event.details?.certificateId === certificate.certificateId,
  );
  const problems: string[] = [];
  if (computed !== stored)
    problems.push('the certificate was altered: its content no longer matches its digest');
  if (issued.length === 0) problems.push('the audit log holds no certificate-issued event for this request');
  else if (!issuedEventMatches)
    problems.push('the audit log recorded a different certificate (digest or id) when it was issued');
  return {
    requestId: record.requestId,
    ok: problems.length === 0,
    digest: { stored, computed, matches: computed === stored },
    issuedEventMatches,
    problems,
    certificate,
    backedBy: events.map(({ seq, at, type, actor, hash }) => ({ seq, at, type, actor, hash })),
  };
}
