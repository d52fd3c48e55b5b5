import { z } from 'zod';
import type { Identity } from '../datamap/identity';

/** Every right lethe knows of. Only those in SUPPORTED_REQUEST_TYPES run today. */
export const requestTypeSchema = z.enum([
  'access',
  'portability',
  'erasure',
  'rectification',
  'restriction',
  'objection',
]);
export type RequestType = z.infer<typeof requestTypeSchema>;

/** Rights the workflow fulfils now; the others are rejected at Verify with a reason. */
export const SUPPORTED_REQUEST_TYPES: readonly RequestType[] = ['access', 'portability', 'erasure'];

export const jurisdictionSchema = z.enum(['gdpr', 'ccpa']);
export type Jurisdiction = z.infer<typeof jurisdictionSchema>;

export const requestStatusSchema = z.enum([
  'received',
  'pending-approval',
  'verifying',
  'in-progress',
  'completed',
  'failed',
  'rejected',
  'duplicate',
]);
export type RequestStatus = z.infer<typeof requestStatusSchema>;

/** Terminal statuses: the request record no longer holds the subject's identities. */
export const FINAL_STATUSES: readonly RequestStatus[] = ['completed', 'failed', 'rejected', 'duplicate'];

export const verificationSchema = z
  .object({
    method: z
      .enum([
        'account-login',
        'email-confirmation',
        'id-document',
        'signed-declaration',
        'knowledge-based',
        'other',
      ])
      .describe('How the requester proved they are the subject'),
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

/**
 * Spellings an identity of a request may have once normalised (the given ones and the forms its
 * type declares): each costs a query per store that locates by it.
 */
export const MAX_SUBJECT_SPELLINGS = 32;

/** What a caller submits; parsed at every boundary (CLI, intake Lambda, Verify). */
export const submitRequestSchema = z
  .object({
    requestId: z
      .string()
      .regex(/^[A-Za-z0-9-_]{8,80}$/, 'request ids are 8-80 letters, digits, dashes or underscores')
      .optional(),
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
  })
  .strict();
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
}

/**
 * The request record kept in the requests table. `subject` and `identities` hold raw
 * identifiers only while the request is in flight; they are removed when it ends and
 * `subjectHashes` (keyed hashes) remain, as the record must be kept for 24 months.
 */
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
  /** The identities submitted, normalised, with the spellings given (see Identity.spellings). */
  subject?: Identity[];
  /** Identities found by following links, with every spelling found; in flight only. */
  identities?: Identity[];
  subjectHashes: string[];
  statusHistory: StatusChange[];
  stores?: StoreOutcome[];
  export?: { bucket: string; key: string; expiresAt: string; sha256: string; bytes: number } | null;
  certificate?: unknown;
  error?: { code: string; message: string; state?: string } | null;
  reason?: string;
  completedAt?: string;
  executionArn?: string;
}
