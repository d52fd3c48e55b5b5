import { requestSteps } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';

// Module scope: configuration and data map are read and checked at cold start.
const steps = requestSteps({ hmacKeys: hmacKeysFromSecretsManager });

/** The resolve step of the request workflow (Task state REQUEST_STATES.resolve). */
export const handler = async (event: unknown) => (await steps()).resolve(event);
