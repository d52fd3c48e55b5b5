import type { ItemKey } from '../stores/types';

/**
 * Errors of retention sweeps. Each has a stable `name` (Step Functions Retry
 * and Catch match on it) and no message ever holds an identifier or a record key.
 */

/**
 * Expired records of a store could not be purged or anonymised after the retry policy was spent.
 * The page fails and is retried as a whole (a page is idempotent); the keys are in `failedKeys`
 * for whoever needs them, never in the message.
 */
export class SweepIncompleteError extends Error {
  override readonly name = 'SweepIncompleteError';
  constructor(
    readonly storeId: string,
    readonly failedKeys: (ItemKey | string)[],
  ) {
    super(
      `${failedKeys.length} expired ${failedKeys.length === 1 ? 'record' : 'records'} in store ${storeId} ` +
        'could not be purged after retries; the page will be retried',
    );
  }
}

/** A sweep was asked for a store that has no retention rule (or that the data map does not declare). */
export class NoRetentionRuleError extends Error {
  override readonly name = 'NoRetentionRuleError';
  constructor(
    readonly storeId: string,
    withRetention: string[],
  ) {
    super(
      `store ${storeId} has no retention rule; stores with one: ${withRetention.length > 0 ? withRetention.join(', ') : '(none)'}`,
    );
  }
}

/** Sweep input that cannot be right (a bad `now`, segment numbers out of range). */
export class InvalidSweepInputError extends Error {
  override readonly name = 'InvalidSweepInputError';
}
