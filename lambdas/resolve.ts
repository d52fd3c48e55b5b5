import { requestStepHandler } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { resolveStep } from '../lib/workflow/request-steps';

/**
 * The resolve step of the request workflow (Task state REQUEST_STATES.resolve).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(resolveStep, { hmacKeys: hmacKeysFromSecretsManager });
