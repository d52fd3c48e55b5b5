import { steps } from '../lib/aws/deps';

/** The confirm step of the request workflow (Task state REQUEST_STATES.confirm). */
export const handler = async (event: unknown) => (await steps()).confirm(event);
