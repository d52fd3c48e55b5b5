import { containerLetheDeps } from '../lib/aws/deps';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { answerSuppressionQuestion } from '../lib/rights/suppression-question';

// Module scope: configuration and data map are read and checked at cold start.
const deps = containerLetheDeps({ hmacKeys: hmacKeysFromSecretsManager });

/**
 * Answers downstream systems: `{ subject: [{ type, value }], scope? }` in, `{ suppressed, scope,
 * matches }` out (scopes, times and request ids: never the identities). Reads only.
 */
export const handler = async (event: unknown) => answerSuppressionQuestion((await deps()).deps, event);
