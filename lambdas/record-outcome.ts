import { requestStepHandler } from '../lib/aws/deps';
import { eventBridgeNotifier } from '../lib/aws/notifier';
import { LETHE_METRICS, requestsWithStatus } from '../lib/aws/observability';
import { recordOutcomeStep } from '../lib/workflow/request-steps';

/**
 * The recordOutcome step of the request workflow (Task state REQUEST_STATES.recordOutcome).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only. The subject is told of the end through EventBridge (request id,
 * status, export link).
 */
export const handler = requestStepHandler(recordOutcomeStep, {
  notifier: () => eventBridgeNotifier(),
  metrics: requestsWithStatus('completed', LETHE_METRICS.requestsCompleted),
});
