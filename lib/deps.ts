import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DataMap } from './datamap/schema';
import type { Logger } from './log';
import type { RetryPolicy } from './stores/retry';
import type { StoreClients } from './stores/types';

/** Names of the resources lethe owns, from CDK outputs on AWS or the local runtime. */
export interface LetheResources {
  requestsTable: string;
  auditTable: string;
  holdsTable: string;
  manifestsBucket: string;
  exportsBucket: string;
  /** Customer-managed KMS key for SSE-KMS writes; unset locally (s3rver has no KMS). */
  kmsKeyId?: string;
  /** Where the audit log's anchors are written; unset on stacks deployed before anchors existed. */
  auditBucket?: string;
  /**
   * The identity index of shared-object stores (lib/lake); unset on stacks deployed before it
   * existed, where indexed stores are read in full as every other one.
   */
  identityIndexTable?: string;
  /** The audit bucket keeps versions (on AWS, with Object Lock); the local S3 server has none. */
  auditBucketVersioned?: boolean;
  /** The suppression list (objections, opt-outs, withdrawn consent); unset on stacks deployed before it existed. */
  suppressionTable?: string;
}

/**
 * Tells whether a workflow execution is still running, so a request whose process or execution
 * died can be told from one that is merely busy: locally, an execution is running only while this
 * process runs it (one process owns a state directory); on AWS, while Step Functions says RUNNING.
 */
export interface ExecutionProbe {
  isRunning(executionId: string): Promise<boolean>;
  /** The names of the machine's running executions other than this one (on AWS; locally absent). */
  othersRunning?(executionId: string): Promise<string[]>;
}

/**
 * What the subject's notification needs to say about a request: its id, what happened and where
 * the export is. Never an identifier: whoever sends the message (a privacy portal) knows the
 * subject by the request id.
 */
export interface SubjectNotice {
  requestId: string;
  /** completed, rejected (denied or refused at Verify, with the reason) or extended (a new due date). */
  status: 'completed' | 'rejected' | 'extended';
  at: string;
  requestType: string;
  dueAt: string;
  /** Why a request was rejected or extended, as staff wrote it (checked to name no one). */
  reason?: string;
  /** The export package of an access or portability request. */
  export?: { bucket: string; key: string; expiresAt: string } | null;
}

/**
 * Publishes notices for the subject: on AWS an EventBridge event, locally a file in the state
 * directory's outbox. Publishing the same notice twice is harmless (consumers key on request id and status).
 */
export interface SubjectNotifier {
  publish(notice: SubjectNotice): Promise<void>;
}

/**
 * Everything the workflow steps need, created once (at cold start, or by the local
 * runtime) and passed in, so domain code never builds clients or reads the environment.
 */
export interface LetheDeps {
  dataMap: DataMap;
  clients: StoreClients;
  doc: DynamoDBDocumentClient;
  resources: LetheResources;
  keys: {
    /** HMAC key for subject hashes in audit events and closed request records. */
    subjectHash: Buffer;
    /** HMAC key for the data map's `with: hmac` mask strategy. */
    mask: Buffer;
  };
  /** Lifetime of export download links, at most 7 days (the SigV4 limit). */
  exportUrlTtlSeconds: number;
  now: () => Date;
  log: Logger;
  retry?: RetryPolicy;
  /** Days a request may stand still before the sweep's reaper closes it; default DEFAULT_STALE_REQUEST_DAYS (30). */
  staleRequestDays?: number;
  /** Days an ended request's record is kept before the sweep purges it; default DEFAULT_REQUEST_RECORD_DAYS (730). */
  requestRecordDays?: number;
  /** Where executions can be asked whether they still run; without it every holder counts as running. */
  executions?: ExecutionProbe;
  /**
   * On AWS, the probe for executions of a state machine known only at run time (a step learns its
   * machine's ARN from the execution's context object).
   */
  executionProbeFor?: (stateMachineArn: string) => ExecutionProbe;
  /** Where notices for the subject go (request completed, rejected, extended); without it none are sent. */
  notifier?: SubjectNotifier;
}

export const MAX_EXPORT_URL_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Builds LetheDeps, deriving the document client from the DynamoDB client once. */
export function createLetheDeps(input: Omit<LetheDeps, 'doc'>): LetheDeps {
  if (input.exportUrlTtlSeconds < 60 || input.exportUrlTtlSeconds > MAX_EXPORT_URL_TTL_SECONDS) {
    throw new RangeError(
      `exportUrlTtlSeconds must be between 60 and ${MAX_EXPORT_URL_TTL_SECONDS} (7 days); got ${input.exportUrlTtlSeconds}`,
    );
  }
  const doc = DynamoDBDocumentClient.from(input.clients.dynamodb, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  return { ...input, doc };
}
