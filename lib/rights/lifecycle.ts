import { assertNoIdentifiers } from '../audit/free-text';
import { appendAuditEvent } from '../audit/log';
import { spellingsOf } from '../datamap/identity';
import type { LetheDeps } from '../deps';
import { redactIdentifiers } from '../log';
import { InvalidRequestError, RequestNotFoundError, RequestStateError } from './errors';
import { auditDeps, endRequest, IDENTIFYING_FIELDS, settleEndedRequest } from './outcome';
import {
  currentAttempt,
  executionIdFor,
  type RequestRecord,
  type ReviewDecision,
  requestOfExecution,
} from './request';
import { findRequest, getRequest, updateRequest } from './requests-table';
import type { StartedExecution, WorkflowStarter } from './submit';

/**
 * What staff do with a request the workflow could not finish: retry it from what it had
 * resolved, or close it. Every step is a conditional transition of the request record and an
 * audit event naming who did it.
 */

/** Statuses of a request that should have an execution running for it. */
const RUNNING_STATUSES = ['received', 'verifying', 'in-progress'] as const;

/**
 * Marks a request that claims to run failed (retryable), audited as `request.failed`: the
 * transition for a run that ended without recording its own failure. It keeps its identities,
 * manifests and locks, as any failed request does, for `retry` or `close`.
 * @returns false when the request moved on meanwhile (nothing changed)
 */
async function markRunFailed(
  deps: LetheDeps,
  record: RequestRecord,
  failure: { actor: string; code: string; message: string },
): Promise<boolean> {
  const attempt = currentAttempt(record);
  try {
    await updateRequest(deps, record.requestId, {
      status: 'failed',
      by: failure.actor,
      note: `${failure.code}: ${failure.message}`,
      set: { error: { code: failure.code, message: failure.message } },
      append: { failures: [{ attempt, at: deps.now().toISOString(), code: failure.code }] },
      onlyIf: RUNNING_STATUSES,
    });
  } catch (error) {
    // It moved on meanwhile: it was running after all, or someone else acted on it.
    if (error instanceof RequestStateError) return false;
    throw error;
  }
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.failed',
    actor: failure.actor,
    requestId: record.requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, error: failure.code, attempt, retryable: true },
  });
  return true;
}

/**
 * The request as it stands, after marking it failed (retryable) when it claims to be running but
 * its execution is not: its process was killed, or its execution ended without recording the
 * failure. Without an execution probe (deps.executions) a running request is taken at its word.
 */
export async function failIfDead(
  deps: LetheDeps,
  record: RequestRecord,
  actor: string,
): Promise<RequestRecord> {
  if (!(RUNNING_STATUSES as readonly string[]).includes(record.status) || !deps.executions) return record;
  const executionId = executionIdFor(record.requestId, currentAttempt(record));
  if (await deps.executions.isRunning(executionId)) return record;
  const message = 'the process or execution running this request stopped before it ended';
  if (await markRunFailed(deps, record, { actor, code: 'ExecutionDied', message })) {
    deps.log.warn('request found dead', { requestId: record.requestId });
  }
  return getRequest(deps, record.requestId);
}

/** How an execution of the request workflow ended, as Step Functions reports it. */
export interface EndedExecution {
  /** The execution's name: the request id, or `<request id>.attempt-N`. */
  executionName: string;
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  /** The error the execution failed with, when it failed. */
  error?: string;
  cause?: string;
}

const ACTOR_EXECUTION_ENDED = 'lethe:execution-ended';
const ENDED_CODES: Record<EndedExecution['status'], string> = {
  FAILED: 'ExecutionFailed',
  TIMED_OUT: 'ExecutionTimedOut',
  ABORTED: 'ExecutionAborted',
};

/**
 * An execution of the request workflow ended failed, timed out or aborted (on AWS, an
 * EventBridge rule calls this): if its request still claims to run that attempt, it is marked
 * failed and audited, so it can be retried or closed and a new request for the subject is told
 * so, instead of waiting for its lock. This covers what the workflow's own failure path cannot
 * catch (`States.Runtime`, `States.DataLimitExceeded`, a timeout or a stop). A request whose
 * failure was recorded already, that ended, or that has moved on to a later attempt is left
 * alone. The cause is redacted against the request's identities before it is stored.
 * @returns the request's status afterwards
 */
export async function failEndedExecution(
  deps: LetheDeps,
  ended: EndedExecution,
): Promise<{ requestId: string; status: RequestRecord['status']; changed: boolean }> {
  const { requestId, attempt } = requestOfExecution(ended.executionName);
  const record = await findRequest(deps, requestId);
  if (!record) {
    deps.log.warn('ended execution of no known request', { requestId });
    throw new RequestNotFoundError(requestId);
  }
  const running = (RUNNING_STATUSES as readonly string[]).includes(record.status);
  if (!running || attempt !== currentAttempt(record)) {
    return { requestId, status: record.status, changed: false };
  }
  const code = ended.error ?? ENDED_CODES[ended.status];
  const known = [...(record.subject ?? []), ...(record.identities ?? [])].flatMap(spellingsOf);
  const cause = ended.cause === undefined ? '' : `: ${redactIdentifiers(ended.cause, known).slice(0, 500)}`;
  const message = `the execution ended ${ended.status.toLowerCase().replace('_', ' ')} outside the workflow's failure path${cause}`;
  const changed = await markRunFailed(deps, record, { actor: ACTOR_EXECUTION_ENDED, code, message });
  if (changed)
    deps.log.warn('request execution ended', { requestId, status: ended.status, error: code, attempt });
  return { requestId, status: (await getRequest(deps, requestId)).status, changed };
}

