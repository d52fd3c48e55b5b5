import type { LocalEnvironment } from '../../lib/local/environment';
import { executionIdFor } from '../../lib/rights/request';
import { submitRequest, type WorkflowStarter } from '../../lib/rights/submit';

/** Request lifecycle tests: requests submitted without running (the environment: exampleEnvironment). */

/** Starts nothing: the test plays the workflow's steps itself. */
export const noExecutionStarter: WorkflowStarter = {
  start: async (execution) => ({
    executionId: executionIdFor(execution.requestId, execution.attempt),
    alreadyStarted: false,
  }),
};

/** Submits a GDPR erasure of `who`, verified by account login, starting nothing. */
export function submitErasure(env: LocalEnvironment, who: { type: string; value: string }[]) {
  return submitRequest(env.deps, noExecutionStarter, {
    type: 'erasure',
    subject: who,
    jurisdiction: 'gdpr',
    verification: { method: 'account-login', verifiedBy: 'desk' },
  });
}
