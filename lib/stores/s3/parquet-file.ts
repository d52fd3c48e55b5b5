import * as zlib from 'node:zlib';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { decompress as decompressZstd } from 'fzstd';
import {
  type AsyncBuffer,
  type CompressionCodec,
  type FileMetaData,
  type ParquetParsers,
  parquetMetadataAsync,
  parquetReadObjects,
} from 'hyparquet';
import { decompressLz4, decompressLz4Raw } from 'hyparquet-compressors/src/lz4.js';
import { ObjectChangedError } from './errors';
import { destroyBody, getObjectOrUndefined } from './objects';

/**
 * Parquet objects in S3 as hyparquet reads them: a whole small object from one GetObject, a large
 * one by ranged GetObjects pinned to the ETag first read (footer, then one row group's column chunks
 * at a time, so memory follows the row group, not the object). hyparquet (pure JavaScript, no
 * native code) runs the same in Lambda as locally.
 */

/** Objects up to this size are read whole with one GetObject; larger ones by ranges. */
export const DEFAULT_WHOLE_READ_LIMIT = 16 * 1024 * 1024;

/** One record (row) of a Parquet object: struct columns are nested objects, lists arrays. */
export type ParquetRow = Record<string, unknown>;

/**
 * A Parquet file cannot be read: not Parquet at all, or cut short. Locate counts such objects as
 * malformed and reads on; a rewrite refuses them.
 */
export class ParquetReadError extends Error {
  override readonly name = 'ParquetReadError';
}

/** Decompressors beyond hyparquet's built-in Snappy: node's zlib where it has the codec, else pure JS. */
export const DECOMPRESSORS = {
  GZIP: (input: Uint8Array) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ZSTD: (input: Uint8Array) => decompressZstd(input),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};

type Compressor = (input: Uint8Array) => Uint8Array;

/** zstd is in node's zlib from Node 22.15 (the Lambda runtime's Node 22 has it); absent before. */
const zstdCompressSync = (zlib as { zstdCompressSync?: (input: Uint8Array) => Buffer }).zstdCompressSync;

/**
 * The codecs a rewrite can write, each with its compressor (Snappy is hyparquet-writer's own).
 * Codecs missing here (LZ4, LZ4_RAW, LZO; ZSTD before Node 22.15) are refused, never replaced.
 */
export const WRITE_COMPRESSORS: Partial<Record<CompressionCodec, Compressor>> = {
  GZIP: (input) => new Uint8Array(zlib.gzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliCompressSync(input)),
  ...(zstdCompressSync ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstdCompressSync(input)) } : {}),
};

/** Whether a rewrite can write a codec: uncompressed, Snappy, or one of WRITE_COMPRESSORS. */
export function canWriteCodec(codec: CompressionCodec): boolean {
  return codec === 'UNCOMPRESSED' || codec === 'SNAPPY' || WRITE_COMPRESSORS[codec] !== undefined;
}

/**
 * Parsers that keep values as stored (timestamps as integers of their unit, dates as days), so a
 * rewrite writes back exactly what it read instead of going through Date (milliseconds only).
 */
export const RAW_PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (value: bigint) => value,
  timestampFromMicroseconds: (value: bigint) => value,
  timestampFromNanoseconds: (value: bigint) => value,
  dateFromDays: (value: number) => value,
};

/** A Parquet object opened for reading at one version. */
export interface ParquetObject {
  etag: string;
  size: number;
  metadata: FileMetaData;
  file: AsyncBuffer;
  /** The GetObject response (its body consumed or closed): the headers a rewrite keeps. */
  response: GetObjectCommandOutput;
}

/**
 * Opens a Parquet object: reads it whole when it is at most `wholeReadLimit` bytes, otherwise
 * closes the first read and serves hyparquet's reads by ranged GetObjects conditional on the ETag
 * (checked on each response too, since s3rver ignores If-Match). Undefined when it has gone.
 * @throws ParquetReadError when the bytes are not a Parquet file
 * @throws ObjectChangedError when a ranged read finds another version
 */
