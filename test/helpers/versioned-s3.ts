import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  type DeleteObjectsCommandInput,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { listAll } from './stores';

/**
 * A versioned bucket, simulated in front of s3rver (which has no versioning and no Object Lock):
 * a client middleware that keeps the versions of every key of the chosen buckets in memory and
 * answers the versioned requests the way S3 does.
 *
 * What it simulates:
 * - GetBucketVersioning says `Enabled`.
 * - PutObject and CompleteMultipartUpload add a version (the previous current one is kept in
 *   memory) and return its VersionId; GetObject and HeadObject return the current VersionId,
 *   and 404 NoSuchKey when the current version is a delete marker.
 * - DeleteObject without a VersionId, and DeleteObjects entries without one, add a delete marker.
 *   With a VersionId they delete that version (or marker) for good; when it was the current one,
 *   the next newest becomes current again (its bytes are put back into s3rver), as in S3.
 *   Deleting a version that does not exist succeeds, as in S3.
 * - ListObjectVersions: Versions and DeleteMarkers of the keys under Prefix, in key order and
 *   newest first, with IsLatest, paged by KeyMarker/VersionIdMarker (`pageSize` entries a page,
 *   to exercise paging). Objects already in s3rver when first touched are one version, "null".
 * - Object Lock, on the versions a test locks: a versioned delete of a version whose retention
 *   date is in the future (real clock), or that has a legal hold, is refused with AccessDenied
 *   ("Access Denied because object protected by object lock"), per entry in DeleteObjects;
 *   GetObjectRetention and GetObjectLegalHold answer for any version, and
 *   NoSuchObjectLockConfiguration for a version without one. Delete markers are never locked.
 *
 * What it does not simulate:
 * - HeadObject of a noncurrent version by VersionId, and GetObject of one with a Range (refused with
 *   NotImplemented); a whole GetObject of one answers its kept bytes (readable as string or bytes).
 * - ListObjectsV2 is s3rver's own: the current versions only, and a version made current again
 *   by deleting a newer one shows the time it was put back, not its own LastModified.
 * - Conditional requests (If-Match) on versioned writes, MFA delete, governance bypass, Object
 *   Lock retention on new puts (bucket default retention), lifecycle rules, replication, and
 *   anything on buckets not named.
 * - Versioning `Suspended` (null version ids overwritten in place).
 */

interface SimulatedVersion {
  versionId: string;
  deleteMarker: boolean;
  lastModified: Date;
  etag?: string;
  /** Bytes and headers of a noncurrent version (the current one's bytes live in s3rver). */
  body?: Buffer;
  contentType?: string;
  metadata?: Record<string, string>;
  retainUntil?: Date;
  mode?: 'GOVERNANCE' | 'COMPLIANCE';
  legalHold?: boolean;
}

/** A version as a test sees it. */
export interface VersionView {
  versionId: string;
  deleteMarker: boolean;
  latest: boolean;
  lastModified: Date;
}

export interface VersionedBuckets {
  /** Every version and delete marker of a key, newest first. */
  versions(bucket: string, key: string): Promise<VersionView[]>;
  /** Puts an Object Lock on one version (by id), or on the current one. */
  lock(
    bucket: string,
    key: string,
    versionId: string | 'current',
    lock: { retainUntil?: Date; mode?: 'GOVERNANCE' | 'COMPLIANCE'; legalHold?: boolean },
  ): Promise<void>;
  /** Sets the LastModified ListObjectVersions reports for every version of a key. */
  backdate(bucket: string, key: string, at: Date): Promise<void>;
  /** Requests seen, by command. */
  calls: Record<string, number>;
  /** Takes the middleware off the client. */
  remove(): void;
}

