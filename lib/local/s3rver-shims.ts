import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { isTemporaryFile, temporaryPathFor, writeFileAtomic } from './atomic-file';

// `import =` keeps the live module object: a namespace import would be an interop copy, and the
// shim below must patch the object s3rver itself calls into.
import nodeCrypto = require('node:crypto');

/**
 * Patches to s3rver 3.7 (the embedded S3 server), installed once per process before it starts.
 * s3rver keeps each object as three files beside each other: `<name>._S3rver_object` (the
 * bytes), `<name>._S3rver_object.md5` (the ETag) and `<name>._S3rver_metadata.json`.
 */

/** Installs every shim; idempotent. */
export function installS3rverShims(): void {
  installDesContinuationTokenShim();
  installAtomicWriteShim();
}

const DES_SHIM_MARK = Symbol.for('lethe.local.s3rverDesShim');

/**
 * s3rver 3 encrypts ListObjectsV2 continuation tokens with single DES (`des` = DES-CBC). Node 17+
 * ships OpenSSL 3, where DES lives in the "legacy" provider that is only loaded with
 * `--openssl-legacy-provider`; without it `createCipheriv('des', …)` throws
 * ERR_OSSL_EVP_UNSUPPORTED, so every *truncated* listing (more than MaxKeys results: the token is
 * generated for the first page already) fails with a 500 InternalError.
 *
 * The token is opaque to clients and only s3rver decrypts it, so when DES is unavailable we
 * substitute AES-128-CBC with the 8-byte key and IV doubled to 16 bytes. That keeps s3rver's token
 * layout (8-byte IV prefix + ciphertext) and round-trips, with no node flag. Only calls that
 * would otherwise throw are redirected: `des` with Buffer key and IV of 8 bytes each.
 */
function installDesContinuationTokenShim(): void {
  const target = nodeCrypto as typeof nodeCrypto & { [DES_SHIM_MARK]?: true };
  if (target[DES_SHIM_MARK]) return;
  target[DES_SHIM_MARK] = true;
  if (desIsAvailable()) return;

  const isS3rverDes = (algorithm: unknown, key: unknown, iv: unknown): boolean =>
    typeof algorithm === 'string' &&
    ['des', 'des-cbc'].includes(algorithm.toLowerCase()) &&
    Buffer.isBuffer(key) &&
    key.length === 8 &&
    Buffer.isBuffer(iv) &&
    iv.length === 8;
  const widen = (bytes: Buffer): Buffer => Buffer.concat([bytes, bytes]);

  type CipherFactory = (algorithm: string, key: unknown, iv: unknown, options?: unknown) => unknown;
  const mutable = target as unknown as { createCipheriv: CipherFactory; createDecipheriv: CipherFactory };
  const originalCipheriv = mutable.createCipheriv;
  const originalDecipheriv = mutable.createDecipheriv;
  mutable.createCipheriv = (algorithm, key, iv, options) =>
    isS3rverDes(algorithm, key, iv)
      ? originalCipheriv('aes-128-cbc', widen(key as Buffer), widen(iv as Buffer))
      : originalCipheriv(algorithm, key, iv, options);
  mutable.createDecipheriv = (algorithm, key, iv, options) =>
    isS3rverDes(algorithm, key, iv)
      ? originalDecipheriv('aes-128-cbc', widen(key as Buffer), widen(iv as Buffer))
      : originalDecipheriv(algorithm, key, iv, options);
}

