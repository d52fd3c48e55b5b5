import { requestStepHandler } from '../lib/aws/deps';
import { recordReviewStep } from '../lib/workflow/request-steps';

/**
 * The recordReview step of the request workflow (Task state REQUEST_STATES.recordReview).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(recordReviewStep);
