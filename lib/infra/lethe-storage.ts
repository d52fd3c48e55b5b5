import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { KeyAttribute } from '../datamap/schema';
import { functionsWithHmacKeys } from './lethe-grants';
import { acknowledgeRule } from './nag';

/**
 * The secure defaults of everything lethe keeps, in one place: a customer-managed key that
 * rotates; tables and buckets encrypted with it that enforce TLS, block public access, have
 * point-in-time recovery (tables) or server access logs (buckets); and every one of them retained
 * when its stack is deleted.
 */

const ATTRIBUTE_TYPES: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/** A data map key attribute as CDK's DynamoDB attribute. */
export function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}

/**
 * lethe's customer-managed key (alias `alias/<prefix>`), rotated, with a key policy statement
 * that lets CloudWatch Logs encrypt this account's log groups in this region with it.
 */
export function buildLetheKey(scope: Construct, id: string, prefix: string): kms.Key {
  const key = new kms.Key(scope, id, {
    description: 'lethe: encrypts requests, audit log, manifests, exports, logs and the HMAC keys',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
    alias: `alias/${prefix}`,
  });
  // CloudWatch Logs encrypts the functions' and the state machine's log groups with the key.
  key.addToResourcePolicy(
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
  // The alarm topic is encrypted with the key: CloudWatch alarms and the EventBridge rule on
  // failed executions publish to it, and SNS asks KMS for a data key on their behalf.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowAlarmsAndEventsToPublishToTheAlarmTopic',
      principals: [
        new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        new iam.ServicePrincipal('events.amazonaws.com'),
      ],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
  return key;
}

export interface LetheTableProps {
  readonly key: kms.IKey;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Default: named by CloudFormation. */
  readonly tableName?: string;
  readonly timeToLiveAttribute?: string;
}

/** A table encrypted with the key, on demand, with point-in-time recovery and deletion protection. */
export function buildLetheTable(scope: Construct, id: string, props: LetheTableProps): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    tableName: props.tableName,
    ...(props.timeToLiveAttribute ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
    partitionKey: attribute(props.partitionKey),
    ...(props.sortKey ? { sortKey: attribute(props.sortKey) } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: props.key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * The server access log bucket: S3-managed encryption (log delivery cannot use a KMS key), TLS
 * only, no public access, no ACLs (the stack delivers logs under a bucket policy), and expiry.
 */
export function buildAccessLogsBucket(
  scope: Construct,
  id: string,
  bucketName: string,
  expiration: Duration,
): s3.Bucket {
  // No AwsSolutions-S1 finding to acknowledge: cdk-nag recognises the log destination.
  return new s3.Bucket(scope, id, {
    bucketName,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ id: 'expire-access-logs', expiration }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

export interface LetheBucketProps {
  readonly key: kms.IKey;
  readonly accessLogs: s3.IBucket;
  /** Default: named by CloudFormation. */
  readonly bucketName?: string;
  /** Objects expire this long after they are written. Default: never. */
  readonly expiration?: Duration;
}

/** What every bucket lethe owns has: SSE-KMS with the key, TLS only, no public access, no ACLs, access logs under `<id>/`. */
function securedBucketProps(
  id: string,
  props: { key: kms.IKey; accessLogs: s3.IBucket; bucketName?: string | undefined },
): s3.BucketProps {
  return {
    bucketName: props.bucketName,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: props.key,
    bucketKeyEnabled: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: `${id}/`,
  };
}

/**
 * A bucket lethe owns: SSE-KMS with the key, TLS only, no public access, access logs (under
 * `<id>/`), and expiry. Not versioned: these objects hold personal data (record keys, exports)
 * and must be gone when they expire or are deleted, not kept as noncurrent versions.
 */
export function buildLetheBucket(scope: Construct, id: string, props: LetheBucketProps): s3.Bucket {
  return new s3.Bucket(scope, id, {
    ...securedBucketProps(id, props),
    lifecycleRules: [
      {
        id: 'expire',
        abortIncompleteMultipartUploadAfter: Duration.days(1),
        ...(props.expiration ? { expiration: props.expiration } : {}),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

export interface AuditBucketProps {
  readonly key: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly bucketName: string;
  /** How long Object Lock keeps each anchor (compliance mode). */
  readonly retention: Duration;
}

/**
 * The audit bucket, where the head of the audit log is anchored: versioned, with S3 Object Lock in
 * compliance mode as the default retention of every object, so no one (the account root included)
 * can overwrite or delete an anchor before its retention ends; a delete only adds a marker, and
 * verification reads every version. Otherwise as lethe's other buckets: SSE-KMS, TLS only, no
 * public access, access logs. Anchors hold a sequence number and a hash, never personal data.
 */
export function buildAuditBucket(scope: Construct, id: string, props: AuditBucketProps): s3.Bucket {
  const days = Math.ceil(props.retention.toDays({ integral: false }));
  if (days < 1) throw new Error(`the audit retention must be at least one day; got ${days}`);
  return new s3.Bucket(scope, id, {
    ...securedBucketProps(id, props),
    versioned: true,
    objectLockEnabled: true,
    objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(days)),
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** Actions that would change or remove an event of the audit log, or the log itself. */
export const AUDIT_TABLE_DENIED_ACTIONS = [
  'dynamodb:DeleteItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLUpdate',
  'dynamodb:DeleteTable',
];

/**
 * The audit table's resource policy denies, to every principal, deleting or updating an event (and
 * deleting the table): appending (a conditional PutItem) is the only write lethe's grants allow.
 * Whoever can change the policy itself can still tamper; the anchors are what catch that.
 */
export function protectAuditTable(table: dynamodb.Table): void {
  table.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AuditLogIsAppendOnly',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: AUDIT_TABLE_DENIED_ACTIONS,
      // The table's own ARN would be a circular reference: "*" is this table in its own policy.
      resources: ['*'],
    }),
  );
}

/**
 * The secret the HMAC keys derive from, encrypted with the key and never rotated (the reason is
 * acknowledged on it, naming the functions the grant table lets read it).
 */
export function buildHmacKeysSecret(scope: Construct, id: string, key: kms.IKey): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description:
      'lethe: seed of the HMAC keys for subject hashes (audit log, closed requests) and the hmac mask strategy',
    encryptionKey: key,
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
    secret,
    'SMG4',
    `Not rotated on purpose: subject hashes in the audit log and in closed request records must stay comparable for the 24-month record CCPA 11 CCR §7101 requires; a new key would unlink every earlier hash from the same subject. Access is limited to the functions the grant table gives the keys (lib/infra/lethe-grants.ts): ${functionsWithHmacKeys().join(', ')}.`,
  );
  return secret;
}
