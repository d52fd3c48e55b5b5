import type { LocalSweepInput, LocalSweepRunner } from '../../lib/local/sweep-runner';
import type { SweepSummary } from '../../lib/retention';

/**
 * Runs a whole sweep with the local runner (the synthesized sweep state machine, steps in-process)
 * and returns the summary RecordSweep recorded.
 * @throws an error naming the execution's error and cause when the sweep did not succeed
 */
export async function completeSweep(
  runner: LocalSweepRunner,
  input: LocalSweepInput = {},
): Promise<SweepSummary> {
  const result = await runner.run(input);
  if (result.status !== 'SUCCEEDED' || !result.summary) {
    throw new Error(`sweep ${result.sweepId} ${result.status}: ${result.error ?? ''} ${result.cause ?? ''}`);
  }
  return result.summary;
}

/**
 * Per-store counts with a dry run's `wouldPurge` / `wouldAnonymise` under the names of what a
 * sweep does (`purge`, `anonymise`), to compare a dry run with the sweep it foretells.
 */
export function foretoldCounts(summary: SweepSummary | undefined) {
  return summary?.stores.map((store) => ({
    storeId: store.storeId,
    examined: store.examined,
    expired: store.expired,
    purge: store.purged + store.wouldPurge,
    anonymise: store.anonymised + store.wouldAnonymise,
    alreadyAnonymised: store.alreadyAnonymised,
    held: store.held,
    locked: store.locked,
    skipped: store.skipped,
  }));
}
