import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { locatePrefixes, sweepPrefixes } from '../datamap/prefixes';
import type { DataMap, DynamoStore, S3Store, Store } from '../datamap/schema';
import type { RequestStep } from '../workflow/request-steps';
import { acknowledgeWildcardResource } from './nag';

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
export const DATAMAP_ACCESS: Record<RequestStep, 'none' | 'read' | 'erase'> = {
  verify: 'none',
  resolve: 'read',
  locateStore: 'read',
  recordReview: 'none',
  exportPackage: 'read',
  eraseStore: 'erase',
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

function objectArns(role: iam.IRole, imported: Extract<ImportedStore, { kind: 's3' }>): string[] {
  return objectPrefixes(imported.store).map((prefix) => {
    const arn = imported.bucket.arnForObjects(`${prefix}*`);
    acknowledgeWildcardResource(
      role,
      arn,
      `Object-level S3 permissions name objects; the subject's keys are only known once located, so this is limited to the data map's prefix "${prefix}" of store ${imported.store.id}.`,
    );
    return arn;
  });
}

/** ListBucket-like actions on a bucket, limited to the given key prefixes unless one is the whole bucket. */
function listStatement(actions: string[], bucket: s3.IBucket, prefixes: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions,
    resources: [bucket.bucketArn],
    ...(prefixes.every((prefix) => prefix.length > 0)
      ? { conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } } }
      : {}),
  });
}

/** The Object Lock reads of a version S3 refused to delete (or of an object found again after erasure). */
const OBJECT_LOCK_READS = ['s3:GetObjectRetention', 's3:GetObjectLegalHold'];

/** Read access to one store: what resolve, locate, export and confirm need. */
export function grantStoreRead(role: iam.IRole, imported: ImportedStore): void {
  if (imported.kind === 'dynamodb') {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: queriedArns(imported) }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [imported.table.tableArn],
      }),
    );
    return;
  }
  role.addToPrincipalPolicy(
    listStatement(['s3:ListBucket'], imported.bucket, objectPrefixes(imported.store)),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: objectArns(role, imported) }),
  );
}

/**
 * What confirm needs beyond reading an S3 store: whether the bucket keeps versions, and the
 * Object Lock of an object found again after erasure (it may be one nobody can delete yet).
 */
export function grantObjectLockRead(role: iam.IRole, imported: ImportedStore): void {
  if (imported.kind !== 's3') return;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetBucketVersioning'], resources: [imported.bucket.bucketArn] }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: OBJECT_LOCK_READS, resources: objectArns(role, imported) }),
  );
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
export function grantStoreErase(role: iam.IRole, imported: ImportedStore): void {
  const actions = eraseActions(imported.store);
  if (actions.length === 0) return;
  const resources = imported.kind === 'dynamodb' ? [imported.table.tableArn] : objectArns(role, imported);
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
  if (imported.kind === 's3') {
    // Versioned buckets: erasure deletes every version of a key, listed under the store's prefixes.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketVersioning'],
        resources: [imported.bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      listStatement(['s3:ListBucketVersions'], imported.bucket, objectPrefixes(imported.store)),
    );
  }
}

/** The actions the retention sweep takes on one store (none without a retention rule). */
export function sweepActions(store: Store): { read: string[]; write: string[] } {
  const retention = store.retention;
  if (!retention) return { read: [], write: [] };
  if (store.kind === 's3') {
    const jsonLines = store.locate.some((rule) => 'jsonLines' in rule);
    // Versioned buckets: versions are listed and deleted by id, and a refused one's lock is read.
    return {
      read: [
        's3:ListBucket',
        's3:ListBucketVersions',
        ...(jsonLines ? ['s3:GetObject'] : []),
        ...OBJECT_LOCK_READS,
      ],
      write: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
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
export function grantStoreSweep(role: iam.IRole, imported: ImportedStore): void {
  const retention = imported.store.retention;
  if (!retention) return;
  if (imported.kind === 'dynamodb') {
    const table = imported.table.tableArn;
    if (retention.expiryIndex) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${table}/index/${retention.expiryIndex.name}`],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:BatchGetItem'], resources: [table] }),
      );
    } else {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: [table] }));
    }
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: sweepActions(imported.store).write, resources: [table] }),
    );
    return;
  }
  const prefixes = sweepPrefixes(imported.store);
  role.addToPrincipalPolicy(
    // Versioned buckets are purged version by version.
    new iam.PolicyStatement({ actions: ['s3:GetBucketVersioning'], resources: [imported.bucket.bucketArn] }),
  );
  const listing = ['s3:ListBucket', 's3:ListBucketVersions'];
  role.addToPrincipalPolicy(listStatement(listing, imported.bucket, prefixes));
  const objects = prefixes.map((prefix) => {
    const arn = imported.bucket.arnForObjects(`${prefix}*`);
    acknowledgeWildcardResource(
      role,
      arn,
      `A retention sweep deletes whichever objects under the sweep prefix "${prefix}" of store ${imported.store.id} are past their retention period; their keys are only known when listed, so object permissions are limited to that prefix.`,
    );
    return arn;
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: sweepActions(imported.store).write.concat(
        sweepActions(imported.store).read.filter((action) => !listing.includes(action)),
      ),
      resources: objects,
    }),
  );
}

/** Grants the sweep function its access to every store with a retention rule, and nothing else. */
export function grantSweepAccess(role: iam.IRole, stores: readonly ImportedStore[]): void {
  for (const imported of stores) grantStoreSweep(role, imported);
}

/** Grants one workflow step its access to every store, as DATAMAP_ACCESS says. */
export function grantDataMapAccess(
  role: iam.IRole,
  step: RequestStep,
  stores: readonly ImportedStore[],
): void {
  const access = DATAMAP_ACCESS[step];
  for (const imported of stores) {
    if (access === 'read') grantStoreRead(role, imported);
    else if (access === 'erase') grantStoreErase(role, imported);
    if (step === 'confirm') grantObjectLockRead(role, imported);
  }
}
