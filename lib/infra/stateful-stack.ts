import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { sweepPrefixes } from '../datamap/prefixes';
import type { DataMap, DynamoStore, KeyAttribute, S3Store } from '../datamap/schema';
import { maxPeriodDays } from '../retention/rules';
import { functionsWithHmacKeys } from './lethe-grants';
import { acknowledgeRule } from './nag';

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
  readonly hmacSecret: secretsmanager.ISecret;
  readonly manifestsBucketName: string;
  readonly exportsBucketName: string;
}

export interface LetheStatefulStackProps extends StackProps {
  /** Lowercase prefix of the bucket names (letters, digits, dashes; at most 20). Default `lethe`. */
  readonly resourcePrefix?: string;
  /** The data map: with `demo`, its stores are created here too. */
  readonly dataMap?: DataMap;
  /** Also create the data map's stores (tables, buckets), so the example deploys whole. */
  readonly demo?: boolean;
}

/** Lifetime of a locate manifest: it holds record keys, so it must not outlive its request by much. */
export const MANIFEST_EXPIRY = Duration.days(7);
/** Lifetime of an export package: the subject's download window plus a margin. */
export const EXPORT_EXPIRY = Duration.days(30);
/** Lifetime of S3 server access logs. */
export const ACCESS_LOG_EXPIRY = Duration.days(365);
/**
 * With `demo`, the TTL attribute of the data map's tables that have a retention rule. DynamoDB
 * deletes an item some time (typically within days) after the epoch-SECONDS time in this
 * attribute; whoever writes the item must set it (retention timestamp + period, or later). It is
 * a native backstop only: the sweep is what purges on time, honours legal holds, and is audited.
 * TTL deletes do neither, so a held item must not carry the attribute.
 */
export const DEMO_TTL_ATTRIBUTE = 'expiresAt';

const ATTRIBUTE_TYPES: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}

/**
 * Everything lethe keeps: the customer-managed key, the requests, audit and holds tables, the
 * manifests and exports buckets (with a server access log bucket), and the HMAC keys secret.
 * Everything is encrypted with the key (access logs: S3-managed, as log delivery requires),
 * enforces TLS, blocks public access, has point-in-time recovery and is retained on delete.
 */
export class LetheStatefulStack extends Stack implements LetheStatefulResources {
  public readonly key: kms.Key;
  public readonly requestsTable: dynamodb.Table;
  public readonly auditTable: dynamodb.Table;
  public readonly holdsTable: dynamodb.Table;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly manifestsBucket: s3.Bucket;
  public readonly exportsBucket: s3.Bucket;
  public readonly manifestsBucketName: string;
  public readonly exportsBucketName: string;
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

    this.key = new kms.Key(this, 'Key', {
      description: 'lethe: encrypts requests, audit log, manifests, exports, logs and the HMAC keys',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      alias: `alias/${prefix}`,
    });
    // CloudWatch Logs encrypts the functions' and the state machine's log groups with the key.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );

    this.requestsTable = this.table('RequestsTable', { partitionKey: { name: 'requestId', type: 'S' } });
    this.auditTable = this.table('AuditTable', {
      partitionKey: { name: 'stream', type: 'S' },
      sortKey: { name: 'seq', type: 'N' },
    });
    this.holdsTable = this.table('HoldsTable', { partitionKey: { name: 'holdId', type: 'S' } });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      bucketName: bucketName('access-logs'),
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: ACCESS_LOG_EXPIRY }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No AwsSolutions-S1 finding to acknowledge: cdk-nag recognises the log destination.

    this.manifestsBucketName = bucketName('manifests');
    this.manifestsBucket = this.bucket('ManifestsBucket', this.manifestsBucketName, MANIFEST_EXPIRY);
    this.exportsBucketName = bucketName('exports');
    this.exportsBucket = this.bucket('ExportsBucket', this.exportsBucketName, EXPORT_EXPIRY);

    this.hmacSecret = new secretsmanager.Secret(this, 'HmacKeys', {
      description:
        'lethe: seed of the HMAC keys for subject hashes (audit log, closed requests) and the hmac mask strategy',
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
      // Secrets Manager generates one random string per secret: the runtime derives both
      // keys from it with HKDF (lib/aws/deps.ts parseHmacKeys), or reads explicit
      // {"subjectHash","mask"} base64 keys if an operator stores those instead.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ format: 'lethe-hmac-keys/v1' }),
        generateStringKey: 'seed',
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    acknowledgeRule(
      this.hmacSecret,
      'SMG4',
      `Not rotated on purpose: subject hashes in the audit log and in closed request records must stay comparable for the 24-month record CCPA 11 CCR §7101 requires; a new key would unlink every earlier hash from the same subject. Access is limited to the functions the grant table gives the keys (lib/infra/lethe-grants.ts): ${functionsWithHmacKeys().join(', ')}.`,
    );

    const demoTables = new Map<string, dynamodb.Table>();
    const demoBuckets = new Map<string, s3.Bucket>();
    if (props.demo) {
      if (!props.dataMap) throw new Error('demo: true needs the dataMap whose stores to create');
      const byName = new Map<string, s3.Bucket>();
      for (const store of props.dataMap.stores) {
        if (store.kind === 'dynamodb') {
          demoTables.set(store.id, this.demoTable(store));
          continue;
        }
        // Several S3 stores may share a bucket (under different prefixes): create it once.
        const bucket = byName.get(store.bucket) ?? this.demoBucket(store);
        byName.set(store.bucket, bucket);
        demoBuckets.set(store.id, bucket);
        this.addRetentionBackstop(bucket, store);
      }
    }
    this.demoTables = demoTables;
    this.demoBuckets = demoBuckets;

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    output('RequestsTableName', this.requestsTable.tableName, 'LETHE_REQUESTS_TABLE');
    output('AuditTableName', this.auditTable.tableName, 'LETHE_AUDIT_TABLE');
    output('HoldsTableName', this.holdsTable.tableName, 'LETHE_HOLDS_TABLE');
    output('ManifestsBucketName', this.manifestsBucket.bucketName, 'LETHE_MANIFESTS_BUCKET');
    output('ExportsBucketName', this.exportsBucket.bucketName, 'LETHE_EXPORTS_BUCKET');
    output('KeyArn', this.key.keyArn, 'LETHE_KMS_KEY_ID');
    output('HmacSecretArn', this.hmacSecret.secretArn, 'LETHE_HMAC_SECRET_ARN');
  }

  private table(
    id: string,
    keys: { partitionKey: KeyAttribute; sortKey?: KeyAttribute },
    tableName?: string,
    timeToLiveAttribute?: string,
  ): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      tableName,
      ...(timeToLiveAttribute ? { timeToLiveAttribute } : {}),
      partitionKey: attribute(keys.partitionKey),
      ...(keys.sortKey ? { sortKey: attribute(keys.sortKey) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * A bucket lethe owns: SSE-KMS with the key, TLS only, no public access, access logs, and
   * expiry. Not versioned: these objects hold personal data (record keys, exports) and must be
   * gone when they expire or are deleted, not kept as noncurrent versions.
   */
  private bucket(id: string, bucketName: string | undefined, expiration?: Duration): s3.Bucket {
    return new s3.Bucket(this, id, {
      bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${id}/`,
      lifecycleRules: [
        {
          id: 'expire',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          ...(expiration ? { expiration } : {}),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * A data map table as the data map describes it (key schema and every GSI), for the demo; with a
   * retention rule, TTL on DEMO_TTL_ATTRIBUTE as a backstop.
   */
  private demoTable(store: DynamoStore): dynamodb.Table {
    const table = this.table(
      `Store-${store.id}`,
      store.keySchema,
      store.table,
      store.retention ? DEMO_TTL_ATTRIBUTE : undefined,
    );
    for (const index of store.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  /**
   * A data map bucket for the demo. Unversioned like the company buckets lethe is designed
   * for: on a versioned bucket, erasure would leave the subject's data in noncurrent versions.
   */
  private demoBucket(store: S3Store): s3.Bucket {
    return this.bucket(`Store-${store.id}`, store.bucket);
  }

  /**
   * A lifecycle expiration under each sweep prefix of a store with a retention rule: a native
   * backstop that removes objects the sweep somehow missed. It expires objects no earlier than the
   * longest the period can be (a year counted as 366 days, a month as 31) plus one day, so it never
   * acts before the sweep would. It does not know about legal holds: held objects past that age
   * are removed by it, so keep the period well above any hold you expect, or remove the rule.
   */
  private addRetentionBackstop(bucket: s3.Bucket, store: S3Store): void {
    if (!store.retention) return;
    const days = maxPeriodDays(store.retention.period) + 1;
    sweepPrefixes(store).forEach((prefix, index) => {
      bucket.addLifecycleRule({
        id: `retention-backstop-${store.id}${index > 0 ? `-${index}` : ''}`,
        ...(prefix ? { prefix } : {}),
        expiration: Duration.days(days),
      });
    });
  }
}
