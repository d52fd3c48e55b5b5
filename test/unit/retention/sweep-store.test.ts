import type { Identity } from '../../../lib/datamap/identity';
import type { ActiveHolds, LegalHold } from '../../../lib/holds';
import { type PageContext, type SweepDeps, zeroCounts } from '../../../lib/retention/context';
import { SweepIncompleteError } from '../../../lib/retention/errors';
import { sweepRecords } from '../../../lib/retention/sweep-store';
import type {
  AnonymiseOutcome,
  ItemKey,
  RetainedStore,
  StoreSweep,
  SweepPage,
  SweepPosition,
  SweptRecord,
} from '../../../lib/stores';

/**
 * The page orchestration of a sweep over a store adapter played by a fake: which records are
 * counted how, what is handed to the store to delete or mask, the budget and the position.
 */

const CUTOFF = Date.UTC(2025, 10, 1);
const DAY = 86_400_000;

const s3Store = { id: 'files', kind: 's3', retention: { action: 'delete' } } as unknown as RetainedStore;
const dynamoStore = {
  id: 'profiles',
  kind: 'dynamodb',
  keySchema: { partitionKey: { name: 'userId', type: 'S' } },
  retention: { action: 'anonymise' },
} as unknown as RetainedStore;

interface FakeRecord {
  key: ItemKey | string;
  at?: number;
  anonymised?: boolean;
  identities?: Identity[];
}

/** A store sweep that serves the given pages and records what it was asked to do. */
function fakeSweep(
  pages: FakeRecord[][],
  options: { failDeletes?: (key: ItemKey | string) => boolean; masks?: AnonymiseOutcome[] } = {},
) {
  const asked = {
    pagesRead: 0,
    identitiesRead: [] as (ItemKey | string)[],
    queued: [] as (ItemKey | string)[],
    flushes: [] as boolean[],
    masked: [] as (ItemKey | string)[],
  };
  const record = (fake: FakeRecord): SweptRecord => ({
    timestampMs: fake.at,
    key: () => fake.key,
    anonymised: fake.anonymised ?? false,
    identities: async function* () {
      asked.identitiesRead.push(fake.key);
      yield* fake.identities ?? [];
    },
  });
  const sweep: StoreSweep = {
    async *pages(from: SweepPosition | undefined) {
      const first = from?.kind === 's3' ? from.prefixIndex : 0;
      for (let index = first; index < pages.length; index += 1) {
        asked.pagesRead += 1;
        const page: SweepPage = {
          records: (pages[index] ?? []).map(record),
          examined: (pages[index] ?? []).length + 1,
          next: index + 1 < pages.length ? { kind: 's3', prefixIndex: index + 1 } : undefined,
        };
        yield page;
      }
    },
    queueDelete: (key) => {
      asked.queued.push(key);
    },
    flushDeletes: async (all) => {
      asked.flushes.push(all);
      const batch = asked.queued.splice(0);
      const failed = batch.filter((key) => options.failDeletes?.(key) ?? false);
      return { deleted: batch.length - failed.length, failed };
    },
    anonymise: async (keys, { isDue }) => {
      asked.masked.push(...keys);
      expect(isDue(CUTOFF - 1)).toBe(true);
      expect(isDue(CUTOFF)).toBe(false);
      expect(isDue(undefined)).toBe(false);
      return keys.map((_, index) => options.masks?.[index] ?? 'masked');
    },
  };
  return { sweep, asked };
}

function context(overrides: Partial<PageContext> = {}): PageContext {
  return {
    deps: { keys: { mask: Buffer.from('mask-key'), subjectHash: Buffer.from('hash-key') } } as SweepDeps,
    cutoffMs: CUTOFF,
    dryRun: false,
    holds: { subjects: new Map(), records: new Map(), restrictedLines: new Map(), count: 0 },
    outOfTime: () => false,
    hash: (identity) => `hash:${identity.type}:${identity.value}`,
    counts: zeroCounts(),
    lockedUntil: null,
    ...overrides,
  } as PageContext;
}

const hold = { holdId: 'h1', reason: 'Case 1' } as LegalHold;

