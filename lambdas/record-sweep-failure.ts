import { sweepStepHandler } from '../lib/aws/deps';
import { recordSweepFailureStep } from '../lib/workflow/sweep-steps';

/**
 * The recordSweepFailure step of the sweep workflow (Task state SWEEP_STATES.recordSweepFailure).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = sweepStepHandler(recordSweepFailureStep);
