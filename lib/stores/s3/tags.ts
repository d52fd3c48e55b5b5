import {
  GetObjectTaggingCommand,
  PutObjectTaggingCommand,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { type RetryPolicy, withRetry } from '../retry';
import { isNotFound } from './objects';

/**
 * One object tag set or removed, keeping the object's other tags (S3 replaces the whole set).
 * The object is read by key: a per-subject object (found under the subject's own prefix) is the
 * subject's as long as it exists.
 */

/** The value of a tag on an object; undefined when the tag is absent, null when the object is gone. */
export async function readObjectTag(
  s3: S3Client,
  bucket: string,
  key: string,
  tagKey: string,
  policy: RetryPolicy,
): Promise<string | undefined | null> {
  try {
    const tagging = await withRetry(policy, () =>
      s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
    );
    return (tagging.TagSet ?? []).find((tag) => tag.Key === tagKey)?.Value;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Sets (`value`) or removes (undefined) one tag of an object.
 * @returns `updated`, `unchanged` when it held that already, `skipped` when the object is gone
 */
export async function writeObjectTag(
  s3: S3Client,
  bucket: string,
  key: string,
  tagKey: string,
  value: string | undefined,
  policy: RetryPolicy,
): Promise<'updated' | 'unchanged' | 'skipped'> {
  let tags: Tag[];
  try {
    const tagging = await withRetry(policy, () =>
      s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
    );
    tags = tagging.TagSet ?? [];
  } catch (error) {
    if (isNotFound(error)) return 'skipped';
    throw error;
  }
  const current = tags.find((tag) => tag.Key === tagKey)?.Value;
  if (current === value) return 'unchanged';
  const others = tags.filter((tag) => tag.Key !== tagKey);
  const TagSet = value === undefined ? others : [...others, { Key: tagKey, Value: value }];
  try {
    await withRetry(policy, () =>
      s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet } })),
    );
  } catch (error) {
    if (isNotFound(error)) return 'skipped';
    throw error;
  }
  return 'updated';
}
