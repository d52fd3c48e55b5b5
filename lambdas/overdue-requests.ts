import { containerLetheDeps } from '../lib/aws/deps';
import { OPEN_REQUESTS_METRIC, OVERDUE_REQUESTS_METRIC } from '../lib/aws/metrics';
import { publishMetrics } from '../lib/aws/observability';
import { countOverdueRequests } from '../lib/rights/overdue';

// Module scope: configuration and data map are read and checked at cold start.
const container = containerLetheDeps();

/** Hourly: publishes how many requests are open and how many are past their due date (counts only). */
export const handler = async () => {
  const { deps } = await container();
  const { open, overdue } = await countOverdueRequests(deps, deps.now());
  publishMetrics(
    [
      { metric: OVERDUE_REQUESTS_METRIC, value: overdue },
      { metric: OPEN_REQUESTS_METRIC, value: open },
    ],
    deps.resources.requestsTable,
  );
  return { open, overdue };
};
