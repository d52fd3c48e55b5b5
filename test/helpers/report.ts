import type { ReportRequestInput, ReportSweepInput } from '../../lib/audit/report';

/**
 * A seeded set of requests with known dates and outcomes, for the period report's tests: answered
 * in 10, 50 (5 days late), 2, 4 and 1 days; three denied for two reasons; one open past its due
 * date (overdue), one open not yet due, and one received before the period.
 */
export const REPORT_NOW = new Date('2026-04-01T00:00:00.000Z');
const request = (
  id: string,
  type: string,
  jurisdiction: string,
  receivedAt: string,
  dueAt: string,
  status: string,
  respondedAt: string | null,
  reason?: string,
): ReportRequestInput => ({
  requestId: id,
  type,
  jurisdiction,
  receivedAt,
  dueAt,
  status,
  respondedAt,
  ...(reason ? { reason } : {}),
});

export const REPORT_REQUESTS: ReportRequestInput[] = [
  // answered in 10 days
  request(
    'req-a0000001',
    'erasure',
    'ccpa',
    '2026-01-05T00:00:00.000Z',
    '2026-02-19T00:00:00.000Z',
    'completed',
    '2026-01-15T00:00:00.000Z',
  ),
  // answered in 50 days, 5 days late
  request(
    'req-a0000002',
    'access',
    'ccpa',
    '2026-01-06T00:00:00.000Z',
    '2026-02-20T00:00:00.000Z',
    'completed',
    '2026-02-25T00:00:00.000Z',
  ),
  // denied after 2 days
  request(
    'req-a0000003',
    'access',
    'ccpa',
    '2026-01-12T00:00:00.000Z',
    '2026-02-26T00:00:00.000Z',
    'rejected',
    '2026-01-14T00:00:00.000Z',
    'identity not verified',
  ),
  // denied after 4 days, same reason
  request(
    'req-a0000004',
    'erasure',
    'gdpr',
    '2026-01-13T00:00:00.000Z',
    '2026-02-13T00:00:00.000Z',
    'rejected',
    '2026-01-17T00:00:00.000Z',
    'identity not verified',
  ),
  // denied after 1 day, another reason
  request(
    'req-a0000005',
    'erasure',
    'gdpr',
    '2026-02-02T00:00:00.000Z',
    '2026-03-02T00:00:00.000Z',
    'rejected',
    '2026-02-03T00:00:00.000Z',
    'portability requests are not supported yet',
  ),
  // still open, past its due date at NOW: overdue
  request(
    'req-a0000006',
    'erasure',
    'gdpr',
    '2026-02-10T00:00:00.000Z',
    '2026-03-10T00:00:00.000Z',
    'failed',
    null,
  ),
  // still open, not yet due
  request(
    'req-a0000007',
    'access',
    'gdpr',
    '2026-03-20T00:00:00.000Z',
    '2026-04-20T00:00:00.000Z',
    'in-progress',
    null,
  ),
  // outside the period
  request(
    'req-a0000008',
    'access',
    'gdpr',
    '2025-12-31T23:59:59.000Z',
    '2026-01-31T00:00:00.000Z',
    'completed',
    '2026-01-02T00:00:00.000Z',
  ),
];
export const REPORT_SWEEPS: ReportSweepInput[] = [
  { at: '2026-01-10T03:00:00.000Z', storeId: 'ad-events', purged: 120, anonymised: 0 },
  { at: '2026-01-10T03:00:00.000Z', storeId: 'contacts', purged: 0, anonymised: 7 },
  { at: '2026-01-11T03:00:00.000Z', storeId: 'ad-events', purged: 30, anonymised: 0 },
];

/** The period the seeded requests are reported over. */
export const REPORT_PERIOD = { from: '2026-01-01', to: '2026-04-01' } as const;
