import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  type GetObjectCommandOutput,
  GetObjectTaggingCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Store } from '../../datamap/schema';
import { isRetryableError, type RetryPolicy, waitBeforeRetry } from '../retry';
import type { LocatedLines } from '../types';
import { ObjectChangedError, RewriteRefusedError } from './errors';
import { matchersOf, type Normaliser, parseLine } from './lines';
import type { ObjectLock } from './lock';
import { destroyBody, getObjectOrUndefined, isNotFound, isWriteConflict } from './objects';
import { bodyChunks, type LinePiece, splitLines } from './stream';
import { deleteOtherVersions } from './versions';

/**
 * Rewriting a JSON-lines object with some lines dropped or replaced (erasure drops the subject's
 * lines, rectification replaces them with corrected ones, a sweep of restricted lines drops
 * everyone else's): every other line byte for byte, conditional on the ETag read, started over
 * when a concurrent write wins. In a versioned bucket the object's earlier versions (which still
 * hold the lines as they were) are deleted afterwards, all but the version written; versions S3
 * Object Lock protects are reported instead.
 */

/** Rewrites of objects up to this size filter into memory from one read; larger ones stream (see rewriteOnce). */
export const DEFAULT_REWRITE_BUFFER_LIMIT = 8 * 1024 * 1024;
/** Output of a rewrite is coalesced into chunks of about this size instead of one write per line. */
const OUTPUT_CHUNK_BYTES = 64 * 1024;
const NEWLINE = Buffer.from('\n');

/** How rewrites retry, match lines and buffer. */
export interface RewriteOptions {
  policy: RetryPolicy;
  normalise: Normaliser;
  bufferLimit: number;
  /** The bucket keeps versions: delete the earlier ones after writing (see versions.ts). */
  versioned: boolean;
  /** Clock to judge Object Lock retention by; default the real one. */
  now?: () => Date;
}

/**
 * What a line edit makes of one line: keep it as it is, drop it, or replace it with other bytes
 * (one line, no newline). `count` names labels tallied per line (see EditOutcome.tally).
 */
export type LineEditResult =
  | { kind: 'keep'; count?: readonly string[] }
  | { kind: 'drop' }
  | { kind: 'replace'; bytes: Buffer; count?: readonly string[] };

/**
 * Decides what becomes of one line. Called once per line per read (a large object is read twice,
 * and a conflict starts over), so it must answer the same for the same bytes and keep no count of
 * its own: counts go in the result's `count` labels.
 */
export type LineEdit = (bytes: Buffer, firstLine: boolean) => LineEditResult;

/**
 * An edit's result: records removed and replaced in the current object (and, when `locked`, the
 * Object Lock that keeps an earlier version as it was), the records kept and labels the edit
 * counted in the read that was written (or found nothing to write), or failure after the retry
 * policy was spent (`refused`: a rewrite lethe will not attempt); attempts either way.
 */
export type EditOutcome =
  | {
      ok: true;
      removed: number;
      replaced: number;
      kept: number;
      tally: ReadonlyMap<string, number>;
      attempts: number;
      locked?: ObjectLock;
      change?: ObjectChange;
    }
  | { ok: false; attempts: number; change?: ObjectChange; refused?: RewriteRefusedError };

/** A rewrite without the subject's records: an edit whose only change is dropping them. */
export type RewriteOutcome =
  | { ok: true; removed: number; attempts: number; locked?: ObjectLock; change?: ObjectChange }
  | { ok: false; attempts: number; change?: ObjectChange; refused?: RewriteRefusedError };

/** The ETag a rewrite's writes started from and the one they left (none: the object was deleted). */
export interface ObjectChange {
  from: string;
  to?: string;
}

/**
 * Records removed and replaced by the writes that succeeded, summed over the attempts of one
 * rewrite, what they changed, and the last complete read's records kept and labels counted.
 */
export interface RewriteProgress {
  removed: number;
  replaced: number;
  kept: number;
  tally: Map<string, number>;
  change?: ObjectChange;
}

