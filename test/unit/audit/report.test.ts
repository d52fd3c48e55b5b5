import type { AuditEvent } from '../../../lib/audit/log';
import { buildPeriodReport, reportCsv, reportHtml, sweepsFromEvents } from '../../../lib/audit/report';
import { REPORT_NOW, REPORT_PERIOD, REPORT_REQUESTS, REPORT_SWEEPS } from '../../helpers/report';

/**
 * The period report's figures for a seeded set of requests with known dates and outcomes: exact in
 * JSON, CSV and HTML.
 */
describe('the period report', () => {
  const report = buildPeriodReport({
    ...REPORT_PERIOD,
    now: REPORT_NOW,
    requests: REPORT_REQUESTS,
    sweeps: REPORT_SWEEPS,
  });

  it('has the exact figures: received, completed, denied by reason, overdue, median and mean days', () => {
    // assess: answered days 10, 50, 2, 4, 1 -> median 4, mean 13.4
    expect(report.totals).toEqual({
      received: 7,
      completed: 2,
      denied: 3,
      deniedByReason: { 'identity not verified': 2, 'portability requests are not supported yet': 1 },
      overdue: 2,
      open: 2,
      medianDaysToRespond: 4,
      meanDaysToRespond: 13.4,
    });
    expect(report.byType.access).toMatchObject({
      received: 3,
      completed: 1,
      denied: 1,
      overdue: 1,
      medianDaysToRespond: 26,
    });
    expect(report.byType.erasure).toMatchObject({
      received: 4,
      completed: 1,
      denied: 2,
      overdue: 1,
      meanDaysToRespond: 5,
    });
    expect(report.byJurisdiction.ccpa).toMatchObject({
      received: 3,
      medianDaysToRespond: 10,
      meanDaysToRespond: 20.7,
    });
    expect(report.byJurisdiction.gdpr).toMatchObject({ received: 4, denied: 2, overdue: 1, open: 2 });
    expect(report.requests.map((row) => [row.requestId, row.daysTaken, row.overdue])).toEqual([
      ['req-a0000001', 10, false],
      ['req-a0000002', 50, true],
      ['req-a0000003', 2, false],
      ['req-a0000004', 4, false],
      ['req-a0000005', 1, false],
      ['req-a0000006', null, true],
      ['req-a0000007', null, false],
    ]);
  });

  it('as CSV: a row per request and the same figures', () => {
    // act
    const lines = reportCsv(report).trimEnd().split('\n');

    // assess
    expect(lines[0]).toBe(
      'requestId,type,jurisdiction,received,due,responded,daysTaken,outcome,denialReason,overdue',
    );
    expect(lines[2]).toBe(
      'req-a0000002,access,ccpa,2026-01-06T00:00:00.000Z,2026-02-20T00:00:00.000Z,2026-02-25T00:00:00.000Z,50,completed,,true',
    );
    expect(lines).toContain('all,all,7,2,3,2,2,4,13.4');
    expect(lines).toContain('type,access,3,1,1,1,1,26,26');
    expect(lines).toContain('jurisdiction,ccpa,3,2,1,1,0,10,20.7');
    expect(lines).toContain('identity not verified,2');
    expect(lines.filter((line) => line.startsWith('req-'))).toHaveLength(7);
  });

  it('as HTML: one self-contained page holding the figures and inline SVG charts', () => {
    // act
    const html = reportHtml(report);

    // assess
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<link|src=|href=/i);
    expect(html).toContain(
      '<th scope="row">all</th><td>7</td><td>2</td><td>3</td><td>2</td><td>2</td><td>4</td><td>13.4</td>',
    );
    expect(html).toContain('<li>identity not verified: 2</li>');
    expect(html).toContain('ad-events');
    for (const row of report.requests) expect(html).toContain(`<td>${row.requestId}</td>`);
  });

  it('refuses a period that ends before it starts', () => {
    expect(() =>
      buildPeriodReport({ from: '2026-02-01', to: '2026-01-01', now: REPORT_NOW, requests: [] }),
    ).toThrow('the period must be two dates');
  });

  it('sums what sweeps purged from their page events: a page run twice counts both runs, a dry run nothing', async () => {
    // prepare: sweep s1 pages contacts twice (its first run's function died after its event), and
    // ad-events once; s2 is a dry run; sweep.completed counted only the run it received
    let seq = 0;
    const event = (type: AuditEvent['type'], at: string, details: Record<string, unknown>): AuditEvent => {
      seq += 1;
      return { stream: 'events', seq, at, prevHash: '', hash: '', type, actor: 'lethe:sweep', details };
    };
    const page = (sweepId: string, storeId: string, at: string, purged: number, extra = {}) =>
      event('sweep.page', at, { sweepId, storeId, page: 1, dryRun: false, purged, anonymised: 1, ...extra });
    const events = [
      event('sweep.started', '2026-01-10T03:00:00.000Z', { sweepId: 's1' }),
      page('s1', 'contacts', '2026-01-10T03:00:01.000Z', 10),
      page('s1', 'contacts', '2026-01-10T03:00:02.000Z', 4),
      page('s1', 'ad-events', '2026-01-10T03:00:03.000Z', 7),
      event('sweep.completed', '2026-01-10T03:00:04.000Z', {
        sweepId: 's1',
        dryRun: false,
        stores: [{ storeId: 'contacts', purged: 4, anonymised: 1 }],
      }),
      page('s2', 'contacts', '2026-01-11T03:00:01.000Z', 0, { dryRun: true, wouldPurge: 9 }),
    ];

    // act
    const sweeps = await sweepsFromEvents(events);

    // assess
    expect(sweeps).toEqual([
      { at: '2026-01-10T03:00:01.000Z', storeId: 'contacts', purged: 14, anonymised: 2 },
      { at: '2026-01-10T03:00:03.000Z', storeId: 'ad-events', purged: 7, anonymised: 1 },
    ]);
  });
});
