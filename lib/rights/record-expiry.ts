import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { appendAuditEvent, auditDepsOf } from '../audit/log';
import type { LetheDeps } from '../deps';
import { unindexExport } from './earlier-exports';
import { FINAL_STATUSES, type RequestRecord } from './request';
import { deleteRequestRecord, listRequests } from './requests-table';

/**
 * lethe's own records expire too. A request that ended keeps its record (keyed hashes of the
 * subject, dates, outcome, counts: no identifier) for the period the law asks such records be
 * kept, 24 months by default (CCPA, 11 CCR §7101), and the retention sweep then deletes it, with a
 * `request.purged` audit event. The audit log keeps the request's events: what happened stays
 * provable after the record is gone. An export package still stored (locally no lifecycle rule
 * expires it) is deleted with the record, and the record leaves the export index (the index is keyed
 * by the subject's hashes: it must not outlive the records it points to).
 */

/** Days a request's record is kept after the request ended, unless configured otherwise: 24 months. */
export const DEFAULT_REQUEST_RECORD_DAYS = 730;
const DAY_MS = 24 * 60 * 60 * 1000;
const ACTOR = 'lethe:sweep';

export interface RecordPurgeResult {
  /** Records deleted (in a dry run: 0). */
  purged: number;
  /** In a dry run, records that would have been deleted (otherwise 0). */
  wouldPurge: number;
  /** The requests whose records were deleted or would be: ids only. */
  requestIds: string[];
}

/** When a request ended: its completion, else its last status change. */
function endedAt(record: RequestRecord): string {
  return record.completedAt ?? record.statusHistory.at(-1)?.at ?? record.receivedAt;
}

/** A record the purge may delete: the request is over and settled, and it holds no raw identifier. */
function settled(record: RequestRecord): boolean {
  return (
    FINAL_STATUSES.includes(record.status) &&
    record.outcomePending === undefined &&
    record.subject === undefined &&
    record.identities === undefined
  );
}

/**
 * Deletes the records of requests that ended more than `keepDays` before `now`, each after
 * appending `request.purged` (its type, jurisdiction, status, dates and keyed subject hashes). A
 * purge cut off between the event and the delete appends the event again on the next sweep.
 * In a dry run nothing changes and the result says what would be deleted.
 */
export async function purgeExpiredRequestRecords(
  deps: LetheDeps,
  options: { now: Date; dryRun: boolean; keepDays?: number },
): Promise<RecordPurgeResult> {
  const keepDays = options.keepDays ?? DEFAULT_REQUEST_RECORD_DAYS;
  if (!Number.isInteger(keepDays) || keepDays < 1)
    throw new RangeError(`keepDays must be a whole number of days from 1; got ${keepDays}`);
  const cutoff = new Date(options.now.getTime() - keepDays * DAY_MS).toISOString();
  const expired = (await listRequests(deps)).filter(
    (record) => settled(record) && Date.parse(endedAt(record)) < Date.parse(cutoff),
  );
  const result: RecordPurgeResult = { purged: 0, wouldPurge: 0, requestIds: [] };
  for (const record of expired) {
    result.requestIds.push(record.requestId);
    if (options.dryRun) {
      result.wouldPurge += 1;
      continue;
    }
    if (record.export && !record.exportDeletedAt) {
      // Deleting an object that is gone already succeeds: on AWS the lifecycle rule took it long ago.
      await deps.clients.s3.send(
        new DeleteObjectCommand({ Bucket: deps.resources.exportsBucket, Key: record.export.key }),
      );
    }
    await unindexExport(deps, record);
    await appendAuditEvent(auditDepsOf(deps), {
      type: 'request.purged',
      actor: ACTOR,
      requestId: record.requestId,
      subjectHashes: record.subjectHashes,
      details: {
        requestType: record.type,
        jurisdiction: record.jurisdiction,
        status: record.status,
        receivedAt: record.receivedAt,
        endedAt: endedAt(record),
        keptDays: keepDays,
      },
    });
    if (await deleteRequestRecord(deps, record.requestId, record.status)) result.purged += 1;
    // Gone already (another sweep purged it meanwhile): the event says so once more, harmlessly.
    else result.requestIds.pop();
  }
  deps.log.info('expired request records purged', {
    purged: result.purged,
    wouldPurge: result.wouldPurge,
    keepDays,
  });
  return result;
}