/**
 * Notes a write from one ETag to another. Writes chain (a retry rewrites what the previous attempt
 * wrote) into one change from the first ETag; a write from any other ETag (someone wrote between)
 * replaces it, so the change never spans a version lethe did not read.
 */
export function noteWrite(progress: RewriteProgress, from: string, to: string | undefined): void {
  const chained = progress.change !== undefined && progress.change.to === from;
  progress.change = {
    from: chained ? (progress.change?.from ?? from) : from,
    ...(to === undefined ? {} : { to }),
  };
}

/** Rewrites one object without the subject's lines, starting over (bounded) when a concurrent write wins. */
export async function rewriteObject(
  store: S3Store,
  s3: S3Client,
  key: string,
  group: LocatedLines[],
  options: RewriteOptions,
): Promise<RewriteOutcome> {
  const matchers = matchersOf(group);
  const dropSubjectLine: LineEdit = (bytes, firstLine) => {
    const line = parseLine(bytes, firstLine, matchers, options.normalise);
    return line.kind === 'record' && line.matcher >= 0 ? { kind: 'drop' } : { kind: 'keep' };
  };
  const outcome = await editObject(store, s3, key, dropSubjectLine, options);
  if (!outcome.ok) return outcome;
  const { replaced: _replaced, kept: _kept, tally: _tally, ...rewritten } = outcome;
  return rewritten;
}

/**
 * Rewrites one object as `edit` says line by line, starting over (bounded) when a concurrent write
 * wins. Nothing is written when the edit drops and replaces nothing. With `keepOnly`, an object
 * the edit would leave with no line is left as it is (the caller decides what becomes of it);
 * otherwise it is deleted.
 */
export async function editObject(
  store: S3Store,
  s3: S3Client,
  key: string,
  edit: LineEdit,
  options: RewriteOptions & { keepOnly?: boolean },
): Promise<EditOutcome> {
  return retryRewrite(options, (progress) => rewriteOnce(store, s3, key, edit, options, progress));
}

/**
 * Runs rounds of a rewrite until one succeeds, starting over (bounded by the policy) when a
 * concurrent write wins or the error is worth retrying. A {@link RewriteRefusedError} ends it at
 * once, reported in the outcome.
 */
export async function retryRewrite(
  options: Pick<RewriteOptions, 'policy'>,
  round: (progress: RewriteProgress) => Promise<ObjectLock | undefined>,
): Promise<EditOutcome> {
  // A write that succeeded stays done when a later step (deleting old versions) starts over.
  const progress: RewriteProgress = { removed: 0, replaced: 0, kept: 0, tally: new Map() };
  for (let attempt = 1; ; attempt += 1) {
    try {
      const locked = await round(progress);
      return {
        ok: true,
        removed: progress.removed,
        replaced: progress.replaced,
        kept: progress.kept,
        tally: progress.tally,
        attempts: attempt,
        ...(locked ? { locked } : {}),
        ...(progress.change ? { change: progress.change } : {}),
      };
    } catch (error) {
      const change = progress.change ? { change: progress.change } : {};
      if (error instanceof RewriteRefusedError)
        return { ok: false, attempts: attempt, refused: error, ...change };
      const again = isWriteConflict(error) || isRetryableError(error);
      if (!again || attempt >= options.policy.maxAttempts) return { ok: false, attempts: attempt, ...change };
      await waitBeforeRetry(options.policy, attempt);
    }
  }
}

interface FilterStats {
  removed: number;
  replaced: number;
  kept: number;
  bytes: number;
  tally: Map<string, number>;
}

function newStats(): FilterStats {
  return { removed: 0, replaced: 0, kept: 0, bytes: 0, tally: new Map() };
}

/**
 * The object's bytes as the edit leaves them. Kept lines are joined with "\n" and a final "\n" is
 * written only if the object ended with one, so removing the last line does not add or drop a
 * trailing newline. Lines too long to parse cannot be matched (locate counts them as malformed), so
 * they stream through unchanged.
 */
