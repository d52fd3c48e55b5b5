import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LetheDeps } from '../deps';
import { RequestNotFoundError, RequestStateError } from './errors';
import type { RequestRecord, RequestStatus } from './request';

type TableDeps = Pick<LetheDeps, 'doc' | 'resources' | 'now'>;

const REQUEST = 'request';
const LOCK = 'lock';

/**
 * Writes a new request record. Succeeds once per request id: a second write of the same id
 * returns false and changes nothing, which is what makes submitting idempotent.
 */
export async function putNewRequest(deps: TableDeps, record: RequestRecord): Promise<boolean> {
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.resources.requestsTable,
        Item: { ...record, recordType: REQUEST },
        ConditionExpression: 'attribute_not_exists(requestId)',
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** Reads a request record, or undefined when there is none. */
export async function findRequest(deps: TableDeps, requestId: string): Promise<RequestRecord | undefined> {
  const result = await deps.doc.send(
    new GetCommand({ TableName: deps.resources.requestsTable, Key: { requestId }, ConsistentRead: true }),
  );
  if (!result.Item || result.Item.recordType !== REQUEST) return undefined;
  const { recordType: _recordType, ...record } = result.Item;
  return record as RequestRecord;
}

/** Reads a request record. @throws RequestNotFoundError */
export async function getRequest(deps: TableDeps, requestId: string): Promise<RequestRecord> {
  const record = await findRequest(deps, requestId);
  if (!record) throw new RequestNotFoundError(requestId);
  return record;
}

/** A change to a request record, applied in one conditional update. */
export interface RequestChange {
  status?: RequestStatus;
  by: string;
  note?: string;
  set?: Partial<RequestRecord>;
  remove?: (keyof RequestRecord)[];
  /** Entries appended to list fields (created when absent). */
  append?: Partial<Pick<RequestRecord, 'attempts' | 'erasureLog' | 'failures' | 'reviewDecisions'>>;
  /** Apply only while the request is in one of these statuses (a transition, not an overwrite). */
  onlyIf?: readonly RequestStatus[];
  /** Apply only while these fields are absent (a one-time change, such as the one extension). */
  unlessSet?: readonly (keyof RequestRecord)[];
}

/**
 * Moves a request to `status`, appending to its status history, setting `set` fields, appending
 * to `append` lists and removing `remove` fields (the subject's identities when the request ends)
 * in one update.
 * @throws RequestNotFoundError when there is no such request
 * @throws RequestStateError when `onlyIf` names statuses the request is not in (nothing changes)
 */
export async function updateRequest(
  deps: TableDeps,
  requestId: string,
  change: RequestChange,
): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  let index = 0;
  const placeholder = (field: string, value: unknown) => {
    index += 1;
    names[`#f${index}`] = field;
    values[`:v${index}`] = value;
    return [`#f${index}`, `:v${index}`] as const;
  };
  for (const [field, value] of Object.entries(change.set ?? {})) {
    if (value === undefined) continue;
    const [name, ref] = placeholder(field, value);
    sets.push(`${name} = ${ref}`);
  }
  for (const [field, entries] of Object.entries(change.append ?? {})) {
    if (!entries || entries.length === 0) continue;
    const [name, ref] = placeholder(field, entries);
    values[':empty'] = [];
    sets.push(`${name} = list_append(if_not_exists(${name}, :empty), ${ref})`);
  }
  if (change.status) {
    const [name, ref] = placeholder('status', change.status);
    sets.push(`${name} = ${ref}`);
    names['#history'] = 'statusHistory';
    values[':change'] = [
      {
        status: change.status,
        at: deps.now().toISOString(),
        by: change.by,
        ...(change.note === undefined ? {} : { note: change.note }),
      },
    ];
    sets.push('#history = list_append(#history, :change)');
  }
  const removes = (change.remove ?? []).map((field, position) => {
    names[`#r${position}`] = field;
    return `#r${position}`;
  });
  const expression = [
    sets.length ? `SET ${sets.join(', ')}` : '',
    removes.length ? `REMOVE ${removes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (!expression) return;
  const conditions = ['recordType = :request'];
  if (change.onlyIf) {
    names['#current'] = 'status';
    const allowed = change.onlyIf.map((status, position) => {
      values[`:allowed${position}`] = status;
      return `:allowed${position}`;
    });
    conditions.push(`#current IN (${allowed.join(', ')})`);
  }
  (change.unlessSet ?? []).forEach((field, position) => {
    names[`#u${position}`] = field;
    conditions.push(`attribute_not_exists(#u${position})`);
  });
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId },
        UpdateExpression: expression,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':request': REQUEST },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const existing = await findRequest(deps, requestId);
    if (!existing) throw new RequestNotFoundError(requestId);
    const alreadySet = (change.unlessSet ?? []).filter((field) => existing[field] !== undefined);
    if (alreadySet.length > 0 && (!change.onlyIf || change.onlyIf.includes(existing.status))) {
      throw new RequestStateError(
        `request ${requestId} has its ${alreadySet.join(' and ')} already: nothing was changed`,
      );
    }
    throw new RequestStateError(
      `request ${requestId} is ${existing.status}, not ${(change.onlyIf ?? []).join(' or ')}: nothing was changed`,
    );
  }
}

