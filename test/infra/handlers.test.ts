import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LetheFunctionName, OWN_ACCESS } from '../../lib/infra/lethe-grants';
import { FUNCTION_SETTINGS } from '../../lib/infra/workflow-function';

/**
 * A handler passes the HMAC keys loader exactly when the stack gives its function the secret:
 * one without it would fail every invocation; one with it would carry the Secrets Manager client
 * for nothing.
 */
const source = (name: LetheFunctionName) =>
  readFileSync(resolve(__dirname, '../..', FUNCTION_SETTINGS[name].entry), 'utf8');

it.each(Object.keys(FUNCTION_SETTINGS) as LetheFunctionName[])(
  '%s loads the HMAC keys only if the stack grants them',
  (name) => {
    expect(source(name).includes('hmacKeysFromSecretsManager')).toBe(OWN_ACCESS[name].hmacKeys);
  },
);
