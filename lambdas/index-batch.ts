import { containerLetheDeps } from '../lib/aws/deps';
import { runIndexBuildStep } from '../lib/aws/index-build';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';

// Module scope: configuration and data map are read and checked at cold start.
const container = containerLetheDeps({ hmacKeys: hmacKeysFromSecretsManager });

/**
 * IndexBatch: one child batch of the IndexBuild state machine's Distributed Map (the listed
 * objects of an indexed store), or the build's finish (its watermark).
 */
export const handler = async (event: unknown) => {
  const { deps } = await container();
  return runIndexBuildStep(deps, event);
};
