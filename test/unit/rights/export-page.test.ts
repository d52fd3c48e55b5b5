import { durationInWords, renderIndexHtml } from '../../../lib/rights/export-page';
import type { RequestRecord } from '../../../lib/rights/request';
import { adtechDataMap } from '../../helpers/stacks';

describe('the export page', () => {
  it('says durations in words', () => {
    expect(['P3Y', 'P13M', 'P1Y6M', 'P1W', 'P30D', 'PT12H', 'P1Y2M3DT4H'].map(durationInWords)).toEqual([
      '3 years',
      '13 months',
      '1 year and 6 months',
      '1 week',
      '30 days',
      '12 hours',
      '1 year, 2 months, 3 days and 4 hours',
    ]);
  });

  it('escapes every value from a store, the data map and the request', () => {
    // prepare
    const dataMap = adtechDataMap();
    const store = {
      ...dataMap.stores[0]!,
      description: '<b>inq</b>',
      fields: { '<i>': '<script>x</script>' },
    };
    const record = {
      requestId: 'req-00000001',
      type: 'access',
      jurisdiction: 'gdpr',
      receivedAt: '2027-01-01T00:00:00Z',
    } as RequestRecord;

    // act
    const html = renderIndexHtml(
      { ...dataMap, organisation: { name: 'x', contact: '"><img src=x onerror=alert(1)>' } },
      record,
      '2027-01-02T00:00:00Z',
      [
        {
          store,
          exported: 1,
          restricted: 0,
          files: [],
          records: [{ '<i>': '<img src=y>', message: '</td><script>alert(2)</script>' }],
        },
      ],
      '<controller>',
    );

    // assess
    expect(html).not.toMatch(/<script>|<img|<b>|<i>|<controller>/);
    expect(html).toContain('&#60;script&#62;alert(2)&#60;/script&#62;');
  });
});
