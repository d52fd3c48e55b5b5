import * as z from 'zod';
import type { Identity } from '../datamap/identity';
import type { RequestCaveat } from './caveats';
import {
  DENIAL_REASONS,
  OBJECTION_SCOPE_PATTERN,
  REQUEST_ID_PATTERN,
  REQUEST_STATUSES,
  REQUEST_TYPES,
  VERIFICATION_METHODS,
} from './request-values';
import type { IdentityTrust, TrustPath } from './trust';

/** Every right lethe fulfils. */
export const requestTypeSchema = z.enum(REQUEST_TYPES);
export type RequestType = z.infer<typeof requestTypeSchema>;

/**
 * What an objection stops: `marketing`, `sale-or-sharing` (the CCPA opt-out), `profiling`, `all`
 * processing, or `consent:PURPOSE` (withdrawal of consent for one purpose).
 */
export const objectionScopeSchema = z
  .string()
  .regex(
    OBJECTION_SCOPE_PATTERN,
    'the scope is marketing, sale-or-sharing, profiling, all, or consent:PURPOSE (e.g. consent:newsletter)',
  );
export type ObjectionScope = z.infer<typeof objectionScopeSchema>;

/** A corrected value, as a rectification sets it. Personal data: kept only while the request runs. */
export const correctionValueSchema = z.union([z.string().max(4096), z.number(), z.boolean()]);
export type CorrectionValue = z.infer<typeof correctionValueSchema>;

export const jurisdictionSchema = z.enum(['gdpr', 'ccpa']);
export type Jurisdiction = z.infer<typeof jurisdictionSchema>;

export const requestStatusSchema = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof requestStatusSchema>;

/**
 * Terminal statuses: the request is over, its record keeps only keyed hashes of the subject, its
 * manifests are deleted and its in-flight locks released. `closed` is a failed or reviewed
 * request staff ended without finishing it.
 */
export const FINAL_STATUSES: readonly RequestStatus[] = ['completed', 'rejected', 'duplicate', 'closed'];

/**
 * Statuses of a request no execution is running for, that still holds its identities, manifests
 * and locks because it is not over: a failed request waits for `lethe request retry` or
 * `close`, a request with records to review for `lethe request review`, one the policy holds for
 * approval for `lethe request approve` or `deny` (it has taken no locks and written no manifests yet).
 */
export const WAITING_STATUSES: readonly RequestStatus[] = ['failed', 'pending-review', 'pending-approval'];

/** Why staff deny a request: the reason the subject is owed (GDPR Art. 12(4), CCPA §7022). */
export const denialReasonSchema = z.enum(DENIAL_REASONS);
export type DenialReason = z.infer<typeof denialReasonSchema>;

/** The execution of one attempt of a request: the request id, then `.attempt-N` from the second on. */
export function executionIdFor(requestId: string, attempt: number): string {
  // Request ids hold no ".", so no other request's id can look like an attempt of this one.
  return attempt <= 1 ? requestId : `${requestId}.attempt-${attempt}`;
}

/** The request and attempt an execution runs, from its name (the inverse of executionIdFor). */
export function requestOfExecution(executionId: string): { requestId: string; attempt: number } {
  const match = /^(.+)\.attempt-(\d+)$/.exec(executionId);
  return match
    ? { requestId: match[1] as string, attempt: Number(match[2]) }
    : { requestId: executionId, attempt: 1 };
}

export const verificationSchema = z
  .object({
    method: z.enum(VERIFICATION_METHODS).describe('How the requester proved they are the subject'),
    verifiedBy: z.string().trim().min(1, 'name who verified the identity, e.g. --verified-by "J. Doe"'),
    verifiedAt: z.iso.datetime({ offset: true }).optional(),
    evidenceRef: z
      .string()
      .max(256)
      .optional()
      .describe('Reference to the evidence kept elsewhere (ticket id)'),
  })
  .strict();
