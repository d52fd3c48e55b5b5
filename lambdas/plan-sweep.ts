import { sweepStepHandler } from '../lib/aws/deps';
import { planSweepStep } from '../lib/workflow/sweep-steps';

/**
 * The planSweep step of the sweep workflow (Task state SWEEP_STATES.planSweep).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = sweepStepHandler(planSweepStep);
