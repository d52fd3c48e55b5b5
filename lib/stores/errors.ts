import type { ItemKey, StoreErasure } from './types';

/**
 * Errors raised by the store adapters. Each has a stable `name` because Step Functions
 * `Retry`/`Catch` match on it, and no message ever contains an identifier: keys of
 * personal-data stores are often identifiers themselves (cookie ids, e-mail addresses,
 * phone-number prefixes), and messages end up in logs and execution histories.
 */

/**
 * Erasure could not remove every record after the retry policy was exhausted. The request
 * must not report "erased": the caller records the failure and the records are retried.
 * `failedKeys` holds the keys (for the manifest, never for logs); the message holds only counts.
 */
export class EraseIncompleteError extends Error {
  override readonly name = 'EraseIncompleteError';
  /** Records the erasure was asked to erase in this store (defaults to the failed count). */
  readonly total: number;
  /** Attempts made before giving up, when known. */
  readonly attempts: number | undefined;
  /** What the erasure did achieve before giving up (counts only), for the audit record. */
  readonly outcome: StoreErasure | undefined;
  constructor(
    readonly storeId: string,
    readonly failedKeys: (ItemKey | string)[],
    details: {
      total?: number;
      attempts?: number;
      noun?: 'item' | 'object' | 'line' | 'record';
      outcome?: StoreErasure;
    } = {},
  ) {
    const total = details.total ?? failedKeys.length;
    const noun = details.noun ?? 'record';
    super(
      `${failedKeys.length} of ${total} ${total === 1 ? noun : `${noun}s`} in store ${storeId} ` +
        `${failedKeys.length === 1 ? 'was' : 'were'} not erased` +
        `${details.attempts === undefined ? '' : ` after ${details.attempts} attempts`}`,
    );
    this.total = total;
    this.attempts = details.attempts;
    this.outcome = details.outcome;
  }
}

/**
 * Reading records for an export could not fetch every located record after retries: an
 * export that silently lacked records would tell the subject less than we hold.
 */
export class ReadIncompleteError extends Error {
  override readonly name = 'ReadIncompleteError';
  constructor(
    readonly storeId: string,
    readonly failedKeys: (ItemKey | string)[],
    attempts: number,
  ) {
    super(
      `${failedKeys.length} ${failedKeys.length === 1 ? 'record' : 'records'} in store ${storeId} ` +
        `could not be read after ${attempts} attempts`,
    );
  }
}

/**
 * Following the data map's links reached more identities than a single person plausibly has:
 * almost always a link on a shared attribute (an IP address, a household phone) that fans out
 * to other people. Stopping here keeps an erasure from touching other subjects' data.
 */
export class TooManyIdentitiesError extends Error {
  override readonly name = 'TooManyIdentitiesError';
  constructor(
    readonly limit: number,
    /** Identity counts by type at the moment the limit was hit (no values). */
    readonly countsByType: Record<string, number>,
  ) {
    super(
      `following links found more than ${limit} identities (${Object.entries(countsByType)
        .map(([type, count]) => `${type}: ${count}`)
        .join(', ')}); a link in the data map probably points at a shared attribute, ` +
        "which would reach other people: check the stores' links",
    );
  }
}

/** A store kind or rule the adapter does not support (a data map that passed validation should never cause it). */
export class UnsupportedStoreError extends Error {
  override readonly name = 'UnsupportedStoreError';
  constructor(
    readonly storeId: string,
    reason: string,
  ) {
    super(`store ${storeId}: ${reason}`);
  }
}
