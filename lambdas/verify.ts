import { requestStepHandler } from '../lib/aws/deps';
import { sfnExecutions } from '../lib/aws/executions';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { verifyStep } from '../lib/workflow/request-steps';

/**
 * The verify step of the request workflow (Task state REQUEST_STATES.verify).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(verifyStep, {
  hmacKeys: hmacKeysFromSecretsManager,
  executions: sfnExecutions,
});
