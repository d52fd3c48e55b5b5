import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes that a killed process can never leave half done. A file is written under a temporary
 * name in the same directory and renamed over the target: rename replaces a directory entry in
 * one step, so a reader (or the next start after `kill -9`) sees the old file or the new one,
 * never a truncated mix. On AWS an S3 PUT and a DynamoDB write are atomic; the embedded runtime
 * must not be weaker. (No fsync: this protects against a dead process, not against power loss.)
 */

/** The marker in temporary file names, so leftovers of a killed write can be recognised and removed. */
export const TEMP_MARKER = '.lethe-tmp-';

/** A temporary path beside `path`, unique per call. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
}

/** Whether a file name is a leftover temporary file of an atomic write. */
export function isTemporaryFile(name: string): boolean {
  return name.includes(TEMP_MARKER);
}

/** Replaces `path` with `data` atomically (see the module comment). */
export function writeFileAtomicSync(
  path: string,
  data: string | Buffer,
  options: { mode?: number } = {},
): void {
  const temporary = temporaryPathFor(path);
  try {
    writeFileSync(temporary, data, options.mode === undefined ? {} : { mode: options.mode });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Replaces `path` with `data` atomically (see the module comment). */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
