import { createReadStream } from 'node:fs';
import { splitLines } from '../stores/s3/stream';

/**
 * Reading the text files an import takes, a chunk at a time: memory stays bounded whatever the
 * size of the file or the length of its lines, and nothing read is ever put into a message.
 */

const COMPRESSED: readonly { format: string; magic: readonly number[] }[] = [
  { format: 'gzip', magic: [0x1f, 0x8b] },
  { format: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { format: 'zip', magic: [0x50, 0x4b, 0x03, 0x04] },
  { format: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  // "BZh", the block size digit, then the block magic (the digits of pi).
  { format: 'bzip2', magic: [0x42, 0x5a, 0x68, -1, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59] },
];

/** The compression format the first bytes of a file announce, if any. */
export function compressionOf(head: Uint8Array): string | undefined {
  return COMPRESSED.find(
    ({ magic }) => head.length >= magic.length && magic.every((byte, at) => byte === -1 || head[at] === byte),
  )?.format;
}

/** A file's bytes in chunks; `onFirst` sees the first chunk before it is passed on. */
async function* fileChunks(path: string, onFirst: (head: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  let first = true;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (first && chunk.length > 0) {
      first = false;
      onFirst(chunk);
    }
    yield chunk;
  }
}

/** One line of a JSON-lines file, numbered from 1: its text, or why it cannot be read. */
export type FileLine = { number: number; text: string } | { number: number; problem: string };

const MB = 1024 * 1024;
const megabytes = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/**
 * The lines of a UTF-8 text file, split on "\n" (a "\r" before it is JSON whitespace). A line longer
 * than `maxLineBytes` is skipped in pieces, never held, and reported with its length.
 * @throws Error from `refuseCompressed` when the file starts like a compressed one
 */
export async function* fileLines(
  path: string,
  maxLineBytes: number,
  refuseCompressed: (format: string) => never,
): AsyncGenerator<FileLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chunks = fileChunks(path, (head) => {
    const format = compressionOf(head);
    if (format !== undefined) refuseCompressed(format);
  });
  let number = 0;
  let longLineBytes = 0;
  for await (const piece of splitLines(chunks, { id: path }, maxLineBytes)) {
    if (piece.kind === 'long') {
      longLineBytes += piece.bytes.length;
      if (!piece.end) continue;
      number += 1;
      yield {
        number,
        problem: `the line is ${megabytes(longLineBytes)}, longer than the ${megabytes(maxLineBytes)} a line may have (a DynamoDB item is at most 400 KB)`,
      };
      longLineBytes = 0;
      continue;
    }
    number += 1;
    let text: string;
    try {
      text = decoder.decode(piece.bytes);
    } catch {
      yield { number, problem: 'not UTF-8 text; save the file as UTF-8' };
      continue;
    }
    yield { number, text };
  }
}

/**
 * Why a file cannot be a JSON-lines object lethe reads, or undefined when it is uncompressed UTF-8
 * text: compressed, not UTF-8, or binary (NUL bytes).
 */
export async function textFileProblem(path: string): Promise<string | undefined> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let first = true;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      if (first && chunk.length > 0) {
        first = false;
        const format = compressionOf(chunk);
        if (format !== undefined)
          return `${format}-compressed; lethe reads JSON lines as uncompressed text only: decompress it`;
      }
      if (chunk.includes(0)) return 'binary (it holds NUL bytes), not JSON-lines text';
      decoder.decode(chunk, { stream: true });
    }
    decoder.decode();
  } catch (error) {
    if (error instanceof TypeError) return 'not UTF-8 text; save it as UTF-8';
    throw error;
  }
  return undefined;
}
