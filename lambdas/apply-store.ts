import { requestSteps } from '../lib/aws/deps';

// Module scope: configuration and data map are read and checked at cold start.
const steps = requestSteps();

/** The applyStore step of the request workflow (Task state REQUEST_STATES.applyStore). */
export const handler = async (event: unknown) => (await steps()).applyStore(event);