function checkActor(by: string): string {
  const name = (by ?? '').trim();
  if (name.length === 0) throw new InvalidRequestError('say who acts on the request, e.g. --by "J. Doe"');
  if (name.length > 200) throw new InvalidRequestError('--by is a name, at most 200 characters');
  return name;
}

/**
 * A note staff write about a request (why it was closed): it goes into the request record and the
 * hash-chained audit log for years, so it must not name the subject, in any spelling.
 */
function checkNote(note: string, record: RequestRecord, field: string): string {
  const text = (note ?? '').trim();
  if (text.length < 3)
    throw new InvalidRequestError(`give the ${field}, e.g. --reason "withdrawn, ticket 4711"`);
  assertNoIdentifiers(text, [...(record.subject ?? []), ...(record.identities ?? [])], `the ${field}`);
  return text;
}

/** Waiting or dead: the request can be retried or closed; anything else is refused naming its status. */
async function actionable(deps: LetheDeps, requestId: string, action: 'retry' | 'close', by: string) {
  // A request whose process died while ending it is finished off before it is refused as ended.
  const found = await settleEndedRequest(deps, await getRequest(deps, requestId));
  const record = await failIfDead(deps, found, `staff:${by}`);
  const allowed = action === 'retry' ? ['failed'] : ['failed', 'pending-review'];
  if (!allowed.includes(record.status)) {
    const why =
      record.status === 'pending-review'
        ? `it waits for review: "lethe request review ${requestId}"`
        : (RUNNING_STATUSES as readonly string[]).includes(record.status)
          ? 'it is still running'
          : 'it has ended';
    throw new RequestStateError(
      `request ${requestId} is ${record.status}: only a ${allowed.join(' or ')} request can be ${action === 'retry' ? 'retried' : 'closed'}; ${why}`,
    );
  }
  return record;
}

export interface RetryResult {
  requestId: string;
  attempt: number;
  execution: StartedExecution;
}

/**
 * Runs a failed request again as a new attempt (a new execution named by request id and attempt):
 * from Verify with the identities it had resolved, so erasing what is already gone is a no-op and
 * the certificate accounts for every attempt. A request whose execution died without recording
 * its failure is marked failed first.
 * @throws RequestStateError when the request is not failed (nothing changes)
 * @throws InvalidRequestError when `by` is missing
 */
export async function retryRequest(
  deps: LetheDeps,
  starter: WorkflowStarter,
  requestId: string,
  by: string,
): Promise<RetryResult> {
  const actor = checkActor(by);
  const record = await actionable(deps, requestId, 'retry', actor);
  const attempt = currentAttempt(record) + 1;
  const executionId = executionIdFor(requestId, attempt);
  await updateRequest(deps, requestId, {
    status: 'received',
    by: actor,
    note: `retry: attempt ${attempt}`,
    set: { attempt, error: null },
    append: {
      attempts: [{ attempt, executionId, startedAt: deps.now().toISOString(), by: actor, reason: 'retry' }],
    },
    onlyIf: ['failed'],
  });
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.retried',
    actor,
    requestId,
    subjectHashes: record.subjectHashes,
    details: { requestType: record.type, attempt, previousError: record.error?.code ?? null },
  });
  deps.log.info('request retried', { requestId, attempt });
  const execution = await starter.start({ requestId, attempt });
  return { requestId, attempt, execution };
}

/**
 * Ends a request that is not running, as any ended request ends: the close (who, why, from which
 * status) written first with `outcomePending`, then identities dropped, manifests deleted,
 * `request.closed` audited and locks released by endRequest, which whoever meets the request
 * next finishes if this process dies half way.
 */
export async function endUnfinishedRequest(
  deps: LetheDeps,
  record: RequestRecord,
  change: { actor: string; reason: string; onlyIf: readonly RequestRecord['status'][] },
): Promise<void> {
  await updateRequest(deps, record.requestId, {
    status: 'closed',
    by: change.actor,
    note: change.reason,
    set: { reason: change.reason, completedAt: deps.now().toISOString(), outcomePending: true },
    remove: IDENTIFYING_FIELDS,
    onlyIf: change.onlyIf,
  });
  await endRequest(deps, await getRequest(deps, record.requestId));
  deps.log.info('request closed', { requestId: record.requestId, by: change.actor });
}

/**
 * Ends a failed request (or one waiting for review) without finishing it: its identities are
 * dropped, its manifests deleted and its locks released, as for any ended request, and the
 * reason is recorded with who closed it. The reason must not name the subject.
 * @throws RequestStateError when the request is running or has ended (nothing changes)
 * @throws InvalidRequestError for a missing actor or a reason that is empty, too long or names the subject
 */
