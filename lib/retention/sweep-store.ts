import { holdOnRecord, holdOnSubject } from '../holds';
import { forgetDeleted, isIndexed } from '../lake';
import type { ItemKey, RetainedStore, StoreSweep, SweepPosition, SweptRecord } from '../stores';
import { mapConcurrently } from '../stores/concurrency';
import type { PageContext } from './context';
import { decideExpired, expiryOf } from './decide';
import { SweepIncompleteError } from './errors';

/**
 * One page of a sweep of one store (segment): the store adapter reads the pages and applies the
 * writes, {@link decideExpired} says what becomes of each record, and this keeps the counts, the
 * time budget and the position to continue from.
 *
 * Held records are kept: a record a record hold names; a record holding an identity a subject hold
 * covers (a DynamoDB item in the attributes its store locates and links by; an S3 object by its
 * per-subject prefix, or, in a JSON-lines store, by any one of its lines: the whole shared object
 * is kept while the hold lasts, and the other subjects' lines in it go once it is released).
 * Restricted lines (a restriction record of the store, see lib/holds/restrictions.ts) keep only
 * themselves: the object is rewritten with just those lines, counted held and restricted.
 */

/** Expired records whose holds are looked up at once: a lookup may read a JSON-lines object. */
const HOLD_LOOKUP_CONCURRENCY = 8;

/**
 * Whether the record is kept: by a legal hold on the record itself or on one of its subjects, or
 * by a restriction of processing (then counted `restricted` too: the restriction is the reason).
 */
async function isHeld(ctx: PageContext, store: RetainedStore, record: SweptRecord): Promise<boolean> {
  if (holdOnRecord(ctx.holds, store, record.key())) return true;
  if (await record.restricted?.()) {
    ctx.counts.restricted += 1;
    return true;
  }
  if (ctx.holds.subjects.size > 0) {
    for await (const identity of record.identities()) {
      if (holdOnSubject(ctx.holds, [ctx.hash(identity)])) return true;
    }
  }
  // Checked after the holds: a hold on anyone in a shared object keeps all of it, as it was.
  const restricted = ctx.holds.restrictedLines.get(store.id);
  if (restricted && restricted.size > 0 && record.keepOnlyLines) {
    const kept = await record.keepOnlyLines((identity) => restricted.has(ctx.hash(identity)), ctx.dryRun);
    if (kept === 'failed') {
      // Kept as it was, to be swept again: never purged with a restricted subject's lines in it.
      ctx.counts.skipped += 1;
      return true;
    }
    if (kept > 0) {
      ctx.counts.restricted += 1;
      return true;
    }
  }
  return false;
}

/**
 * Sweeps from `from` (the start when undefined), page after page, until the store (segment) is
 * done or the time budget is spent. Counts go into `ctx.counts`.
 * @returns where the next page starts, or undefined when the store (segment) is done
 * @throws SweepIncompleteError when expired records could not be purged or anonymised after
 *   retries (the page is retried as a whole; what was purged stays purged)
 */
export async function sweepRecords(
  ctx: PageContext,
  store: RetainedStore,
  sweep: StoreSweep,
  from: SweepPosition | undefined,
): Promise<SweepPosition | undefined> {
  const { counts } = ctx;
  const rule = { action: store.retention.action, dryRun: ctx.dryRun };
  const isDue = (timestampMs: number | undefined) => expiryOf(timestampMs, ctx.cutoffMs) === 'expired';
  const failedKeys: (ItemKey | string)[] = [];
  /** Objects of an indexed store queued for deletion: the index forgets those deleted. */
  const indexed = isIndexed(ctx.deps, store);
  const purgedObjects: string[] = [];

  const flushDeletes = async (all: boolean) => {
    const result = await sweep.flushDeletes(all);
    counts.purged += result.deleted;
    failedKeys.push(...result.failed);
    for (const locked of result.locked ?? []) {
      counts.locked += 1;
      if (locked.retainUntil && (ctx.lockedUntil === null || locked.retainUntil > ctx.lockedUntil)) {
        ctx.lockedUntil = locked.retainUntil;
      }
    }
  };
  const anonymise = async (keys: (ItemKey | string)[]) => {
    const outcomes = await sweep.anonymise(keys, { isDue, hmacKey: ctx.deps.keys.mask });
    outcomes.forEach((outcome, index) => {
      if (outcome === 'masked') counts.anonymised += 1;
      else if (outcome === 'unchanged') counts.alreadyAnonymised += 1;
      else if (outcome === 'failed') failedKeys.push(keys[index] as ItemKey | string);
      else counts.skipped += 1;
    });
  };

  let next: SweepPosition | undefined;
  for await (const page of sweep.pages(from)) {
    counts.examined += page.examined;
    const expired: SweptRecord[] = [];
    for (const record of page.records) {
      const expiry = expiryOf(record.timestampMs, ctx.cutoffMs);
      if (expiry === 'unreadable') counts.skipped += 1;
      else if (expiry === 'expired') expired.push(record);
    }
    counts.expired += expired.length;
    const held = await mapConcurrently(expired, HOLD_LOOKUP_CONCURRENCY, (record) =>
      isHeld(ctx, store, record),
    );
    const toMask: (ItemKey | string)[] = [];
    expired.forEach((record, index) => {
      const decision = decideExpired(rule, { held: held[index] === true, anonymised: record.anonymised });
      if (!decision.apply) counts[decision.verdict] += 1;
      else if (decision.verdict === 'purged') {
        const key = record.key();
        sweep.queueDelete(key);
        if (indexed && typeof key === 'string') purgedObjects.push(key);
      } else toMask.push(record.key());
    });
    await flushDeletes(false);
    if (toMask.length > 0) await anonymise(toMask);
    next = page.next;
    if (next === undefined || ctx.outOfTime()) break;
  }

  await flushDeletes(true);
  if (purgedObjects.length > 0) {
    const failed = new Set(failedKeys);
    await forgetDeleted(
      ctx.deps,
      store,
      purgedObjects.filter((key) => !failed.has(key)),
    );
  }
  if (failedKeys.length > 0) throw new SweepIncompleteError(store.id, failedKeys);
  return next;
}
