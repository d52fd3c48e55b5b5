import { CONSOLE_ENV } from '../lib/aws/config';
import { authorizeConsoleRequest, cognitoIdTokenVerifier } from '../lib/aws/console-authorizer';

/**
 * API Gateway's authoriser of the deployed console (lib/aws/console-authorizer.ts). The verifier
 * is made at cold start; it fetches and caches the user pool's keys on first use.
 */
const verify = cognitoIdTokenVerifier(
  process.env[CONSOLE_ENV.userPoolId] ?? '',
  process.env[CONSOLE_ENV.clientId] ?? '',
);

export const handler = (event: unknown) => authorizeConsoleRequest(verify, event);
