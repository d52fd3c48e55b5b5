import { describePath, describeRequest, storesTable } from '../../../lib/cli/format';
import type { RequestRecord } from '../../../lib/rights/request';
import { summariseRequest } from '../../../lib/rights/summary';

const EMAIL_HASH = `hs256:${'1'.repeat(64)}`;
const PHONE_HASH = `hs256:${'2'.repeat(64)}`;
const path = {
  from: { identity: 'email', hash: EMAIL_HASH },
  steps: [
    {
      store: 'inquiries',
      attribute: 'phone',
      identity: 'phone',
      hash: PHONE_HASH,
      trust: 'claimed' as const,
    },
  ],
};

function waitingRecord(): RequestRecord {
  return {
    requestId: 'req-7',
    type: 'erasure',
    jurisdiction: 'gdpr',
    channel: 'api',
    status: 'pending-review',
    receivedAt: '2026-03-01T12:00:00.000Z',
    dueAt: '2026-04-01T12:00:00.000Z',
    subjectHashes: [],
    statusHistory: [],
    review: {
      attempt: 1,
      requestedAt: '2026-03-01T12:01:00.000Z',
      stores: [
        { store: 'call-recordings', records: 2, paths: [path] },
        { store: 'ad-events', records: 7, paths: [] },
      ],
    },
  };
}

describe('how the CLI shows a review', () => {
  it('writes a link path as types, stores and shortened keyed hashes', () => {
    // act
    const text = describePath(path);

    // assess
    expect(text).toBe('email hs256:111111111111… → inquiries.phone (claimed) → phone hs256:222222222222…');
  });

  it('lists the waiting stores with counts and paths, and the command that decides them', () => {
    // act
    const text = describeRequest(summariseRequest(waitingRecord()));

    // assess
    expect(text).toMatch(/call-recordings\s+2\s+email hs256:1{12}… → inquiries\.phone \(claimed\)/);
    expect(text).toMatch(/ad-events\s+7\s+\(path no longer known\)/);
    expect(text).toContain('lethe request review req-7 --include STORE... --exclude STORE... --by NAME');
  });

  it('shows one line per review once decided, and the stores excluded by review', () => {
    // prepare
    const decided: RequestRecord = {
      ...waitingRecord(),
      status: 'completed',
      reviewDecisions: [
        {
          store: 'call-recordings',
          decision: 'include',
          by: 'J. Doe',
          at: '2026-03-02T09:00:00.000Z',
          attempt: 1,
        },
        { store: 'ad-events', decision: 'exclude', by: 'J. Doe', at: '2026-03-02T09:00:00.000Z', attempt: 1 },
      ],
    };
    const stores = [
      { store: 'call-recordings', located: 2, exported: 0, erased: 2, masked: 0, exempted: 0, remaining: 0 },
      {
        store: 'ad-events',
        located: 0,
        exported: 0,
        erased: 0,
        masked: 0,
        exempted: 0,
        remaining: 0,
        excludedByReview: 7,
      },
    ];

    // act
    const text = describeRequest(summariseRequest(decided));
    const table = storesTable(stores, 'erasure');

    // assess
    expect(text).not.toContain('waiting for review');
    expect(text).toContain(
      'review of attempt 1 by J. Doe at 2026-03-02T09:00:00.000Z: included call-recordings; excluded ad-events',
    );
    expect(table.split('\n')[0]).toMatch(/remaining\s+excluded by review$/);
    expect(table).toMatch(/ad-events(\s+0){5}\s+7$/);
  });
});
