import * as zlib from 'node:zlib';

/**
 * Errors of the S3 adapter. Object keys are personal data (`calls/+4930123456/…`), so no message
 * holds a key, a line or a value: only the store, the identity type or a record's position.
 */

/**
 * A subject's identity value cannot be used as a key prefix segment: it contains "/" (or is "." or
 * ".."), so substituting it into the prefix template could reach into another subject's folder.
 * The message names the store and identity type, never the value.
 */
export class UnsafePrefixValueError extends Error {
  override readonly name = 'UnsafePrefixValueError';
  constructor(
    readonly storeId: string,
    readonly identityType: string,
  ) {
    super(
      `store ${storeId}: a ${identityType} identity contains "/" or is a relative path segment, so it cannot be ` +
        "substituted into the key prefix without escaping the subject's folder; locate this subject by hand",
    );
  }
}

/**
 * A located record handed to read or erase does not belong to this store: wrong kind, a key outside
 * every locate prefix of the store, or a match on a field the store does not locate by. Usually a
 * manifest paired with the wrong store. Nothing is touched when it is raised.
 */
export class RecordOutsideStoreError extends Error {
  override readonly name = 'RecordOutsideStoreError';
  constructor(
    readonly storeId: string,
    /** Position of the offending record in the list given; the key itself is withheld. */
    readonly recordIndex: number,
    reason: string,
  ) {
    super(`store ${storeId}: record #${recordIndex} does not belong to this store: ${reason}`);
  }
}

/**
 * Earlier versions of an object could not be deleted after a rewrite, for a reason other than S3
 * Object Lock (which is reported, not failed): the rewrite counts as failed, so the erasure is
 * incomplete rather than reported done while the subject's lines live on in an older version.
 */
export class VersionDeleteError extends Error {
  override readonly name = 'VersionDeleteError';
}

/** Raised inside a rewrite when the object no longer has the ETag it was read with; handled like a 412. */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
}

/**
 * A shared object cannot be rewritten without changing more than the subject's records (a
 * compression codec lethe cannot write, a column type it cannot write back exactly): nothing is
 * written, and the erasure fails with this error once the store's other records are erased.
 * The message names the store and the reason, never a key.
 */
export class RewriteRefusedError extends Error {
  override readonly name: string = 'RewriteRefusedError';
}

/** Whether this Node can write ZSTD (zlib.zstdCompressSync, Node 22.15 and later). */
const zstdWritable = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

/** A Parquet object uses a compression codec lethe cannot write: rewriting it would change the codec. */
export class ParquetCodecUnsupportedError extends RewriteRefusedError {
  override readonly name = 'ParquetCodecUnsupportedError';
  constructor(storeId: string, codec: string) {
    super(
      `store ${storeId}: a Parquet object to rewrite is compressed with ${codec}, which lethe cannot write ` +
        `here (it writes UNCOMPRESSED, SNAPPY, GZIP, BROTLI${zstdWritable ? ', ZSTD' : ' and, on Node 22.15 or later, ZSTD'}); ` +
        'nothing was written: rewrite the object with a supported codec, or erase the rows by hand',
    );
  }
}

/** A Parquet object has a column type whose values lethe cannot write back exactly. */
export class ParquetSchemaUnsupportedError extends RewriteRefusedError {
  override readonly name = 'ParquetSchemaUnsupportedError';
  constructor(storeId: string, reason: string) {
    super(
      `store ${storeId}: a Parquet object to rewrite has ${reason}, whose values lethe cannot write back exactly; ` +
        'nothing was written: erase the rows by hand',
    );
  }
}
