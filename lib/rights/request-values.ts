/**
 * The values a request's fields take, as plain constants: the CLI offers them as choices and
 * checks a request id against the pattern without loading the schema library; the zod schemas
 * of ./request are built from these.
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