export type Verification = z.infer<typeof verificationSchema>;

/** A request id (REQUEST_ID_PATTERN). */
export const requestIdSchema = z
  .string()
  .regex(REQUEST_ID_PATTERN, 'request ids are 8 to 64 letters, digits, dashes or underscores');

/**
 * Spellings an identity of a request may have once normalised (the given ones and the forms its
 * type declares): each costs a query per store that locates by it.
 */
export const MAX_SUBJECT_SPELLINGS = 32;

/** What a caller submits; parsed at every boundary (CLI, intake Lambda, Verify). */
export const submitRequestSchema = z
  .object({
    requestId: requestIdSchema.optional(),
    type: requestTypeSchema,
    subject: z
      .array(
        z
          .object({
            type: z.string().min(1),
            value: z.string(),
            // Other spellings of the same value the requester or intake knows; each must normalise to it.
            spellings: z.array(z.string()).optional(),
          })
          .strict(),
      )
      .min(1, 'give at least one subject identity, e.g. --subject email=ada@example.com'),
    jurisdiction: jurisdictionSchema,
    channel: z.enum(['web', 'email', 'phone', 'mail', 'in-person', 'api', 'cli']).default('api'),
    receivedAt: z.iso.datetime({ offset: true }).optional(),
    verification: verificationSchema.optional(),
    submittedBy: z.string().trim().min(1).optional(),
    /** Objection only: what the subject objects to. */
    scope: objectionScopeSchema.optional(),
    /** Rectification only: the corrected value of each field (attribute). */
    corrections: z.record(z.string(), correctionValueSchema).optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.type === 'objection' && request.scope === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scope'],
        message: 'an objection needs a scope, e.g. --scope sale-or-sharing or --scope consent:newsletter',
      });
    }
    if (request.type !== 'objection' && request.scope !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scope'],
        message: 'a scope is given with objection requests only',
      });
    }
    const corrections = Object.keys(request.corrections ?? {}).length;
    if (request.type === 'rectification' && corrections === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['corrections'],
        message: 'a rectification needs corrections, e.g. --set name="Ada Berg"',
      });
    }
    if (request.type !== 'rectification' && request.corrections !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['corrections'],
        message: 'corrections are given with rectification requests only',
      });
    }
  });
export type SubmitRequestInput = z.input<typeof submitRequestSchema>;
export type SubmitRequest = z.infer<typeof submitRequestSchema>;

export interface StatusChange {
  status: RequestStatus;
  at: string;
  by: string;
  note?: string;
}

/** Per-store counts reported to staff and in the certificate. No identifiers. */
export interface StoreOutcome {
  store: string;
  located: number;
  exported: number;
  erased: number;
  masked: number;
  exempted: number;
  remaining: number;
  /** Records only claimed links reached, left alone because staff excluded the store in review. */
  excludedByReview?: number;
}

/** A store with records only claimed links reached, waiting for staff to include or exclude them. */
export interface StoreReview {
  store: string;
  /** Records (lines, for JSON-lines stores) waiting for review. */
  records: number;
  /** How the claimed identities that found them were reached: types and keyed hashes. */
  paths: TrustPath[];
}

/** What staff decided about one store's claimed records, by whom and when. */
export interface ReviewDecision {
  store: string;
  decision: 'include' | 'exclude';
  by: string;
  at: string;
  /** The attempt that was reviewed. */
  attempt: number;
  note?: string;
}

/**
 * The request record kept in the requests table. `subject` and `identities` hold raw
 * identifiers only while the request is in flight; they are removed when it ends and
 * `subjectHashes` (keyed hashes) remain, as the record must be kept for 24 months.
 */
/** What one store's erasure did in one attempt: counts only, kept so the certificate accounts for every attempt. */
export interface ErasureLogEntry {
  attempt: number;
  storeId: string;
  at: string;
  erased: number;
  masked: number;
  exempted: number;
  skipped: number;
  failed: number;
}

