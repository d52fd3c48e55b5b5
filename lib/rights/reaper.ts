import type { LetheDeps } from '../deps';
import { RequestStateError } from './errors';
import { endUnfinishedRequest } from './lifecycle';
import { endUnsettled, settleEndedRequest } from './outcome';
import { currentAttempt, executionIdFor, type RequestRecord, type RequestStatus } from './request';
import { listRequests } from './requests-table';

/**
 * The reaper: a request nobody finishes must not keep a person's raw identities for ever. A
 * request that has not moved for `staleAfterDays` (failed and never retried or closed, waiting
 * for a review nobody gave, or dead without anyone noticing) is closed by the retention sweep:
 * its identities and manifests are dropped and its hold on the subject released, audited as
 * `request.closed` by `lethe:reaper`. A request whose execution still runs is left alone. An
 * ended request whose end a dead process left half recorded (its audit event, manifests or locks)
 * is finished, so no end stays unaudited for long.
 *
 * A request waiting for staff approval is never approved, closed or denied by the reaper: it is
 * owed a decision with a reason (GDPR Art. 12(4), the CCPA's notice of denial), which only staff
 * can give, and it holds only what its submission gave. One that has waited longer than
 * `staleAfterDays` is flagged instead (`awaitingApproval`, logged as a warning); past its due date
 * it is also counted overdue (the overdue alarm, `lethe request list --overdue`).
 */

/** Days a request may stand still before the reaper closes it, unless configured otherwise. */
export const DEFAULT_STALE_REQUEST_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
const REAPABLE: readonly RequestStatus[] = [
  'received',
  'verifying',
  'in-progress',
  'failed',
  'pending-review',
];
const ACTOR = 'lethe:reaper';

export interface ReapResult {
  /** Requests closed (in a dry run: 0). */
  reaped: number;
  /** In a dry run, requests that would have been closed (otherwise 0). */
  wouldReap: number;
  /** The requests closed or that would be: ids only. */
  requestIds: string[];
  /** Ended requests whose end a dead process left half recorded, finished now (see settleEndedRequest). */
  settled: number;
  /** Requests waiting for approval longer than the limit: flagged for staff, never closed. Ids only. */
  awaitingApproval: string[];
}

/**
 * How long an end may stay half recorded before the reaper finishes it: long past any process
 * still ending it, so the two never append the same event; a new request for the subject
 * finishes it sooner (see Verify).
 */
const SETTLE_AFTER_MS = 60 * 60 * 1000;

/** When the request last changed status (its receipt if it never did). */
function lastMoved(record: RequestRecord): number {
  const last = record.statusHistory.at(-1)?.at ?? record.receivedAt;
  return Date.parse(last);
}

/**
 * Closes every request that holds raw identities and has not moved for `staleAfterDays` before
 * `now`. In a dry run nothing changes and the result says what would be closed.
 */
export async function reapStaleRequests(
  deps: LetheDeps,
  options: { now: Date; dryRun: boolean; staleAfterDays?: number },
): Promise<ReapResult> {
  const days = options.staleAfterDays ?? DEFAULT_STALE_REQUEST_DAYS;
  if (!Number.isFinite(days) || days < 1)
    throw new RangeError(`staleAfterDays must be at least 1; got ${days}`);
  const cutoffMs = options.now.getTime() - days * DAY_MS;
  const requests = await listRequests(deps);
  const stale = requests.filter(
    (record) =>
      REAPABLE.includes(record.status) &&
      (record.subject !== undefined || record.identities !== undefined) &&
      lastMoved(record) < cutoffMs,
  );
  const awaitingApproval = requests
    .filter((record) => record.status === 'pending-approval' && lastMoved(record) < cutoffMs)
    .map((record) => record.requestId);
  const result: ReapResult = { reaped: 0, wouldReap: 0, requestIds: [], settled: 0, awaitingApproval };
  if (awaitingApproval.length > 0) {
    deps.log.warn(
      'requests waiting for approval longer than the stale limit: staff must approve or deny them',
      {
        awaitingApproval: awaitingApproval.length,
        staleAfterDays: days,
      },
    );
  }
  if (!options.dryRun) {
    const settleBefore = options.now.getTime() - SETTLE_AFTER_MS;
    for (const record of requests.filter((each) => endUnsettled(each) && lastMoved(each) < settleBefore)) {
      await settleEndedRequest(deps, record);
      result.settled += 1;
    }
  }
  for (const record of stale) {
    const running =
      ['received', 'verifying', 'in-progress'].includes(record.status) &&
      deps.executions !== undefined &&
      (await deps.executions.isRunning(executionIdFor(record.requestId, currentAttempt(record))));
    if (running) continue;
    result.requestIds.push(record.requestId);
    if (options.dryRun) {
      result.wouldReap += 1;
      continue;
    }
    try {
      await endUnfinishedRequest(deps, record, {
        actor: ACTOR,
        reason: `not finished within ${days} days of its last change (${record.status}); its identities were dropped`,
        onlyIf: [record.status],
      });
      result.reaped += 1;
    } catch (error) {
      // Someone acted on it meanwhile (a retry, a close): it is not stale any more.
      if (!(error instanceof RequestStateError)) throw error;
      result.requestIds.pop();
    }
  }
  deps.log.info('stale requests reaped', {
    reaped: result.reaped,
    wouldReap: result.wouldReap,
    settled: result.settled,
  });
  return result;
}
