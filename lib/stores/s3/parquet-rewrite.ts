import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CompressionCodec, FileMetaData, SchemaElement } from 'hyparquet';
import { ByteWriter, type ColumnSource, ParquetWriter } from 'hyparquet-writer';
import type { S3Store } from '../../datamap/schema';
import type { LocatedLines } from '../types';
import { ParquetCodecUnsupportedError, ParquetSchemaUnsupportedError } from './errors';
import { matchersOf, matchRecord, pathField } from './lines';
import {
  canWriteCodec,
  openParquetObject,
  type ParquetObject,
  type ParquetRow,
  rowGroupsOf,
  topLevelColumns,
  WRITE_COMPRESSORS,
} from './parquet-file';
import {
  commitRewrite,
  type RewriteOptions,
  type RewriteOutcome,
  type RewriteProgress,
  retryRewrite,
  uploadStream,
} from './rewrite';

/**
 * Rewriting a Parquet object without the subject's rows: the same schema (every element as read,
 * nested and repeated columns included), the same compression codec per column, one row group
 * per row group read (each smaller only by the rows removed), the file's key-value metadata, and
 * every other row value for value. Written as JSON-lines rewrites are: conditional on the ETag read,
 * through a multipart upload that only becomes the object once complete, never truncating the
 * source. Memory follows one row group (read by ranges from large objects, and flushed to the
 * upload after each group), not the object.
 */

/** Decimals beyond this precision do not survive the reader's conversion to a JavaScript number. */
const MAX_EXACT_DECIMAL_PRECISION = 15;

/** Rewrites one Parquet object without the subject's rows, starting over (bounded) when a concurrent write wins. */
export function rewriteParquetObject(
  store: S3Store,
  s3: S3Client,
  key: string,
  group: LocatedLines[],
  options: RewriteOptions,
): Promise<RewriteOutcome> {
  const matchers = matchersOf(group);
  const isSubjectRow = (row: ParquetRow) => matchRecord(row, matchers, options.normalise, pathField) >= 0;
  const matchedColumns = topLevelColumns(matchers.map((matcher) => matcher.field));
  return retryRewrite(options, async (progress: RewriteProgress) => {
    const object = await openParquetObject(s3, store.bucket, key, options.bufferLimit);
    if (!object) return commitRewrite(store, s3, key, options, progress, undefined);
    // First pass over the matched columns only: is anything to go, and does anything stay?
    let removed = 0;
    let kept = 0;
    for await (const { rows } of rowGroupsOf(object, { columns: matchedColumns })) {
      for (const row of rows) {
        if (isSubjectRow(row)) removed += 1;
        else kept += 1;
      }
    }
    const read = { etag: object.etag, response: object.response, removed, kept };
    return commitRewrite(store, s3, key, options, progress, read, async (params) => {
      const codecs = columnCodecs(store.id, object.metadata);
      assertExactValues(store.id, object.metadata.schema);
      const body = new PassThrough();
      const upload = uploadStream(s3, params, body);
      try {
        await writeWithout(object, codecs, isSubjectRow, body);
        body.end();
      } catch (error) {
        body.destroy(error instanceof Error ? error : new Error(String(error)));
        await upload.catch(() => undefined);
        throw error;
      }
      return upload;
    });
  });
}

/**
 * Encodes the object without the subject's rows into `body`, one row group at a time; waits for
 * the upload to take each group before reading the next (bounded memory).
 */
async function writeWithout(
  object: ParquetObject,
  codecs: Map<string, CompressionCodec>,
  isSubjectRow: (row: ParquetRow) => boolean,
  body: PassThrough,
): Promise<void> {
  const { metadata } = object;
  const writer = new ByteWriter();
  const drained = () => new Promise<void>((resolve) => body.once('drain', () => resolve()));
  const flush = async () => {
    const bytes = Buffer.from(writer.getBytes());
    writer.index = 0;
    if (bytes.length > 0 && !body.write(bytes)) await drained();
  };
  Object.assign(writer, { flush, finish: flush });
  const columns = topColumnNames(metadata.schema);
  const parquet = new ParquetWriter({
    writer,
    schema: metadata.schema,
    compressors: WRITE_COMPRESSORS,
    codec: codecs.values().next().value ?? 'UNCOMPRESSED',
    ...(metadata.key_value_metadata ? { kvMetadata: metadata.key_value_metadata } : {}),
    createdBy: 'lethe (hyparquet-writer)',
  });
  for await (const { rows } of rowGroupsOf(object, { raw: true })) {
    const keep = rows.filter((row) => !isSubjectRow(row));
    if (keep.length === 0) continue;
    const columnData: ColumnSource[] = columns.map((name) => ({
      name,
      data: keep.map((row) => row[name] ?? null),
      ...(codecs.has(name) ? { codec: codecs.get(name) } : {}),
    }));
    // One row group per group read: the writer would split it otherwise.
    await parquet.write({ columnData, rowGroupSize: keep.length });
  }
  await parquet.finish();
}

/** The names of the schema's top-level columns (children of the root), in order. */
function topColumnNames(schema: SchemaElement[]): string[] {
  const names: string[] = [];
  let index = 1;
  while (index < schema.length) {
    const element = schema[index] as SchemaElement;
    names.push(element.name);
    index = afterSubtree(schema, index);
  }
  return names;
}

/** The index just past the element at `index` and all its descendants. */
function afterSubtree(schema: SchemaElement[], index: number): number {
  let next = index + 1;
  for (let child = 0; child < (schema[index]?.num_children ?? 0); child += 1)
    next = afterSubtree(schema, next);
  return next;
}

/**
 * The codec of each top-level column, from the first row group's column chunks.
 * @throws ParquetCodecUnsupportedError when a codec cannot be written, or the leaves of one column differ
 */
function columnCodecs(storeId: string, metadata: FileMetaData): Map<string, CompressionCodec> {
  const codecs = new Map<string, CompressionCodec>();
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      const top = meta.path_in_schema[0] ?? '';
      const known = codecs.get(top);
      if (!canWriteCodec(meta.codec)) throw new ParquetCodecUnsupportedError(storeId, meta.codec);
      if (known !== undefined && known !== meta.codec)
        throw new ParquetCodecUnsupportedError(storeId, `${known} and ${meta.codec} in one column`);
      codecs.set(top, meta.codec);
    }
  }
  return codecs;
}

/** @throws ParquetSchemaUnsupportedError for a column type the read-write round trip would alter */
function assertExactValues(storeId: string, schema: SchemaElement[]): void {
  for (const element of schema) {
    if (element.type === 'INT96')
      throw new ParquetSchemaUnsupportedError(storeId, 'an INT96 timestamp column');
    if (element.converted_type === 'BSON' || element.converted_type === 'INTERVAL')
      throw new ParquetSchemaUnsupportedError(storeId, `a ${element.converted_type} column`);
    const logical = element.logical_type?.type;
    if (logical === 'VARIANT' || logical === 'GEOMETRY' || logical === 'GEOGRAPHY')
      throw new ParquetSchemaUnsupportedError(storeId, `a ${logical} column`);
    if (element.converted_type === 'DECIMAL' && (element.precision ?? 0) > MAX_EXACT_DECIMAL_PRECISION)
      throw new ParquetSchemaUnsupportedError(
        storeId,
        `a DECIMAL column of precision ${element.precision} (up to ${MAX_EXACT_DECIMAL_PRECISION} is exact)`,
      );
  }
}