async function* filteredChunks(
  pieces: AsyncIterable<LinePiece>,
  edit: LineEdit,
  stats: FilterStats,
): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  let outBytes = 0;
  let lineNo = 0;
  let inLongLine = false;
  let endsWithNewline = false;
  const emit = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    out.push(bytes);
    outBytes += bytes.length;
    stats.bytes += bytes.length;
  };
  const startKeptLine = () => {
    if (stats.kept > 0) emit(NEWLINE);
    stats.kept += 1;
  };
  for await (const piece of pieces) {
    if (piece.kind === 'line') {
      lineNo += 1;
      endsWithNewline = piece.newline;
      const result = edit(piece.bytes, lineNo === 1);
      if (result.kind === 'drop') {
        stats.removed += 1;
      } else {
        startKeptLine();
        emit(result.kind === 'replace' ? result.bytes : piece.bytes);
        if (result.kind === 'replace') stats.replaced += 1;
        for (const label of result.count ?? []) stats.tally.set(label, (stats.tally.get(label) ?? 0) + 1);
      }
    } else {
      if (!inLongLine) {
        lineNo += 1;
        startKeptLine();
        inLongLine = true;
      }
      emit(piece.bytes);
      if (piece.end) {
        inLongLine = false;
        endsWithNewline = piece.newline;
      }
    }
    if (outBytes >= OUTPUT_CHUNK_BYTES) {
      yield Buffer.concat(out);
      out = [];
      outBytes = 0;
    }
  }
  if (stats.kept > 0 && endsWithNewline) emit(NEWLINE);
  if (outBytes > 0) yield Buffer.concat(out);
}

/** Passes chunks through, failing the stream if they do not add up to exactly `expected` bytes. */
async function* exactLength(chunks: AsyncIterable<Buffer>, expected: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > expected) throw new ObjectChangedError('the object grew between the two reads of a rewrite');
    yield chunk;
  }
  if (total !== expected)
    throw new ObjectChangedError('the object shrank between the two reads of a rewrite');
}

/**
 * One read-filter-write round; adds the lines it removed to `progress` once written. Conflicts
 * surface as errors the caller retries. In a versioned bucket it then deletes the object's other
 * versions (see deleteOtherVersions), also when the current version holds nothing of the subject
 * (a rewrite that died before that step, or a version written since locate), and returns the
 * Object Lock that keeps any of them.
 *
 * Objects up to the buffer limit are filtered into memory from one read and written with PutObject.
 * Larger ones are read twice: once to learn whether anything is to be removed (so an object without
 * the subject's lines is never rewritten, which would reset its LastModified and with it the
 * retention clock of everyone else's lines), then again, pinned to the first read's ETag, streamed
 * through the filter into a multipart Upload (bounded memory: a few 5 MiB parts in flight).
 *
 * Multipart matters beyond memory: the new object only comes into being at CompleteMultipartUpload,
 * after the read has finished, and a failed read aborts the upload. Streaming the read straight into
 * a PutObject of the same key would, on s3rver, truncate the file being read and store a partial
 * object (S3 itself writes atomically, but lethe must not lose data locally either).
 */
