import { type AuditEvent, auditDepsOf, readAuditEvents, streamAuditEvents } from '../../audit/log';
import { buildPeriodReport, type PeriodReport, sweepsFromEvents } from '../../audit/report';
import { buildTimeline, type TimelineEntry } from '../../audit/timeline';
import { type ChainVerification, verifyAuditChain } from '../../audit/verify';
import type { LetheDeps } from '../../deps';
import type { SweepSummary } from '../../retention';
import { RequestNotFoundError } from '../../rights/errors';
import { listRequests } from '../../rights/requests-table';
import type { LetheBackend } from './backend';

/**
 * What auditors read of a backend (the CLI's `lethe audit` commands and the console's audit and
 * sweeps pages alike): chain verification, timelines, period reports and sweep runs.
 */

/** Verifies the backend's audit log against its anchors. */
export async function verifyBackendAuditLog(
  backend: Pick<LetheBackend, 'deps'>,
  fromSeq: number | undefined,
): Promise<ChainVerification> {
  // Anchors (and the S3 client and schema they are read with) only for a verification, not for every audit read.
  const { anchorStoreOf, listAnchors } = require('../../audit/anchor') as typeof import('../../audit/anchor');
  const store = anchorStoreOf(backend.deps);
  const anchors = store ? await listAnchors(store, fromSeq ?? 0) : [];
  return verifyAuditChain(auditDepsOf(backend.deps), anchors, fromSeq ? { fromSeq } : {});
}

/** What a timeline is of: a request, or a retention sweep. */
export interface AuditTimeline {
  of: 'request' | 'sweep';
  entries: TimelineEntry[];
}

/**
 * The timeline of a request or a sweep as the backend knows it: its execution history merged with
 * its audit events (a request's by request id, a sweep's by the sweep id its events carry), read in
 * one pass over the log. A request whose record was purged (past its retention), or whose
 * execution history Step Functions no longer keeps, has its audit events only.
 * @returns undefined when neither the requests table nor the audit log knows the id
 */
export async function auditTimeline(
  backend: Pick<LetheBackend, 'deps' | 'history' | 'sweepHistory'>,
  id: string,
): Promise<AuditTimeline | undefined> {
  const requestEvents: AuditEvent[] = [];
  const sweepEvents: AuditEvent[] = [];
  for await (const event of streamAuditEvents(auditDepsOf(backend.deps))) {
    if (event.requestId === id) requestEvents.push(event);
    else if (event.details?.sweepId === id) sweepEvents.push(event);
  }
  try {
    return { of: 'request', entries: buildTimeline(await backend.history(id), requestEvents) };
  } catch (error) {
    if (!(error instanceof RequestNotFoundError)) throw error;
  }
  if (requestEvents.length > 0) return { of: 'request', entries: buildTimeline([], requestEvents) };
  if (sweepEvents.length > 0) {
    return { of: 'sweep', entries: buildTimeline(await backend.sweepHistory(id), sweepEvents) };
  }
  return undefined;
}

/** A sweep run as its `sweep.completed` event recorded it, with who ran it and when it was recorded. */
export interface SweepRun extends SweepSummary {
  recordedAt: string;
  actor: string;
  seq: number;
}

/** Every recorded sweep run (real and dry), oldest first, from the `sweep.completed` events. */
export async function sweepRuns(deps: LetheDeps): Promise<SweepRun[]> {
  const runs: SweepRun[] = [];
  for (const event of await readAuditEvents(auditDepsOf(deps))) {
    if (event.type !== 'sweep.completed' || !event.details) continue;
    const details = event.details as unknown as Partial<SweepSummary>;
    runs.push({
      sweepId: String(details.sweepId ?? ''),
      now: String(details.now ?? event.at),
      dryRun: details.dryRun === true,
      stores: Array.isArray(details.stores) ? details.stores : [],
      totals: details.totals as SweepSummary['totals'],
      durationMs: typeof details.durationMs === 'number' ? details.durationMs : null,
      recordedAt: event.at,
      actor: event.actor,
      seq: event.seq,
    });
  }
  return runs;
}

/** The period report of the backend's requests received in [from, to). */
export async function backendPeriodReport(
  backend: Pick<LetheBackend, 'deps'>,
  period: { from: string; to: string; now: Date },
): Promise<PeriodReport> {
  const records = await listRequests(backend.deps);
  return buildPeriodReport({
    ...period,
    requests: records.map((record) => ({
      requestId: record.requestId,
      type: record.type,
      jurisdiction: record.jurisdiction,
      status: record.status,
      receivedAt: record.receivedAt,
      dueAt: record.dueAt,
      respondedAt: record.completedAt ?? null,
      reason: record.reason ?? null,
    })),
    sweeps: await sweepsFromEvents(streamAuditEvents(auditDepsOf(backend.deps))),
  });
}
