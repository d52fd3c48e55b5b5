import { sweepSteps } from '../lib/aws/deps';

/** The recordSweep step of the sweep workflow (Task state SWEEP_STATES.recordSweep). */
export const handler = async (event: unknown) => (await sweepSteps()).recordSweep(event);
