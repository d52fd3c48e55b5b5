import { steps } from '../lib/aws/deps';

/** The recordReview step of the request workflow (Task state REQUEST_STATES.recordReview). */
export const handler = async (event: unknown) => (await steps()).recordReview(event);
