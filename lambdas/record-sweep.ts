import { sweepStepHandler } from '../lib/aws/deps';
import { recordSweepStep } from '../lib/workflow/sweep-steps';

/**
 * The recordSweep step of the sweep workflow (Task state SWEEP_STATES.recordSweep).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = sweepStepHandler(recordSweepStep);
