import { Aws } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { locatePrefixes, sharedObjectPrefixes, sweepPrefixes } from '../datamap/prefixes';
import type { DataMap, DynamoStore, S3Store, Store } from '../datamap/schema';
import type { RequestStep } from '../workflow/request-steps';
import { acknowledgeWildcardResource } from './nag';
import type { RoleGrants } from './role-grants';

/**
 * Least-privilege access of each workflow step to the stores the data map names. The stores
 * are the company's own: they are imported by name, never created or changed by the stack,
 * and every permission is spelled out per action and per table, index or prefix.
 *
 * - resolve, locateStore, exportPackage, confirm: read only (Query on the table or index a
 *   locate rule names, GetItem/BatchGetItem on the table; ListBucket and GetObject under the
 *   data map's prefixes).
 * - eraseStore: only the stores it erases, only what the store's erase rule needs: delete
 *   (BatchWriteItem/DeleteItem; DeleteObject), mask (GetItem/UpdateItem), rewrite
 *   (GetObject/PutObject/DeleteObject and object tags). A store every record of which is
 *   exempt is never written to, so it gets nothing.
 * - sweepPage (retention): only the stores with a retention rule, only what the rule needs:
 *   Query on the expiry index and BatchGetItem on the table (re-reading index hits), or Scan;
 *   BatchWriteItem to delete, or GetItem/UpdateItem to anonymise; ListBucket and DeleteObject
 *   under the sweep prefixes (GetObject too for JSON-lines objects, read to find held subjects).
 * - Versioned buckets: erasing and sweeping S3 stores also list and delete object versions
 *   (ListBucketVersions under the same prefixes, DeleteObjectVersion) and read the Object Lock of
 *   a version S3 refused to delete (GetObjectRetention, GetObjectLegalHold); confirm reads the
 *   Object Lock of objects found again after erasure. GetBucketVersioning tells them apart.
 * - Stores encrypted with a customer-managed key (`kmsKeyArn`): kms:Decrypt for the steps above
 *   that touch a DynamoDB store or read an S3 store's objects, kms:GenerateDataKey too for erasure
 *   rewriting objects; only through the store's service (kms:ViaService). Deleting objects needs
 *   no key: an S3 store erased or swept by deletion gives eraseStore or sweepPage no key.
 * - applyStore: only the stores whose rules a rectification, restriction or consent withdrawal
 *   uses (rectify, restrict, consent): GetItem/UpdateItem on the table (each update is
 *   conditional on what was read); GetObjectTagging/PutObjectTagging under the prefixes of an S3
 *   store with a restriction tag. confirm reads those tags again.
 * - every other function: nothing.
 */

/** A data map store imported into a stack. */
export type ImportedStore =
  | { kind: 'dynamodb'; store: DynamoStore; table: dynamodb.ITable }
  | { kind: 's3'; store: S3Store; bucket: s3.IBucket };

/** Imports every store of the data map by its table or bucket name. */
export function importStores(scope: Construct, dataMap: Pick<DataMap, 'stores'>): ImportedStore[] {
  return dataMap.stores.map((store): ImportedStore => {
    if (store.kind === 'dynamodb') {
      return {
        kind: 'dynamodb',
        store,
        table: dynamodb.Table.fromTableName(scope, `Store-${store.id}`, store.table),
      };
    }
    return { kind: 's3', store, bucket: s3.Bucket.fromBucketName(scope, `Store-${store.id}`, store.bucket) };
  });
}

/** How each workflow step may touch the data map's stores. */
export const DATAMAP_ACCESS: Record<RequestStep, 'none' | 'read' | 'erase' | 'apply'> = {
  verify: 'none',
  resolve: 'read',
  locateStore: 'read',
  recordReview: 'none',
  exportPackage: 'read',
  eraseStore: 'erase',
  recordSuppression: 'none',
  applyStore: 'apply',
  confirm: 'read',
  recordOutcome: 'none',
  recordFailure: 'none',
};

/** Whether erasure ever writes to the store: false when an exemption without `when` keeps every record. */
export function erasesRecords(store: Store): boolean {
  return !store.exemptions.some((exemption) => exemption.when === undefined);
}

/** The fixed key prefixes (before any placeholder) under which a store's objects can be located. */
export function objectPrefixes(store: S3Store): string[] {
  return locatePrefixes(store);
}

