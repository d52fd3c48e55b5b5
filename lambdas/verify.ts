import { requestSteps } from '../lib/aws/deps';
import { sfnExecutions } from '../lib/aws/executions';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';

// Module scope: configuration and data map are read and checked at cold start.
const steps = requestSteps({ hmacKeys: hmacKeysFromSecretsManager, executions: sfnExecutions });

/** The verify step of the request workflow (Task state REQUEST_STATES.verify). */
export const handler = async (event: unknown) => (await steps()).verify(event);