async function rewriteOnce(
  store: S3Store,
  s3: S3Client,
  key: string,
  edit: LineEdit,
  options: RewriteOptions & { keepOnly?: boolean },
  progress: RewriteProgress,
): Promise<ObjectLock | undefined> {
  const { bufferLimit } = options;
  const object = await getObjectOrUndefined(s3, store.bucket, key);
  if (!object) return commitRewrite(store, s3, key, options, progress, undefined);
  const etag = object.ETag;
  if (etag === undefined) {
    if (object.Body) destroyBody(object.Body);
    throw new TypeError('GetObject returned no ETag: a conditional rewrite is impossible');
  }
  const stats = newStats();
  const filtered = filteredChunks(splitLines(bodyChunks(object.Body), store), edit, stats);

  let buffered: Buffer | undefined;
  if ((object.ContentLength ?? Number.POSITIVE_INFINITY) <= bufferLimit) {
    const chunks: Buffer[] = [];
    for await (const chunk of filtered) chunks.push(chunk);
    buffered = Buffer.concat(chunks);
  } else {
    for await (const _chunk of filtered) {
      // sizing pass: only the stats are needed
    }
  }
  progress.tally = stats.tally;
  progress.kept = stats.kept;
  const read = { etag, response: object, removed: stats.removed, replaced: stats.replaced, kept: stats.kept };
  return commitRewrite(store, s3, key, options, progress, read, async (params) => {
    if (buffered !== undefined)
      return s3.send(new PutObjectCommand({ ...params, Body: buffered, ContentLength: buffered.length }));
    const again = await getObjectOrUndefined(s3, store.bucket, key, etag);
    // s3rver ignores If-Match on reads, so the version is also checked here.
    if (!again || again.ETag !== etag) {
      if (again?.Body) destroyBody(again.Body);
      throw new ObjectChangedError('the object changed between the two reads of a rewrite');
    }
    const chunks = filteredChunks(splitLines(bodyChunks(again.Body), store), edit, newStats());
    return uploadStream(s3, params, Readable.from(exactLength(chunks, stats.bytes), { objectMode: false }));
  });
}

/** What one read of a rewrite found: the version read and how many records go, change and stay. */
export interface RewriteRead {
  etag: string;
  /** The GetObject response of the version read: its VersionId, and the headers to keep. */
  response: GetObjectCommandOutput;
  removed: number;
  /** Records written back changed (rectification); none when only removing. */
  replaced?: number;
  kept: number;
}

/** A conditional write of the new object (params carry Bucket, Key, IfMatch and the kept headers). */
export type RewriteWrite = (params: PutObjectCommandInput) => Promise<{ ETag?: string; VersionId?: string }>;

/**
 * The write half of a rewrite round, the same for every format; adds the records removed and
 * replaced to `progress` once written. Nothing to remove or replace: nothing is written (which would reset the object's
 * LastModified and with it the retention clock of everyone else's records). Nothing left: the
 * version read is deleted, conditionally. Otherwise `write` stores the new object conditional on
 * the ETag read. In a versioned bucket the object's other versions are deleted afterwards (see
 * deleteOtherVersions), also when nothing was removed (a rewrite that died before that step, or a
 * version written since locate), and the Object Lock keeping any of them is returned. `read`
 * undefined: the object has gone.
 */
export async function commitRewrite(
  store: S3Store,
  s3: S3Client,
  key: string,
  options: Pick<RewriteOptions, 'policy' | 'versioned' | 'now'> & { keepOnly?: boolean },
  progress: RewriteProgress,
  read: RewriteRead | undefined,
  write?: RewriteWrite,
): Promise<ObjectLock | undefined> {
  const { versioned } = options;
  const clearVersions = (expected: { keep: string } | { drop: string }) =>
    versioned
      ? deleteOtherVersions(s3, store.bucket, key, expected, options.policy, options.now)
      : Promise.resolve(undefined);
  // Gone (in a versioned bucket: a delete marker on top, the old versions still there).
  if (!read) return clearVersions({ drop: 'delete-marker' });
  const { etag } = read;
  const versionOf = (written: string | undefined): string => {
    if (written === undefined)
      throw new TypeError('S3 returned no VersionId for a write to a versioned bucket (or a read of one)');
    return written;
  };
  const readVersion = read.response.VersionId;
  if (versioned) versionOf(readVersion);
  const replaced = read.replaced ?? 0;
  const unchanged = read.removed === 0 && replaced === 0;
  if (unchanged) return versioned ? clearVersions({ keep: versionOf(readVersion) }) : undefined;
  // Nothing would be left and the caller keeps such objects: its decision, not a delete here.
  if (options.keepOnly && read.kept === 0) return undefined;
  const countWritten = () => {
    progress.removed += read.removed;
    progress.replaced += replaced;
  };

  try {
    if (read.kept === 0) {
      if (versioned) {
        // Deleting the version read, by its id, is as conditional as If-Match: a newer one stays.
        const locked = await clearVersions({ drop: versionOf(readVersion) });
        countWritten();
        noteWrite(progress, etag, undefined);
        return locked;
      }
      await s3.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key, IfMatch: etag }));
      countWritten();
      noteWrite(progress, etag, undefined);
      return undefined;
    }
    if (!write) throw new TypeError('a rewrite that keeps records needs a write');
    const params: PutObjectCommandInput = {
      Bucket: store.bucket,
      Key: key,
      IfMatch: etag,
      ...(await preservedAttributes(s3, store.bucket, key, read.response)),
    };
    const written = await write(params);
    countWritten();
    noteWrite(progress, etag, written.ETag);
    return versioned ? clearVersions({ keep: versionOf(written.VersionId) }) : undefined;
  } catch (error) {
    // Deleted by someone else since our read: the subject's records are gone with it; never
    // recreate it. In a versioned bucket they are not gone: start over, to delete the versions left.
    if (isNotFound(error) && !versioned) {
      countWritten();
      noteWrite(progress, etag, undefined);
      return undefined;
    }
    if (isNotFound(error)) throw new ObjectChangedError('the object was deleted during the rewrite');
    throw error;
  }
}

