import { embeddedMetricLine } from '../../../lib/aws/metrics';

describe('embeddedMetricLine', () => {
  it('declares each count as a metric of the Lethe namespace, with the dimensions, in one JSON line', () => {
    // act
    const line = embeddedMetricLine(
      { OverdueRequests: 2, OpenRequests: 5 },
      { RequestsTable: 'lethe-requests' },
      new Date('2026-01-01T00:00:00Z'),
    );

    // assess
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-01-01T00:00:00Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'Lethe',
            Dimensions: [['RequestsTable']],
            Metrics: [
              { Name: 'OverdueRequests', Unit: 'Count' },
              { Name: 'OpenRequests', Unit: 'Count' },
            ],
          },
        ],
      },
      RequestsTable: 'lethe-requests',
      OverdueRequests: 2,
      OpenRequests: 5,
    });
  });
});
