import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';

/** What happened, in words an auditor can filter on. */
export type AuditEventType =
  | 'request.received'
  | 'request.completed'
  | 'request.rejected'
  | 'request.duplicate'
  | 'request.failed'
  | 'request.retried'
  | 'request.closed'
  | 'request.review-requested'
  | 'request.reviewed'
  | 'sweep.started'
  | 'sweep.page'
  | 'sweep.completed'
  | 'sweep.failed'
  | 'hold.placed'
  | 'hold.released';

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
const GENESIS_HASH = '0'.repeat(64);

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

/** One page of the audit log in sequence order, or newest first. */
async function auditPage(
  deps: { doc: DynamoDBDocumentClient; auditTable: string },
  page: { newestFirst?: boolean; limit?: number; startKey?: Record<string, unknown> },
): Promise<{ events: AuditEvent[]; next?: Record<string, unknown> }> {
  const result = await deps.doc.send(
    new QueryCommand({
      TableName: deps.auditTable,
      KeyConditionExpression: '#stream = :stream',
      ExpressionAttributeNames: { '#stream': 'stream' },
      ExpressionAttributeValues: { ':stream': AUDIT_STREAM },
      ...(page.newestFirst ? { ScanIndexForward: false, ConsistentRead: true } : {}),
      ...(page.limit ? { Limit: page.limit } : {}),
      ExclusiveStartKey: page.startKey,
    }),
  );
  return {
    events: (result.Items ?? []) as AuditEvent[],
    ...(result.LastEvaluatedKey ? { next: result.LastEvaluatedKey } : {}),
  };
}

/**
 * Appends one event to the audit log: the next sequence number, written with a conditional
 * put so two writers can never both take it, and the previous event's hash, so that an
 * edited, removed or reordered event breaks the chain. Every audit write goes through here.
 */
export async function appendAuditEvent(
  deps: { doc: DynamoDBDocumentClient; auditTable: string; now: () => Date },
  input: AuditEventInput,
): Promise<AuditEvent> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const previous = (await auditPage(deps, { newestFirst: true, limit: 1 })).events[0];
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
    'could not append an audit event after 20 attempts: too many concurrent writers',
  );
}

/** Reads the audit log in order, optionally only the events of one request. */
export async function readAuditEvents(
  deps: { doc: DynamoDBDocumentClient; auditTable: string },
  filter: { requestId?: string } = {},
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await auditPage(deps, { startKey });
    events.push(...page.events);
    startKey = page.next;
  } while (startKey);
  return filter.requestId ? events.filter((event) => event.requestId === filter.requestId) : events;
}

/**
 * Whether an event of `type` for `requestId` was appended at or after `since`: the log is read
 * backwards from its newest event until one older than `since`, so the cost follows what was
 * appended since, not the log. For a step that must audit once but may have been cut off between
 * appending its event and noting that it did.
 */
export async function auditedSince(
  deps: { doc: DynamoDBDocumentClient; auditTable: string },
  match: { requestId: string; type: AuditEventType; since: string },
): Promise<boolean> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await auditPage(deps, { newestFirst: true, limit: 100, startKey });
    for (const event of page.events) {
      if (event.at < match.since) return false;
      if (event.requestId === match.requestId && event.type === match.type) return true;
    }
    startKey = page.next;
  } while (startKey);
  return false;
}
