import { requestSteps } from '../lib/aws/deps';
import { eventBridgeNotifier } from '../lib/aws/notifier';

// Module scope: configuration and data map are read and checked at cold start.
// The subject is told of the end through EventBridge (request id, status, export link).
const steps = requestSteps({ notifier: () => eventBridgeNotifier() });

/** The recordOutcome step of the request workflow (Task state REQUEST_STATES.recordOutcome). */
export const handler = async (event: unknown) => (await steps()).recordOutcome(event);
