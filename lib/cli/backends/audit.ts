import { anchorStoreOf, listAnchors } from '../../audit/anchor';
import { auditDepsOf, readAuditEvents } from '../../audit/log';
import { buildPeriodReport, type PeriodReport, type ReportSweepInput } from '../../audit/report';
import { buildTimeline, type TimelineEntry } from '../../audit/timeline';
import { type ChainVerification, verifyAuditChain } from '../../audit/verify';
import type { LetheDeps } from '../../deps';
import type { SweepSummary } from '../../retention';
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
  const store = anchorStoreOf(backend.deps);
  const anchors = store ? await listAnchors(store, fromSeq ?? 0) : [];
  return verifyAuditChain(auditDepsOf(backend.deps), anchors, fromSeq ? { fromSeq } : {});
}

/** The timeline of a request as the backend knows it: execution history merged with audit events. */
export async function requestTimeline(
  backend: Pick<LetheBackend, 'deps' | 'history'>,
  requestId: string,
): Promise<TimelineEntry[]> {
  const history = await backend.history(requestId);
  const events = await readAuditEvents(auditDepsOf(backend.deps), { requestId });
  return buildTimeline(history, events);
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

/** What sweeps purged per store, from the `sweep.completed` events of real (not dry) runs. */
async function sweptCounts(deps: LetheDeps): Promise<ReportSweepInput[]> {
  return (await sweepRuns(deps))
    .filter((run) => !run.dryRun)
    .flatMap((run) =>
      run.stores.map((store) => ({
        at: run.recordedAt,
        storeId: String(store.storeId),
        purged: Number(store.purged ?? 0),
        anonymised: Number(store.anonymised ?? 0),
      })),
    );
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
    sweeps: await sweptCounts(backend.deps),
  });
}
