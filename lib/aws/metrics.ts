/**
 * The names of lethe's own metrics that the stack's alarms watch. Functions publish them in
 * CloudWatch's embedded metric format (publishMetrics in lib/aws/observability.ts): a JSON log
 * line that CloudWatch Logs turns into metrics, with no client and no cloudwatch:PutMetricData.
 */

/** The namespace of lethe's own metrics. */
export const METRICS_NAMESPACE = 'Lethe';
/** The dimension that tells two deployments apart: the name of their requests table. */
export const REQUESTS_TABLE_DIMENSION = 'RequestsTable';
/** Open requests past their due date (published by the overdue-requests function). */
export const OVERDUE_REQUESTS_METRIC = 'OverdueRequests';
/** Requests not over yet. */
export const OPEN_REQUESTS_METRIC = 'OpenRequests';
