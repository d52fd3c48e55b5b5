/**
 * The S3 adapter: per-subject objects found under a key prefix (deleted on erasure) and JSON-lines
 * objects shared by many subjects (rewritten without the subject's lines on erasure).
 *
 * Object keys are personal data here (`calls/+4930123456/…`, `applications/ann@x.io/…`), so no
 * key, line or value ever goes into an error message; keys travel only in `failedKeys` fields and
 * in the located records, which are written to the manifests bucket, never to logs or state.
 */

export {
  type BatchOutcome,
  DELETE_BATCH_SIZE,
  deleteBatch,
  eraseInS3Store,
  type S3EraseOptions,
} from './erase';
export { RecordOutsideStoreError, UnsafePrefixValueError, VersionedBucketError } from './errors';
export { lineIdentities, locateInS3Store, type S3StoreLocation } from './locate';
export { assertUnversionedBucket } from './objects';
export { identitiesInKey } from './prefixes';
export { type ExportedS3Object, readS3Records } from './read';
