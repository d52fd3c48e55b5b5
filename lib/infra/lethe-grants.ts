import { Aws } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { HOLDS_TABLE } from '../holds/table-schema';
import type { RequestStep } from '../workflow/request-steps';
import type { SweepStep } from '../workflow/sweep-steps';
import { acknowledgeWildcardResource } from './nag';
import type { RoleGrants } from './role-grants';

/**
 * Least-privilege access of each lethe function to lethe's own resources: the table says what
 * each step's code does (lib/rights/*), and each grant names its actions and resources.
 */

/**
 * Every lethe function: a step of either workflow, intake, and the two that watch the workflow
 * (executionEnded marks a request failed when its execution ended outside the failure path;
 * overdueRequests counts requests past their due date).
 */
export type LetheFunctionName =
  | RequestStep
  | SweepStep
  | 'intake'
  | 'executionEnded'
  | 'overdueRequests'
  | 'suppressionCheck'
  | 'indexObjects'
  | 'indexBatch';

export interface OwnAccess {
  /** Requests table item actions (the in-flight lock lives in the same table). */
  requests: ('GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Scan')[];
  /** Appends to the audit log: Query for the last event, conditional PutItem of the next. */
  audit: boolean;
  /** put: locate writes manifests; get: export/erase read them; delete: the ending steps remove them. */
  manifests: ('put' | 'get' | 'delete')[];
  /** put: the export package; head: confirm checks it; delete: an erasure deletes earlier packages of the person. */
  exports: ('put' | 'head' | 'delete')[];
  /** Reads the HMAC keys (subject hashes; the hmac mask strategy). */
  hmacKeys: boolean;
  /**
   * Reads the active legal holds: Query of the holds table's active-holds index, and Scan of the
   * table until every hold placed before the index is in it (lib/holds/active-index.ts).
   */
  holds: boolean;
  /** Writes anchors (the head of the audit log) to the audit bucket, under `anchors/`. */
  anchors?: boolean;
  /** Publishes notices for the subject to the account's default EventBridge bus. */
  notify?: boolean;
  /** The identity index of shared-object stores: read (locate, confirm) or keep (erase, sweep). */
  identityIndex?: 'read' | 'write';
  /** The suppression list: read (Query, GetItem), or write (Query and BatchWriteItem of new entries). */
  suppression?: 'read' | 'write';
  /**
   * Restriction records of JSON-lines lines, kept in the holds table by id: read (BatchGetItem),
   * or write (placed and released with conditional PutItem and UpdateItem).
   */
  restrictions?: 'read' | 'write';
}

/** A function that hashes identities and touches none of lethe's records: only the table of its own use is added. */
const HASHES_ONLY: OwnAccess = {
  requests: [],
  audit: false,
  manifests: [],
  exports: [],
  hmacKeys: true,
  holds: false,
};

/** The sweep's last step, completed or failed: appends its event, then anchors the audit log's head. */
const SWEEP_RECORDER: OwnAccess = {
  requests: [],
  audit: true,
  manifests: [],
  exports: [],
  hmacKeys: false,
  holds: false,
  anchors: true,
};

/**
 * Intake and Verify read the HMAC keys to hash the subject (the request record, the in-flight
 * lock), and Resolve to record the keyed hashes of the identities links reached. Locate, Erase
 * and Confirm read the legal holds and hash the request's identities to match subject holds and
 * to mark records only claimed links reached (so they read the HMAC keys too; Erase also for the
 * hmac mask strategy; Confirm also to find earlier export packages of the person); Export indexes
 * its package by those hashes; SweepPage matches holds and seals its continuation token.
 */
