import { requestSteps } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';

// Module scope: configuration and data map are read and checked at cold start.
const steps = requestSteps({ hmacKeys: hmacKeysFromSecretsManager });

/** The recordSuppression step of the request workflow (Task state REQUEST_STATES.recordSuppression). */
export const handler = async (event: unknown) => (await steps()).recordSuppression(event);
