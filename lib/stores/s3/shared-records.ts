import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Store } from '../../datamap/schema';
import { parseLine } from './lines';
import { getObjectOrUndefined } from './objects';
import { openParquetObject, ParquetReadError, rowGroupsOf, topLevelColumns } from './parquet-file';
import { isParquetStore } from './prefixes';
import { bodyChunks, splitLines } from './stream';

/**
 * The records of one shared object, whatever its format: the parsed lines of a JSON-lines object,
 * the rows of a Parquet object. Locate, the identity index, sweeps and `lethe check` read them
 * alike; only rewriting differs by format.
 */

/** A record and where it is in its object: the line number (1-based, blank lines counted) or the row number (1-based). */
export interface SharedRecord {
  record: Record<string, unknown>;
  position: number;
}

/** One object's records, opened at one version. */
export interface SharedRecords {
  etag: string;
  records: AsyncIterable<SharedRecord>;
  /**
   * Counted while `records` is read: lines that are not JSON objects or too long to parse, or
   * Parquet objects that cannot be decoded (1). Nothing can be matched in them.
   */
  unreadable: { count: number };
}

/** The marker a located record's export key carries after the object key: line or row. */
export function positionMarker(store: S3Store): string {
  return isParquetStore(store) ? '#R' : '#L';
}

/**
 * Opens a shared object and returns its records, read lazily (bounded memory: one line, or one
 * row group). Undefined when the object has gone.
 * @param options.fields the fields the caller reads (Parquet reads only their top-level columns); all when omitted
 * @param options.throwUnreadable a Parquet object that cannot be decoded throws ParquetReadError
 *   instead of counting as unreadable
 * @throws UnsupportedStoreError for a compressed JSON-lines object (while `records` is read)
 */
export async function openSharedRecords(
  store: S3Store,
  s3: S3Client,
  key: string,
  options: { fields?: Iterable<string>; throwUnreadable?: boolean } = {},
): Promise<SharedRecords | undefined> {
  const unreadable = { count: 0 };
  if (isParquetStore(store)) {
    let object: Awaited<ReturnType<typeof openParquetObject>>;
    try {
      object = await openParquetObject(s3, store.bucket, key);
    } catch (error) {
      if (!(error instanceof ParquetReadError) || options.throwUnreadable) throw error;
      unreadable.count += 1;
      return { etag: '', records: (async function* () {})(), unreadable };
    }
    if (!object) return undefined;
    const opened = object;
    const columns = options.fields ? topLevelColumns(options.fields) : undefined;
    async function* rows(): AsyncGenerator<SharedRecord> {
      try {
        for await (const group of rowGroupsOf(opened, columns ? { columns } : {})) {
          for (const [index, record] of group.rows.entries())
            yield { record, position: group.firstRow + index + 1 };
        }
      } catch (error) {
        if (!(error instanceof ParquetReadError) || options.throwUnreadable) throw error;
        unreadable.count += 1;
      }
    }
    return { etag: object.etag, records: rows(), unreadable };
  }
  const object = await getObjectOrUndefined(s3, store.bucket, key);
  if (!object) return undefined;
  async function* lines(): AsyncGenerator<SharedRecord> {
    let lineNo = 0;
    for await (const piece of splitLines(bodyChunks(object?.Body), store)) {
      if (piece.kind === 'long') {
        if (piece.end) {
          lineNo += 1;
          unreadable.count += 1;
        }
        continue;
      }
      lineNo += 1;
      const line = parseLine(piece.bytes, lineNo === 1, [], (_type, raw) =>
        typeof raw === 'string' ? raw : undefined,
      );
      if (line.kind === 'malformed') unreadable.count += 1;
      if (line.kind === 'record') yield { record: line.record, position: lineNo };
    }
  }
  return { etag: object.ETag ?? '', records: lines(), unreadable };
}