export async function closeRequest(
  deps: LetheDeps,
  requestId: string,
  by: string,
  reason: string,
  /** Called once the close is accepted, before anything is dropped (locally: ask for compaction). */
  beforeEnd?: () => void,
): Promise<RequestRecord> {
  const actor = checkActor(by);
  const record = await actionable(deps, requestId, 'close', actor);
  const note = checkNote(reason, record, 'reason');
  beforeEnd?.();
  await endUnfinishedRequest(deps, record, { actor, reason: note, onlyIf: ['failed', 'pending-review'] });
  return getRequest(deps, requestId);
}

/** What staff decide about a request waiting for review: every store that waits, included or excluded. */
export interface ReviewInput {
  /** Stores whose records only claimed links reached are the subject's: export or erase them too. */
  include?: readonly string[];
  /** Stores whose such records are left alone (reported as excluded by review). */
  exclude?: readonly string[];
  by: string;
  /** Why, kept with the decisions and in the audit log: it must not name anyone. */
  note?: string;
}

function distinct(stores: readonly string[] | undefined): string[] {
  return [...new Set((stores ?? []).map((store) => store.trim()))];
}

/**
 * Records staff's review of a request waiting for it (pending-review) and starts its next attempt,
 * which resolves and locates again and goes on: the claimed records of included stores are
 * exported or erased like the rest, those of excluded stores are left alone and reported. Every
 * store waiting must be decided, and only those; the decisions are kept with who made them, when,
 * and the note, and audited (`request.reviewed`). A store found with new claimed records and no
 * decision yet makes the next attempt wait for review again.
 * @throws RequestStateError when the request does not wait for review (nothing changes)
 * @throws InvalidRequestError when a waiting store is not decided, a store is named that does not
 *   wait, a store is both included and excluded, or `by` is missing (nothing changes)
 * @throws InvalidFreeTextError when the note names an identifier (nothing changes)
 */
export async function reviewRequest(
  deps: LetheDeps,
  starter: WorkflowStarter,
  requestId: string,
  input: ReviewInput,
): Promise<RetryResult> {
  const actor = checkActor(input.by);
  const record = await failIfDead(deps, await getRequest(deps, requestId), `staff:${actor}`);
  if (record.status !== 'pending-review') {
    throw new RequestStateError(
      `request ${requestId} is ${record.status}: only a pending-review request can be reviewed`,
    );
  }
  const include = distinct(input.include);
  const exclude = distinct(input.exclude);
  const waiting = (record.review?.stores ?? []).map((store) => store.store);
  const both = include.filter((store) => exclude.includes(store));
  if (both.length > 0) {
    throw new InvalidRequestError(`both included and excluded: ${both.join(', ')}; decide each store once`);
  }
  const notWaiting = [...include, ...exclude].filter((store) => !waiting.includes(store));
  if (notWaiting.length > 0) {
    throw new InvalidRequestError(
      `not waiting for review in request ${requestId}: ${notWaiting.join(', ')}; the stores that wait: ${waiting.join(', ')}`,
    );
  }
  const undecided = waiting.filter((store) => !include.includes(store) && !exclude.includes(store));
  if (undecided.length > 0) {
    throw new InvalidRequestError(
      `decide every store that waits for review, with --include or --exclude: ${undecided.join(', ')}`,
    );
  }
  const note = input.note?.trim() || undefined;
  if (note !== undefined) {
    assertNoIdentifiers(note, [...(record.subject ?? []), ...(record.identities ?? [])], 'the note (--note)');
  }
  const reviewed = currentAttempt(record);
  const attempt = reviewed + 1;
  const executionId = executionIdFor(requestId, attempt);
  const at = deps.now().toISOString();
  const decide = (decision: ReviewDecision['decision']) => (store: string) => ({
    store,
    decision,
    by: actor,
    at,
    attempt: reviewed,
    ...(note === undefined ? {} : { note }),
  });
  const decisions: ReviewDecision[] = [...include.map(decide('include')), ...exclude.map(decide('exclude'))];
  await updateRequest(deps, requestId, {
    status: 'received',
    by: actor,
    note: `review: ${include.length} store(s) included, ${exclude.length} excluded; attempt ${attempt}`,
    set: { attempt, error: null },
    append: {
      attempts: [{ attempt, executionId, startedAt: at, by: actor, reason: 'review' }],
      reviewDecisions: decisions,
    },
    onlyIf: ['pending-review'],
  });
  await appendAuditEvent(auditDeps(deps), {
    type: 'request.reviewed',
    actor,
    requestId,
    subjectHashes: record.subjectHashes,
    details: {
      requestType: record.type,
      reviewedAttempt: reviewed,
      attempt,
      decisions: decisions.map(({ store, decision }) => ({ store, decision })),
      ...(note === undefined ? {} : { note }),
    },
  });
  deps.log.info('request reviewed', { requestId, attempt, included: include, excluded: exclude });
  const execution = await starter.start({ requestId, attempt });
  return { requestId, attempt, execution };
}
