import { steps } from '../lib/aws/deps';

/** The exportPackage step of the request workflow (Task state REQUEST_STATES.exportPackage). */
export const handler = async (event: unknown) => (await steps()).exportPackage(event);
