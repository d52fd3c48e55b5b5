import { steps } from '../lib/aws/deps';

/** The locateStore step of the request workflow (Task state REQUEST_STATES.locateStore). */
export const handler = async (event: unknown) => (await steps()).locateStore(event);
