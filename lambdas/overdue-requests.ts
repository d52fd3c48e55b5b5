import { containerLetheDeps } from '../lib/aws/deps';
import {
  embeddedMetricLine,
  OPEN_REQUESTS_METRIC,
  OVERDUE_REQUESTS_METRIC,
  REQUESTS_TABLE_DIMENSION,
} from '../lib/aws/metrics';
import { countOverdueRequests } from '../lib/rights/overdue';

// Module scope: configuration and data map are read and checked at cold start.
const container = containerLetheDeps();

/** Hourly: publishes how many requests are open and how many are past their due date (counts only). */
export const handler = async () => {
  const { deps } = await container();
  const now = deps.now();
  const { open, overdue } = await countOverdueRequests(deps, now);
  // The embedded metric format: CloudWatch Logs reads the metrics from this line on stdout.
  process.stdout.write(
    `${embeddedMetricLine(
      { [OVERDUE_REQUESTS_METRIC]: overdue, [OPEN_REQUESTS_METRIC]: open },
      { [REQUESTS_TABLE_DIMENSION]: deps.resources.requestsTable },
      now,
    )}\n`,
  );
  return { open, overdue };
};
