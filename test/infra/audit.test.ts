import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ANCHOR_PREFIX as DOMAIN_ANCHOR_PREFIX } from '../../lib/audit/anchor';
import { LETHE_ENV } from '../../lib/aws/config';
import { ANCHOR_PREFIX, type LetheFunctionName, OWN_ACCESS } from '../../lib/infra/lethe-grants';
import { AUDIT_TABLE_DENIED_ACTIONS } from '../../lib/infra/lethe-storage';
import { LetheStatefulStack } from '../../lib/infra/stateful-stack';
import { allStatements, type BuiltStacks, buildStacks, roleStatements, testDataMap } from '../helpers/stacks';

/**
 * The audit log on AWS: anchors go to a bucket no one can rewrite (Object Lock in compliance mode,
 * versioning), only the functions that append may write the audit table, and nothing may delete
 * from it.
 */
describe('audit log infrastructure', () => {
  let stacks: BuiltStacks;
  beforeAll(() => {
    stacks = buildStacks(testDataMap());
  });

  const auditBucket = () => {
    const buckets = stacks.statefulTemplate.findResources('AWS::S3::Bucket', {
      Properties: { ObjectLockEnabled: true },
    });
    expect(Object.keys(buckets)).toHaveLength(1);
    return Object.values(buckets)[0] as { Properties: Record<string, unknown>; DeletionPolicy?: string };
  };

  it('the audit bucket has Object Lock in compliance mode for 7 years by default, and versioning', () => {
    // act
    const bucket = auditBucket();

    // assess
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 * 365 + 2 } },
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    stacks.statefulTemplate.hasOutput('AuditBucketName', { Description: LETHE_ENV.auditBucket });
  });

  it('takes the retention from the stack, or from the context', () => {
    // prepare
    const app = new App({ context: { auditRetentionDays: 3650, 'aws:cdk:bundling-stacks': [] } });
    const fromProps = new LetheStatefulStack(app, 'FromProps', { auditRetention: Duration.days(400) });
    const fromContext = new LetheStatefulStack(app, 'FromContext');

    // assess
    Template.fromStack(fromProps).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } } },
    });
    Template.fromStack(fromContext).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3650 } } },
    });
  });

  it('nothing may delete or update an event: the table denies it to every principal', () => {
    // act
    const tables = stacks.statefulTemplate.findResources('AWS::DynamoDB::Table');
    const audit = Object.entries(tables).find(([id]) => id.startsWith('AuditTable'))?.[1] as {
      Properties: { ResourcePolicy?: { PolicyDocument: { Statement: Record<string, unknown>[] } } };
    };

    // assess
    expect(audit.Properties.ResourcePolicy?.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: AUDIT_TABLE_DENIED_ACTIONS,
        Resource: '*',
      }),
    ]);
    expect(AUDIT_TABLE_DENIED_ACTIONS).toEqual(
      expect.arrayContaining(['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']),
    );
  });

  it('only the functions that append write the audit table, with a conditional put and nothing else; none deletes', () => {
    // prepare
    const onAudit = (arn: string) => arn.includes('AuditTable');
    const functions = {
      ...stacks.workflow.functions,
      ...stacks.workflow.sweepFunctions,
      intake: stacks.workflow.intake,
      executionEnded: stacks.workflow.monitoring.executionEnded,
      overdueRequests: stacks.workflow.monitoring.overdueRequests,
    } as Record<
      LetheFunctionName,
      (typeof stacks.workflow.functions)[keyof typeof stacks.workflow.functions]
    >;

    // act
    const writers = (Object.keys(functions) as LetheFunctionName[]).filter((name) =>
      roleStatements(stacks.workflowTemplate, functions[name].role).some(
        (statement) => statement.effect === 'Allow' && statement.resources.some(onAudit),
      ),
    );
    const auditActions = allStatements(stacks.workflowTemplate)
      .filter((statement) => statement.resources.some(onAudit))
      .flatMap((statement) => statement.actions);

    // assess
    expect(writers.sort()).toEqual(
      (Object.keys(OWN_ACCESS) as LetheFunctionName[]).filter((name) => OWN_ACCESS[name].audit).sort(),
    );
    expect([...new Set(auditActions)].sort()).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
  });

  it('only the sweep steps that anchor may write the audit bucket, and only new anchors under anchors/', () => {
    // prepare
    const onAuditBucket = (arn: string) => arn.includes('-audit-');

    // act
    const statements = allStatements(stacks.workflowTemplate).filter((statement) =>
      statement.resources.some(onAuditBucket),
    );
    const anchoring = (['recordSweep', 'recordSweepFailure'] as const).map((name) =>
      roleStatements(stacks.workflowTemplate, stacks.workflow.sweepFunctions[name].role).filter((statement) =>
        statement.resources.some(onAuditBucket),
      ),
    );

    // assess
    expect(ANCHOR_PREFIX).toBe(DOMAIN_ANCHOR_PREFIX);
    expect(statements.flatMap((statement) => statement.actions)).toEqual(['s3:PutObject', 's3:PutObject']);
    for (const granted of anchoring) {
      expect(granted).toHaveLength(1);
      expect(granted[0]?.resources).toEqual([
        `arn:<AWS::Partition>:s3:::lethe-audit-<AWS::AccountId>-<AWS::Region>/${ANCHOR_PREFIX}*`,
      ]);
    }
    stacks.workflowTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [LETHE_ENV.auditBucket]: Match.anyValue() }) },
    });
  });
});
