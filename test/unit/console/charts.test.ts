import type { TimelineEntry } from '../../../lib/audit/timeline';
import { actionsFor, REQUEST_ACTIONS } from '../../../lib/console/actions';
import { barChart, timelineChart } from '../../../lib/console/charts';

const entry = (
  at: string,
  what: string,
  durationMs: number | null,
  outcome: string | null = null,
): TimelineEntry => ({
  at,
  source: 'execution',
  what,
  actor: null,
  attempt: 1,
  durationMs,
  counts: {},
  storeId: null,
  outcome,
  seq: null,
});

describe('console charts', () => {
  it('draws each state as a bar from its entry to its exit on one time axis, failures marked', () => {
    const chart = timelineChart([
      entry('2026-01-01T00:00:01.000Z', 'StateExited Verify', 1_000),
      entry('2026-01-01T00:00:03.000Z', 'StateExited LocateStores', 2_000),
      entry('2026-01-01T00:00:04.000Z', 'ExecutionFailed', null, 'States.TaskFailed'),
    ]);

    expect(chart.bars.map((bar) => bar.label)).toEqual(['Verify', 'LocateStores', 'ExecutionFailed']);
    const [verify, locate, failed] = chart.bars;
    expect(locate!.x).toBeCloseTo(verify!.x + verify!.width, 5);
    expect(locate!.width).toBeCloseTo(verify!.width * 2, 5);
    expect(failed).toMatchObject({ failed: true });
    expect(verify!.failed).toBe(false);
  });

  it('scales bars to the largest value', () => {
    const chart = barChart('counts', [
      { label: 'a', value: 10 },
      { label: 'b', value: 5 },
    ]);

    expect(chart.bars[1]!.width).toBeCloseTo(chart.bars[0]!.width / 2, 5);
    expect(chart.ticks.map((tick) => tick.text)).toEqual(['10', '5']);
  });
});

describe('request actions', () => {
  it('offers each action only in the statuses the CLI allows it', () => {
    expect(actionsFor('failed').map((action) => action.name)).toEqual(['retry', 'close', 'deny', 'extend']);
    expect(actionsFor('pending-review').map((action) => action.name)).toEqual([
      'review',
      'close',
      'deny',
      'extend',
    ]);
    expect(actionsFor('pending-approval').map((action) => action.name)).toEqual([
      'approve',
      'deny',
      'cancel',
      'extend',
    ]);
    expect(actionsFor('completed')).toEqual([]);
    expect(new Set(REQUEST_ACTIONS.map((action) => action.name)).size).toBe(REQUEST_ACTIONS.length);
  });
});
