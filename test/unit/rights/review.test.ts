import { recordUnits, reviewDecisionFor, sortByReview } from '../../../lib/rights/review';
import type { LocatedRecord } from '../../../lib/stores/types';

const item = (id: string, claimedBy?: string[]): LocatedRecord => ({
  kind: 'item',
  key: { cookieId: id },
  matched: { identity: 'cookieId', attribute: 'cookieId', value: id },
  ...(claimedBy ? { claimedBy } : {}),
});
const lines = (key: string, lineCount: number, claimedBy?: string[]): LocatedRecord => ({
  kind: 'lines',
  key,
  etag: 'e',
  lineCount,
  matched: { identity: 'cookieId', field: 'cookieId', values: [] },
  ...(claimedBy ? { claimedBy } : {}),
});

describe('sortByReview: which located records a request acts on', () => {
  const records = [
    item('a'),
    item('b', ['hs256:2']),
    lines('clicks/1.jsonl', 4),
    lines('clicks/1.jsonl', 3, ['hs256:1', 'hs256:2']),
  ];

  it('keeps what a verified identity found and holds back, counted in lines, what only claimed ones found', () => {
    // act
    const sorted = sortByReview(records, undefined);

    // assess
    expect(sorted).toEqual({
      kept: [records[0], records[2]],
      claimed: 4,
      pending: { records: 4, claimedBy: ['hs256:1', 'hs256:2'] },
      excluded: 0,
    });
  });

  it('keeps the claimed records too once staff included the store', () => {
    // act
    const sorted = sortByReview(records, 'include');

    // assess
    expect(sorted).toEqual({
      kept: records,
      claimed: 4,
      pending: { records: 0, claimedBy: [] },
      excluded: 0,
    });
  });

  it('leaves the claimed records out, counted as excluded, once staff excluded the store', () => {
    // act
    const sorted = sortByReview(records, 'exclude');

    // assess
    expect(sorted).toEqual({
      kept: [records[0], records[2]],
      claimed: 4,
      pending: { records: 0, claimedBy: [] },
      excluded: 4,
    });
  });

  it('counts a JSON-lines record by its lines and any other record as one', () => {
    // assess
    expect(records.map(recordUnits)).toEqual([1, 1, 4, 3]);
  });
});

describe('reviewDecisionFor: a store’s latest decision', () => {
  it('is the last one staff recorded for the store, and none for a store never decided', () => {
    // prepare
    const decision = (store: string, choice: 'include' | 'exclude', attempt: number) => ({
      store,
      decision: choice,
      by: 'desk',
      at: '2026-03-01T00:00:00.000Z',
      attempt,
    });
    const record = {
      reviewDecisions: [
        decision('ad-events', 'exclude', 1),
        decision('clickstream', 'include', 1),
        decision('ad-events', 'include', 2),
      ],
    };

    // act
    const decisions = ['ad-events', 'clickstream', 'conversions'].map((store) =>
      reviewDecisionFor(record, store),
    );

    // assess
    expect(decisions).toEqual(['include', 'include', undefined]);
  });
});