/**
 * Lists request records, newest first, optionally with one status. A scan of the requests
 * table only (lethe's own bookkeeping, never subject data).
 */
export async function listRequests(
  deps: TableDeps,
  filter: { status?: RequestStatus } = {},
): Promise<RequestRecord[]> {
  const records: RequestRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new ScanCommand({
        TableName: deps.resources.requestsTable,
        FilterExpression: filter.status
          ? 'recordType = :request AND #status = :status'
          : 'recordType = :request',
        ExpressionAttributeValues: {
          ':request': REQUEST,
          ...(filter.status ? { ':status': filter.status } : {}),
        },
        ...(filter.status ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const { recordType: _recordType, ...record } = item;
      records.push(record as RequestRecord);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return records.sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0));
}

/**
 * Deletes a request's record while it still has `status`: for records past their retention.
 * @returns false when there was no such record in that status (nothing deleted)
 */
export async function deleteRequestRecord(
  deps: TableDeps,
  requestId: string,
  status: RequestStatus,
): Promise<boolean> {
  try {
    await deps.doc.send(
      new DeleteCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId },
        ConditionExpression: 'recordType = :request AND #status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':request': REQUEST, ':status': status },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** The lock keys that make a request a duplicate: one per identity hash and request type. */
export function inFlightLockKeys(record: Pick<RequestRecord, 'subjectHashes' | 'type'>): string[] {
  // Placing and lifting a restriction must not run at once for one subject: they share a lock.
  const lockType = record.type === 'restriction-lift' ? 'restriction' : record.type;
  return record.subjectHashes.map((hash) => `${hash}#${lockType}`);
}

/**
 * Takes the in-flight lock for a subject and request type, so the same request for the
 * same person never runs twice at once. A conditional put: race-free without transactions.
 * @returns the request id holding the lock (this one when acquired)
 */
export async function acquireInFlightLock(
  deps: TableDeps,
  lockKey: string,
  requestId: string,
): Promise<string> {
  const id = `${LOCK}#${lockKey}`;
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.resources.requestsTable,
        Item: { requestId: id, recordType: LOCK, holder: requestId, since: deps.now().toISOString() },
        ConditionExpression: 'attribute_not_exists(requestId) OR holder = :holder',
        ExpressionAttributeValues: { ':holder': requestId },
      }),
    );
    return requestId;
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const existing = await deps.doc.send(
      new GetCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId: id },
        ConsistentRead: true,
      }),
    );
    return String(existing.Item?.holder ?? 'unknown');
  }
}

/** Releases the in-flight lock if this request holds it. */
export async function releaseInFlightLock(
  deps: TableDeps,
  lockKey: string,
  requestId: string,
): Promise<void> {
  try {
    await deps.doc.send(
      new DeleteCommand({
        TableName: deps.resources.requestsTable,
        Key: { requestId: `${LOCK}#${lockKey}` },
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': requestId },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}
