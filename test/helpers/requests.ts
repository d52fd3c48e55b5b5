import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalEnvironment, openLocalEnvironment } from '../../lib/local/environment';
import { executionIdFor } from '../../lib/rights/request';
import { submitRequest, type WorkflowStarter } from '../../lib/rights/submit';
import { EXAMPLE_DATAMAP_PATH, SEED_NOW } from './world';

/** Request lifecycle tests: a local environment of their own, and requests submitted without running. */

/** Starts nothing: the test plays the workflow's steps itself. */
export const noExecutionStarter: WorkflowStarter = {
  start: async (execution) => ({
    executionId: executionIdFor(execution.requestId, execution.attempt),
    alreadyStarted: false,
  }),
};

/**
 * A fresh local environment of the example data map for the tests of a describe block (opened
 * before all, closed and deleted after all), at SEED_NOW; `env()` returns it.
 */
export function localEnvironmentForTests(name: string): () => LocalEnvironment {
  let stateDir: string;
  let env: LocalEnvironment | undefined;
  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), `lethe-${name}-`));
    env = await openLocalEnvironment({
      stateDir,
      dataMapPath: EXAMPLE_DATAMAP_PATH,
      init: true,
      now: () => SEED_NOW,
    });
  });
  afterAll(async () => {
    await env?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return () => {
    if (!env) throw new Error('the local environment is opened in beforeAll');
    return env;
  };
}

/** Submits a GDPR erasure of `who`, verified by account login, starting nothing. */
export function submitErasure(env: LocalEnvironment, who: { type: string; value: string }[]) {
  return submitRequest(env.deps, noExecutionStarter, {
    type: 'erasure',
    subject: who,
    jurisdiction: 'gdpr',
    verification: { method: 'account-login', verifiedBy: 'desk' },
  });
}
