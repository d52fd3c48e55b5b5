import { Match } from 'aws-cdk-lib/assertions';
import { INDEXER_BATCH_SIZE, INDEXER_MAX_RECEIVES } from '../../lib/infra/identity-indexer';
import {
  actionsOn,
  adtechDataMap,
  type BuiltStacks,
  bucketNamed,
  buildStacks,
  INDEX_KEEPER_ACTIONS,
  roleStatements,
  testDataMap,
} from '../helpers/stacks';

/**
 * The identity indexer on AWS: S3 notifications of the indexed store go to an encrypted, TLS-only
 * queue with a dead-letter queue, drained by a function that may read the store's shared objects
 * and keep the index, and nothing else.
 */

describe('the identity indexer (adtech: clickstream and bid logs are indexed)', () => {
  let built: BuiltStacks;
  beforeAll(() => {
    built = buildStacks(adtechDataMap());
  });

  it("sends the indexed bucket's ObjectCreated and ObjectRemoved events under its prefix to the queue", () => {
    const indexer = built.workflow.identityIndexer;
    expect(indexer).toBeDefined();
    const queueArn = {
      'Fn::GetAtt': [built.workflow.getLogicalId(indexer?.queue.node.defaultChild as never), 'Arn'],
    };
    built.workflowTemplate.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'adtech-clickstream',
      Managed: false,
      NotificationConfiguration: {
        QueueConfigurations: Match.arrayWith(
          ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'].map((event) => ({
            Events: [event],
            QueueArn: queueArn,
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'clicks/' }] } },
          })),
        ),
      },
    });
    // CDK's handler may configure the indexed bucket's notifications, in one policy they wait for
    const policies = built.workflowTemplate.findResources('AWS::IAM::Policy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: ['s3:GetBucketNotification', 's3:PutBucketNotification'] }),
          ]),
        },
      },
    });
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId] = Object.keys(policies);
    for (const notifications of Object.values(
      built.workflowTemplate.findResources('Custom::S3BucketNotifications'),
    ))
      expect(notifications?.DependsOn).toContain(policyId);
    built.workflowTemplate.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'adtech-bid-logs',
      NotificationConfiguration: {
        QueueConfigurations: Match.arrayWith([
          Match.objectLike({ Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'bids/' }] } } }),
        ]),
      },
    });
    // only the indexed stores' buckets are watched
    const watched = Object.values(built.workflowTemplate.findResources('Custom::S3BucketNotifications')).map(
      (resource) => resource.Properties?.BucketName,
    );
    expect(watched.sort()).toEqual(['adtech-bid-logs', 'adtech-clickstream']);
  });

  it("encrypts both queues with lethe's key, refuses plain HTTP, and moves a message to the DLQ after some deliveries", () => {
    const queues = built.workflowTemplate.findResources('AWS::SQS::Queue');
    const indexer = built.workflow.identityIndexer;
    const id = (queue: unknown) =>
      built.workflow.getLogicalId((queue as { node: { defaultChild: never } }).node.defaultChild);
    const queue = queues[id(indexer?.queue)]?.Properties;
    const dlq = queues[id(indexer?.deadLetterQueue)]?.Properties;
    for (const properties of [queue, dlq]) expect(properties?.KmsMasterKeyId).toBeDefined();
    expect(queue?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(indexer?.deadLetterQueue), 'Arn'] },
      maxReceiveCount: INDEXER_MAX_RECEIVES,
    });
    for (const queueId of [id(indexer?.queue), id(indexer?.deadLetterQueue)]) {
      built.workflowTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    // S3 may send to the queue from the store's bucket only
    built.workflowTemplate.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id(indexer?.queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    built.workflowTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: INDEXER_BATCH_SIZE,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('grants the indexer GetObject under the indexed prefixes and the index table, nothing more of the data map', () => {
    const indexer = built.workflow.identityIndexer;
    const statements = roleStatements(built.workflowTemplate, indexer?.function.role as never);
    expect(actionsOn(statements, bucketNamed('adtech-clickstream'))).toEqual(['s3:GetObject']);
    expect(
      statements
        .filter((statement) => statement.actions.includes('s3:GetObject'))
        .flatMap((statement) => statement.resources),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/:s3:::adtech-clickstream\/clicks\/\*$/),
        expect.stringMatching(/:s3:::adtech-bid-logs\/bids\/\*$/),
      ]),
    );
    expect(
      statements
        .filter((statement) => statement.actions.includes('s3:GetObject'))
        .flatMap((statement) => statement.resources),
    ).toHaveLength(2);
    for (const bucket of ['adtech-call-recordings', 'adtech-recruitment'])
      expect(actionsOn(statements, bucketNamed(bucket))).toEqual([]);
    const dynamo = [...new Set(statements.flatMap((statement) => statement.actions))].filter((action) =>
      action.startsWith('dynamodb:'),
    );
    expect(dynamo.sort()).toEqual(INDEX_KEEPER_ACTIONS);
  });
});

it('builds no indexer when no store is indexed', () => {
  const built = buildStacks(testDataMap());
  expect(built.workflow.identityIndexer).toBeUndefined();
  expect(built.workflowTemplate.findResources('Custom::S3BucketNotifications')).toEqual({});
});
