import { requestStepHandler } from '../lib/aws/deps';
import { LETHE_METRICS, requestsWithStatus } from '../lib/aws/observability';
import { recordOutcomeStep } from '../lib/workflow/request-steps';

/**
 * The recordOutcome step of the request workflow (Task state REQUEST_STATES.recordOutcome).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(recordOutcomeStep, {
  metrics: requestsWithStatus('completed', LETHE_METRICS.requestsCompleted),
});
