import { randomBytes } from 'node:crypto';
import { anchorAuditLog, anchorStoreOf } from '../audit/anchor';
import { checkActorName } from '../audit/free-text';
import { appendAuditEvent, auditDepsOf } from '../audit/log';
import type { RetentionRule, Store } from '../datamap/schema';
import { redactIdentifiers } from '../log';
import { addCounts, COUNT_NAMES, type SweepCounts, type SweepDeps, zeroCounts } from './context';
import { InvalidSweepInputError } from './errors';
import { cutoff, storesWithRetention } from './rules';
import {
  DEFAULT_PAGE_BUDGET_MS,
  MAX_SCAN_SEGMENTS,
  parseNow,
  retainedStore,
  scansInSegments,
  sweepStorePage,
} from './sweep-page';

/**
 * Retention sweeps: plan (which stores, how many scan segments), sweep each store in pages with a
 * time budget and a sealed continuation token (lib/retention/sweep-page.ts), and record the
 * totals in the audit log. The sweep state machine (lib/workflow/sweep-workflow.ts) calls these
 * one step at a time, on AWS and in the local runtime alike (lib/local/sweep-runner.ts).
 */

/** Scan segments per DynamoDB store without an expiry index, unless the sweep input says otherwise. */
export const DEFAULT_SCAN_SEGMENTS = 4;

/**
 * The most Map items (stores × scan segments) one sweep plans. The items travel in the
 * execution's state, which Step Functions caps at 256 KiB: before the Map whole, after it as
 * their counts (the Map replaces them), beside the per-store summary RecordSweep returns; at this
 * many they stay below the cap (test/unit/retention/sweep-plan.test.ts measures it).
 */
export const MAX_SWEEP_ITEMS = 300;

/** A sweep id: `sweep-20261101T030000Z-3fa9c1`. */
export function newSweepId(at = new Date()): string {
  return `sweep-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-${randomBytes(3).toString('hex')}`;
}

export interface SweepInput {
  /** The sweep's id (the execution name): in every audit event of the sweep. */
  sweepId: string;
  /** ISO-8601; default: the deps' clock when the sweep is planned. Fixes the cut-offs for the whole sweep. */
  now?: string;
  dryRun?: boolean;
  /** Sweep only this store (it must have a retention rule); default every store that has one. */
  storeId?: string;
  /**
   * Who started the sweep by hand (the console's signed-in name): the actor of its `sweep.started`
   * (or `sweep.skipped`) event. Default: the schedule, audited as `lethe:sweep`.
   */
  startedBy?: string;
  /** Scan segments per DynamoDB store without an expiry index; default 4. */
  segments?: number;
  budgetMs?: number;
  pageSize?: number | null;
}

/** One Map item of the sweep state machine: one store (segment), carried from page to page. */
export interface SweepItem {
  sweepId: string;
  storeId: string;
  segment: number;
  totalSegments: number;
  now: string;
  dryRun: boolean;
  budgetMs: number;
  pageSize: number | null;
  /** Where the next page starts; null before the first page and after the last. */
  token: string | null;
  /** The counts of the pages done so far. */
  totals: SweepCounts;
  pages: number;
}

export interface SweepPlan {
  sweepId: string;
  now: string;
  dryRun: boolean;
  stores: string[];
  items: SweepItem[];
  /** Another sweep was still running: this one plans nothing and ends (audited as sweep.skipped). */
  skipped: boolean;
}

/**
 * Plans a sweep: the stores with a retention rule (or the one asked for), one item per store and,
 * for DynamoDB stores swept by Scan, one per segment. Fixes `now` for the whole sweep.
 * @throws NoRetentionRuleError for a storeId without a retention rule
 * @throws InvalidSweepInputError for a bad now, segments, budget or page size
 */
