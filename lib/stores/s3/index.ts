/**
 * The S3 adapter: per-subject objects found under a key prefix (deleted on erasure) and JSON-lines
 * or Parquet objects shared by many subjects (rewritten without the subject's lines or rows on erasure).
 *
 * Object keys are personal data here (`calls/+4930123456/…`, `applications/ann@x.io/…`), so no
 * key, line or value ever goes into an error message; keys travel only in `failedKeys` fields and
 * in the located records, which are written to the manifests bucket, never to logs or state.
 */

import type { S3Store } from '../../datamap/schema';
import type { StoreAdapter } from '../adapter';
import { eraseInS3Store } from './erase';
import { locateInS3Store } from './locate';
import { exemptObjectLocked } from './lock';
import { readS3Records } from './read';
import { scanS3Values } from './scan-values';
import { openS3Sweep } from './sweep';

/** The S3 adapter, in the signature every store kind shares. */
export const s3Adapter: StoreAdapter<S3Store> = {
  locate: (store, identities, { clients, dataMap }, options) =>
    locateInS3Store(store, identities, clients, dataMap, options),
  read: (store, records, { clients, dataMap }) => readS3Records(store, records, clients, dataMap),
  erase: (store, records, { clients, dataMap }, options) =>
    eraseInS3Store(store, records, clients, options, dataMap),
  sweep: openS3Sweep,
  scanValues: scanS3Values,
  exemptLocked: (store, location, { clients }) => exemptObjectLocked(store, location, clients.s3),
};

export { enableParquetRewrites, eraseInS3Store, type S3EraseOptions } from './erase';
export {
  ParquetCodecUnsupportedError,
  ParquetSchemaUnsupportedError,
  RecordOutsideStoreError,
  RewriteRefusedError,
  UnsafePrefixValueError,
  VersionDeleteError,
} from './errors';
export { locateInS3Store, type S3StoreLocation } from './locate';
export { ParquetReadError } from './parquet-file';
export { type ExportedS3Object, readS3Records } from './read';
export {
  listSharedObjects,
  type SharedObjectIdentities,
  sharedObjectIdentities,
  sharedObjectPrefixes,
} from './shared-objects';
