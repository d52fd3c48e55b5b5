import { steps } from '../lib/aws/deps';

/** The resolve step of the request workflow (Task state REQUEST_STATES.resolve). */
export const handler = async (event: unknown) => (await steps()).resolve(event);