/** One run of a request's workflow: the first, a retry, or the run after a review. */
export interface AttemptRecord {
  attempt: number;
  executionId: string;
  startedAt: string;
  /** Who started it: the submitter for the first, staff for a retry or review. */
  by: string;
  reason: 'submitted' | 'retry' | 'review';
}

export interface RequestRecord {
  requestId: string;
  type: RequestType;
  jurisdiction: Jurisdiction;
  channel: string;
  status: RequestStatus;
  receivedAt: string;
  dueAt: string;
  verification?: Verification;
  submittedBy?: string;
  /** Objection: what the subject objects to. */
  scope?: ObjectionScope;
  /** Rectification: the corrected values by field, normalised; in flight only (personal data). */
  corrections?: Record<string, CorrectionValue>;
  /** The identities submitted, normalised, with the spellings given (see Identity.spellings). */
  subject?: Identity[];
  /** Identities found by following links, with every spelling found; in flight only. */
  identities?: Identity[];
  /** How far each identity is trusted (verified or claimed, with its link path); in flight only. */
  identityTrust?: IdentityTrust[];
  /** The review the request waits for (or last waited for): the stores and what reached them. */
  review?: { attempt: number; requestedAt: string; stores: StoreReview[] };
  /** Every review decision, oldest first: a store's latest one applies. */
  reviewDecisions?: ReviewDecision[];
  subjectHashes: string[];
  statusHistory: StatusChange[];
  stores?: StoreOutcome[];
  export?: { bucket: string; key: string; expiresAt: string; sha256: string; bytes: number } | null;
  certificate?: unknown;
  error?: { code: string; message: string; state?: string } | null;
  reason?: string;
  completedAt?: string;
  executionArn?: string;
  /** For a duplicate: the request that holds the subject. */
  duplicateOf?: string;
  /** Who approved a request the policy held for approval, and when. */
  approval?: { by: string; at: string };
  /** Why staff denied the request: the reason the subject is told. */
  denial?: { reason: DenialReason; note: string; by: string; at: string };
  /** Who cancelled the request before it ran, and when (the reason is in `reason`). */
  cancellation?: { by: string; at: string };
  /** The one extension of the due date the law allows: by whom, why, and the due date before it. */
  extension?: { days: number; by: string; at: string; reason: string; previousDueAt: string };
  /** The export package was deleted by a later erasure of the same subject: when, and which request. */
  exportDeletedAt?: string;
  exportDeletedBy?: string;
  /** The keyed hashes the export package is indexed under (lib/rights/earlier-exports.ts). */
  exportIndexedUnder?: string[];
  /** What the last `lethe check` said of the stores this request searched (see lib/rights/caveats.ts). */
  caveats?: RequestCaveat[];
  /** For an erasure: the earlier export packages of the subject it deleted. */
  exportsDeleted?: { requestId: string; deletedAt: string }[];
  /** The current attempt (1 until the request is retried or reviewed). */
  attempt?: number;
  attempts?: AttemptRecord[];
  /** Per store and attempt, what erasure did: the certificate sums it over attempts. */
  erasureLog?: ErasureLogEntry[];
  /** How each failed attempt failed (codes only): the record of why it took more than one. */
  failures?: AttemptFailure[];
  /**
   * Set from the moment the record is written until its `request.received` audit event is: a
   * process that dies in between leaves it set, and Verify appends the event when the request runs.
   */
  receiptPending?: true;
  /**
   * Set with the final status until the request's locks and manifests are released and its end is
   * audited: a process that dies in between leaves it set, and settleEndedRequest finishes the job.
   */
  outcomePending?: true;
}

export interface AttemptFailure {
  attempt: number;
  at: string;
  code: string;
  state?: string;
}

/** The request's current attempt number (records written before attempts existed are attempt 1). */
export function currentAttempt(record: Pick<RequestRecord, 'attempt'>): number {
  return record.attempt ?? 1;
}
