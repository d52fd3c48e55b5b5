import { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { S3Store } from '../../datamap/schema';
import { UnsupportedStoreError } from '../errors';

/**
 * Streaming an object's lines: split on "\n" as raw bytes, with bounded memory whatever the
 * object's size or the length of its lines.
 */

/**
 * Longest line parsed as JSON. Longer lines are counted as malformed and passed through on rewrite
 * piece by piece, so one pathological line cannot make memory grow with the object.
 */
const MAX_LINE_BYTES = 8 * 1024 * 1024;

/**
 * A line of an object, split on "\n" only and kept as raw bytes ("\r" stays part of the line), so a
 * rewrite reproduces every other line byte for byte. readline would be shorter but decodes (lossy
 * for invalid UTF-8), treats a lone "\r" as a line end and forgets whether the object ended with a
 * newline, each of which would alter other subjects' bytes.
 *
 * `newline`: a "\n" followed the line (false only for an object's unterminated last line).
 * Lines longer than MAX_LINE_BYTES arrive as `long` pieces instead, `end` on the last one.
 */
export type LinePiece =
  | { kind: 'line'; bytes: Buffer; newline: boolean }
  | { kind: 'long'; bytes: Buffer; end: boolean; newline: boolean };

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function startsWithBytes(chunk: Uint8Array, magic: number[]): boolean {
  return chunk.length >= magic.length && magic.every((byte, index) => chunk[index] === byte);
}

/**
 * Splits a stream of chunks into {@link LinePiece}s.
 * @throws UnsupportedStoreError when the object is gzip or zstd compressed
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  store: Pick<S3Store, 'id'>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<LinePiece> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inLongLine = false;
  let first = true;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    if (first) {
      first = false;
      // A compressed object parses as nothing but malformed lines: the subject's lines would be
      // invisible and the erasure would report success over them. Refuse instead.
      if (startsWithBytes(chunk, GZIP_MAGIC) || startsWithBytes(chunk, ZSTD_MAGIC)) {
        throw new UnsupportedStoreError(
          store.id,
          'an object under a JSON-lines prefix is compressed; lethe reads and rewrites uncompressed JSON lines only',
        );
      }
    }
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let newline = buffer.indexOf(0x0a, start); newline !== -1; newline = buffer.indexOf(0x0a, start)) {
      const part = buffer.subarray(start, newline);
      start = newline + 1;
      if (inLongLine) {
        yield { kind: 'long', bytes: part, end: true, newline: true };
        inLongLine = false;
      } else if (pendingBytes + part.length > maxLineBytes) {
        for (const held of pending) yield { kind: 'long', bytes: held, end: false, newline: false };
        yield { kind: 'long', bytes: part, end: true, newline: true };
      } else {
        yield {
          kind: 'line',
          bytes: pending.length === 0 ? part : Buffer.concat([...pending, part]),
          newline: true,
        };
      }
      pending = [];
      pendingBytes = 0;
    }
    const rest = buffer.subarray(start);
    if (rest.length === 0) continue;
    if (inLongLine) {
      yield { kind: 'long', bytes: rest, end: false, newline: false };
    } else if (pendingBytes + rest.length > maxLineBytes) {
      for (const held of pending) yield { kind: 'long', bytes: held, end: false, newline: false };
      yield { kind: 'long', bytes: rest, end: false, newline: false };
      pending = [];
      pendingBytes = 0;
      inLongLine = true;
    } else {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (inLongLine) yield { kind: 'long', bytes: Buffer.alloc(0), end: true, newline: false };
  else if (pendingBytes > 0 || pending.length > 0) {
    yield { kind: 'line', bytes: Buffer.concat(pending), newline: false };
  }
}

/** The body of a GetObject as an async iterable of byte chunks, whatever shape the SDK returned. */
export function bodyChunks(body: GetObjectCommandOutput['Body']): AsyncIterable<Uint8Array> {
  // In Node the SDK returns an IncomingMessage (async iterable); browsers and mocks may give a web stream or Blob.
  if (body && typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] === 'function') {
    return body as AsyncIterable<Uint8Array>;
  }
  if (body instanceof Blob) return body.stream() as unknown as AsyncIterable<Uint8Array>;
  if (body === undefined) return Readable.from([]);
  throw new TypeError('GetObject returned a body that is not a stream');
}
