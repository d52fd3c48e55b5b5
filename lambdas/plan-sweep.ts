import { sweepSteps } from '../lib/aws/deps';

/** The planSweep step of the sweep workflow (Task state SWEEP_STATES.planSweep). */
export const handler = async (event: unknown) => (await sweepSteps()).planSweep(event);
