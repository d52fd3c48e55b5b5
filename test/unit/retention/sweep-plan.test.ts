import { parseDataMap } from '../../../lib/datamap/load';
import { COUNT_NAMES } from '../../../lib/retention/context';
import { InvalidSweepInputError } from '../../../lib/retention/errors';
import { MAX_SWEEP_ITEMS, planSweep } from '../../../lib/retention/sweep';

/** A sweep's plan stays within what one execution's state can carry (256 KiB). */

const STATE_LIMIT_BYTES = 256 * 1024;

/** A data map of `count` DynamoDB stores with a retention rule and no expiry index (swept by Scan), with long ids. */
function scannedStores(count: number) {
  const stores = Array.from(
    { length: count },
    (_, n) => `
  - id: store-with-a-rather-long-identifier-${String(n).padStart(4, '0')}
    kind: dynamodb
    table: company-table-with-a-rather-long-name-${n}
    keySchema: { partitionKey: { name: userId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [user.profile]
    purpose: Running the account
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
    retention: { period: P2Y, from: { attribute: lastSeenAt } }`,
  ).join('');
  return parseDataMap(
    `version: 1\nidentityTypes:\n  userId: { normalise: opaque }\nstores:${stores}\n`,
    'test',
  );
}

const deps = (count: number) => ({
  dataMap: scannedStores(count),
  now: () => new Date('2026-11-01T03:00:00.000Z'),
});

describe('the stores × segments cap', () => {
  it('lowers the default segments so that the plan stays within the cap', () => {
    // Act
    const few = planSweep(deps(10), { sweepId: 'sweep-1' });
    const many = planSweep(deps(150), { sweepId: 'sweep-1' });

    // Assess
    expect(few.items.filter((item) => item.storeId === few.stores[0])).toHaveLength(4);
    expect(many.items.length).toBeLessThanOrEqual(MAX_SWEEP_ITEMS);
    expect(new Set(many.items.map((item) => item.totalSegments))).toEqual(new Set([2]));
    expect(many.items).toHaveLength(300);
  });

  it('refuses segments asked for beyond the cap, and more stores than it, saying what to do', () => {
    expect(() => planSweep(deps(150), { sweepId: 'sweep-1', segments: 4 })).toThrow(
      /over the 300 items one sweep may plan: ask for at most 2/,
    );
    expect(() => planSweep(deps(MAX_SWEEP_ITEMS + 1), { sweepId: 'sweep-1' })).toThrow(
      InvalidSweepInputError,
    );
    expect(() => planSweep(deps(MAX_SWEEP_ITEMS + 1), { sweepId: 'sweep-1' })).toThrow(/with --store/);
  });

  it('at the cap, the planned items, and after the Map their counts beside the summary, fit in the state', () => {
    // Prepare: the largest plan (every store one item), counts as large as a sweep could make them.
    const plan = planSweep(deps(MAX_SWEEP_ITEMS), { sweepId: 'scheduled-2026-11-01T03-00-00-abcdef' });
    const big = Object.fromEntries(COUNT_NAMES.map((name) => [name, 9_999_999_999]));

    // Act: the state before the Map (the items as planned: each page's token and totals stay
    // inside its own iteration), and after it.
    const before = { plan };
    const after = {
      plan: {
        now: plan.now,
        dryRun: plan.dryRun,
        stores: plan.stores,
        items: plan.items.map(({ storeId, segment, totalSegments }) => ({
          storeId,
          segment,
          totalSegments,
          totals: big,
          pages: 99_999,
        })),
      },
      reaped: { reaped: 9_999, wouldReap: 0, recordsPurged: 9_999_999, recordsWouldPurge: 0 },
      summary: {
        sweepId: plan.sweepId,
        now: plan.now,
        dryRun: plan.dryRun,
        stores: plan.stores.map((storeId) => ({
          storeId,
          kind: 'dynamodb',
          action: 'delete',
          period: 'P2Y',
          cutoff: plan.now,
          segments: 1,
          pages: 99_999,
          ...big,
        })),
        totals: big,
        durationMs: 86_400_000,
      },
    };

    // Assess
    expect(Buffer.byteLength(JSON.stringify(before))).toBeLessThan(STATE_LIMIT_BYTES);
    expect(Buffer.byteLength(JSON.stringify(after))).toBeLessThan(STATE_LIMIT_BYTES);
  });
});
