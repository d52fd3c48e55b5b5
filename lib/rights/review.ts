import { appendAuditEvent } from '../audit/log';
import type { LetheDeps } from '../deps';
import type { LocatedRecord } from '../stores/types';
import { RequestStateError, StaleAttemptError } from './errors';
import { readManifest } from './manifests';
import { auditDeps } from './outcome';
import { currentAttempt, type RequestRecord, type StoreReview } from './request';
import { getRequest, updateRequest } from './requests-table';
import type { TrustPath } from './trust';

/**
 * Records that only claimed links reached (see trust.ts) are not exported or erased until staff
 * review them: Locate leaves them out of the manifest, RecordReview pauses the request as
 * `pending-review` with per-store counts and link paths, and `lethe request review` records the
 * decision per store and runs the request again.
 */

/** A store's latest review decision, if staff made one. */
export function reviewDecisionFor(
  record: Pick<RequestRecord, 'reviewDecisions'>,
  storeId: string,
): 'include' | 'exclude' | undefined {
  return (record.reviewDecisions ?? []).findLast((decision) => decision.store === storeId)?.decision;
}

/** What a record counts as: its lines for a JSON-lines record, else one. */
export function recordUnits(record: LocatedRecord): number {
  return record.kind === 'lines' ? record.lineCount : 1;
}

/** A store's located records sorted by what review says of them. */
export interface ReviewedRecords {
  /** Records the request acts on: those a verified identity found, and claimed ones staff included. */
  kept: LocatedRecord[];
  /** Counts (lines for JSON-lines stores) of the records only claimed identities found. */
  claimed: number;
  /** Of those, the ones waiting for a decision, and the labels (keyed hashes) of their finders. */
  pending: { records: number; claimedBy: string[] };
  /** Of those, the ones staff excluded. */
  excluded: number;
}

/**
 * Sorts one store's located records by review: records only claimed identities found are kept
 * only when staff included the store; excluded ones are left alone; the rest wait for review.
 */
export function sortByReview(
  records: readonly LocatedRecord[],
  decision: 'include' | 'exclude' | undefined,
): ReviewedRecords {
  const sorted: ReviewedRecords = {
    kept: [],
    claimed: 0,
    pending: { records: 0, claimedBy: [] },
    excluded: 0,
  };
  const labels = new Set<string>();
  for (const record of records) {
    if (!record.claimedBy) {
      sorted.kept.push(record);
      continue;
    }
    sorted.claimed += recordUnits(record);
    if (decision === 'include') sorted.kept.push(record);
    else if (decision === 'exclude') sorted.excluded += recordUnits(record);
    else {
      sorted.pending.records += recordUnits(record);
      for (const label of record.claimedBy) labels.add(label);
    }
  }
  sorted.pending.claimedBy = [...labels].sort();
  return sorted;
}

/** What Locate reported for one store, as RecordReview receives it (counts and keys only). */
export interface LocatedForReview {
  storeId: string;
  manifestKey: string;
  pendingReview: number;
}

export interface RecordReviewResult {
  requestId: string;
  /** True when the request now waits for review: the execution ends. */
  paused: boolean;
}

function pathId(path: TrustPath): string {
  return JSON.stringify(path);
}

/**
 * RecordReview: when Locate left records of some stores waiting for review (only claimed links
 * reached them and staff have not decided the store), marks the request `pending-review` with
 * per store the count and the link paths that reached them (types and keyed hashes), and appends
 * `request.review-requested` to the audit log. The execution then ends: no execution idles, and
 * `lethe request review` starts the next attempt. Otherwise changes nothing.
 * @throws StaleAttemptError when the request has moved on to a later attempt
 * @throws RequestStateError when the request is no longer in progress
 */
export async function recordReviewRequest(
  deps: LetheDeps,
  input: { requestId: string; attempt: number; located: LocatedForReview[] },
): Promise<RecordReviewResult> {
  const { requestId, attempt } = input;
  const waiting = input.located.filter((store) => store.pendingReview > 0);
  if (waiting.length === 0) return { requestId, paused: false };
  const record = await getRequest(deps, requestId);
  if (attempt !== currentAttempt(record))
    throw new StaleAttemptError(requestId, attempt, currentAttempt(record));
  if (record.status !== 'in-progress') {
    throw new RequestStateError(`request ${requestId} is ${record.status}, not in progress`);
  }
  const trust = new Map((record.identityTrust ?? []).map((entry) => [entry.hash, entry]));
  const stores: StoreReview[] = [];
  for (const located of waiting) {
    const manifest = await readManifest(deps, located.manifestKey);
    const paths = new Map<string, TrustPath>();
    for (const label of manifest.review?.claimedBy ?? []) {
      const path = trust.get(label)?.path;
      if (path) paths.set(pathId(path), path);
    }
    stores.push({ store: located.storeId, records: located.pendingReview, paths: [...paths.values()] });
  }
  const total = stores.reduce((sum, store) => sum + store.records, 0);
  await updateRequest(deps, requestId, {
    status: 'pending-review',
    by: 'lethe:record-review',
    note: `${total} record(s) in ${stores.length} store(s) reached only through claimed links wait for review`,
    set: { review: { attempt, requestedAt: deps.now().toISOString(), stores } },
    onlyIf: ['in-progress'],
  });
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.review-requested',
    actor: 'lethe:workflow',
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, attempt, stores },
  });
  deps.log.info('request waits for review', {
    requestId,
    attempt,
    stores: stores.map((store) => store.store),
    records: total,
  });
  return { requestId, paused: true };
}
