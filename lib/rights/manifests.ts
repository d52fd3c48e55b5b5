import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { LetheDeps } from '../deps';
import type { LocatedRecord } from '../stores/types';

/**
 * What Locate found in one store, kept in the manifests bucket rather than in the state:
 * it may be large and it holds keys that can be identifiers. Deleted when the request ends.
 */
export interface StoreManifest {
  version: 1;
  requestId: string;
  storeId: string;
  createdAt: string;
  /**
   * When Locate began listing (lethe's clock): Confirm reads again only the shared objects
   * modified since, besides those Locate found the subject in. Absent in older manifests.
   */
  startedAt?: string;
  located: number;
  exempted: number;
  records: LocatedRecord[];
  /**
   * Records only claimed links reached that wait for review (left out of `records`), with the
   * keyed hashes of the claimed identities that found them.
   */
  review?: { records: number; claimedBy: string[] };
  /** Records only claimed links reached that staff excluded (left out of `records`). */
  excluded?: number;
}

type ManifestDeps = Pick<LetheDeps, 'clients' | 'resources'>;

/** The key of a request's manifest for one store (and `phase`: locate or confirm). */
export function manifestKey(
  requestId: string,
  storeId: string,
  phase: 'locate' | 'confirm' = 'locate',
): string {
  return `requests/${requestId}/${phase}/${storeId}.json`;
}

/** Server-side encryption parameters: SSE-KMS with lethe's key on AWS, none locally. */
export function encryptionParameters(resources: LetheDeps['resources']) {
  return resources.kmsKeyId
    ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: resources.kmsKeyId, BucketKeyEnabled: true }
    : {};
}

/** Writes a manifest and returns its key. */
export async function writeManifest(
  deps: ManifestDeps,
  manifest: StoreManifest,
  key: string,
): Promise<string> {
  await deps.clients.s3.send(
    new PutObjectCommand({
      Bucket: deps.resources.manifestsBucket,
      Key: key,
      Body: JSON.stringify(manifest),
      ContentType: 'application/json',
      ...encryptionParameters(deps.resources),
    }),
  );
  return key;
}

/** Reads a manifest written by writeManifest. */
export async function readManifest(deps: ManifestDeps, key: string): Promise<StoreManifest> {
  const response = await deps.clients.s3.send(
    new GetObjectCommand({ Bucket: deps.resources.manifestsBucket, Key: key }),
  );
  const text = await response.Body?.transformToString('utf8');
  return JSON.parse(text ?? '') as StoreManifest;
}

/** Deletes every manifest of a request: they hold keys that can be identifiers. */
export async function deleteManifests(deps: ManifestDeps, requestId: string): Promise<number> {
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await deps.clients.s3.send(
      new ListObjectsV2Command({
        Bucket: deps.resources.manifestsBucket,
        Prefix: `requests/${requestId}/`,
        ContinuationToken: token,
      }),
    );
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
    if (keys.length > 0) {
      await deps.clients.s3.send(
        new DeleteObjectsCommand({
          Bucket: deps.resources.manifestsBucket,
          Delete: { Objects: keys, Quiet: true },
        }),
      );
      deleted += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}
