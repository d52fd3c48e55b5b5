import type { CompressionCodec, FileMetaData, SchemaElement } from 'hyparquet';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { DECOMPRESSORS, RAW_PARSERS, WRITE_COMPRESSORS } from '../../lib/stores/s3/parquet-file';

/**
 * Parquet files of ad-exchange bid rows for tests: a fixed schema with a nested struct (`user`,
 * holding the email and cookie id), a timestamp, a nullable double and a list column, so a
 * rewrite's fidelity is checked on more than flat strings.
 */

export interface BidRow {
  bid_id: string;
  /** Milliseconds since the epoch, as stored (TIMESTAMP_MILLIS). */
  ts: bigint;
  price: number | null;
  user: { email: string | null; buyeruid: string | null } | null;
  segments: string[] | null;
}

export const BID_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 5 },
  { name: 'bid_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'ts', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'REQUIRED' },
  { name: 'price', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'user', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'email', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'buyeruid', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'segments', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
];

const COLUMNS = ['bid_id', 'ts', 'price', 'user', 'segments'] as const;

/**
 * LZ4_RAW "compression" that stores every byte as a literal: a valid LZ4 block any reader
 * decompresses, for a file in a codec lethe cannot write.
 */
function lz4Literals(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  const length = input.length;
  out.push((Math.min(length, 15) << 4) & 0xff);
  if (length >= 15) {
    let rest = length - 15;
    while (rest >= 255) {
      out.push(255);
      rest -= 255;
    }
    out.push(rest);
  }
  const bytes = new Uint8Array(out.length + length);
  bytes.set(out, 0);
  bytes.set(input, out.length);
  return bytes;
}

/** A Parquet file of bid rows, in the codec and row-group size given. */
export function bidParquet(
  rows: BidRow[],
  options: { codec?: CompressionCodec; rowGroupSize?: number } = {},
): Buffer {
  const writer = new ByteWriter();
  const parquet = new ParquetWriter({
    writer,
    schema: BID_SCHEMA,
    codec: options.codec ?? 'SNAPPY',
    compressors: { ...WRITE_COMPRESSORS, LZ4_RAW: lz4Literals },
    kvMetadata: [{ key: 'writer', value: 'bid-exporter 2.1' }],
  });
  parquet.write({
    columnData: COLUMNS.map((name) => ({ name, data: rows.map((row) => row[name]) })),
    rowGroupSize: options.rowGroupSize ?? 4,
  });
  parquet.finish();
  return Buffer.from(writer.getBuffer());
}

/** A file's metadata and its rows with values as stored (timestamps as integers, dates as days). */
export async function readParquetRows(
  bytes: Uint8Array,
): Promise<{ metadata: FileMetaData; rows: Record<string, unknown>[] }> {
  // A fresh copy: a small Buffer's .buffer is Node's shared pool.
  const buffer = Uint8Array.from(bytes).buffer;
  const metadata = parquetMetadata(buffer);
  const rows = await parquetReadObjects({
    file: buffer,
    metadata,
    parsers: RAW_PARSERS,
    compressors: DECOMPRESSORS,
  });
  return { metadata, rows };
}

/** A bid file's metadata and its rows with values as stored. */
export async function readBidParquet(bytes: Uint8Array): Promise<{ metadata: FileMetaData; rows: BidRow[] }> {
  const { metadata, rows } = await readParquetRows(bytes);
  return { metadata, rows: rows as unknown as BidRow[] };
}

/** The codecs of a file's column chunks, each once. */
export function codecsOf(metadata: FileMetaData): string[] {
  return [
    ...new Set(metadata.row_groups.flatMap((group) => group.columns.map((c) => c.meta_data?.codec))),
  ].map(String);
}

/** The row counts of a file's row groups. */
export function rowGroupSizes(metadata: FileMetaData): number[] {
  return metadata.row_groups.map((group) => Number(group.num_rows));
}
