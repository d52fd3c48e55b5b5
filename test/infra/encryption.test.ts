import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { SWEEP_STATES } from '../../lib/workflow/sweep-steps';
import { adtechDataMap, type BuiltStacks, buildStacks } from '../helpers/stacks';

/**
 * One function per Task state of both machines, intake, the suppression check, the two that watch
 * the workflow (monitoring), and the identity index's two (the indexer of S3 events and the index
 * build's batches).
 */
const FUNCTION_COUNT = Object.keys(REQUEST_STATES).length + 2 + Object.keys(SWEEP_STATES).length + 2 + 2;
/** CDK's own handler of the BucketNotifications custom resource (the indexed store's notifications). */
const CDK_NOTIFICATIONS_HANDLER = /^BucketNotificationsHandler/;

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type)) as [string, Resource][];

let built: BuiltStacks;
let keyLogicalId: string;

beforeAll(() => {
  // Prepare: demo mode, so the data map's tables and buckets are checked too.
  built = buildStacks(adtechDataMap(), { demo: true });
  keyLogicalId = Stack.of(built.stateful).getLogicalId(built.stateful.key.node.defaultChild as never);
});

describe('the customer-managed key', () => {
  it('rotates', () => {
    built.statefulTemplate.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('lets CloudWatch Logs use it for this account and region only', () => {
    built.statefulTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('tables', () => {
  it('lethe owns five tables (requests, audit, holds, identity index, suppression) and the demo creates the data map tables', () => {
    const names = resources(built.statefulTemplate, 'AWS::DynamoDB::Table').map(
      ([, table]) => table.Properties.TableName ?? '(lethe)',
    );
    expect(names.filter((name) => name === '(lethe)')).toHaveLength(5);
    expect(names).toEqual(
      expect.arrayContaining([
        'adtech-inquiries',
        'adtech-ad-events',
        'adtech-conversions',
        'adtech-partner-contacts',
      ]),
    );
  });

  it('every table: SSE with the CMK, point-in-time recovery, deletion protection, retained', () => {
    const tables = resources(built.statefulTemplate, 'AWS::DynamoDB::Table');
    for (const [id, table] of tables) {
      expect({ id, sse: table.Properties.SSESpecification }).toEqual({
        id,
        sse: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] } },
      });
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  it('the requests and audit tables have the keys the code uses', () => {
    built.statefulTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }],
    });
    built.statefulTemplate.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'stream', KeyType: 'HASH' },
        { AttributeName: 'seq', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'seq', AttributeType: 'N' }]),
    });
  });
});

describe('buckets', () => {
  const accessLogs = (template: Template) =>
    resources(template, 'AWS::S3::Bucket').find(([id]) => id.startsWith('AccessLogsBucket'));

  it('every bucket but the access logs: SSE-KMS with the CMK', () => {
    const buckets = resources(built.statefulTemplate, 'AWS::S3::Bucket');
    expect(buckets.length).toBe(4 + 4); // access logs, manifests, exports, audit + four demo buckets
    for (const [id, bucket] of buckets) {
      const rule = (bucket.Properties.BucketEncryption as { ServerSideEncryptionConfiguration: unknown[] })
        .ServerSideEncryptionConfiguration[0];
      if (id === accessLogs(built.statefulTemplate)?.[0]) {
        expect(rule).toEqual({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } });
      } else {
        expect({ id, rule }).toEqual({
          id,
          rule: {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] },
            },
          },
        });
        expect(bucket.Properties.LoggingConfiguration).toBeDefined();
      }
    }
  });

  it('every bucket blocks public access', () => {
    for (const [, bucket] of resources(built.statefulTemplate, 'AWS::S3::Bucket')) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('every bucket denies requests without TLS', () => {
    const buckets = resources(built.statefulTemplate, 'AWS::S3::Bucket').map(([id]) => id);
    const policies = resources(built.statefulTemplate, 'AWS::S3::BucketPolicy');
    for (const id of buckets) {
      const policy = policies.find(
        ([, candidate]) => (candidate.Properties.Bucket as { Ref: string }).Ref === id,
      );
      if (!policy) throw new Error(`no bucket policy for ${id}`);
      const statements = (policy[1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  it('manifests expire after 7 days and exports after 30', () => {
    const expiry = (prefix: string) => {
      const bucket = resources(built.statefulTemplate, 'AWS::S3::Bucket').find(([id]) =>
        id.startsWith(prefix),
      );
      const rules = (
        bucket?.[1].Properties.LifecycleConfiguration as { Rules: { ExpirationInDays?: number }[] }
      )?.Rules;
      return rules?.[0]?.ExpirationInDays;
    };
    expect(expiry('ManifestsBucket')).toBe(7);
    expect(expiry('ExportsBucket')).toBe(30);
  });
});

describe('the HMAC keys secret', () => {
  it('is encrypted with the CMK and generated, never in the template', () => {
    built.statefulTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] },
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'seed', PasswordLength: 64 }),
      SecretString: Match.absent(),
    });
  });
});

describe('the state machine and the logs', () => {
  it('is a Standard state machine logging ALL without execution data, and traced', () => {
    built.workflowTemplate.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      TracingConfiguration: { Enabled: true },
    });
  });

  it('every log group is encrypted with the CMK and has a retention', () => {
    const groups = resources(built.workflowTemplate, 'AWS::Logs::LogGroup');
    // One per lethe function, one per state machine (the index build's too), the intake API's access log.
    expect(groups).toHaveLength(FUNCTION_COUNT + 4);
    for (const [id, group] of groups) {
      expect({ id, key: group.Properties.KmsKeyId }).toEqual({
        id,
        key: { 'Fn::ImportValue': expect.any(String) },
      });
      expect(group.Properties.RetentionInDays).toBe(365);
    }
  });

  it('every function: Node.js 22 on ARM64, active tracing, source maps, its own log group', () => {
    const all = resources(built.workflowTemplate, 'AWS::Lambda::Function');
    // Besides lethe's, only CDK's handler that configures the notifications of a bucket lethe does not own.
    const functions = all.filter(([id]) => !CDK_NOTIFICATIONS_HANDLER.test(id));
    expect(all.length - functions.length).toBe(1);
    expect(functions).toHaveLength(FUNCTION_COUNT);
    for (const [, fn] of functions) {
      expect(fn.Properties).toEqual(
        expect.objectContaining({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: expect.anything() },
          Environment: {
            Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }),
          },
        }),
      );
    }
  });
});
