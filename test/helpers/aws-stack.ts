import { randomBytes } from 'node:crypto';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { LOCAL_RESOURCES } from '../../lib/local/environment';

export const STACK_STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:LetheRequests';
export const STACK_INDEX_BUILD_MACHINE =
  'arn:aws:states:eu-west-1:123456789012:stateMachine:Acme-Workflow-IndexBuild';
export const STACK_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lethe-hmac-AbCdEf';

/**
 * Answers for a deployed stack `${prefix}-Stateful` and `${prefix}-Workflow`, as the aws target reads
 * them: outputs naming lethe's tables and buckets (the local runtime's names, so a dynalite and an
 * s3rver can stand in for them), the HMAC secret and the state machine, and the secret's value.
 */
export function mockDeployedStack(
  prefix: string,
  cloudFormation: AwsClientStub<CloudFormationClient>,
  secrets: AwsClientStub<SecretsManagerClient>,
): void {
  const output = (OutputKey: string, Description: string, OutputValue: string) => ({
    OutputKey,
    Description,
    OutputValue,
  });
  cloudFormation.on(DescribeStacksCommand, { StackName: `${prefix}-Stateful` }).resolves({
    Stacks: [
      {
        StackName: `${prefix}-Stateful`,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          output('RequestsTableName', 'LETHE_REQUESTS_TABLE', LOCAL_RESOURCES.requestsTable),
          output('AuditTableName', 'LETHE_AUDIT_TABLE', LOCAL_RESOURCES.auditTable),
          output('HoldsTableName', 'LETHE_HOLDS_TABLE', LOCAL_RESOURCES.holdsTable),
          output('ManifestsBucketName', 'LETHE_MANIFESTS_BUCKET', LOCAL_RESOURCES.manifestsBucket),
          output('ExportsBucketName', 'LETHE_EXPORTS_BUCKET', LOCAL_RESOURCES.exportsBucket),
          output('AuditBucketName', 'LETHE_AUDIT_BUCKET', LOCAL_RESOURCES.auditBucket ?? 'lethe-audit'),
          output('HmacSecretArn', 'LETHE_HMAC_SECRET_ARN', STACK_SECRET),
        ],
      },
    ],
  });
  cloudFormation.on(DescribeStacksCommand, { StackName: `${prefix}-Workflow` }).resolves({
    Stacks: [
      {
        StackName: `${prefix}-Workflow`,
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: [
          output('StateMachineArn', 'LETHE_STATE_MACHINE_ARN', STACK_STATE_MACHINE),
          output(
            'IndexBuildStateMachineArn',
            'LETHE_INDEX_BUILD_STATE_MACHINE_ARN',
            STACK_INDEX_BUILD_MACHINE,
          ),
        ],
      },
    ],
  });
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({
      subjectHash: randomBytes(32).toString('base64'),
      mask: randomBytes(32).toString('base64'),
    }),
  });
}

/**
 * The clients a `--target aws` command is given in tests: fresh clients of the services that exist
 * only on AWS (the test mocks their classes) beside the local stores standing in for the stack's.
 */
export function stackClients(stores: { dynamodb: DynamoDBClient; s3: S3Client }) {
  return {
    cloudFormation: new CloudFormationClient({}),
    secrets: new SecretsManagerClient({}),
    sfn: new SFNClient({}),
    eventBridge: new EventBridgeClient({}),
    ...stores,
  };
}