export const OWN_ACCESS: Record<LetheFunctionName, OwnAccess> = {
  intake: {
    // Update/Delete and manifests: a request submitted again whose end was cut short is ended
    // (its record's mark, locks and manifests; see settleEndedRequest).
    requests: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    audit: true,
    manifests: ['delete'],
    exports: [],
    hmacKeys: true,
    holds: false,
  },
  verify: {
    requests: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    // request.failed, when it finds the request holding a subject's lock dead; request.received of
    // a request whose submitting process died; the end of a request holding the subject whose end
    // was cut short, with its manifests (see settleEndedRequest)
    audit: true,
    manifests: ['delete'],
    exports: [],
    hmacKeys: true,
    holds: false,
  },
  resolve: {
    requests: ['GetItem', 'UpdateItem'],
    audit: false,
    manifests: [],
    exports: [],
    hmacKeys: true,
    holds: false,
  },
  locateStore: {
    requests: ['GetItem'],
    // request.located, per store
    audit: true,
    manifests: ['put'],
    exports: [],
    hmacKeys: true,
    holds: true,
    identityIndex: 'read',
  },
  // request.review-requested: the per-store counts and the keyed hashes Locate noted in the manifests
  recordReview: {
    requests: ['GetItem', 'UpdateItem'],
    audit: true,
    manifests: ['get'],
    exports: [],
    hmacKeys: false,
    holds: false,
  },
  exportPackage: {
    requests: ['GetItem', 'UpdateItem'],
    // request.exported, with the package digest
    audit: true,
    manifests: ['get'],
    exports: ['put'],
    // hmacKeys: the package is indexed by the keyed hashes of the subject, for a later erasure
    hmacKeys: true,
    holds: false,
    // the subject's lines are shown restricted while lethe's restriction records say so
    restrictions: 'read',
  },
  eraseStore: {
    // UpdateItem: what each store's erasure did is appended to the request's erasure log.
    requests: ['GetItem', 'UpdateItem'],
    // request.erased, per store
    audit: true,
    manifests: ['get'],
    exports: [],
    hmacKeys: true,
    holds: true,
    // what it rewrote is indexed again, the subject's hashes taken back
    identityIndex: 'write',
  },
  // request.suppression-recorded; the list is read first so a rerun keeps the first entry's time
  recordSuppression: {
    requests: ['GetItem'],
    audit: true,
    manifests: [],
    exports: [],
    hmacKeys: true,
    holds: false,
    suppression: 'write',
  },
  // request.rectified, request.restricted, request.restriction-lifted, request.consent-withdrawn, per store
  applyStore: {
    requests: ['GetItem'],
    audit: true,
    manifests: ['get'],
    exports: [],
    // restriction records of JSON-lines lines are keyed by the subject's keyed hashes
    hmacKeys: true,
    holds: false,
    restrictions: 'write',
  },
  // answers downstream systems: hashes the identities asked about, reads the list, writes nothing
  suppressionCheck: { ...HASHES_ONLY, suppression: 'read' },
  confirm: {
    // Delete/Update: the index of earlier export packages of the person, and those requests' records.
    requests: ['GetItem', 'UpdateItem', 'DeleteItem'],
    // request.confirmed and request.certificate-issued
    audit: true,
    // get: an indexed store's manifest names the objects Erase rewrote, which Confirm reads again;
    // a rectification's or restriction's records are read again by the keys in its manifests
    manifests: ['get'],
    exports: ['head', 'delete'],
    hmacKeys: true,
    holds: true,
    identityIndex: 'read',
    // an objection's subject must be on the list; rectifications and restrictions read manifests
    suppression: 'read',
    restrictions: 'read',
  },
  recordOutcome: {
    requests: ['GetItem', 'UpdateItem', 'DeleteItem'],
    audit: true,
    manifests: ['delete'],
    exports: [],
    hmacKeys: false,
    holds: false,
    // the notice for the subject: request completed or rejected
    notify: true,
  },
  recordFailure: {
    requests: ['GetItem', 'UpdateItem', 'DeleteItem'],
    audit: true,
    manifests: ['delete'],
    exports: [],
    hmacKeys: false,
    holds: false,
  },
  // sweep.started: written before any page runs
  planSweep: { requests: [], audit: true, manifests: [], exports: [], hmacKeys: false, holds: false },
  // sweep.page: written by each page after its writes
  // identityIndex: the objects it deletes leave the index
  sweepPage: {
    requests: [],
    audit: true,
    manifests: [],
    exports: [],
    hmacKeys: true,
    holds: true,
    identityIndex: 'write',
  },
  // Scan: the requests table for requests nobody finished; closing them releases locks and manifests.
  // DeleteItem also purges the records of requests ended past their retention (request.purged),
  // with any export package of theirs still stored.
  reapRequests: {
    requests: ['Scan', 'GetItem', 'UpdateItem', 'DeleteItem'],
    audit: true,
    manifests: ['delete'],
    exports: ['delete'],
    hmacKeys: false,
    holds: false,
  },
  recordSweep: SWEEP_RECORDER,
  // marks the request failed (a conditional update), request.failed
  executionEnded: {
    requests: ['GetItem', 'UpdateItem'],
    audit: true,
    manifests: [],
    exports: [],
    hmacKeys: false,
    holds: false,
  },
  // counts open and overdue requests: a scan of the requests table, nothing written
  overdueRequests: {
    requests: ['Scan'],
    audit: false,
    manifests: [],
    exports: [],
    hmacKeys: false,
    holds: false,
  },
  recordSweepFailure: SWEEP_RECORDER,
  // the identity indexer: S3 events of the indexed stores; hashes the identities an object holds
  indexObjects: { ...HASHES_ONLY, identityIndex: 'write' },
  // a batch of an index build (and its finish, the watermark): as the indexer
  indexBatch: { ...HASHES_ONLY, identityIndex: 'write' },
};

