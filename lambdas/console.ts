import { CONSOLE_ENV } from '../lib/aws/config';
import { bundledDataMap } from '../lib/aws/deps';
import { AwsBackend } from '../lib/cli/backends/aws';
import { consoleHandler } from '../lib/console/lambda';

/**
 * The deployed console (lib/console/lambda.ts): the same app as `lethe console`, over the stack's
 * own tables, buckets and state machines. It never waits for an execution: API Gateway gives an
 * answer 30 seconds at most, and a request's page shows its progress.
 */
export const handler = consoleHandler({
  mode: process.env[CONSOLE_ENV.mode] === 'act' ? 'act' : 'read',
  backend: () => AwsBackend.fromEnvironment({ env: process.env, dataMap: bundledDataMap(), waitSeconds: 0 }),
  hostedUiUrl: process.env[CONSOLE_ENV.hostedUiUrl] ?? '',
  clientId: process.env[CONSOLE_ENV.clientId] ?? '',
});
