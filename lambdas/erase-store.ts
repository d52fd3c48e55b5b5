import { steps } from '../lib/aws/deps';

/** The eraseStore step of the request workflow (Task state REQUEST_STATES.eraseStore). */
export const handler = async (event: unknown) => (await steps()).eraseStore(event);
