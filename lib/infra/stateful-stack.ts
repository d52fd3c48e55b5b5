import { Aws, type CfnElement, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { LETHE_ENV } from '../aws/config';
import type { DataMap } from '../datamap/schema';
import { HOLDS_TABLE } from '../holds/table-schema';
import { DemoStores } from './demo-stores';
import {
  buildAccessLogsBucket,
  buildAuditBucket,
  buildHmacKeysSecret,
  buildLetheBucket,
  buildLetheKey,
  buildLetheTable,
  protectAuditTable,
} from './lethe-storage';
import { logicalIdWithoutGroups } from './logical-ids';

/**
 * What the workflow stack receives from the stateful stack. Buckets are passed by name: the
 * names are built from the stack prefix, account and region (no cross-stack export), so the
 * object ARNs in IAM policies read the same in both stacks and in their acknowledgements.
 */
export interface LetheStatefulResources {
  readonly key: kms.IKey;
  readonly requestsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  readonly holdsTable: dynamodb.ITable;
  /** Keyed hashes of the identities each shared object holds (lib/lake). */
  readonly identityIndexTable?: dynamodb.ITable;
  /** The suppression list (objections, opt-outs, withdrawn consent); absent in stacks built without one. */
  readonly suppressionTable?: dynamodb.ITable;
  readonly hmacSecret: secretsmanager.ISecret;
  readonly manifestsBucketName: string;
  readonly exportsBucketName: string;
  /** The audit bucket anchors are written to (Object Lock, compliance mode). */
  readonly auditBucketName?: string;
}

export interface LetheStatefulStackProps extends StackProps {
  /** Lowercase prefix of the bucket names (letters, digits, dashes; at most 20). Default `lethe`. */
  readonly resourcePrefix?: string;
  /** The data map: with `demo`, its stores are created here too. */
  readonly dataMap?: DataMap;
  /** Also create the data map's stores (tables, buckets), so the example deploys whole. */
  readonly demo?: boolean;
  /**
   * How long S3 Object Lock keeps each anchor of the audit log from being overwritten or deleted,
   * by anyone (compliance mode). Default: the context value `auditRetentionDays`, else
   * DEFAULT_AUDIT_RETENTION (7 years).
   */
  readonly auditRetention?: Duration;
}

/** Lifetime of a locate manifest: it holds record keys, so it must not outlive its request by much. */
export const MANIFEST_EXPIRY = Duration.days(7);
/** Lifetime of an export package: the subject's download window plus a margin. */
export const EXPORT_EXPIRY = Duration.days(30);
/** How long an anchor of the audit log is locked by default: 7 years (2,557 days). */
export const DEFAULT_AUDIT_RETENTION = Duration.days(7 * 365 + 2);
/** Lifetime of S3 server access logs. */
export const ACCESS_LOG_EXPIRY = Duration.days(365);

/**
 * Everything lethe keeps: the customer-managed key, the requests, audit and holds tables, the
 * manifests and exports buckets (with a server access log bucket), and the HMAC keys secret; with
 * `demo`, the data map's stores (DemoStores). Everything is built with the secure defaults of
 * lib/infra/lethe-storage.ts: encrypted with the key (access logs: S3-managed, as log delivery
 * requires), TLS only, no public access, point-in-time recovery, retained on delete.
 */
export class LetheStatefulStack extends Stack implements LetheStatefulResources {
  public readonly key: kms.Key;
  public readonly requestsTable: dynamodb.Table;
  public readonly auditTable: dynamodb.Table;
  public readonly holdsTable: dynamodb.Table;
  public readonly identityIndexTable: dynamodb.Table;
  public readonly suppressionTable: dynamodb.Table;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly manifestsBucket: s3.Bucket;
  public readonly exportsBucket: s3.Bucket;
  public readonly manifestsBucketName: string;
  public readonly exportsBucketName: string;
  public readonly auditBucket: s3.Bucket;
  public readonly auditBucketName: string;
  public readonly hmacSecret: secretsmanager.Secret;
  /** With `demo`: the data map's tables by store id. */
  public readonly demoTables: ReadonlyMap<string, dynamodb.Table>;
  /** With `demo`: the data map's buckets by store id. */
  public readonly demoBuckets: ReadonlyMap<string, s3.Bucket>;

  constructor(scope: Construct, id: string, props: LetheStatefulStackProps = {}) {
    super(scope, id, props);
    // Access logs are delivered under a bucket policy (not the legacy log-delivery ACL), so the
    // log bucket keeps ACLs disabled. Set before any bucket exists.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    const prefix = props.resourcePrefix ?? 'lethe';
    if (!/^[a-z][a-z0-9-]{0,19}$/.test(prefix)) {
      throw new Error(
        `resourcePrefix "${prefix}" must be 1-20 lowercase letters, digits or dashes, starting with a letter`,
      );
    }
    const bucketName = (purpose: string) => `${prefix}-${purpose}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;

    const key = buildLetheKey(this, 'Key', prefix);
    this.key = key;
    this.requestsTable = buildLetheTable(this, 'RequestsTable', {
      key,
      partitionKey: { name: 'requestId', type: 'S' },
    });
    this.auditTable = buildLetheTable(this, 'AuditTable', {
      key,
      partitionKey: { name: 'stream', type: 'S' },
      sortKey: { name: 'seq', type: 'N' },
    });
    this.holdsTable = buildLetheTable(this, 'HoldsTable', {
      key,
      partitionKey: { name: HOLDS_TABLE.partitionKey, type: 'S' },
    });
    // Sparse: only active holds carry the attribute, so the steps read them without the history.
    this.holdsTable.addGlobalSecondaryIndex({
      indexName: HOLDS_TABLE.activeIndex.name,
      partitionKey: { name: HOLDS_TABLE.activeIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    // Keyed subject hashes and scopes only (lib/rights/suppression.ts): kept for as long as the objection stands.
    this.suppressionTable = buildLetheTable(this, 'SuppressionTable', {
      key,
      partitionKey: { name: 'subjectHash', type: 'S' },
      sortKey: { name: 'scope', type: 'S' },
    });

    this.identityIndexTable = buildLetheTable(this, 'IdentityIndexTable', {
      key,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
    });

    const accessLogs = buildAccessLogsBucket(
      this,
      'AccessLogsBucket',
      bucketName('access-logs'),
      ACCESS_LOG_EXPIRY,
    );
    this.accessLogsBucket = accessLogs;
    this.manifestsBucketName = bucketName('manifests');
    this.manifestsBucket = buildLetheBucket(this, 'ManifestsBucket', {
      key,
      accessLogs,
      bucketName: this.manifestsBucketName,
      expiration: MANIFEST_EXPIRY,
    });
    this.exportsBucketName = bucketName('exports');
    this.exportsBucket = buildLetheBucket(this, 'ExportsBucket', {
      key,
      accessLogs,
      bucketName: this.exportsBucketName,
      expiration: EXPORT_EXPIRY,
    });
    this.auditBucketName = bucketName('audit');
    const retentionDays = this.node.tryGetContext('auditRetentionDays');
    this.auditBucket = buildAuditBucket(this, 'AuditBucket', {
      key,
      accessLogs,
      bucketName: this.auditBucketName,
      retention:
        props.auditRetention ??
        (retentionDays === undefined ? DEFAULT_AUDIT_RETENTION : Duration.days(Number(retentionDays))),
    });
    protectAuditTable(this.auditTable);
    this.hmacSecret = buildHmacKeysSecret(this, 'HmacKeys', key);

    let demo: DemoStores | undefined;
    if (props.demo) {
      if (!props.dataMap) throw new Error('demo: true needs the dataMap whose stores to create');
      demo = new DemoStores(this, 'DemoStores', { dataMap: props.dataMap, key, accessLogs });
    }
    this.demoTables = demo?.tables ?? new Map();
    this.demoBuckets = demo?.buckets ?? new Map();

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    output('RequestsTableName', this.requestsTable.tableName, LETHE_ENV.requestsTable);
    output('AuditTableName', this.auditTable.tableName, LETHE_ENV.auditTable);
    output('HoldsTableName', this.holdsTable.tableName, LETHE_ENV.holdsTable);
    output('IdentityIndexTableName', this.identityIndexTable.tableName, LETHE_ENV.identityIndexTable);
    output('SuppressionTableName', this.suppressionTable.tableName, LETHE_ENV.suppressionTable);
    output('ManifestsBucketName', this.manifestsBucket.bucketName, LETHE_ENV.manifestsBucket);
    output('ExportsBucketName', this.exportsBucket.bucketName, LETHE_ENV.exportsBucket);
    output('AuditBucketName', this.auditBucket.bucketName, LETHE_ENV.auditBucket);
    output('KeyArn', this.key.keyArn, LETHE_ENV.kmsKeyId);
    output('HmacSecretArn', this.hmacSecret.secretArn, LETHE_ENV.hmacSecretArn);
  }

  /**
   * The demo's stores were first created in this stack itself: they keep the logical ids they
   * were deployed with (lib/infra/logical-ids.ts), since a new id would replace a table.
   */
  protected override allocateLogicalId(element: CfnElement): string {
    return (
      logicalIdWithoutGroups(this, element, (scope) => scope instanceof DemoStores) ??
      super.allocateLogicalId(element)
    );
  }
}
