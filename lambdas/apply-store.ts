import { requestStepHandler } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { applyStoreStep } from '../lib/workflow/request-steps';

/**
 * The applyStore step of the request workflow (Task state REQUEST_STATES.applyStore): a
 * rectification's corrections or a restriction's marks in one store (restriction records of
 * JSON-lines lines are keyed by the subject's keyed hashes, hence the HMAC keys). Configuration
 * and data map are read and checked at cold start (module scope); the bundle carries this step's
 * code only.
 */
export const handler = requestStepHandler(applyStoreStep, { hmacKeys: hmacKeysFromSecretsManager });
