import { sweepStepHandler } from '../lib/aws/deps';
import { purgedMetrics } from '../lib/aws/observability';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { sweepPageStep } from '../lib/workflow/sweep-steps';

/**
 * The sweepPage step of the sweep workflow (Task state SWEEP_STATES.sweepPage).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = sweepStepHandler(sweepPageStep, {
  hmacKeys: hmacKeysFromSecretsManager,
  metrics: purgedMetrics,
});
