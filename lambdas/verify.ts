import { steps } from '../lib/aws/deps';

/** The verify step of the request workflow (Task state REQUEST_STATES.verify). */
export const handler = async (event: unknown) => (await steps()).verify(event);
