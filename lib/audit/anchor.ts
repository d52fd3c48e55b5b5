import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
import { type AuditDeps, auditHead, GENESIS_HASH } from './log';

/**
 * Anchors: the head of the audit log (sequence number and hash) written to a bucket where no one
 * can rewrite it. On AWS the bucket has S3 Object Lock in compliance mode and versioning, so an
 * anchor cannot be overwritten or deleted before its retention ends, by anyone, the account root
 * included; a chain rewritten after an anchor was taken no longer matches it, and a chain cut
 * short is shorter than the anchor says. Locally the bucket lives on the local S3 server, which
 * enforces neither Object Lock nor versioning: there anchors show what verification does, not
 * what it proves.
 */

export const ANCHOR_PREFIX = 'anchors/';

/** The chain head as written to the audit bucket. */
export const auditAnchorSchema = z.object({
  version: z.literal(1),
  seq: z.number().int().min(0),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** When the head event was appended (absent for an empty log). */
  headAt: z.string().nullable(),
  anchoredAt: z.string(),
  /** Who took it: `lethe:sweep` after a sweep, or the name given to `lethe audit anchor`. */
  by: z.string(),
});
export type AuditAnchor = z.infer<typeof auditAnchorSchema>;

/** An anchor as read back, with where it is kept. */
export interface StoredAnchor extends AuditAnchor {
  key: string;
  versionId?: string;
}

/** Where anchors are kept: the audit bucket, and whether it is versioned (on AWS it is). */
export interface AnchorStore {
  s3: S3Client;
  bucket: string;
  /** Read every version of every anchor, so an overwritten or hidden (delete-marked) anchor still counts. */
  versioned: boolean;
}

/** An anchor that cannot be read or parsed: names its key, never guesses. */
export class InvalidAnchorError extends Error {
  override readonly name = 'InvalidAnchorError';
}

/** The key of an anchor: sortable by sequence number, unique by the moment it was taken. */
export function anchorKey(seq: number, anchoredAt: string): string {
  return `${ANCHOR_PREFIX}${String(seq).padStart(12, '0')}-${anchoredAt.replace(/[:.]/g, '')}.json`;
}

/**
 * Writes the current head of the audit log (seq, hash, time) to the audit bucket. With Content-MD5,
 * which S3 requires for writes to a bucket with Object Lock; the bucket's default retention applies.
 */
export async function anchorAuditLog(
  deps: Pick<AuditDeps, 'doc' | 'auditTable' | 'now'>,
  store: AnchorStore,
  by: string,
): Promise<StoredAnchor> {
  const head = await auditHead(deps);
  const anchor: AuditAnchor = {
    version: 1,
    seq: head?.seq ?? 0,
    hash: head?.hash ?? GENESIS_HASH,
    headAt: head?.at ?? null,
    anchoredAt: deps.now().toISOString(),
    by,
  };
  const body = `${JSON.stringify(anchor)}\n`;
  const key = anchorKey(anchor.seq, anchor.anchoredAt);
  await store.s3.send(
    new PutObjectCommand({
      Bucket: store.bucket,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      ContentMD5: createHash('md5').update(body).digest('base64'),
    }),
  );
  return { ...anchor, key };
}

async function readAnchor(store: AnchorStore, key: string, versionId?: string): Promise<StoredAnchor> {
  let text: string;
  try {
    const object = await store.s3.send(
      new GetObjectCommand({
        Bucket: store.bucket,
        Key: key,
        ...(versionId ? { VersionId: versionId } : {}),
      }),
    );
    text = (await object.Body?.transformToString()) ?? '';
  } catch (error) {
    throw new InvalidAnchorError(`anchor ${key} cannot be read: ${(error as Error).name}`, { cause: error });
  }
  let parsed: ReturnType<typeof auditAnchorSchema.safeParse>;
  try {
    parsed = auditAnchorSchema.safeParse(JSON.parse(text));
  } catch {
    throw new InvalidAnchorError(`anchor ${key}${versionId ? ` (version ${versionId})` : ''} is not JSON`);
  }
  if (!parsed.success) {
    throw new InvalidAnchorError(`anchor ${key}${versionId ? ` (version ${versionId})` : ''} is malformed`);
  }
  return { ...parsed.data, key, ...(versionId ? { versionId } : {}) };
}

/** The keys (and versions) of anchors at or after `fromSeq`, read from their key names. */
async function anchorObjects(
  store: AnchorStore,
  fromSeq: number,
): Promise<{ key: string; versionId?: string }[]> {
  const objects: { key: string; versionId?: string }[] = [];
  const wanted = (key: string | undefined): key is string => {
    if (!key?.startsWith(ANCHOR_PREFIX)) return false;
    const seq = Number.parseInt(key.slice(ANCHOR_PREFIX.length, ANCHOR_PREFIX.length + 12), 10);
    return !Number.isFinite(seq) || seq >= fromSeq;
  };
  if (store.versioned) {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await store.s3.send(
        new ListObjectVersionsCommand({
          Bucket: store.bucket,
          Prefix: ANCHOR_PREFIX,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      for (const version of page.Versions ?? []) {
        if (wanted(version.Key))
          objects.push({ key: version.Key, ...(version.VersionId ? { versionId: version.VersionId } : {}) });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return objects;
  }
  let token: string | undefined;
  do {
    const page = await store.s3.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: ANCHOR_PREFIX, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (wanted(object.Key)) objects.push({ key: object.Key });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/**
 * Every anchor of the audit log at or after `fromSeq`, oldest sequence first. On a versioned
 * bucket every version counts: one written over an anchor, or hidden behind a delete marker,
 * still binds the chain. An anchor's body must agree with its key.
 * @throws InvalidAnchorError when an anchor cannot be read or parsed
 */
export async function listAnchors(store: AnchorStore, fromSeq = 0): Promise<StoredAnchor[]> {
  const anchors: StoredAnchor[] = [];
  for (const object of await anchorObjects(store, fromSeq)) {
    const anchor = await readAnchor(store, object.key, object.versionId);
    if (
      object.key.slice(ANCHOR_PREFIX.length, ANCHOR_PREFIX.length + 12) !==
      String(anchor.seq).padStart(12, '0')
    ) {
      throw new InvalidAnchorError(`anchor ${object.key} says seq ${anchor.seq}, which its key does not`);
    }
    if (anchor.seq >= fromSeq) anchors.push(anchor);
  }
  return anchors.sort((a, b) => a.seq - b.seq || a.anchoredAt.localeCompare(b.anchoredAt));
}

/** Where the deps' anchors go, or undefined when the deployment has no audit bucket. */
export function anchorStoreOf(deps: {
  clients: { s3: S3Client };
  resources: { auditBucket?: string; auditBucketVersioned?: boolean };
}): AnchorStore | undefined {
  const bucket = deps.resources.auditBucket;
  if (!bucket) return undefined;
  return { s3: deps.clients.s3, bucket, versioned: deps.resources.auditBucketVersioned ?? false };
}
