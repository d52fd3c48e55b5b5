import type { LetheDeps } from '../../lib/deps';
import type { RequestRecord } from '../../lib/rights/request';
import { getRequest } from '../../lib/rights/requests-table';
import { submitRequest, type WorkflowStarter } from '../../lib/rights/submit';
import { createRequestSteps } from '../../lib/workflow/request-steps';

/**
 * An erasure request run step by step in-process (the steps the state machine calls, in its
 * order), in two halves so a test can act between locating and erasing.
 */

const noExecution: WorkflowStarter = {
  start: async ({ requestId }) => ({ executionId: requestId, alreadyStarted: false }),
};

/** What LocateStore returned for one store. */
export type Located = { storeId: string; manifestKey: string; located: number; exempted: number };

/** Submits, verifies, resolves and locates an erasure request for `subject`. */
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
  const verified = (await steps.verify({ requestId })) as { outcome: string };
  if (verified.outcome !== 'proceed') throw new Error(`verify said ${verified.outcome}`);
  const { stores } = (await steps.resolve({ requestId })) as { stores: string[] };
  const located: Located[] = [];
  for (const storeId of stores) located.push((await steps.locateStore({ requestId, storeId })) as Located);
  return { requestId, located };
}

/** Erases every located store, confirms and records the outcome; the request as it ended. */
export async function finishErasure(
  deps: LetheDeps,
  requestId: string,
  located: Located[],
): Promise<RequestRecord> {
  const steps = createRequestSteps(deps);
  const erased = [];
  for (const entry of located) {
    erased.push(
      await steps.eraseStore({ requestId, storeId: entry.storeId, manifestKey: entry.manifestKey }),
    );
  }
  await steps.confirm({ requestId, located, erased });
  await steps.recordOutcome({ requestId });
  return getRequest(deps, requestId);
}
