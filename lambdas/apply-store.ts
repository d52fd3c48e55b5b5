import { requestStepHandler } from '../lib/aws/deps';
import { applyStoreStep } from '../lib/workflow/request-steps';

/**
 * The applyStore step of the request workflow (Task state REQUEST_STATES.applyStore): a
 * rectification's corrections or a restriction's marks in one store. Configuration and data map
 * are read and checked at cold start (module scope); the bundle carries this step's code only.
 */
export const handler = requestStepHandler(applyStoreStep);
