import type { LetheDeps } from '../deps';
import type { RequestRecord, RequestStatus } from './request';
import { FINAL_STATUSES } from './request-values';
import { listRequests } from './requests-table';

const DAY_MS = 24 * 60 * 60 * 1000;

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

/** Which requests `lethe request list` shows: one status, those past due, or those due soon. */
export interface RequestListFilter {
  status?: RequestStatus;
  /** Open requests whose due date has passed. */
  overdue?: boolean;
  /** Open requests due within this many days (overdue ones included). */
  dueWithinDays?: number;
}

/**
 * The requests the filter selects at `now`, newest first: a deadline filter selects open requests
 * only (an ended request has no deadline left to meet).
 */
export async function listRequestsBy(
  deps: LetheDeps,
  filter: RequestListFilter,
  now: Date,
): Promise<RequestRecord[]> {
  const records = await listRequests(deps, filter.status ? { status: filter.status } : {});
  if (!filter.overdue && filter.dueWithinDays === undefined) return records;
  const due = (record: RequestRecord) => Date.parse(record.dueAt);
  const selected = filter.overdue
    ? (record: RequestRecord) => due(record) < now.getTime()
    : (record: RequestRecord) => due(record) <= now.getTime() + (filter.dueWithinDays ?? 0) * DAY_MS;
  return records.filter((record) => !FINAL_STATUSES.includes(record.status) && selected(record));
}
