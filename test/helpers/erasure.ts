import type { LetheDeps } from '../../lib/deps';
import { reviewRequest } from '../../lib/rights/lifecycle';
import { currentAttempt, type RequestRecord } from '../../lib/rights/request';
import { getRequest } from '../../lib/rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../../lib/rights/submit';
import { createRequestSteps } from '../../lib/workflow/request-step-set';

/**
 * An erasure request run step by step in-process (the steps the state machine calls, in its
 * order), in two halves so a test can act between locating and erasing.
 */

const noExecution: WorkflowStarter = {
  start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }),
};

/** What LocateStore returned for one store. */
export type Located = { storeId: string; manifestKey: string; located: number; exempted: number };

/**
 * Submits, verifies, resolves and locates an erasure request for `subject`. When records only
 * claimed links reached wait for review, staff include every waiting store (the seed's subjects
 * own what their links reach) and the next attempt verifies, resolves and locates again.
 */
export async function startErasure(
  deps: LetheDeps,
  subject: { type: string; value: string },
): Promise<{ requestId: string; located: Located[] }> {
  const steps = createRequestSteps(deps);
  const { requestId } = await submitRequest(deps, noExecution, {
    type: 'erasure',
    subject: [subject],
    jurisdiction: 'gdpr',
    verification: { method: 'email-confirmation', verifiedBy: 'privacy-desk' },
  });
  for (let attempt = 1; ; attempt += 1) {
    const verified = (await steps.verify({ requestId, attempt })) as { outcome: string };
    if (verified.outcome !== 'proceed') throw new Error(`verify said ${verified.outcome}`);
    const { stores } = (await steps.resolve({ requestId, attempt })) as { stores: string[] };
    const located: Located[] = [];
    for (const storeId of stores) located.push((await steps.locateStore({ requestId, storeId })) as Located);
    const { paused } = (await steps.recordReview({ requestId, attempt, located })) as { paused: boolean };
    if (!paused) return { requestId, located };
    if (attempt > 1) throw new Error('the request waits for review again after staff included every store');
    const waiting = (await getRequest(deps, requestId)).review?.stores ?? [];
    await reviewRequest(deps, noExecution, requestId, {
      include: waiting.map((store) => store.store),
      by: 'privacy-desk',
    });
  }
}

/** Erases every located store, confirms and records the outcome; the request as it ended. */
export async function finishErasure(
  deps: LetheDeps,
  requestId: string,
  located: Located[],
): Promise<RequestRecord> {
  const steps = createRequestSteps(deps);
  const attempt = currentAttempt(await getRequest(deps, requestId));
  const erased = [];
  for (const entry of located) {
    erased.push(
      await steps.eraseStore({ requestId, attempt, storeId: entry.storeId, manifestKey: entry.manifestKey }),
    );
  }
  await steps.confirm({ requestId, attempt, located, erased });
  await steps.recordOutcome({ requestId, attempt });
  return getRequest(deps, requestId);
}
