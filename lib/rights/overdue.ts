import type { LetheDeps } from '../deps';
import { FINAL_STATUSES } from './request';
import { listRequests } from './requests-table';

/** Open requests, and those of them past their due date: counts only. */
export interface OverdueCount {
  /** Requests not over yet (any status but completed, rejected, duplicate, closed). */
  open: number;
  /** Open requests whose due date has passed: each one is a deadline the law sets, missed. */
  overdue: number;
}

/**
 * Counts the requests that are not over and those past their due date at `now` (a scan of the
 * requests table: lethe's own bookkeeping). On AWS a scheduled function publishes the counts as
 * metrics, and an alarm pages when any request is overdue.
 */
export async function countOverdueRequests(deps: LetheDeps, now: Date): Promise<OverdueCount> {
  const open = (await listRequests(deps)).filter((record) => !FINAL_STATUSES.includes(record.status));
  const overdue = open.filter((record) => Date.parse(record.dueAt) < now.getTime());
  return { open: open.length, overdue: overdue.length };
}