describe('sweepRecords', () => {
  it('counts every record, deletes the expired unheld ones, and keeps the held ones', async () => {
    // Prepare: a record hold on a.txt, a subject hold on ann's phone.
    const holds: ActiveHolds = {
      subjects: new Map([['hash:phone:+4930', hold]]),
      records: new Map([['files', new Map([['a.txt', hold]])]]),
      restrictedLines: new Map(),
      count: 2,
    };
    const { sweep, asked } = fakeSweep([
      [
        { key: 'a.txt', at: CUTOFF - DAY }, // held by a record hold
        { key: 'b.txt', at: CUTOFF - DAY, identities: [{ type: 'phone', value: '+4930' }] }, // subject hold
        { key: 'c.txt', at: CUTOFF - 1 }, // purged
        { key: 'd.txt', at: CUTOFF }, // at the cut-off: kept
      ],
      [
        { key: 'e.txt' }, // no timestamp: skipped
        { key: 'f.txt', at: CUTOFF - DAY, identities: [{ type: 'phone', value: '+4931' }] }, // purged
      ],
    ]);
    const ctx = context({ holds });

    // Act
    const next = await sweepRecords(ctx, s3Store, sweep, undefined);

    // Assess
    expect(next).toBeUndefined();
    expect(ctx.counts).toEqual({
      ...zeroCounts(),
      examined: 8,
      expired: 4,
      held: 2,
      purged: 2,
      skipped: 1,
    });
    expect(asked.flushes).toEqual([false, false, true]);
    // Identities are read only for expired records no record hold keeps.
    expect(asked.identitiesRead).toEqual(['b.txt', 'c.txt', 'f.txt']);
  });

  it('changes nothing in a dry run and counts what would be purged', async () => {
    // Prepare
    const { sweep, asked } = fakeSweep([
      [
        { key: 'a.txt', at: CUTOFF - DAY },
        { key: 'b.txt', at: CUTOFF },
      ],
    ]);
    const ctx = context({ dryRun: true });

    // Act
    await sweepRecords(ctx, s3Store, sweep, undefined);

    // Assess
    expect(asked.queued).toEqual([]);
    expect(ctx.counts).toMatchObject({ examined: 3, expired: 1, purged: 0, wouldPurge: 1 });
  });

  it('stops reading pages once the budget is spent and returns where to continue', async () => {
    // Prepare
    const { sweep, asked } = fakeSweep([[{ key: 'a', at: CUTOFF - 1 }], [{ key: 'b', at: CUTOFF - 1 }], []]);
    const ctx = context({ outOfTime: () => true });

    // Act
    const next = await sweepRecords(ctx, s3Store, sweep, undefined);
    const rest = await sweepRecords(context(), s3Store, sweep, next);

    // Assess: one page, its deletes sent before returning; the rest from the position given.
    expect(next).toEqual({ kind: 's3', prefixIndex: 1 });
    expect(ctx.counts).toMatchObject({ expired: 1, purged: 1 });
    expect(asked.pagesRead).toBe(3);
    expect(rest).toBeUndefined();
  });

  it('anonymises by the store, counts each outcome, and leaves records anonymised before', async () => {
    // Prepare
    const { sweep, asked } = fakeSweep(
      [
        [
          { key: { userId: 'u1' }, at: CUTOFF - DAY },
          { key: { userId: 'u2' }, at: CUTOFF - DAY },
          { key: { userId: 'u3' }, at: CUTOFF - DAY },
          { key: { userId: 'u4' }, at: CUTOFF - DAY, anonymised: true },
        ],
      ],
      { masks: ['masked', 'unchanged', 'skipped'] },
    );
    const ctx = context();

    // Act
    await sweepRecords(ctx, dynamoStore, sweep, undefined);

    // Assess
    expect(asked.masked).toEqual([{ userId: 'u1' }, { userId: 'u2' }, { userId: 'u3' }]);
    expect(ctx.counts).toMatchObject({ expired: 4, anonymised: 1, alreadyAnonymised: 2, skipped: 1 });
  });

  it('fails the page with the keys that could not be purged or anonymised, after the others', async () => {
    // Prepare
    const deletes = fakeSweep(
      [
        [
          { key: 'a', at: 0 },
          { key: 'b', at: 0 },
        ],
      ],
      {
        failDeletes: (key) => key === 'b',
      },
    );
    const masks = fakeSweep(
      [
        [
          { key: { userId: 'u1' }, at: 0 },
          { key: { userId: 'u2' }, at: 0 },
        ],
      ],
      {
        masks: ['failed', 'masked'],
      },
    );
    const deleteCtx = context();
    const maskCtx = context();

    // Act
    const deleteFailure = await sweepRecords(deleteCtx, s3Store, deletes.sweep, undefined).catch((e) => e);
    const maskFailure = await sweepRecords(maskCtx, dynamoStore, masks.sweep, undefined).catch((e) => e);

    // Assess
    expect(deleteFailure).toBeInstanceOf(SweepIncompleteError);
    expect(deleteFailure.failedKeys).toEqual(['b']);
    expect(deleteCtx.counts.purged).toBe(1);
    expect(maskFailure).toBeInstanceOf(SweepIncompleteError);
    expect(maskFailure.failedKeys).toEqual([{ userId: 'u1' }]);
    expect(maskCtx.counts.anonymised).toBe(1);
  });
});
