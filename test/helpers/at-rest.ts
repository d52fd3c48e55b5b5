import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { identifierIn } from '../../lib/log';

/**
 * What a state directory holds at rest, read as an attacker with the disk would: every file's raw
 * bytes, every file name, and the blocks of LevelDB tables (dynalite's files) decompressed, since
 * Snappy can break a value apart so that a plain byte search misses it.
 */

function readVarint(bytes: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let factor = 1;
  let position = at;
  for (;;) {
    const byte = bytes[position++] ?? 0;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return { value, next: position };
    factor *= 128;
  }
}

/** Snappy's raw format: a varint length, then literals and copies of what was written already. */
export function snappyDecompress(input: Buffer): Buffer {
  const header = readVarint(input, 0);
  const out = Buffer.alloc(header.value);
  let position = header.next;
  let written = 0;
  while (position < input.length) {
    const tag = input[position++] ?? 0;
    const kind = tag & 3;
    if (kind === 0) {
      let length = tag >> 2;
      if (length >= 60) {
        const size = length - 59;
        length = input.readUIntLE(position, size);
        position += size;
      }
      length += 1;
      input.copy(out, written, position, position + length);
      position += length;
      written += length;
      continue;
    }
    let length: number;
    let offset: number;
    if (kind === 1) {
      length = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | (input[position++] ?? 0);
    } else if (kind === 2) {
      length = (tag >> 2) + 1;
      offset = input.readUInt16LE(position);
      position += 2;
    } else {
      length = (tag >> 2) + 1;
      offset = input.readUInt32LE(position);
      position += 4;
    }
    for (let i = 0; i < length; i += 1, written += 1) out[written] = out[written - offset] ?? 0;
  }
  return out;
}

const TABLE_MAGIC = Buffer.from('57fb808b247547db', 'hex');

/** A block handle (varint offset and size) read from `bytes` at `at`. */
function readHandle(bytes: Buffer, at: number): { offset: number; size: number; next: number } {
  const offset = readVarint(bytes, at);
  const size = readVarint(bytes, offset.next);
  return { offset: offset.value, size: size.value, next: size.next };
}

/** A block of a table, decompressed when its trailer says Snappy. */
function blockAt(table: Buffer, handle: { offset: number; size: number }): Buffer {
  const raw = table.subarray(handle.offset, handle.offset + handle.size);
  return table[handle.offset + handle.size] === 1 ? snappyDecompress(raw) : raw;
}

/** The data blocks of a LevelDB table file (`*.ldb`, `*.sst`), decompressed: found through its index block. */
export function levelDbTableBlocks(table: Buffer): Buffer[] {
  if (table.length < 48 || !table.subarray(table.length - 8).equals(TABLE_MAGIC)) return [];
  const metaindex = readHandle(table, table.length - 48);
  const index = blockAt(table, readHandle(table, metaindex.next));
  const restarts = index.readUInt32LE(index.length - 4);
  const end = index.length - 4 - restarts * 4;
  const blocks: Buffer[] = [];
  let position = 0;
  while (position < end) {
    const shared = readVarint(index, position);
    const unshared = readVarint(index, shared.next);
    const valueLength = readVarint(index, unshared.next);
    const valueAt = valueLength.next + unshared.value;
    blocks.push(blockAt(table, readHandle(index, valueAt)));
    position = valueAt + valueLength.value;
  }
  return blocks;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? [join(dir, entry.name), ...filesUnder(join(dir, entry.name))]
      : [join(dir, entry.name)],
  );
}

/** Whether `text` holds one of `values`, in any case or (phone numbers) any spelling. */
export function holdsIdentifier(text: string, values: readonly string[]): boolean {
  const lower = text.toLowerCase();
  return (
    values.some((value) => lower.includes(value.toLowerCase())) || identifierIn(text, values) === 'known'
  );
}

/**
 * Every place under `dir` where one of `values` lies, in any case or (phone numbers) any spelling:
 * file and directory names, every file's bytes, and the decompressed blocks of LevelDB tables.
 * Paths are relative to `dir`; `skip` leaves out paths the caller accounts for.
 */
export function identifiersAtRest(
  dir: string,
  values: readonly string[],
  skip: (path: string) => boolean = () => false,
): string[] {
  // dynalite writes key attributes hex-encoded into LevelDB's keys.
  const spellings = values.flatMap((value) => [value, Buffer.from(value).toString('hex')]);
  const holds = (text: string) => holdsIdentifier(text, spellings);
  const found: string[] = [];
  for (const path of filesUnder(dir)) {
    const name = relative(dir, path);
    if (skip(name)) continue;
    if (holds(name)) {
      found.push(`${name} (its name)`);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      continue; // a directory
    }
    const blocks = /\.(ldb|sst)$/.test(path) ? levelDbTableBlocks(bytes) : [];
    if ([bytes, ...blocks].some((part) => holds(part.toString('latin1')))) found.push(name);
  }
  return found;
}
