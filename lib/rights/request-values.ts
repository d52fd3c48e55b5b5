/**
 * The values a request's fields take, as plain constants, and what is worked out from a record
 * without its schemas: the CLI offers them as choices, checks a request id against the pattern,
 * and lists and shows requests without loading the schema library; the zod schemas of ./request
 * are built from these.
 */

export { JURISDICTIONS, REQUEST_TYPES } from '../datamap/request-kinds';

export const REQUEST_STATUSES = [
  'received',
  'pending-approval',
  'verifying',
  'in-progress',
  'pending-review',
  'completed',
  'failed',
  'rejected',
  'duplicate',
  'closed',
] as const;

type RequestStatusValue = (typeof REQUEST_STATUSES)[number];
/**
 * Terminal statuses: the request is over, its record keeps only keyed hashes of the subject, its
 * manifests are deleted and its in-flight locks released. `closed` is a failed or reviewed
 * request staff ended without finishing it.
 */
export const FINAL_STATUSES: readonly RequestStatusValue[] = ['completed', 'rejected', 'duplicate', 'closed'];

/**
 * Statuses of a request no execution is running for, that still holds its identities, manifests
 * and locks because it is not over: a failed request waits for `lethe request retry` or
 * `close`, a request with records to review for `lethe request review`, one the policy holds for
 * approval for `lethe request approve` or `deny` (it has taken no locks and written no manifests yet).
 */
export const WAITING_STATUSES: readonly RequestStatusValue[] = [
  'failed',
  'pending-review',
  'pending-approval',
];

/**
 * What an objection stops: `marketing`, `sale-or-sharing` (the CCPA opt-out), `profiling`, `all`
 * processing, or `consent:PURPOSE` (withdrawal of consent for one purpose).
 */
export const OBJECTION_SCOPE_PATTERN =
  /^(marketing|sale-or-sharing|profiling|all|consent:[a-z][a-z0-9-]{0,62})$/;

/** Why staff deny a request: the reason the subject is owed (GDPR Art. 12(4), CCPA §7022). */
export const DENIAL_REASONS = [
  'unverifiable-identity',
  'manifestly-unfounded',
  'excessive',
  'legal-exemption',
  'other',
] as const;

/** How a requester proved they are the subject. */
export const VERIFICATION_METHODS = [
  'account-login',
  'email-confirmation',
  'id-document',
  'signed-declaration',
  'knowledge-based',
  'other',
] as const;

/**
 * A request id: 8 to 64 letters, digits, dashes or underscores. At most 64 so that the execution
 * name of a later attempt (`<id>.attempt-N`) stays within Step Functions' 80 characters.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

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

/** The request's current attempt number (records written before attempts existed are attempt 1). */
export function currentAttempt(record: { attempt?: number }): number {
  return record.attempt ?? 1;
}
