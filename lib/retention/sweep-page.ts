import { parseIso8601 } from '../datamap/timestamps';
import { getStore } from '../datamap/validate';
import { loadActiveHolds } from '../holds';
import { openSweep, type RetainedStore, type SweepPosition } from '../stores';
import { DEFAULT_RETRY_POLICY } from '../stores/retry';
import { createHasher, type PageContext, type SweepCounts, type SweepDeps, zeroCounts } from './context';
import { InvalidSweepInputError, NoRetentionRuleError } from './errors';
import { cutoff, storesWithRetention } from './rules';
import { sweepRecords } from './sweep-store';
import { openSweepToken, sealSweepToken, sweepTokenKey, type TokenScope } from './token';

/**
 * One page of a sweep of one store (segment): from the token's position, read and judge records
 * until the store is done or the page's time budget is spent, and hand back a sealed token.
 *
 * A page is idempotent: run again from the same token it finds what is left and does the rest
 * (what it purged before is gone, deleting a record twice is harmless, anonymising skips masked
 * attributes). A crashed page is therefore simply retried. A sweep and an erasure request can run
 * at the same time: each only removes or masks records, and tolerates records the other removed.
 */

/** The most scan segments a DynamoDB store is swept in. */
export const MAX_SCAN_SEGMENTS = 100;
/**
 * A page stops starting new Query/Scan/List pages after this long. The sweep function's timeout
 * (5 minutes) leaves ample room for the page in flight and the final flush.
 */
export const DEFAULT_PAGE_BUDGET_MS = 60_000;

export interface SweepPageInput {
  storeId: string;
  /** The sweep's "now": the cut-off is `now − period`. The same for every page of a sweep. */
  now: Date | string;
  /** Count what would be purged or anonymised, change nothing. */
  dryRun?: boolean;
  /** Where to continue: the `nextToken` of the previous page; absent or null for the first. */
  token?: string | null;
  /** Scan segment (DynamoDB stores without an expiry index); default 0 of 1. */
  segment?: number;
  totalSegments?: number;
  /** Stop starting new listing/query pages after this many milliseconds. */
  budgetMs?: number;
  /** Records per Query/Scan page or objects per listing; default: the service's. */
  pageSize?: number | null;
  /** Monotonic clock for the budget, injectable for tests; default Date.now. */
  clock?: () => number;
}

export interface SweepPageResult extends SweepCounts {
  storeId: string;
  segment: number;
  totalSegments: number;
  dryRun: boolean;
  /** The cut-off: records strictly before it expire. */
  cutoff: string;
  /** Opaque, sealed; null when the store (segment) is done. */
  nextToken: string | null;
  /** The latest retain-until date of the records S3 Object Lock kept (`locked`), if any had one. */
  lockedUntil: string | null;
}

/** The sweep's now: a Date, or an ISO-8601 string read as parseIso8601 reads it (no offset: UTC). */
export function parseNow(now: Date | string | undefined, fallback: () => Date): Date {
  const ms =
    now === undefined
      ? fallback().getTime()
      : typeof now === 'string'
        ? parseIso8601(now.trim())
        : now.getTime();
  if (ms === undefined || !Number.isFinite(ms)) {
    throw new InvalidSweepInputError('now must be an ISO-8601 date-time such as 2026-11-01T03:00:00Z');
  }
  return new Date(ms);
}

/** The store with its retention rule. @throws NoRetentionRuleError when it has none */
export function retainedStore(dataMap: SweepDeps['dataMap'], storeId: string): RetainedStore {
  const store = getStore(dataMap, storeId);
  if (!store.retention) {
    throw new NoRetentionRuleError(
      storeId,
      storesWithRetention(dataMap).map((candidate) => candidate.id),
    );
  }
  return store as RetainedStore;
}