function s3Error(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

const LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';

/**
 * Puts a simulated versioned bucket (see the module comment) in front of `client` for `buckets`;
 * `raw` is a client of the same s3rver without the middleware, to read and write the current bytes.
 */
export function simulateVersionedBuckets(
  client: S3Client,
  raw: S3Client,
  buckets: string[],
  options: { pageSize?: number } = {},
): VersionedBuckets {
  const state = new Map<string, SimulatedVersion[]>();
  const calls: Record<string, number> = {};
  let counter = 0;
  const newId = () => {
    counter += 1;
    return `sim-${String(counter).padStart(6, '0')}`;
  };
  const id = (bucket: string, key: string) => `${bucket}\u0000${key}`;

  /** Reads s3rver's current bytes, waiting until they match the ETag it reports (it writes lazily). */
  async function currentBytes(bucket: string, key: string) {
    for (let attempt = 0; attempt < 400; attempt += 1) {
      const object = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from(await object.Body!.transformToByteArray());
      const etag = (object.ETag ?? '').replaceAll('"', '');
      if (etag.includes('-') || createHash('md5').update(body).digest('hex') === etag) {
        return { body, object };
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`the simulator could not read ${bucket}/${key} completely`);
  }

  /** The versions of a key, newest first; an object already in s3rver becomes version "null". */
  async function track(bucket: string, key: string): Promise<SimulatedVersion[]> {
    const known = state.get(id(bucket, key));
    if (known) return known;
    const versions: SimulatedVersion[] = [];
    try {
      const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      versions.push({
        versionId: 'null',
        deleteMarker: false,
        lastModified: head.LastModified ?? new Date(),
        ...(head.ETag ? { etag: head.ETag } : {}),
      });
    } catch {
      // not there: no versions
    }
    state.set(id(bucket, key), versions);
    return versions;
  }

  /** Keeps the current version's bytes in memory before something replaces or hides it. */
  async function demote(bucket: string, key: string, versions: SimulatedVersion[]) {
    const current = versions[0];
    if (!current || current.deleteMarker || current.body) return;
    const { body, object } = await currentBytes(bucket, key);
    current.body = body;
    if (object.ContentType) current.contentType = object.ContentType;
    if (object.Metadata) current.metadata = object.Metadata;
  }

  /** Makes s3rver hold what is current now: the newest version's bytes, or nothing under a marker. */
  async function restore(bucket: string, key: string, versions: SimulatedVersion[]) {
    const current = versions[0];
    if (!current || current.deleteMarker) {
      await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return;
    }
    if (!current.body) return;
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: current.body,
        ...(current.contentType ? { ContentType: current.contentType } : {}),
        ...(current.metadata ? { Metadata: current.metadata } : {}),
      }),
    );
    await currentBytes(bucket, key);
    delete current.body;
  }

  async function addDeleteMarker(bucket: string, key: string): Promise<string> {
    const versions = await track(bucket, key);
    await demote(bucket, key, versions);
    const versionId = newId();
    versions.unshift({ versionId, deleteMarker: true, lastModified: new Date() });
    await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return versionId;
  }

  function isLocked(version: SimulatedVersion): boolean {
    if (version.deleteMarker) return false;
    return version.legalHold === true || (version.retainUntil?.getTime() ?? 0) > Date.now();
  }

  async function deleteVersion(bucket: string, key: string, versionId: string): Promise<void> {
    const versions = await track(bucket, key);
    const index = versions.findIndex((version) => version.versionId === versionId);
    if (index < 0) return;
    const version = versions[index] as SimulatedVersion;
    if (isLocked(version)) throw s3Error('AccessDenied', 403, LOCKED_MESSAGE);
    if (index === 0) await demote(bucket, key, versions);
    versions.splice(index, 1);
    if (index === 0) await restore(bucket, key, versions);
  }

  async function listVersions(input: Record<string, unknown>) {
    const bucket = input.Bucket as string;
    const prefix = (input.Prefix as string | undefined) ?? '';
    for (const key of await listAll(raw, bucket, prefix)) await track(bucket, key);
    const keys = [...state.keys()]
      .filter((entry) => entry.startsWith(`${bucket}\u0000${prefix}`))
      .map((entry) => entry.slice(bucket.length + 1))
      .sort();
    const entries = keys.flatMap((key) =>
      (state.get(id(bucket, key)) ?? []).map((version, index) => ({ key, version, latest: index === 0 })),
    );
    let start = 0;
    if (typeof input.KeyMarker === 'string') {
      const marker = input.KeyMarker;
      const versionMarker = input.VersionIdMarker as string | undefined;
      start = entries.findIndex((entry) =>
        versionMarker === undefined
          ? entry.key > marker
          : entry.key > marker || (entry.key === marker && entry.version.versionId === versionMarker),
      );
      if (start < 0) start = entries.length;
      else if (versionMarker !== undefined && entries[start]?.key === marker) start += 1;
    }
    const size = options.pageSize ?? (input.MaxKeys as number | undefined) ?? 1000;
    const page = entries.slice(start, start + size);
    const truncated = start + size < entries.length;
    const last = page.at(-1);
    return {
      $metadata: {},
      Versions: page
        .filter((entry) => !entry.version.deleteMarker)
        .map((entry) => ({
          Key: entry.key,
          VersionId: entry.version.versionId,
          IsLatest: entry.latest,
          LastModified: entry.version.lastModified,
          ETag: entry.version.etag,
        })),
      DeleteMarkers: page
        .filter((entry) => entry.version.deleteMarker)
        .map((entry) => ({
          Key: entry.key,
          VersionId: entry.version.versionId,
          IsLatest: entry.latest,
          LastModified: entry.version.lastModified,
        })),
      IsTruncated: truncated,
      ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.version.versionId } : {}),
    };
  }

  async function versionFor(input: Record<string, unknown>): Promise<SimulatedVersion | undefined> {
    const versions = await track(input.Bucket as string, input.Key as string);
    return typeof input.VersionId === 'string'
      ? versions.find((version) => version.versionId === input.VersionId)
      : versions[0];
  }

  type Handler = (
    input: Record<string, unknown>,
    next: () => Promise<{ output: unknown }>,
  ) => Promise<unknown>;
  const handlers: Record<string, Handler> = {
    GetBucketVersioningCommand: async () => ({ output: { $metadata: {}, Status: 'Enabled' } }),
    PutObjectCommand: async (input, next) => put(input, next),
    CompleteMultipartUploadCommand: async (input, next) => put(input, next),
    GetObjectCommand: async (input, next) => read(input, next, true),
    HeadObjectCommand: async (input, next) => read(input, next),
    DeleteObjectCommand: async (input) => {
      const bucket = input.Bucket as string;
      const key = input.Key as string;
      if (typeof input.VersionId === 'string') {
        await deleteVersion(bucket, key, input.VersionId);
        return { output: { $metadata: {}, VersionId: input.VersionId } };
      }
      return { output: { $metadata: {}, DeleteMarker: true, VersionId: await addDeleteMarker(bucket, key) } };
    },
    DeleteObjectsCommand: async (input) => {
      const request = input as unknown as DeleteObjectsCommandInput;
      const bucket = request.Bucket as string;
      const errors: { Key: string; VersionId?: string; Code: string; Message: string }[] = [];
      const deleted: { Key: string; VersionId?: string }[] = [];
      for (const object of request.Delete?.Objects ?? []) {
        const key = object.Key as string;
        try {
          if (object.VersionId === undefined) await addDeleteMarker(bucket, key);
          else await deleteVersion(bucket, key, object.VersionId);
          deleted.push({ Key: key, ...(object.VersionId ? { VersionId: object.VersionId } : {}) });
        } catch (error) {
          errors.push({
            Key: key,
            ...(object.VersionId ? { VersionId: object.VersionId } : {}),
            Code: (error as Error).name,
            Message: (error as Error).message,
          });
        }
      }
      return {
        output: { $metadata: {}, ...(request.Delete?.Quiet ? {} : { Deleted: deleted }), Errors: errors },
      };
    },
    ListObjectVersionsCommand: async (input) => ({ output: await listVersions(input) }),
    GetObjectRetentionCommand: async (input) => {
      const version = await versionFor(input);
      if (!version?.retainUntil) {
        throw s3Error(
          'NoSuchObjectLockConfiguration',
          404,
          'The specified object does not have a ObjectLock configuration',
        );
      }
      return {
        output: {
          $metadata: {},
          Retention: { Mode: version.mode ?? 'COMPLIANCE', RetainUntilDate: version.retainUntil },
        },
      };
    },
    GetObjectLegalHoldCommand: async (input) => {
      const version = await versionFor(input);
      if (version?.legalHold === undefined) {
        throw s3Error(
          'NoSuchObjectLockConfiguration',
          404,
          'The specified object does not have a ObjectLock configuration',
        );
      }
      return { output: { $metadata: {}, LegalHold: { Status: version.legalHold ? 'ON' : 'OFF' } } };
    },
  };

  async function put(input: Record<string, unknown>, next: () => Promise<{ output: unknown }>) {
    const bucket = input.Bucket as string;
    const key = input.Key as string;
    const versions = await track(bucket, key);
    await demote(bucket, key, versions);
    const result = await next();
    const output = result.output as { ETag?: string; VersionId?: string };
    await currentBytes(bucket, key);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const versionId = newId();
    versions.unshift({
      versionId,
      deleteMarker: false,
      lastModified: head.LastModified ?? new Date(),
      ...(output.ETag ? { etag: output.ETag } : {}),
    });
    output.VersionId = versionId;
    return result;
  }

  async function read(
    input: Record<string, unknown>,
    next: () => Promise<{ output: unknown }>,
    getObject = false,
  ) {
    const versions = await track(input.Bucket as string, input.Key as string);
    const current = versions[0];
    if (typeof input.VersionId === 'string' && input.VersionId !== current?.versionId) {
      const kept = versions.find((version) => version.versionId === input.VersionId);
      // GetObject of a noncurrent version whose bytes are kept: a body that offers the SDK's readers.
      if (getObject && kept?.body && !kept.deleteMarker && !('Range' in input)) {
        const bytes = kept.body;
        return {
          output: {
            VersionId: kept.versionId,
            ContentLength: bytes.length,
            ...(kept.contentType ? { ContentType: kept.contentType } : {}),
            Body: {
              transformToString: async (encoding?: BufferEncoding) => bytes.toString(encoding ?? 'utf8'),
              transformToByteArray: async () => new Uint8Array(bytes),
            },
          },
        };
      }
      throw s3Error('NotImplemented', 501, 'the simulator does not read noncurrent versions');
    }
    if (!current || current.deleteMarker)
      throw s3Error('NoSuchKey', 404, 'The specified key does not exist.');
    const result = await next();
    (result.output as { VersionId?: string }).VersionId = current.versionId;
    return result;
  }

  const name = `versioned-${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      calls[command] = (calls[command] ?? 0) + 1;
      const input = args.input as Record<string, unknown>;
      const handler = handlers[command];
      if (!handler || !buckets.includes(input.Bucket as string)) return next(args);
      const { VersionId: _versionId, ...withoutVersion } = input;
      const proceed = async () => next({ ...args, input: withoutVersion });
      return (await handler(input, proceed)) as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name },
  );

  return {
    calls,
    versions: async (bucket, key) =>
      (await track(bucket, key)).map((version, index) => ({
        versionId: version.versionId,
        deleteMarker: version.deleteMarker,
        latest: index === 0,
        lastModified: version.lastModified,
      })),
    lock: async (bucket, key, versionId, lock) => {
      const versions = await track(bucket, key);
      const version =
        versionId === 'current'
          ? versions[0]
          : versions.find((candidate) => candidate.versionId === versionId);
      if (!version || version.deleteMarker) throw new Error('no such version to lock');
      Object.assign(version, lock);
    },
    backdate: async (bucket, key, at) => {
      for (const version of await track(bucket, key)) version.lastModified = at;
    },
    remove: () => {
      client.middlewareStack.remove(name);
    },
  };
}
