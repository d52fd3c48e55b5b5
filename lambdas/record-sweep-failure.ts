import { sweepSteps } from '../lib/aws/deps';

/** The recordSweepFailure step of the sweep workflow (Task state SWEEP_STATES.recordSweepFailure). */
export const handler = async (event: unknown) => (await sweepSteps()).recordSweepFailure(event);
