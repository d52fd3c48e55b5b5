import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry';
import { ObjectChangedError } from './errors';

/** The S3 calls every part of the adapter makes: listing, reading an object that may be gone, and telling errors apart. */

/** An object as listed. */
export interface ListedObject {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
}

/** Every page of a listing under `prefix` (up to `maxKeys` objects a page); throttling is retried with backoff. */
export async function* listObjectPages(
  s3: S3Client,
  bucket: string,
  prefix: string,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  maxKeys?: number,
): AsyncGenerator<ListedObject[]> {
  let continuationToken: string | undefined;
  do {
    const token = continuationToken;
    const page = await withRetry(policy, () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(maxKeys === undefined ? {} : { MaxKeys: maxKeys }),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      ),
    );
    yield (page.Contents ?? []).flatMap((object) =>
      object.Key === undefined
        ? []
        : [
            {
              key: object.Key,
              size: object.Size ?? 0,
              ...(object.ETag === undefined ? {} : { etag: object.ETag }),
              ...(object.LastModified === undefined ? {} : { lastModified: object.LastModified }),
            },
          ],
    );
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken !== undefined);
}

/**
 * Whether a listed object is a folder marker: a zero-byte key ending in "/", which the S3 console
 * and sync tools create to show a folder (`calls/+4930123456/`). It holds nobody's record, so
 * locate and read pass it by; its key can still name a subject, which is why erasure removes the
 * markers of the folders it empties.
 */
export function isFolderMarker(object: { key: string; size: number }): boolean {
  return object.size === 0 && object.key.endsWith('/');
}

/** Every object under `prefix`, page after page. */
export async function* listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<ListedObject> {
  for await (const page of listObjectPages(s3, bucket, prefix)) yield* page;
}

/** GetObject (conditional on `ifMatch` when given), or undefined when the object has gone. */
export async function getObjectOrUndefined(
  s3: S3Client,
  bucket: string,
  key: string,
  ifMatch?: string,
): Promise<GetObjectCommandOutput | undefined> {
  try {
    return await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(ifMatch === undefined ? {} : { IfMatch: ifMatch }),
      }),
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function errorStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Whether an error says the object (or key) does not exist. */
export function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || errorStatus(error) === 404)
  );
}

/** Someone else wrote the object between our read and our write (412), or S3 saw two conditional writes race (409). */
export function isWriteConflict(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'PreconditionFailed' ||
    error.name === 'ConditionalRequestConflict' ||
    error instanceof ObjectChangedError ||
    errorStatus(error) === 412 ||
    errorStatus(error) === 409
  );
}

/** Closes a body that will not be read, so its connection is released. */
export function destroyBody(body: NonNullable<GetObjectCommandOutput['Body']>): void {
  const destroyable = body as { destroy?: () => void };
  if (typeof destroyable.destroy === 'function') destroyable.destroy();
}

/**
 * Whether the bucket keeps versions (versioning Enabled or Suspended): asked once per store per
 * erasure or sweep page. A server without versioning (s3rver answers NotImplemented) keeps none;
 * any other error (AccessDenied) propagates, since then nobody knows.
 */
export async function isVersionedBucket(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return versioning.Status === 'Enabled' || versioning.Status === 'Suspended';
  } catch (error) {
    if ((error as Error).name === 'NotImplemented') return false;
    throw error;
  }
}