/** The functions OWN_ACCESS gives the HMAC keys: the only ones the secret's readers may be. */
export function functionsWithHmacKeys(): LetheFunctionName[] {
  return (Object.keys(OWN_ACCESS) as LetheFunctionName[]).filter((name) => OWN_ACCESS[name].hmacKeys);
}

/** Key prefixes lethe writes under (lib/rights/manifests.ts, lib/rights/export.ts). */
export const MANIFEST_PREFIX = 'requests/';
export const EXPORT_PREFIX = 'exports/';
/** lib/audit/anchor.ts ANCHOR_PREFIX (infra does not import the SDK-bound audit code). */
export const ANCHOR_PREFIX = 'anchors/';

export interface OwnResources {
  key: kms.IKey;
  requestsTable: dynamodb.ITable;
  auditTable: dynamodb.ITable;
  holdsTable: dynamodb.ITable;
  hmacSecret: secretsmanager.ISecret;
  manifestsBucket: s3.IBucket;
  exportsBucket: s3.IBucket;
  /** The audit bucket (Object Lock); absent in stacks built without one. */
  auditBucket?: s3.IBucket;
  /** The identity index table; absent in stacks built without one. */
  identityIndexTable?: dynamodb.ITable;
  /** The suppression list; absent in stacks built without one. */
  suppressionTable?: dynamodb.ITable;
}

/** The names of lethe's own tables and buckets every lethe function is told (LetheFunctionProps.resources). */
export function ownResourceNames(own: OwnResources) {
  return {
    requestsTable: own.requestsTable.tableName,
    auditTable: own.auditTable.tableName,
    holdsTable: own.holdsTable.tableName,
    manifestsBucket: own.manifestsBucket.bucketName,
    exportsBucket: own.exportsBucket.bucketName,
  };
}

function writes(access: OwnAccess, writesEncryptedStores: boolean): boolean {
  return (
    writesEncryptedStores ||
    access.requests.some((action) => action !== 'GetItem' && action !== 'Scan') ||
    access.audit ||
    access.manifests.includes('put') ||
    access.exports.includes('put')
  );
}

/**
 * Grants one function its access to lethe's resources, as OWN_ACCESS says.
 * @param writesEncryptedStores the function writes data map stores encrypted with lethe's key (demo)
 */
