import { requestStepHandler } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { exportPackageStep } from '../lib/workflow/export-step';

/**
 * The exportPackage step of the request workflow (Task state REQUEST_STATES.exportPackage).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(exportPackageStep, { hmacKeys: hmacKeysFromSecretsManager });
