import { steps } from '../lib/aws/deps';

/** The recordFailure step of the request workflow (Task state REQUEST_STATES.recordFailure). */
export const handler = async (event: unknown) => (await steps()).recordFailure(event);