/** Table and index ARNs a store's locate rules query. */
export function queriedArns(imported: Extract<ImportedStore, { kind: 'dynamodb' }>): string[] {
  const arns = imported.store.locate.map((rule) =>
    rule.index ? `${imported.table.tableArn}/index/${rule.index}` : imported.table.tableArn,
  );
  return [...new Set(arns)];
}

function objectArns(
  grants: RoleGrants,
  imported: Extract<ImportedStore, { kind: 's3' }>,
  prefixes = objectPrefixes(imported.store),
): string[] {
  return prefixes.map((prefix) => {
    const arn = imported.bucket.arnForObjects(`${prefix}*`);
    acknowledgeWildcardResource(
      grants.role,
      arn,
      `Object-level S3 permissions name objects; the subject's keys are only known once located, so this is limited to the data map's prefix "${prefix}" of store ${imported.store.id}.`,
    );
    return arn;
  });
}

/** ListBucket-like actions on a bucket, limited to the given key prefixes unless one is the whole bucket. */
function allowListing(grants: RoleGrants, actions: string[], bucket: s3.IBucket, prefixes: string[]): void {
  grants.allow(
    actions,
    [bucket.bucketArn],
    prefixes.every((prefix) => prefix.length > 0)
      ? { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } }
      : undefined,
  );
}

/** The Object Lock reads of a version S3 refused to delete (or of an object found again after erasure). */
const OBJECT_LOCK_READS = ['s3:GetObjectRetention', 's3:GetObjectLegalHold'];

/** What a step does with a store's customer-managed key: read items or objects, or write objects. */
type KeyUse = 'decrypt' | 'encrypt';

/**
 * Use of the store's customer-managed key (`kmsKeyArn`), only through the store's service: every
 * DynamoDB access decrypts the table key, reading an S3 object decrypts its data key, writing one
 * generates a data key. Nothing for a store without one.
 */
function allowStoreKey(grants: RoleGrants, imported: ImportedStore, use: KeyUse): void {
  const key = imported.store.kmsKeyArn;
  if (!key) return;
  const service = imported.kind === 'dynamodb' ? 'dynamodb' : 's3';
  grants.allow(use === 'encrypt' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'], [key], {
    StringEquals: { 'kms:ViaService': [`${service}.${Aws.REGION}.amazonaws.com`] },
  });
}

/** Read access to one store: what resolve, locate, export and confirm need. */
export function grantStoreRead(grants: RoleGrants, imported: ImportedStore): void {
  allowStoreKey(grants, imported, 'decrypt');
  if (imported.kind === 'dynamodb') {
    grants.allow(['dynamodb:Query'], queriedArns(imported));
    grants.allow(['dynamodb:GetItem', 'dynamodb:BatchGetItem'], [imported.table.tableArn]);
    return;
  }
  allowListing(grants, ['s3:ListBucket'], imported.bucket, objectPrefixes(imported.store));
  grants.allow(['s3:GetObject'], objectArns(grants, imported));
}

/**
 * What the identity indexer needs of the indexed S3 stores: their shared objects' bodies, and
 * each store's key to decrypt them. It never lists: S3 events name the objects.
 */
export function grantIndexerAccess(grants: RoleGrants, stores: readonly ImportedStore[]): void {
  for (const imported of stores) {
    if (imported.kind !== 's3' || imported.store.identityIndex !== true) continue;
    allowStoreKey(grants, imported, 'decrypt');
    grants.allow(['s3:GetObject'], objectArns(grants, imported, sharedObjectPrefixes(imported.store)));
  }
}

/**
 * What confirm needs beyond reading an S3 store: whether the bucket keeps versions, and the
 * Object Lock of an object found again after erasure (it may be one nobody can delete yet).
 */
export function grantObjectLockRead(grants: RoleGrants, imported: ImportedStore): void {
  if (imported.kind !== 's3') return;
  grants.allow(['s3:GetBucketVersioning'], [imported.bucket.bucketArn]);
  grants.allow(OBJECT_LOCK_READS, objectArns(grants, imported));
}

