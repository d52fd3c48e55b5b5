import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sharedObjectPrefixes } from '../datamap/prefixes';
import type { S3Store } from '../datamap/schema';
import type { ImportedStore } from './datamap-grants';
import type { LetheFunction } from './lethe-function';
import { createWorkflowFunction, type WorkflowFunctionContext } from './workflow-function';

/** The id CDK gives its singleton handler of Custom::S3BucketNotifications. */
const NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Deliveries of one message before it goes to the dead-letter queue. */
export const INDEXER_MAX_RECEIVES = 5;
/** S3 events a single invocation of the indexer takes. */
export const INDEXER_BATCH_SIZE = 10;

export interface IdentityIndexerProps {
  /** lethe's key: encrypts both queues (S3 is allowed to use it to send). */
  readonly key: kms.IKey;
  /** The data map's stores as imported; the indexed S3 stores among them are watched. */
  readonly stores: readonly ImportedStore[];
  readonly functionContext: WorkflowFunctionContext;
}

/**
 * Keeps the identity index current on AWS: S3 event notifications (ObjectCreated:*,
 * ObjectRemoved:*) of every indexed store's bucket, under its shared-object prefixes, go to a
 * queue encrypted with lethe's key that accepts TLS only; the indexer function takes them in
 * batches and reports the messages it could not index, which SQS delivers again and, after
 * INDEXER_MAX_RECEIVES, moves to a dead-letter queue. The buckets are the company's (imported):
 * CDK configures their notifications through its BucketNotifications custom resource, which adds
 * lethe's to the bucket's existing ones instead of replacing them.
 */
export class LetheIdentityIndexer extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: LetheFunction;

  constructor(scope: Construct, id: string, props: IdentityIndexerProps) {
    super(scope, id);
    const secure = { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.key, enforceSSL: true };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...secure,
      retentionPeriod: Duration.days(14),
    });
    const timeout = Duration.minutes(5);
    this.queue = new sqs.Queue(this, 'Queue', {
      ...secure,
      // AWS asks for six times the function's timeout, so a batch in flight is not delivered twice.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: INDEXER_MAX_RECEIVES },
    });

    this.function = createWorkflowFunction(
      this,
      'IndexObjectsFunction',
      'indexObjects',
      props.functionContext,
    );
    this.function.fn.addEventSource(
      new SqsEventSource(this.queue, { batchSize: INDEXER_BATCH_SIZE, reportBatchItemFailures: true }),
    );
    const destination = new s3n.SqsDestination(this.queue);
    for (const imported of indexedStores(props.stores)) {
      for (const prefix of sharedObjectPrefixes(imported.store)) {
        const filter: s3.NotificationKeyFilter = prefix ? { prefix } : {};
        imported.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, filter);
        imported.bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, destination, filter);
      }
    }
    mergeHandlerPolicies(this, indexedStores(props.stores));
    acknowledgeNotificationsHandler(Stack.of(this));
  }
}

/** The indexed S3 stores among the imported ones. */
export function indexedStores(stores: readonly ImportedStore[]): Extract<ImportedStore, { kind: 's3' }>[] {
  return stores.filter(
    (imported): imported is Extract<ImportedStore, { kind: 's3' }> =>
      imported.kind === 's3' && (imported.store as S3Store).identityIndex === true,
  );
}

/**
 * CDK's BucketNotifications handler (one per stack), which puts the notification configuration of
 * the indexed buckets: CDK gives it the basic execution managed policy.
 */
function acknowledgeNotificationsHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild(NOTIFICATIONS_HANDLER_ID);
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's BucketNotifications handler (a custom resource CDK owns) is given AWSLambdaBasicExecutionRole for its logs by CDK.",
  });
}

/**
 * CDK gives its notifications handler one inline policy per bucket; with many indexed buckets
 * they would pass IAM's 10,240 characters of inline policy per role. They are replaced by one
 * policy that names every indexed bucket in one statement, which each bucket's notifications
 * resource depends on, as it did on its own.
 */
function mergeHandlerPolicies(
  scope: Construct,
  stores: readonly Extract<ImportedStore, { kind: 's3' }>[],
): void {
  const notifications = stores.flatMap((imported) => {
    const found = imported.bucket.node.tryFindChild('Notifications');
    return found ? [found] : [];
  });
  const handler = Stack.of(scope).node.tryFindChild(NOTIFICATIONS_HANDLER_ID);
  const role = handler?.node.tryFindChild('Role') as iam.IRole | undefined;
  if (!role || notifications.length === 0) return;
  const merged = new iam.Policy(scope, 'NotificationsHandlerPolicy', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: ['s3:GetBucketNotification', 's3:PutBucketNotification'],
        resources: [...new Set(stores.map((imported) => imported.bucket.bucketArn))],
      }),
    ],
  });
  for (const construct of notifications) {
    construct.node.tryFindChild('HandlerPolicy')?.node.tryRemoveChild('Resource');
    construct.node.tryFindChild('Resource')?.node.addDependency(merged);
  }
}