export async function openParquetObject(
  s3: S3Client,
  bucket: string,
  key: string,
  wholeReadLimit = DEFAULT_WHOLE_READ_LIMIT,
): Promise<ParquetObject | undefined> {
  const response = await getObjectOrUndefined(s3, bucket, key);
  if (!response) return undefined;
  const etag = response.ETag;
  if (etag === undefined) {
    if (response.Body) destroyBody(response.Body);
    throw new TypeError('GetObject returned no ETag: a Parquet object cannot be read consistently');
  }
  let file: AsyncBuffer;
  let size: number;
  if (response.ContentLength !== undefined && response.ContentLength > wholeReadLimit) {
    if (response.Body) destroyBody(response.Body);
    size = response.ContentLength;
    file = rangedFile(s3, bucket, key, etag, size);
  } else {
    const bytes = response.Body ? await response.Body.transformToByteArray() : new Uint8Array();
    size = bytes.byteLength;
    file = {
      byteLength: size,
      slice: (start, end) => bytes.slice(start, end).buffer,
    };
  }
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    if (error instanceof ObjectChangedError) throw error;
    throw new ParquetReadError('the object is not a readable Parquet file', { cause: error });
  }
  return { etag, size, metadata, file, response };
}

/** An AsyncBuffer over ranged GetObjects of one object version. */
function rangedFile(s3: S3Client, bucket: string, key: string, etag: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start, end) {
      const last = (end ?? size) - 1;
      const part = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${last}`, IfMatch: etag }),
      );
      if (part.ETag !== etag) {
        if (part.Body) destroyBody(part.Body);
        throw new ObjectChangedError('the object changed while its row groups were read');
      }
      const bytes = part.Body ? await part.Body.transformToByteArray() : new Uint8Array();
      return bytes.slice().buffer;
    },
  };
}

/** A row group's rows and the index of its first row in the object. */
export interface RowGroupRows {
  firstRow: number;
  rows: ParquetRow[];
}

/**
 * The object's rows, one row group at a time (only that group's column chunks in memory).
 * @param options.columns top-level columns to read (all when omitted); the others are absent from the rows
 * @param options.raw keep values as stored (RAW_PARSERS, byte arrays as bytes): what a rewrite writes back
 * @throws ParquetReadError when a row group cannot be decoded
 */
export async function* rowGroupsOf(
  object: ParquetObject,
  options: { columns?: string[]; raw?: boolean } = {},
): AsyncGenerator<RowGroupRows> {
  let firstRow = 0;
  for (const group of object.metadata.row_groups) {
    const rowEnd = firstRow + Number(group.num_rows);
    let rows: ParquetRow[];
    try {
      rows = await parquetReadObjects({
        file: object.file,
        metadata: object.metadata,
        rowStart: firstRow,
        rowEnd,
        compressors: DECOMPRESSORS,
        ...(options.columns ? { columns: options.columns } : {}),
        ...(options.raw ? { parsers: RAW_PARSERS, utf8: false } : {}),
      });
    } catch (error) {
      if (error instanceof ObjectChangedError) throw error;
      throw new ParquetReadError('a row group of the object cannot be decoded', { cause: error });
    }
    yield { firstRow, rows };
    firstRow = rowEnd;
  }
}

/** The top-level columns holding the given fields (`user.email` is in column `user`), each once. */
export function topLevelColumns(fields: Iterable<string>): string[] {
  return [...new Set([...fields].map((field) => field.split('.')[0] ?? field))];
}

/**
 * A row as JSON for an export: 64-bit integers as numbers when exact (as strings otherwise), bytes
 * as base64, dates as ISO strings.
 */
export function rowAsJson(value: unknown): unknown {
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(rowAsJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [field, inner] of Object.entries(value))
      if (inner !== undefined) out[field] = rowAsJson(inner);
    return out;
  }
  return value;
}
