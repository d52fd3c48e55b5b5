import { requestStepHandler } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { confirmStep } from '../lib/workflow/request-steps';

/**
 * The confirm step of the request workflow (Task state REQUEST_STATES.confirm).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(confirmStep, { hmacKeys: hmacKeysFromSecretsManager });
