import { sweepSteps } from '../lib/aws/deps';

/** The sweepPage step of the sweep workflow (Task state SWEEP_STATES.sweepPage). */
export const handler = async (event: unknown) => (await sweepSteps()).sweepPage(event);
