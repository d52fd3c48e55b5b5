import type { RequestCaveat } from './caveats';
import type {
  RequestRecord,
  RequestStatus,
  RequestType,
  ReviewDecision,
  StoreOutcome,
  StoreReview,
} from './request';
import { currentAttempt } from './request-values';

/** A request's review of records only claimed links reached: types, keyed hashes and counts only. */
export interface ReviewSummary {
  /** The stores that wait (pending-review) or last waited for review, with counts and link paths. */
  stores: StoreReview[];
  /** Every decision staff made, oldest first. */
  decisions: ReviewDecision[];
  /** While the request waits: the command that decides it. */
  command: string | null;
}

/** What a caller is told about a request: the CLI's `--json` shape. No identifiers. */
export interface RequestSummary {
  requestId: string;
  type: RequestType;
  status: RequestStatus;
  jurisdiction: string;
  receivedAt: string;
  dueAt: string;
  completedAt: string | null;
  stores: StoreOutcome[];
  export: {
    path: string | null;
    url: string | null;
    sha256: string;
    bytes: number;
    expiresAt: string;
    /** When a later erasure of the same person deleted the package (then there is no path or link). */
    deletedAt: string | null;
  } | null;
  certificate: unknown;
  error: { code: string; message: string; state?: string } | null;
  reason: string | null;
  /** The attempt the request is on: 1 until it is retried. */
  attempt: number;
  /** For a duplicate: the request that holds the subject. */
  duplicateOf: string | null;
  /** Null when no record only claimed links reached ever waited for review. */
  review: ReviewSummary | null;
  /** Stores whose values locate may not reach (or that were never checked), from the last `lethe check`. */
  caveats: RequestCaveat[];
  /** Who approved it, for a request the policy held for approval. */
  approval?: RequestRecord['approval'];
  /** Why it was denied: the reason the subject is told. */
  denial?: RequestRecord['denial'];
  /** The one extension of its due date. */
  extension?: RequestRecord['extension'];
}

/**
 * Summarises a request record for people and scripts. `exportLocation` is where the
 * package can be fetched (a local path, a pre-signed URL), resolved by the caller.
 */
export function summariseRequest(
  record: RequestRecord,
  exportLocation: { path: string | null; url: string | null } | null = null,
): RequestSummary {
  return {
    requestId: record.requestId,
    type: record.type,
    status: record.status,
    jurisdiction: record.jurisdiction,
    receivedAt: record.receivedAt,
    dueAt: record.dueAt,
    completedAt: record.completedAt ?? null,
    stores: record.stores ?? [],
    export: record.export
      ? {
          path: record.exportDeletedAt ? null : (exportLocation?.path ?? null),
          url: record.exportDeletedAt ? null : (exportLocation?.url ?? null),
          sha256: record.export.sha256,
          bytes: record.export.bytes,
          expiresAt: record.export.expiresAt,
          deletedAt: record.exportDeletedAt ?? null,
        }
      : null,
    certificate: record.certificate ?? null,
    error: record.error ?? null,
    reason: record.reason ?? null,
    attempt: currentAttempt(record),
    duplicateOf: record.duplicateOf ?? null,
    review: reviewSummary(record),
    caveats: record.caveats ?? [],
    ...(record.approval ? { approval: record.approval } : {}),
    ...(record.denial ? { denial: record.denial } : {}),
    ...(record.extension ? { extension: record.extension } : {}),
  };
}

function reviewSummary(record: RequestRecord): ReviewSummary | null {
  if (!record.review && !record.reviewDecisions?.length) return null;
  return {
    stores: record.review?.stores ?? [],
    decisions: record.reviewDecisions ?? [],
    command:
      record.status === 'pending-review'
        ? `lethe request review ${record.requestId} --include STORE... --exclude STORE... --by NAME [--note TEXT]`
        : null,
  };
}
