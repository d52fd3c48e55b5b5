import { steps } from '../lib/aws/deps';

/** The recordOutcome step of the request workflow (Task state REQUEST_STATES.recordOutcome). */
export const handler = async (event: unknown) => (await steps()).recordOutcome(event);
