import { sweepStepHandler } from '../lib/aws/deps';
import { reapRequestsStep } from '../lib/workflow/sweep-steps';

/**
 * The reapRequests step of the sweep workflow (Task state SWEEP_STATES.reapRequests).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = sweepStepHandler(reapRequestsStep);