export function planSweep(deps: Pick<SweepDeps, 'dataMap' | 'now'>, input: SweepInput): SweepPlan {
  const now = parseNow(input.now, deps.now).toISOString();
  const dryRun = input.dryRun ?? false;
  const segments = input.segments ?? DEFAULT_SCAN_SEGMENTS;
  if (!Number.isInteger(segments) || segments < 1 || segments > MAX_SCAN_SEGMENTS) {
    throw new InvalidSweepInputError(`segments must be a whole number from 1 to ${MAX_SCAN_SEGMENTS}`);
  }
  const budgetMs = input.budgetMs ?? DEFAULT_PAGE_BUDGET_MS;
  if (!Number.isFinite(budgetMs) || budgetMs < 0)
    throw new InvalidSweepInputError('budgetMs must be 0 or more');
  const pageSize = input.pageSize ?? null;
  if (pageSize !== null && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)) {
    throw new InvalidSweepInputError('pageSize must be a whole number from 1 to 1000');
  }
  const stores =
    input.storeId === undefined
      ? storesWithRetention(deps.dataMap)
      : [retainedStore(deps.dataMap, input.storeId)];
  const scanned = stores.filter(scansInSegments).length;
  const perScan = segmentsWithinCap(stores.length, scanned, segments, input.segments !== undefined);
  const items = stores.flatMap((store) => {
    const totalSegments = scansInSegments(store) ? perScan : 1;
    return Array.from(
      { length: totalSegments },
      (_, segment): SweepItem => ({
        sweepId: input.sweepId,
        storeId: store.id,
        segment,
        totalSegments,
        now,
        dryRun,
        budgetMs,
        pageSize,
        token: null,
        totals: zeroCounts(),
        pages: 0,
      }),
    );
  });
  return {
    sweepId: input.sweepId,
    now,
    dryRun,
    stores: stores.map((store) => store.id),
    items,
    skipped: false,
  };
}

/**
 * Scan segments per scanned store such that the plan has at most MAX_SWEEP_ITEMS items: the
 * default is lowered as far as it must (to 1), a number asked for is refused.
 * @throws InvalidSweepInputError when even one segment per store is too many, or the segments asked for are
 */
function segmentsWithinCap(stores: number, scanned: number, segments: number, asked: boolean): number {
  const items = (perScan: number) => stores - scanned + scanned * perScan;
  if (items(1) > MAX_SWEEP_ITEMS) {
    throw new InvalidSweepInputError(
      `a sweep of ${stores} stores is over the ${MAX_SWEEP_ITEMS} stores (and scan segments) one sweep may plan: sweep them in groups with --store`,
    );
  }
  if (items(segments) <= MAX_SWEEP_ITEMS) return segments;
  if (asked) {
    throw new InvalidSweepInputError(
      `${segments} segments for each of ${scanned} scanned stores is over the ${MAX_SWEEP_ITEMS} items one sweep may plan: ask for at most ${Math.floor((MAX_SWEEP_ITEMS - stores + scanned) / scanned)}`,
    );
  }
  return Math.max(1, Math.floor((MAX_SWEEP_ITEMS - stores + scanned) / scanned));
}

/** The actor of a sweep's events that no person started, and of the pages and totals of every sweep. */
const SWEEP_ACTOR = 'lethe:sweep';

/** Appends one event of a sweep to the audit log (hash-chained, like every audit write). */
async function appendSweepEvent(
  deps: SweepDeps,
  type: 'sweep.started' | 'sweep.page' | 'sweep.completed' | 'sweep.failed' | 'sweep.skipped',
  details: Record<string, unknown>,
  actor = SWEEP_ACTOR,
): Promise<void> {
  await appendAuditEvent(auditDepsOf(deps), { type, actor, details });
}

/**
 * After a sweep (completed or failed), the head of the audit log goes to the audit bucket, so the
 * chain up to here is bound by an anchor no one can rewrite. Deployments without an audit bucket
 * (stacks from before anchors) skip it.
 */
async function anchorAfterSweep(deps: SweepDeps, sweepId: string): Promise<void> {
  const store = anchorStoreOf(deps);
  if (!store) return;
  const anchor = await anchorAuditLog(auditDepsOf(deps), store, 'lethe:sweep');
  deps.log.info('audit log anchored', { sweepId, seq: anchor.seq, key: anchor.key });
}

