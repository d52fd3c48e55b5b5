import { requestStepHandler } from '../lib/aws/deps';
import { erasedMetrics } from '../lib/aws/observability';
import { hmacKeysFromSecretsManager } from '../lib/aws/secrets';
import { enableParquetRewrites } from '../lib/stores/s3/erase';
import { rewriteParquetObject } from '../lib/stores/s3/parquet-rewrite';
import { eraseStoreStep } from '../lib/workflow/request-steps';

// The one function that rewrites Parquet objects carries the Parquet writer (see enableParquetRewrites).
enableParquetRewrites(rewriteParquetObject);

/**
 * The eraseStore step of the request workflow (Task state REQUEST_STATES.eraseStore).
 * Configuration and data map are read and checked at cold start (module scope); the bundle
 * carries this step's code only.
 */
export const handler = requestStepHandler(eraseStoreStep, {
  hmacKeys: hmacKeysFromSecretsManager,
  metrics: erasedMetrics,
});
