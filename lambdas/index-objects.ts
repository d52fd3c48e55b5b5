import { containerLetheDeps } from '../lib/aws/deps';
import { indexQueuedChanges } from '../lib/aws/index-events';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';

// Module scope: configuration and data map are read and checked at cold start.
const container = containerLetheDeps({ hmacKeys: hmacKeysFromSecretsManager });

/**
 * The identity indexer: S3 event notifications of the indexed stores' buckets, through the
 * indexer queue (SQS, ReportBatchItemFailures), keep the index current.
 */
export const handler = async (event: unknown) => {
  const { deps } = await container();
  return indexQueuedChanges(deps, event);
};