/**
 * Plans a sweep ({@link planSweep}) and appends `sweep.started` before any page runs: the sweep id,
 * `now`, dry run, and per store its action, period, cut-off and segments. A sweep killed at any
 * point after this has at least this event and the events of the pages it completed.
 *
 * When `othersRunning` names sweeps still running (a slow sweep the next scheduled one caught up
 * with), two sweeps would page through the same stores at once: this one appends `sweep.skipped`
 * naming them instead, and plans nothing.
 * @throws as planSweep (nothing is appended then: the failure is recorded as `sweep.failed`)
 */
export async function startSweep(
  deps: SweepDeps,
  input: SweepInput,
  othersRunning?: () => Promise<string[]>,
): Promise<SweepPlan> {
  const plan = planSweep(deps, input);
  const startedBy = input.startedBy === undefined ? undefined : checkActorName(input.startedBy, 'startedBy');
  const actor = startedBy ?? SWEEP_ACTOR;
  const running = othersRunning ? await othersRunning() : [];
  if (running.length > 0) {
    await appendSweepEvent(
      deps,
      'sweep.skipped',
      { sweepId: plan.sweepId, now: plan.now, runningSweeps: running },
      actor,
    );
    deps.log.warn('sweep skipped: another is still running', {
      sweepId: plan.sweepId,
      running: running.length,
    });
    return { ...plan, stores: [], items: [], skipped: true };
  }
  const now = new Date(plan.now);
  await appendSweepEvent(
    deps,
    'sweep.started',
    {
      sweepId: plan.sweepId,
      now: plan.now,
      dryRun: plan.dryRun,
      stores: plan.stores.map((storeId) => {
        const store = retainedStore(deps.dataMap, storeId);
        return {
          storeId,
          kind: store.kind,
          action: store.retention.action,
          period: store.retention.period,
          cutoff: cutoff(store.retention.period, now).toISOString(),
          segments: plan.items.filter((item) => item.storeId === storeId).length,
        };
      }),
    },
    actor,
  );
  return plan;
}

/**
 * One sweep page applied to a Map item: the item for the next page (token and running totals).
 * Once the page's writes are done, and before it returns, it appends `sweep.page` with the page's
 * counts, so what a sweep purged is in the audit log page by page even if the sweep dies later.
 * A page run again (its function died after this event) appends its event again, under the same
 * page number; the running totals, and so `sweep.completed`, count only the run that returned.
 */
export async function advanceSweepItem(
  deps: SweepDeps,
  item: SweepItem,
  clock?: () => number,
): Promise<SweepItem> {
  const page = await sweepStorePage(deps, {
    storeId: item.storeId,
    now: item.now,
    dryRun: item.dryRun,
    token: item.token,
    segment: item.segment,
    totalSegments: item.totalSegments,
    budgetMs: item.budgetMs,
    pageSize: item.pageSize,
    ...(clock ? { clock } : {}),
  });
  await appendSweepEvent(deps, 'sweep.page', {
    sweepId: item.sweepId,
    storeId: item.storeId,
    segment: item.segment,
    totalSegments: item.totalSegments,
    page: item.pages + 1,
    dryRun: item.dryRun,
    cutoff: page.cutoff,
    ...Object.fromEntries(COUNT_NAMES.map((name) => [name, page[name]])),
    lockedUntil: page.lockedUntil,
    done: page.nextToken === null,
  });
  return { ...item, token: page.nextToken, totals: addCounts(item.totals, page), pages: item.pages + 1 };
}

/** Per-store result of a sweep, summed over its segments and pages. */
export interface StoreSweepSummary extends SweepCounts {
  storeId: string;
  kind: Store['kind'];
  action: RetentionRule['action'];
  period: string;
  cutoff: string;
  segments: number;
  pages: number;
}

export interface SweepSummary {
  sweepId: string;
  now: string;
  dryRun: boolean;
  stores: StoreSweepSummary[];
  totals: SweepCounts;
  /** Wall-clock duration from the sweep's start, when the start is known. */
  durationMs: number | null;
}

