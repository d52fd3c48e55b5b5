import { sweepSteps } from '../lib/aws/deps';

// Module scope: configuration and data map are read and checked at cold start.
const steps = sweepSteps();

/** The planSweep step of the sweep workflow (Task state SWEEP_STATES.planSweep). */
export const handler = async (event: unknown) => (await steps()).planSweep(event);
