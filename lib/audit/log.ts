import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LetheDeps } from '../deps';
import { type RetryPolicy, waitBeforeRetry } from '../stores/retry';

/**
 * What happened, in words an auditor can filter on: every event type lethe appends. A request's
 * steps each leave one (verified, located per store, exported, erased per store, confirmed,
 * certificate issued, outcome); staff actions name who acted; sweeps are recorded page by page.
 */
export const AUDIT_EVENT_TYPES = [
  'request.received',
  'request.verified',
  'request.located',
  'request.exported',
  'request.erased',
  'request.rectified',
  'request.restricted',
  'request.restriction-lifted',
  'request.consent-withdrawn',
  'request.suppression-recorded',
  'request.confirmed',
  'request.certificate-issued',
  'request.completed',
  'request.rejected',
  'request.duplicate',
  'request.failed',
  'request.retried',
  'request.closed',
  'request.review-requested',
  'request.reviewed',
  'request.approved',
  'request.denied',
  'request.extended',
  'request.cancelled',
  'request.purged',
  'sweep.started',
  'sweep.page',
  'sweep.completed',
  'sweep.failed',
  'sweep.skipped',
  'hold.placed',
  'hold.released',
  'suppression.removed',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** An audit event as appended: never a raw identifier, only keyed subject hashes. */
export interface AuditEventInput {
  type: AuditEventType;
  actor: string;
  requestId?: string;
  subjectHashes?: string[];
  details?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  stream: string;
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export const AUDIT_STREAM = 'events';
/** The previous hash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Canonical JSON (sorted keys) so a hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash an event carries: SHA-256 over its canonical form without the hash itself. */
export function hashAuditEvent(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}

export class AuditAppendConflictError extends Error {
  override readonly name = 'AuditAppendConflictError';
}

/** What appending and reading the audit log needs: the document client, the table and a clock. */
export interface AuditDeps {
  doc: DynamoDBDocumentClient;
  auditTable: string;
  now: () => Date;
  /** How appends back off when another writer took the sequence number; default AUDIT_APPEND_RETRY. */
  appendRetry?: RetryPolicy;
}

/** The audit view of LetheDeps (or of any deps holding the same parts). */
export function auditDepsOf(deps: Pick<LetheDeps, 'doc' | 'resources' | 'now'>): AuditDeps {
  return { doc: deps.doc, auditTable: deps.resources.auditTable, now: deps.now };
}

/**
 * Back-off between two tries at the next sequence number: full jitter, so writers that collided
 * spread out instead of colliding again; the attempts cover dozens of writers appending at once.
 */
export const AUDIT_APPEND_RETRY: RetryPolicy = { maxAttempts: 40, baseDelayMs: 5, maxDelayMs: 400 };

/** One page of the log, newest event first (from `startKey` on): the head, or what was appended lately. */
function newestFirst(
  deps: Pick<AuditDeps, 'doc' | 'auditTable'>,
  limit: number,
  startKey?: Record<string, unknown>,
) {
  return deps.doc.send(
    new QueryCommand({
      TableName: deps.auditTable,
      KeyConditionExpression: '#stream = :stream',
      ExpressionAttributeNames: { '#stream': 'stream' },
      ExpressionAttributeValues: { ':stream': AUDIT_STREAM },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }),
  );
}

async function lastAuditEvent(deps: Pick<AuditDeps, 'doc' | 'auditTable'>): Promise<AuditEvent | undefined> {
  return (await newestFirst(deps, 1)).Items?.[0] as AuditEvent | undefined;
}

/**
 * Appends one event to the audit log: the next sequence number, written with a conditional
 * put so two writers can never both take it, and the previous event's hash, so that an
 * edited, removed or reordered event breaks the chain. A writer that lost the race backs off
 * (jittered) and tries again at the new head. Every audit write goes through here.
 * @throws AuditAppendConflictError when the retry policy's attempts are spent
 */
export async function appendAuditEvent(deps: AuditDeps, input: AuditEventInput): Promise<AuditEvent> {
  const retry = deps.appendRetry ?? AUDIT_APPEND_RETRY;
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt += 1) {
    if (attempt > 1) await waitBeforeRetry(retry, attempt - 1);
    const previous = await lastAuditEvent(deps);
    const unhashed: Omit<AuditEvent, 'hash'> = {
      ...input,
      stream: AUDIT_STREAM,
      seq: (previous?.seq ?? 0) + 1,
      at: deps.now().toISOString(),
      prevHash: previous?.hash ?? GENESIS_HASH,
    };
    const event: AuditEvent = { ...unhashed, hash: hashAuditEvent(unhashed) };
    try {
      await deps.doc.send(
        new PutCommand({
          TableName: deps.auditTable,
          Item: event,
          ConditionExpression: 'attribute_not_exists(seq)',
        }),
      );
      return event;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  throw new AuditAppendConflictError(
    `could not append an audit event after ${retry.maxAttempts} attempts: too many concurrent writers`,
  );
}

/** The newest event of the log (its head), or undefined while the log is empty. */
export function auditHead(deps: Pick<AuditDeps, 'doc' | 'auditTable'>): Promise<AuditEvent | undefined> {
  return lastAuditEvent(deps);
}

/**
 * The audit log in sequence order from `fromSeq` (default: the first event), a page at a time:
 * what is held in memory is one page, however long the log.
 */
export async function* streamAuditEvents(
  deps: Pick<AuditDeps, 'doc' | 'auditTable'>,
  options: { fromSeq?: number; pageSize?: number } = {},
): AsyncGenerator<AuditEvent> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: deps.auditTable,
        KeyConditionExpression: '#stream = :stream AND #seq >= :from',
        ExpressionAttributeNames: { '#stream': 'stream', '#seq': 'seq' },
        ExpressionAttributeValues: { ':stream': AUDIT_STREAM, ':from': options.fromSeq ?? 0 },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
        Limit: options.pageSize ?? 500,
      }),
    );
    for (const item of page.Items ?? []) yield item as AuditEvent;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/** Reads the audit log in order, optionally only the events of one request. */
export async function readAuditEvents(
  deps: Pick<AuditDeps, 'doc' | 'auditTable'>,
  filter: { requestId?: string } = {},
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of streamAuditEvents(deps)) {
    if (!filter.requestId || event.requestId === filter.requestId) events.push(event);
  }
  return events;
}

/**
 * Whether an event of `type` for `requestId` was appended at or after `since`: the log is read
 * backwards from its newest event until one older than `since`, so the cost follows what was
 * appended since, not the log. For a step that must audit once but may have been cut off between
 * appending its event and noting that it did.
 */
export async function auditedSince(
  deps: Pick<AuditDeps, 'doc' | 'auditTable'>,
  match: { requestId: string; type: AuditEventType; since: string },
): Promise<boolean> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await newestFirst(deps, 100, startKey);
    for (const event of (page.Items ?? []) as AuditEvent[]) {
      if (event.at < match.since) return false;
      if (event.requestId === match.requestId && event.type === match.type) return true;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return false;
}
