import { subjectHash } from '../audit/subject-hash';
import { type Identity, identityKey } from '../datamap/identity';
import type { ActiveHolds, HoldDeps } from '../holds';
import type { RetryPolicy } from '../stores/retry';

/** What a sweep needs of the workflow's dependencies: the holds' needs plus the retry policy. */
export type SweepDeps = HoldDeps & { retry?: RetryPolicy };

/**
 * Counts of one sweep page, one store or a whole sweep. Counts only: safe for state, logs and
 * the audit log.
 *
 * - `examined`: records read (DynamoDB: items the Query or Scan evaluated; S3: objects listed).
 * - `expired`: of those, records whose timestamp is strictly before the cut-off.
 * - `held`: expired records a legal hold or a restriction of processing keeps.
 * - `restricted`: of those, records kept because their processing is restricted (GDPR Art. 18):
 *   the mark the data map declares is on them, and only storing them is allowed.
 * - `locked`: expired records S3 Object Lock keeps (a version under retention or an Object Lock
 *   legal hold), which nobody can delete before it ends; never counted as purged.
 * - `purged`: expired records deleted (`delete` action). Always 0 in a dry run, which purges nothing.
 * - `anonymised`: expired records masked (`anonymise` action). Always 0 in a dry run.
 * - `wouldPurge`, `wouldAnonymise`: in a dry run, the expired records a sweep would purge or
 *   anonymise; always 0 outside one.
 * - `alreadyAnonymised`: expired records whose masked attributes were masked before: left as they are.
 * - `skipped`: records never purged because their timestamp is missing or unreadable, and
 *   expired records that changed or went between the read and the write.
 */
export interface SweepCounts {
  examined: number;
  expired: number;
  purged: number;
  anonymised: number;
  wouldPurge: number;
  wouldAnonymise: number;
  alreadyAnonymised: number;
  held: number;
  restricted: number;
  locked: number;
  skipped: number;
}

export const COUNT_NAMES = [
  'examined',
  'expired',
  'purged',
  'anonymised',
  'wouldPurge',
  'wouldAnonymise',
  'alreadyAnonymised',
  'held',
  'restricted',
  'locked',
  'skipped',
] as const satisfies readonly (keyof SweepCounts)[];

export function zeroCounts(): SweepCounts {
  return {
    examined: 0,
    expired: 0,
    purged: 0,
    anonymised: 0,
    wouldPurge: 0,
    wouldAnonymise: 0,
    alreadyAnonymised: 0,
    held: 0,
    restricted: 0,
    locked: 0,
    skipped: 0,
  };
}

/** The sum of two sets of counts. */
export function addCounts(a: SweepCounts, b: Partial<SweepCounts>): SweepCounts {
  const sum = zeroCounts();
  for (const name of COUNT_NAMES) sum[name] = a[name] + (b[name] ?? 0);
  return sum;
}

/** Everything one page of one store works with. `counts` is filled in as the page goes. */
export interface PageContext {
  deps: SweepDeps;
  cutoffMs: number;
  dryRun: boolean;
  holds: ActiveHolds;
  /** True once the page's time budget is spent: no new listing or query page is started. */
  outOfTime: () => boolean;
  /** The keyed hash of an identity (cached: log files repeat the same few ids). */
  hash: (identity: Identity) => string;
  counts: SweepCounts;
  /** The latest retain-until date of the records Object Lock kept in this page, if any had one. */
  lockedUntil: string | null;
}

const HASH_CACHE_ENTRIES = 10_000;

/** A caching subject hasher over the deps' subject-hash key (read only when first needed). */
export function createHasher(deps: Pick<HoldDeps, 'keys'>): (identity: Identity) => string {
  const cache = new Map<string, string>();
  return (identity) => {
    const id = identityKey(identity);
    let hash = cache.get(id);
    if (hash === undefined) {
      hash = subjectHash(deps.keys.subjectHash, identity);
      if (cache.size >= HASH_CACHE_ENTRIES) cache.clear();
      cache.set(id, hash);
    }
    return hash;
  };
}