/** Whether a store is swept by a parallel Scan (and so in segments): DynamoDB without an expiry index. */
export function scansInSegments(store: RetainedStore): boolean {
  return store.kind === 'dynamodb' && store.retention.expiryIndex === undefined;
}

function checkSegments(segment: number, totalSegments: number): void {
  if (
    !Number.isInteger(totalSegments) ||
    totalSegments < 1 ||
    totalSegments > MAX_SCAN_SEGMENTS ||
    !Number.isInteger(segment) ||
    segment < 0 ||
    segment >= totalSegments
  ) {
    throw new InvalidSweepInputError(
      `segment ${segment} of ${totalSegments}: segments are numbered 0 to totalSegments − 1, with 1 to ${MAX_SCAN_SEGMENTS} segments`,
    );
  }
}

/**
 * Sweeps one page of one store (one segment of it, for a scanned DynamoDB store): reads page
 * after page from the token's position until the store is done or `budgetMs` is spent, purges
 * (or anonymises) the expired records no legal hold keeps, and returns the counts and the token
 * to continue from (null when done). In a dry run nothing is changed and the counts say what
 * would be.
 * @throws NoRetentionRuleError, UnknownStoreError, InvalidSweepInputError, InvalidSweepTokenError
 *   for input that cannot be right (never retried)
 * @throws SweepIncompleteError when records could not be purged after retries (retry the page)
 */
export async function sweepStorePage(deps: SweepDeps, input: SweepPageInput): Promise<SweepPageResult> {
  const store = retainedStore(deps.dataMap, input.storeId);
  const now = parseNow(input.now, deps.now);
  const cutoffAt = cutoff(store.retention.period, now);
  const segment = input.segment ?? 0;
  const totalSegments = input.totalSegments ?? 1;
  checkSegments(segment, totalSegments);
  const dryRun = input.dryRun ?? false;
  const scope: TokenScope = { storeId: store.id, segment, totalSegments, cutoffMs: cutoffAt.getTime() };
  const result: SweepPageResult = {
    storeId: store.id,
    segment,
    totalSegments,
    dryRun,
    cutoff: cutoffAt.toISOString(),
    ...zeroCounts(),
    nextToken: null,
    lockedUntil: null,
  };
  // A store read by one Query or listing is swept by segment 0; the other segments have nothing to do.
  if (segment > 0 && !scansInSegments(store)) return result;

  let position: SweepPosition | undefined;
  if (input.token) {
    position = openSweepToken(sweepTokenKey(deps.keys.subjectHash), scope, input.token);
    if (position.kind !== store.kind)
      throw new InvalidSweepInputError(`the token is not for a ${store.kind} store`);
  }
  const clock = input.clock ?? Date.now;
  const started = clock();
  const budgetMs = input.budgetMs ?? DEFAULT_PAGE_BUDGET_MS;
  const ctx: PageContext = {
    deps,
    cutoffMs: cutoffAt.getTime(),
    dryRun,
    holds: await loadActiveHolds(deps),
    outOfTime: () => clock() - started >= budgetMs,
    hash: createHasher(deps),
    counts: zeroCounts(),
    lockedUntil: null,
  };

  const sweep = openSweep(deps.dataMap, store, deps.clients, {
    cutoffMs: ctx.cutoffMs,
    segment,
    totalSegments,
    pageSize: input.pageSize ?? undefined,
    policy: deps.retry ?? DEFAULT_RETRY_POLICY,
    matchSubjects: ctx.holds.subjects.size > 0,
  });
  const next = await sweepRecords(ctx, store, sweep, position);

  Object.assign(result, ctx.counts);
  result.lockedUntil = ctx.lockedUntil;
  result.nextToken = next ? sealSweepToken(sweepTokenKey(deps.keys.subjectHash), scope, next) : null;
  deps.log.info('sweep page', {
    storeId: store.id,
    segment,
    totalSegments,
    dryRun,
    ...ctx.counts,
    done: next === undefined,
  });
  return result;
}
