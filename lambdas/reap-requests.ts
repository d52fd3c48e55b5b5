import { sweepSteps } from '../lib/aws/deps';

/** The reapRequests step of the sweep workflow (Task state SWEEP_STATES.reapRequests). */
export const handler = async (event: unknown) => (await sweepSteps()).reapRequests(event);
