import { requestStepHandler } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { recordSuppressionStep } from '../lib/workflow/request-steps';

/**
 * The recordSuppression step of the request workflow (Task state REQUEST_STATES.recordSuppression).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(recordSuppressionStep, { hmacKeys: hmacKeysFromSecretsManager });
