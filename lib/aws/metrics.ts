/**
 * Custom metrics in CloudWatch's embedded metric format: one JSON log line that CloudWatch Logs
 * turns into metrics, so a function publishes them with no client and no cloudwatch:PutMetricData.
 */

/** The namespace of lethe's own metrics. */
export const METRICS_NAMESPACE = 'Lethe';
/** The dimension that tells two deployments apart: the name of their requests table. */
export const REQUESTS_TABLE_DIMENSION = 'RequestsTable';
/** Open requests past their due date (published by the overdue-requests function). */
export const OVERDUE_REQUESTS_METRIC = 'OverdueRequests';
/** Requests not over yet. */
export const OPEN_REQUESTS_METRIC = 'OpenRequests';

/**
 * The embedded-metric-format log line for counts, under METRICS_NAMESPACE with the given
 * dimensions. Values must be counts, never identifiers: the line is logged as it is.
 */
export function embeddedMetricLine(
  counts: Record<string, number>,
  dimensions: Record<string, string>,
  at: Date,
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: Object.keys(counts).map((name) => ({ Name: name, Unit: 'Count' })),
        },
      ],
    },
    ...dimensions,
    ...counts,
  });
}
