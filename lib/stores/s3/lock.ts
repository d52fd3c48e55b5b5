import { GetObjectLegalHoldCommand, GetObjectRetentionCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Store } from '../../datamap/schema';
import { mapConcurrently } from '../concurrency';
import type { Exemption, LocatedObject, LocatedRecord, StoreLocation } from '../types';
import { isVersionedBucket } from './objects';

/**
 * S3 Object Lock: a version under a retention period (GOVERNANCE or COMPLIANCE mode) or an Object
 * Lock legal hold cannot be deleted. S3 refuses a versioned delete of it with the error code
 * AccessDenied (per key in DeleteObjects, "Access Denied because object protected by object
 * lock"), which does not say until when: the retention is read with GetObjectRetention and
 * GetObjectLegalHold. Delete markers are never locked, and a lock does not stop new versions (a
 * rewrite) or delete markers being added on top.
 */

/** Why S3 keeps a version: until `retainUntil`, and/or while an Object Lock legal hold is on. */
export interface ObjectLock {
  retainUntil?: Date;
  /** GOVERNANCE or COMPLIANCE. */
  mode?: string;
  legalHold: boolean;
}

/** Errors that mean "no lock": none configured on the version, the bucket has no Object Lock, or it is gone. */
const NO_LOCK_ERRORS = new Set([
  'NoSuchObjectLockConfiguration',
  'ObjectLockConfigurationNotFoundError',
  'InvalidRequest',
  'NoSuchKey',
  'NoSuchVersion',
  'NotImplemented',
]);

function isNoLock(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error instanceof Error && (NO_LOCK_ERRORS.has(error.name) || status === 404);
}

async function orNoLock<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isNoLock(error)) return undefined;
    throw error;
  }
}

/**
 * The Object Lock that protects one version of an object (the current one without `versionId`):
 * a retention period not over at `now` (S3's clock decides; default the real clock), and/or a legal
 * hold that is on. Undefined when nothing protects it.
 * @throws any other error of the two reads (AccessDenied without s3:GetObjectRetention, throttling)
 */
export async function objectLockOf(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string | undefined,
  now: () => Date = () => new Date(),
): Promise<ObjectLock | undefined> {
  const target = { Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) };
  const [retention, legalHold] = await Promise.all([
    orNoLock(s3.send(new GetObjectRetentionCommand(target))),
    orNoLock(s3.send(new GetObjectLegalHoldCommand(target))),
  ]);
  const until = retention?.Retention?.RetainUntilDate;
  const retained = until !== undefined && until.getTime() > now().getTime();
  const held = legalHold?.LegalHold?.Status === 'ON';
  if (!retained && !held) return undefined;
  return {
    ...(retained ? { retainUntil: until } : {}),
    ...(retained && retention?.Retention?.Mode ? { mode: retention.Retention.Mode } : {}),
    legalHold: held,
  };
}

/** Two locks on versions of one object: it is kept until the later date, and while any legal hold is on. */
export function laterLock(a: ObjectLock | undefined, b: ObjectLock): ObjectLock {
  if (!a) return b;
  const aUntil = a.retainUntil?.getTime() ?? Number.NEGATIVE_INFINITY;
  const bUntil = b.retainUntil?.getTime() ?? Number.NEGATIVE_INFINITY;
  const later = bUntil > aUntil ? b : a;
  return { ...later, legalHold: a.legalHold || b.legalHold };
}

/** The exemption an object kept by Object Lock is reported under: its reason names Object Lock and the date. */
export function objectLockExemption(lock: ObjectLock): Exemption {
  const until = lock.retainUntil?.toISOString();
  const retention =
    until === undefined
      ? undefined
      : `S3 Object Lock retention${lock.mode ? ` (${lock.mode} mode)` : ''} until ${until}`;
  const reason =
    retention === undefined
      ? 'S3 Object Lock legal hold: a version of the object cannot be deleted until the hold is removed'
      : `${retention}${lock.legalHold ? ', and an Object Lock legal hold' : ''}: a version of the object cannot be deleted before then`;
  return { source: 'object-lock', reason, ...(until === undefined ? {} : { retainUntil: until }) };
}

/** Current versions looked up at once. */
const LOOKUP_CONCURRENCY = 8;

/**
 * Marks the located objects whose current version S3 Object Lock protects as exempt (source
 * `object-lock`, with the retain-until date), as an erasure reports them: Confirm locates again
 * after erasure, and such an object is still there because it cannot be deleted, not because the
 * erasure missed it. Only per-subject objects can be found again that way (a rewrite writes a new
 * version of a JSON-lines object, which no lock prevents). Costs nothing when no unexempted
 * object was located; otherwise one GetBucketVersioning and two reads per object.
 */
export async function exemptObjectLocked(
  store: S3Store,
  location: StoreLocation,
  s3: S3Client,
  now?: () => Date,
): Promise<StoreLocation> {
  const candidates = location.records.filter(
    (record): record is LocatedObject => record.kind === 'object' && !record.exemption,
  );
  if (candidates.length === 0 || !(await isVersionedBucket(s3, store.bucket))) return location;
  const locks = new Map(
    await mapConcurrently(candidates, LOOKUP_CONCURRENCY, async (record) => {
      const lock = await objectLockOf(s3, store.bucket, record.key, undefined, now);
      return [record, lock] as const;
    }),
  );
  let exempted = location.exempted;
  const records = location.records.map((record): LocatedRecord => {
    const lock = record.kind === 'object' ? locks.get(record) : undefined;
    if (!lock) return record;
    exempted += 1;
    return { ...record, exemption: objectLockExemption(lock) };
  });
  return { ...location, records, exempted };
}
