import { sweepSteps } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';

// Module scope: configuration and data map are read and checked at cold start.
const steps = sweepSteps({ hmacKeys: hmacKeysFromSecretsManager });

/** The sweepPage step of the sweep workflow (Task state SWEEP_STATES.sweepPage). */
export const handler = async (event: unknown) => (await steps()).sweepPage(event);
