import { assertNoIdentifiers } from '../audit/free-text';
import type { LetheBackend } from '../cli/backends';
import type { DenialReason, RequestStatus } from '../rights/request';
import { DENIAL_REASONS } from '../rights/request-values';
import type { RequestSummary } from '../rights/summary';
import { FieldError, type FormBody, text } from './forms';

/** A field of an action's form: a line of text, or an include/exclude choice per waiting store. */
export type ActionField =
  | { kind: 'text'; name: string; label: string; hint?: string }
  | { kind: 'stores'; name: 'stores' };

/**
 * What staff can do to a request from its page. Each action is one entry: the statuses it is
 * offered in, its form's fields, and the backend call it makes with the signed-in name as actor.
 * A new lifecycle action of the CLI is one more entry here.
 */
export interface RequestAction {
  name: string;
  label: string;
  help: string;
  allowedIn: readonly RequestStatus[];
  fields: readonly ActionField[];
  /** Reads the form (throwing FieldError for what staff must correct) and acts. */
  run(backend: LetheBackend, summary: RequestSummary, by: string, form: FormBody): Promise<RequestSummary>;
}

/** A reason or note kept in the audit log: long enough to say something, naming no one. */
function freeText(form: FormBody, name: string, label: string, required: boolean): string | undefined {
  const value = text(form, name);
  if (value === '' && !required) return undefined;
  if (value.length < 3)
    throw new FieldError(name, `give the ${label}, e.g. "subject withdrew the request, ticket 4711"`);
  try {
    assertNoIdentifiers(value, [], `the ${label}`);
  } catch (error) {
    throw new FieldError(name, (error as Error).message);
  }
  return value;
}

/** The form and call of an action that ends a request with a reason (close, cancel). */
function endedWithReason(
  end: (backend: LetheBackend, requestId: string, by: string, reason: string) => Promise<RequestSummary>,
): Pick<RequestAction, 'fields' | 'run'> {
  return {
    fields: [{ kind: 'text', name: 'reason', label: 'Reason (no names or identifiers)' }],
    run: async (backend, summary, by, form) =>
      end(backend, summary.requestId, by, freeText(form, 'reason', 'reason', true) as string),
  };
}

/** The stores a pending-review request waits for. */
function waitingStores(summary: RequestSummary): string[] {
  return summary.review?.stores.map((store) => store.store) ?? [];
}

export const REQUEST_ACTIONS: readonly RequestAction[] = [
  {
    name: 'review',
    label: 'Review',
    help: "Decide, per store, whether the records only claimed links reached are the subject's (include: export or erase them) or not (exclude); the request then runs on.",
    allowedIn: ['pending-review'],
    fields: [
      { kind: 'stores', name: 'stores' },
      { kind: 'text', name: 'note', label: 'Note (optional, no names)', hint: 'e.g. ticket 4711' },
    ],
    run: async (backend, summary, by, form) => {
      const include: string[] = [];
      const exclude: string[] = [];
      for (const store of waitingStores(summary)) {
        const choice = text(form, `store:${store}`);
        if (choice === 'include') include.push(store);
        else if (choice === 'exclude') exclude.push(store);
      }
      if (include.length + exclude.length !== waitingStores(summary).length)
        throw new FieldError('review:stores', 'decide every store that waits: include or exclude');
      const note = freeText(form, 'note', 'note', false);
      return backend.review(summary.requestId, { include, exclude, by, ...(note ? { note } : {}) });
    },
  },
  {
    name: 'retry',
    label: 'Retry',
    help: 'Run the failed request again, from the identities it had resolved, as its next attempt.',
    allowedIn: ['failed'],
    fields: [],
    run: (backend, summary, by) => backend.retry(summary.requestId, by),
  },
  {
    name: 'close',
    label: 'Close',
    help: 'End the request without finishing it; its identities are dropped.',
    allowedIn: ['failed', 'pending-review'],
    ...endedWithReason((backend, requestId, by, reason) => backend.close(requestId, by, reason)),
  },
  {
    name: 'approve',
    label: 'Approve',
    help: 'Start the request the policy held for approval. Someone other than its submitter must approve it.',
    allowedIn: ['pending-approval'],
    fields: [],
    run: (backend, summary, by) => backend.approve(summary.requestId, by),
  },
  {
    name: 'deny',
    label: 'Deny',
    help: 'End the request with the reason the subject is owed; the note is what they are told.',
    allowedIn: ['pending-approval', 'failed', 'pending-review'],
    fields: [
      { kind: 'text', name: 'reason', label: 'Reason', hint: DENIAL_REASONS.join(', ') },
      { kind: 'text', name: 'note', label: 'Note for the subject (no names or identifiers)' },
    ],
    run: async (backend, summary, by, form) => {
      const reason = text(form, 'reason');
      if (!DENIAL_REASONS.includes(reason as DenialReason))
        throw new FieldError('reason', `the reason is one of ${DENIAL_REASONS.join(', ')}`);
      const note = freeText(form, 'note', 'note', true) as string;
      return backend.deny(summary.requestId, { by, reason, note });
    },
  },
  {
    name: 'cancel',
    label: 'Cancel',
    help: 'Withdraw a request that has not started (it waits for approval).',
    allowedIn: ['pending-approval'],
    ...endedWithReason((backend, requestId, by, reason) => backend.cancel(requestId, by, reason)),
  },
  {
    name: 'extend',
    label: 'Extend the deadline',
    help: 'Once, and only as far as the law allows (GDPR: two more months; CCPA: 45 more days).',
    allowedIn: ['received', 'pending-approval', 'verifying', 'in-progress', 'pending-review', 'failed'],
    fields: [
      { kind: 'text', name: 'days', label: 'Days', hint: 'e.g. 30' },
      { kind: 'text', name: 'reason', label: 'Why more time is needed (no names)' },
    ],
    run: async (backend, summary, by, form) => {
      const days = Number(text(form, 'days'));
      if (!Number.isInteger(days) || days < 1 || days > 366)
        throw new FieldError('days', 'give a whole number of days from 1 to 366');
      const reason = freeText(form, 'reason', 'reason', true) as string;
      return backend.extend(summary.requestId, { by, days, reason });
    },
  },
];

/** The actions a request in `status` allows. */
export function actionsFor(status: RequestStatus): RequestAction[] {
  return REQUEST_ACTIONS.filter((action) => action.allowedIn.includes(status));
}
