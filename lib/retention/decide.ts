import type { RetentionRule } from '../datamap/schema';
import { isExpired } from './rules';

/**
 * What a sweep does with one record, decided without any IO so every case is plain to test. A
 * sweep asks in two steps because the second question can cost reads (a JSON-lines object is
 * read to learn whose lines it holds) and is only worth asking of expired records:
 *
 * 1. {@link expiryOf}: is the record's timestamp readable, and is it before the cut-off?
 * 2. {@link decideExpired}: an expired record is kept by a legal hold, left alone when already
 *    anonymised, or purged or anonymised as the rule says; in a dry run only counted.
 */

/** `unreadable`: no timestamp, or one that cannot be read; never purged, counted as skipped. */
export type Expiry = 'unreadable' | 'kept' | 'expired';

/** Whether a record with this timestamp has expired at the cut-off (strictly before it). */
export function expiryOf(timestampMs: number | undefined, cutoffMs: number): Expiry {
  if (timestampMs === undefined) return 'unreadable';
  return isExpired(timestampMs, cutoffMs) ? 'expired' : 'kept';
}

/** The counts an expired record ends up in, named as in SweepCounts (a dry run's say "would"). */
export type ExpiredVerdict =
  | 'held'
  | 'purged'
  | 'anonymised'
  | 'wouldPurge'
  | 'wouldAnonymise'
  | 'alreadyAnonymised';

export interface ExpiredDecision {
  verdict: ExpiredVerdict;
  /**
   * The store must be changed: a purge or an anonymisation outside a dry run. Such a record is
   * counted once the write says what happened; every other verdict is counted as it is.
   */
  apply: boolean;
}

/**
 * What becomes of an expired record.
 * @param rule the retention action, and whether this is a dry run (nothing changes)
 * @param record whether a legal hold (on the record or on one of its subjects) keeps it, and
 *   whether every attribute the store masks is absent or masked already
 */
export function decideExpired(
  rule: { action: RetentionRule['action']; dryRun: boolean },
  record: { held: boolean; anonymised: boolean },
): ExpiredDecision {
  if (record.held) return { verdict: 'held', apply: false };
  if (rule.action === 'delete') {
    return rule.dryRun ? { verdict: 'wouldPurge', apply: false } : { verdict: 'purged', apply: true };
  }
  if (record.anonymised) return { verdict: 'alreadyAnonymised', apply: false };
  return rule.dryRun ? { verdict: 'wouldAnonymise', apply: false } : { verdict: 'anonymised', apply: true };
}