/**
 * Streams a body into a conditional multipart Upload (IfMatch reaches PutObject for one part or
 * CompleteMultipartUpload for several, where S3 checks it). The new object only comes into being
 * once the body has ended, and a failed body aborts the upload.
 */
export async function uploadStream(
  s3: S3Client,
  params: PutObjectCommandInput,
  body: Readable,
): Promise<{ ETag?: string; VersionId?: string }> {
  let readError: unknown;
  body.once('error', (error) => {
    readError = error;
  });
  try {
    const done = await new Upload({ client: s3, params: { ...params, Body: body } }).done();
    return {
      ...(done.ETag ? { ETag: done.ETag } : {}),
      ...(done.VersionId ? { VersionId: done.VersionId } : {}),
    };
  } catch (error) {
    // A failed read is the cause worth retrying on; Upload may report its clean-up instead (s3rver
    // rejects AbortMultipartUpload with MethodNotAllowed).
    throw readError ?? error;
  } finally {
    // Closes the read when the upload failed before consuming it.
    body.destroy();
  }
}

/** What PutObject would otherwise reset: headers, user metadata, tags and encryption settings. */
export async function preservedAttributes(
  s3: S3Client,
  bucket: string,
  key: string,
  object: GetObjectCommandOutput,
): Promise<Partial<PutObjectCommandInput>> {
  const attributes: Partial<PutObjectCommandInput> = {
    ...(object.ContentType === undefined ? {} : { ContentType: object.ContentType }),
    ...(object.ContentEncoding === undefined ? {} : { ContentEncoding: object.ContentEncoding }),
    ...(object.ContentLanguage === undefined ? {} : { ContentLanguage: object.ContentLanguage }),
    ...(object.ContentDisposition === undefined ? {} : { ContentDisposition: object.ContentDisposition }),
    ...(object.CacheControl === undefined ? {} : { CacheControl: object.CacheControl }),
    ...(object.Metadata === undefined ? {} : { Metadata: object.Metadata }),
    ...(object.StorageClass === undefined ? {} : { StorageClass: object.StorageClass }),
    ...(object.ServerSideEncryption === undefined
      ? {}
      : { ServerSideEncryption: object.ServerSideEncryption }),
    ...(object.SSEKMSKeyId === undefined ? {} : { SSEKMSKeyId: object.SSEKMSKeyId }),
    ...(object.BucketKeyEnabled === undefined ? {} : { BucketKeyEnabled: object.BucketKeyEnabled }),
  };
  if ((object.TagCount ?? 0) > 0) {
    const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    const tags = new URLSearchParams();
    for (const tag of tagging.TagSet ?? []) {
      if (tag.Key !== undefined) tags.append(tag.Key, tag.Value ?? '');
    }
    attributes.Tagging = tags.toString();
  }
  return attributes;
}