export function grantOwnAccess(
  grants: RoleGrants,
  name: LetheFunctionName,
  resources: OwnResources,
  options: { writesEncryptedStores?: boolean } = {},
): void {
  const access = OWN_ACCESS[name];
  const add = (actions: string[], arns: string[], conditions?: Record<string, unknown>) =>
    grants.allow(actions, arns, conditions);
  const objects = (bucket: s3.IBucket, prefix: string, why: string) => {
    const arn = bucket.arnForObjects(`${prefix}*`);
    acknowledgeWildcardResource(grants.role, arn, why);
    return arn;
  };

  if (access.requests.length > 0) {
    add(
      access.requests.map((action) => `dynamodb:${action}`),
      [resources.requestsTable.tableArn],
    );
  }
  if (access.audit) add(['dynamodb:Query', 'dynamodb:PutItem'], [resources.auditTable.tableArn]);
  if (access.holds) {
    add(['dynamodb:Query'], [`${resources.holdsTable.tableArn}/index/${HOLDS_TABLE.activeIndex.name}`]);
    add(['dynamodb:Scan'], [resources.holdsTable.tableArn]);
  }
  if (access.restrictions) {
    add(
      access.restrictions === 'read'
        ? ['dynamodb:BatchGetItem']
        : ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      [resources.holdsTable.tableArn],
    );
  }
  if (access.identityIndex && resources.identityIndexTable) {
    const read = ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'];
    const write = ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    add(access.identityIndex === 'write' ? [...read, ...write] : read, [
      resources.identityIndexTable.tableArn,
    ]);
  }
  if (access.suppression && resources.suppressionTable) {
    add(
      access.suppression === 'read'
        ? ['dynamodb:Query', 'dynamodb:GetItem']
        : ['dynamodb:Query', 'dynamodb:BatchWriteItem'],
      [resources.suppressionTable.tableArn],
    );
  }

  const manifestObjects = (action: string) =>
    objects(
      resources.manifestsBucket,
      MANIFEST_PREFIX,
      `Manifests are written per request under "${MANIFEST_PREFIX}<requestId>/"; ${action} is limited to that prefix of lethe's manifests bucket.`,
    );
  if (access.manifests.includes('put')) add(['s3:PutObject'], [manifestObjects('writing')]);
  if (access.manifests.includes('get')) add(['s3:GetObject'], [manifestObjects('reading')]);
  if (access.manifests.includes('delete')) {
    add(['s3:ListBucket'], [resources.manifestsBucket.bucketArn], {
      StringLike: { 's3:prefix': [`${MANIFEST_PREFIX}*`] },
    });
    add(['s3:DeleteObject'], [manifestObjects('deleting')]);
  }
  const exportObjects = (action: string) =>
    objects(
      resources.exportsBucket,
      EXPORT_PREFIX,
      `Export packages are "${EXPORT_PREFIX}<requestId>.zip"; ${action} is limited to that prefix of lethe's exports bucket.`,
    );
  if (access.exports.includes('put')) {
    // A large package is uploaded in parts; a failed upload is aborted.
    add(['s3:PutObject', 's3:AbortMultipartUpload'], [exportObjects('writing')]);
  }
  if (access.exports.includes('head')) add(['s3:GetObject'], [exportObjects('checking a package')]);
  if (access.exports.includes('delete'))
    add(['s3:DeleteObject'], [exportObjects('deleting earlier packages')]);

  if (access.anchors && resources.auditBucket) {
    // PutObject only: the bucket's default retention locks each anchor; no function reads, overwrites or deletes one.
    add(
      ['s3:PutObject'],
      [
        objects(
          resources.auditBucket,
          ANCHOR_PREFIX,
          `Anchors are "${ANCHOR_PREFIX}<seq>-<time>.json", new keys each time; writing is limited to that prefix of lethe's audit bucket.`,
        ),
      ],
    );
  }
  if (access.hmacKeys) add(['secretsmanager:GetSecretValue'], [resources.hmacSecret.secretArn]);
  if (access.notify) {
    add(
      ['events:PutEvents'],
      [`arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`],
    );
  }

  // The key is only ever used by DynamoDB, S3 and Secrets Manager on the function's behalf.
  const viaService = {
    StringEquals: {
      'kms:ViaService': ['dynamodb', 's3', 'secretsmanager'].map(
        (service) => `${service}.${Aws.REGION}.amazonaws.com`,
      ),
    },
  };
  add(['kms:Decrypt', 'kms:DescribeKey'], [resources.key.keyArn], viaService);
  if (writes(access, options.writesEncryptedStores ?? false)) {
    add(['kms:Encrypt', 'kms:GenerateDataKey'], [resources.key.keyArn], viaService);
  }
}