/** The actions erasing one store takes, by its erase rule (none for an all-exempt store). */
export function eraseActions(store: Store): string[] {
  if (!erasesRecords(store)) return [];
  switch (store.erase.action) {
    case 'delete':
      // S3, versioned buckets: every version is deleted by id, and a refused one's lock is read.
      return store.kind === 'dynamodb'
        ? ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem']
        : ['s3:DeleteObject', 's3:DeleteObjectVersion', ...OBJECT_LOCK_READS];
    case 'mask':
      // GetItem: a mask is conditional on the item still holding the located identity.
      return ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
    case 'rewrite':
      // The object is read, written back without the subject's lines (keeping its tags), or
      // deleted when nothing else is left in it; in a versioned bucket its earlier versions are
      // deleted by id, and a refused one's lock is read.
      return [
        's3:GetObject',
        's3:GetObjectTagging',
        's3:PutObject',
        's3:PutObjectTagging',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        ...OBJECT_LOCK_READS,
      ];
  }
}

/** Erase access to one store: only what its erase rule needs, nothing for an all-exempt store. */
export function grantStoreErase(grants: RoleGrants, imported: ImportedStore): void {
  const actions = eraseActions(imported.store);
  if (actions.length === 0) return;
  const resources = imported.kind === 'dynamodb' ? [imported.table.tableArn] : objectArns(grants, imported);
  grants.allow(actions, resources);
  // Deleting an S3 object needs no key; rewriting one reads it and writes it back.
  if (imported.kind === 'dynamodb') allowStoreKey(grants, imported, 'decrypt');
  else if (actions.includes('s3:PutObject')) allowStoreKey(grants, imported, 'encrypt');
  if (imported.kind === 's3') {
    // Versioned buckets: erasure deletes every version of a key, listed under the store's prefixes.
    grants.allow(['s3:GetBucketVersioning'], [imported.bucket.bucketArn]);
    allowListing(grants, ['s3:ListBucketVersions'], imported.bucket, objectPrefixes(imported.store));
  }
}

/** Whether a rectification, restriction or consent withdrawal ever writes to the store. */
export function appliesRights(store: Store): boolean {
  return store.kind === 'dynamodb'
    ? store.rectify !== undefined || store.restrict !== undefined || (store.consent?.length ?? 0) > 0
    : store.restrict?.tag !== undefined || store.rectify !== undefined;
}

/**
 * What ApplyStore may do to one store: update items (conditional on what it read) of a DynamoDB
 * store with rectify, restrict or consent rules; read and write the tags of an S3 store's objects
 * under its prefixes when it marks restriction with a tag; rewrite JSON-lines objects as erasure's
 * rewrite does when it declares rectifiable fields. Nothing for any other store.
 */
export function grantStoreApply(grants: RoleGrants, imported: ImportedStore): void {
  if (!appliesRights(imported.store)) return;
  allowStoreKey(grants, imported, 'decrypt');
  if (imported.kind === 'dynamodb') {
    grants.allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [imported.table.tableArn]);
    return;
  }
  if (imported.store.restrict?.tag)
    grants.allow(['s3:GetObjectTagging', 's3:PutObjectTagging'], objectArns(grants, imported));
  if (imported.store.rectify) {
    // A corrected line is written back by the same conditional rewrite erasure uses (the object
    // keeps its tags; in a versioned bucket the earlier versions, holding the old value, go).
    const rewrite = [
      's3:GetObject',
      's3:GetObjectTagging',
      's3:PutObject',
      's3:PutObjectTagging',
      's3:DeleteObjectVersion',
      ...OBJECT_LOCK_READS,
    ];
    grants.allow(rewrite, objectArns(grants, imported));
    grants.allow(['s3:GetBucketVersioning'], [imported.bucket.bucketArn]);
    allowListing(grants, ['s3:ListBucketVersions'], imported.bucket, objectPrefixes(imported.store));
    allowStoreKey(grants, imported, 'encrypt');
  }
}