function desIsAvailable(): boolean {
  try {
    nodeCrypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

interface S3rverObjectToStore {
  bucket: string;
  key: string;
  content: Buffer | NodeJS.ReadableStream;
  metadata: Record<string, string>;
}
interface S3rverFilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
  putObject(object: S3rverObjectToStore): Promise<{ size: number; md5: string }>;
}
const WRITE_SHIM_MARK = Symbol.for('lethe.local.s3rverAtomicWriteShim');

/** Metadata s3rver keeps for an object (the rest of what a client sends is dropped, as s3rver does). */
function storedMetadata(metadata: Record<string, string>): Record<string, string> {
  const { ALLOWED_METADATA } = require('s3rver/lib/models/object') as { ALLOWED_METADATA: string[] };
  return Object.fromEntries(
    Object.entries(metadata).filter(
      ([name]) => ALLOWED_METADATA.includes(name) || name.startsWith('x-amz-meta-'),
    ),
  );
}

/** Streams `content` into `path`, resolving with size and MD5 once the file is completely written. */
function writeContent(
  path: string,
  content: S3rverObjectToStore['content'],
): Promise<{ size: number; md5: string }> {
  const md5 = nodeCrypto.createHash('md5');
  let size = 0;
  return new Promise((resolve, reject) => {
    const file = createWriteStream(path);
    file.on('finish', () => resolve({ size, md5: md5.digest('hex') }));
    file.on('error', reject);
    if (Buffer.isBuffer(content)) {
      md5.update(content);
      size = content.length;
      file.end(content);
      return;
    }
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    content.on('error', reject);
    counter.on('error', reject);
    content.pipe(counter).pipe(file);
  });
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/**
 * Two faults of s3rver's object writes, both fatal to a privacy tool:
 *
 * - It writes an object's bytes and metadata in place. A process killed during a JSON-lines
 *   rewrite left shared objects at 0 bytes (every other person's lines in them lost), and a
 *   metadata file at 0 bytes made every later read of the object fail. Here the bytes and the
 *   metadata are written to temporary files and renamed over the old ones, so a kill leaves the
 *   old object or the new one. The MD5 (ETag) file is removed before the bytes are renamed and
 *   written after: if the process dies in between, s3rver recomputes it from the bytes on the
 *   next read, so an ETag never describes other bytes than the object's.
 * - It answers a PutObject when it has handed the body to the file stream, not when the file is
 *   written, so a GET right after could read a short object. Here it answers once the bytes are
 *   in place.
 */
function installAtomicWriteShim(): void {
  const FilesystemStore = require('s3rver/lib/stores/filesystem') as {
    prototype: S3rverFilesystemStore & { [WRITE_SHIM_MARK]?: true };
  };
  const proto = FilesystemStore.prototype;
  if (proto[WRITE_SHIM_MARK]) return;
  proto[WRITE_SHIM_MARK] = true;

  proto.putMetadata = async function putMetadata(
    this: S3rverFilesystemStore,
    bucket: string,
    key: string,
    metadata: Record<string, string>,
    md5?: string,
  ) {
    if (md5) await writeFileAtomic(this.getResourcePath(bucket, key, 'object.md5'), md5);
    await writeFileAtomic(
      this.getResourcePath(bucket, key, 'metadata.json'),
      JSON.stringify(storedMetadata(metadata), null, 2),
    );
  };

  proto.putObject = async function putObject(this: S3rverFilesystemStore, object: S3rverObjectToStore) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    const metadataPath = this.getResourcePath(object.bucket, object.key, 'metadata.json');
    await mkdir(dirname(objectPath), { recursive: true });
    const bytes = temporaryPathFor(objectPath);
    const metadata = temporaryPathFor(metadataPath);
    try {
      const written = await writeContent(bytes, object.content);
      await writeFile(metadata, JSON.stringify(storedMetadata(object.metadata), null, 2));
      await unlinkIfPresent(this.getResourcePath(object.bucket, object.key, 'object.md5'));
      await rename(bytes, objectPath);
      await rename(metadata, metadataPath);
      await writeFileAtomic(this.getResourcePath(object.bucket, object.key, 'object.md5'), written.md5);
      return written;
    } catch (error) {
      await Promise.all([rm(bytes, { force: true }), rm(metadata, { force: true })]);
      throw error;
    }
  };
}

/**
 * Removes the temporary files a killed write left under the S3 directory. They are never read
 * (s3rver lists only `._S3rver_object` files), but they can hold personal data.
 */
export async function removeLeftoverTemporaryFiles(directory: string): Promise<number> {
  let removed = 0;
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) removed += await removeLeftoverTemporaryFiles(path);
    else if (isTemporaryFile(entry.name)) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