export interface RecordSweepInput {
  sweepId: string;
  /** When the sweep started (the execution's start time); for the duration. */
  startedAt?: string | null;
  now: string;
  dryRun: boolean;
  swept: Pick<SweepItem, 'storeId' | 'segment' | 'totalSegments' | 'totals' | 'pages'>[];
  /** Wall clock for the duration; default Date.now. */
  clock?: () => number;
}

/** Sums a sweep's items per store and appends `sweep.completed` with the counts and the duration. */
export async function recordSweep(deps: SweepDeps, input: RecordSweepInput): Promise<SweepSummary> {
  const now = parseNow(input.now, deps.now);
  const byStore = new Map<string, StoreSweepSummary>();
  for (const item of input.swept) {
    const store = retainedStore(deps.dataMap, item.storeId);
    const summary = byStore.get(store.id) ?? {
      storeId: store.id,
      kind: store.kind,
      action: store.retention.action,
      period: store.retention.period,
      cutoff: cutoff(store.retention.period, now).toISOString(),
      segments: 0,
      pages: 0,
      ...zeroCounts(),
    };
    Object.assign(summary, addCounts(summary, item.totals));
    summary.segments += 1;
    summary.pages += item.pages;
    byStore.set(store.id, summary);
  }
  // Data-map order, whatever order the Map finished in.
  const stores = deps.dataMap.stores.flatMap((store) => byStore.get(store.id) ?? []);
  const totals = stores.reduce<SweepCounts>((sum, store) => addCounts(sum, store), zeroCounts());
  const started = input.startedAt ? Date.parse(input.startedAt) : Number.NaN;
  const durationMs = Number.isFinite(started) ? Math.max(0, (input.clock ?? Date.now)() - started) : null;
  const summary: SweepSummary = {
    sweepId: input.sweepId,
    now: now.toISOString(),
    dryRun: input.dryRun,
    stores,
    totals,
    durationMs,
  };
  await appendSweepEvent(deps, 'sweep.completed', { ...summary });
  await anchorAfterSweep(deps, input.sweepId);
  deps.log.info('sweep recorded', {
    sweepId: input.sweepId,
    dryRun: input.dryRun,
    stores: stores.length,
    ...Object.fromEntries(COUNT_NAMES.map((name) => [name, totals[name]])),
    durationMs,
  });
  return summary;
}

export interface SweepFailureInput {
  sweepId: string;
  failure: { state?: string | undefined; error?: string | undefined; cause?: string | undefined };
}

/**
 * The error a failure is about: a store sweep's child execution that failed is reported by Step
 * Functions as States.TaskFailed with the child's description (Error, Cause) as its cause; the
 * child's own error (a page's) is what the audit event names.
 */
function childFailure(failure: SweepFailureInput['failure']): { error?: string; cause?: string } {
  if (failure.error !== 'States.TaskFailed' || failure.cause === undefined) return failure;
  try {
    // DescribeExecution's fields, in either spelling (the API's JSON and the SDK's differ).
    const described = JSON.parse(failure.cause) as Record<string, unknown>;
    const error = described.Error ?? described.error;
    const cause = described.Cause ?? described.cause;
    if (typeof error !== 'string') return failure;
    return { error, ...(typeof cause === 'string' ? { cause } : {}) };
  } catch {
    return failure;
  }
}

/** Appends `sweep.failed`, naming the failing state and error (the cause redacted and shortened). */
export async function recordSweepFailure(
  deps: SweepDeps,
  input: SweepFailureInput,
): Promise<{ sweepId: string; status: 'failed' }> {
  const failure = childFailure(input.failure);
  const cause = failure.cause === undefined ? undefined : redactIdentifiers(failure.cause).slice(0, 2_000);
  await appendSweepEvent(deps, 'sweep.failed', {
    sweepId: input.sweepId,
    state: input.failure.state ?? null,
    error: failure.error ?? null,
    cause: cause ?? null,
  });
  await anchorAfterSweep(deps, input.sweepId);
  deps.log.error('sweep failed', {
    sweepId: input.sweepId,
    state: input.failure.state,
    error: failure.error,
  });
  return { sweepId: input.sweepId, status: 'failed' };
}