/** The actions the retention sweep takes on one store (none without a retention rule). */
export function sweepActions(store: Store): { read: string[]; write: string[] } {
  const retention = store.retention;
  if (!retention) return { read: [], write: [] };
  if (store.kind === 's3') {
    const sharedObjects = store.locate.some((rule) => 'jsonLines' in rule || 'parquet' in rule);
    const restrictsLines = store.locate.some((rule) => 'jsonLines' in rule) && store.restrict?.lines === true;
    // Versioned buckets: versions are listed and deleted by id, and a refused one's lock is read.
    return {
      read: [
        's3:ListBucket',
        's3:ListBucketVersions',
        ...(sharedObjects ? ['s3:GetObject'] : []),
        // Restricted objects are kept: an expired object's tags say whether it is; an object
        // rewritten with only restricted lines keeps its tags.
        ...(store.restrict?.tag || restrictsLines ? ['s3:GetObjectTagging'] : []),
        ...OBJECT_LOCK_READS,
      ],
      write: [
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        // An expired object holding restricted lines is written back with only those.
        ...(restrictsLines ? ['s3:PutObject', 's3:PutObjectTagging'] : []),
      ],
    };
  }
  return {
    read: retention.expiryIndex ? ['dynamodb:Query', 'dynamodb:BatchGetItem'] : ['dynamodb:Scan'],
    write:
      retention.action === 'delete'
        ? ['dynamodb:BatchWriteItem']
        : ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  };
}

/**
 * Sweep access to one store: nothing without a retention rule; otherwise the reads the sweep
 * makes (the expiry index, or a Scan of the table; the listing under the sweep prefixes) and the
 * writes its action needs (delete, or anonymise by the mask rules), on that store only.
 */
export function grantStoreSweep(grants: RoleGrants, imported: ImportedStore): void {
  const retention = imported.store.retention;
  if (!retention) return;
  // Deleting an S3 object needs no key; JSON-lines objects are read to find held subjects.
  const reads = sweepActions(imported.store).read;
  if (sweepActions(imported.store).write.includes('s3:PutObject')) allowStoreKey(grants, imported, 'encrypt');
  else if (imported.kind === 'dynamodb' || reads.includes('s3:GetObject'))
    allowStoreKey(grants, imported, 'decrypt');
  if (imported.kind === 'dynamodb') {
    const table = imported.table.tableArn;
    if (retention.expiryIndex) {
      grants.allow(['dynamodb:Query'], [`${table}/index/${retention.expiryIndex.name}`]);
      grants.allow(['dynamodb:BatchGetItem'], [table]);
    } else {
      grants.allow(['dynamodb:Scan'], [table]);
    }
    grants.allow(sweepActions(imported.store).write, [table]);
    return;
  }
  const prefixes = sweepPrefixes(imported.store);
  // Versioned buckets are purged version by version.
  grants.allow(['s3:GetBucketVersioning'], [imported.bucket.bucketArn]);
  const listing = ['s3:ListBucket', 's3:ListBucketVersions'];
  allowListing(grants, listing, imported.bucket, prefixes);
  const objects = prefixes.map((prefix) => {
    const arn = imported.bucket.arnForObjects(`${prefix}*`);
    acknowledgeWildcardResource(
      grants.role,
      arn,
      `A retention sweep deletes whichever objects under the sweep prefix "${prefix}" of store ${imported.store.id} are past their retention period; their keys are only known when listed, so object permissions are limited to that prefix.`,
    );
    return arn;
  });
  grants.allow(
    sweepActions(imported.store).write.concat(
      sweepActions(imported.store).read.filter((action) => !listing.includes(action)),
    ),
    objects,
  );
}

/** Grants the sweep function its access to every store with a retention rule, and nothing else. */
export function grantSweepAccess(grants: RoleGrants, stores: readonly ImportedStore[]): void {
  for (const imported of stores) grantStoreSweep(grants, imported);
}

/** Grants one workflow step its access to every store, as DATAMAP_ACCESS says. */
export function grantDataMapAccess(
  grants: RoleGrants,
  step: RequestStep,
  stores: readonly ImportedStore[],
): void {
  const access = DATAMAP_ACCESS[step];
  for (const imported of stores) {
    if (access === 'read') grantStoreRead(grants, imported);
    else if (access === 'erase') grantStoreErase(grants, imported);
    else if (access === 'apply') grantStoreApply(grants, imported);
    if (step === 'confirm') grantObjectLockRead(grants, imported);
    // Confirm reads a restriction's tags again; an export shows restricted objects as such.
    if (
      (step === 'confirm' || step === 'exportPackage') &&
      imported.kind === 's3' &&
      imported.store.restrict?.tag
    )
      grants.allow(['s3:GetObjectTagging'], objectArns(grants, imported));
  }
}
