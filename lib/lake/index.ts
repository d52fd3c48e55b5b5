/**
 * The identity index of shared-object stores: keyed hashes of the identities each object holds,
 * so a request reads the objects that hold its subject (and those not indexed yet), not the lake.
 */

export type { FilterTally } from './follow';
export {
  CONFIRM_MARGIN_MS,
  changedSinceFilter,
  followRewrites,
  forgetDeleted,
  isIndexed,
  sharedObjectFilter,
  subjectIndexHashes,
} from './follow';
export {
  buildIndex,
  DEFAULT_INDEX_BATCH_SIZE,
  finishIndexBuild,
  forgetObject,
  type IndexBatchResult,
  IndexBuildError,
  type IndexBuildResult,
  type IndexProgress,
  indexBatch,
  indexObject,
  type ListedBatchObject,
  WATERMARK_MARGIN_MS,
} from './indexer';
export { type IndexStatus, indexedStores, indexStatus } from './status';
export {
  IdentityIndexUnavailableError,
  type IndexDeps,
  identityIndexTableInput,
  indexHash,
} from './table';
