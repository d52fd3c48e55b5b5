import { containerLetheDeps } from '../lib/aws/deps';
import { endedExecutionFromEvent } from '../lib/aws/execution-events';
import { LETHE_METRICS, publishMetrics } from '../lib/aws/observability';
import { failEndedExecution } from '../lib/rights/lifecycle';

// Module scope: configuration and data map are read and checked at cold start.
const container = containerLetheDeps();

/**
 * An execution of the request workflow ended failed, timed out or aborted (EventBridge): marks
 * its request failed if nothing recorded that yet (and counts it failed then, once). Returns the
 * request id and status only.
 */
export const handler = async (event: unknown) => {
  const { deps } = await container();
  const result = await failEndedExecution(deps, endedExecutionFromEvent(event));
  if (result.changed && result.status === 'failed') {
    publishMetrics([{ metric: LETHE_METRICS.requestsFailed, value: 1 }], deps.resources.requestsTable);
  }
  return result;
};
