import { requestStepHandler } from '../lib/aws/deps';
import { LETHE_METRICS, requestsWithStatus } from '../lib/aws/observability';
import { recordFailureStep } from '../lib/workflow/request-steps';

/**
 * The recordFailure step of the request workflow (Task state REQUEST_STATES.recordFailure).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(recordFailureStep, {
  metrics: requestsWithStatus('failed', LETHE_METRICS.requestsFailed),
});
