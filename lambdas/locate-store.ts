import { requestStepHandler } from '../lib/aws/deps';
import { locatedMetrics } from '../lib/aws/observability';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { locateStoreStep } from '../lib/workflow/request-steps';

/**
 * The locateStore step of the request workflow (Task state REQUEST_STATES.locateStore).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(locateStoreStep, {
  hmacKeys: hmacKeysFromSecretsManager,
  metrics: locatedMetrics,
});
