import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { ALARM_EMAIL_CONTEXT } from '../../lib/infra/monitoring';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { SWEEP_STATES } from '../../lib/workflow/sweep-steps';
import { actionsOn, adtechDataMap, type BuiltStacks, buildStacks, roleStatements } from '../helpers/stacks';

/** How lethe on AWS tells someone it failed: the alarm topic, the alarms, the rule on ended executions. */

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type)) as [string, Resource][];
const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as never);

let built: BuiltStacks;
let template: Template;
let topicRef: { Ref: string };
let alarms: Resource[];

beforeAll(() => {
  // Prepare: the default stacks of the ad-tech data map.
  built = buildStacks(adtechDataMap());
  template = built.workflowTemplate;
  topicRef = { Ref: logicalId(built.workflow.monitoring.topic) };
  alarms = resources(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm);
});

/** The alarms on `metric` in `namespace` whose dimension `name` refers to `ref`. */
const alarmsOn = (namespace: string, metric: string, dimension?: { name: string; ref: unknown }) =>
  alarms.filter(
    (alarm) =>
      alarm.Properties.Namespace === namespace &&
      alarm.Properties.MetricName === metric &&
      (dimension === undefined ||
        (alarm.Properties.Dimensions as { Name: string; Value: unknown }[]).some(
          (entry) =>
            entry.Name === dimension.name && JSON.stringify(entry.Value) === JSON.stringify(dimension.ref),
        )),
  );

describe('the alarm topic', () => {
  it('is encrypted with the CMK and refuses plain HTTP', () => {
    const [[id, topic]] = resources(template, 'AWS::SNS::Topic') as [[string, Resource]];
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/Key/) });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('lets CloudWatch alarms and EventBridge use the key to publish to it', () => {
    built.statefulTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('e-mails the address of the context value alarmEmail, nobody without one, and refuses a non-address', () => {
    expect(resources(template, 'AWS::SNS::Subscription')).toEqual([]);

    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], [ALARM_EMAIL_CONTEXT]: 'oncall@example.com' },
      builtinCloudFormationValidation: false,
    });
    const { workflow } = createLetheStacks(app, { dataMap: adtechDataMap() });
    Template.fromStack(workflow).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: logicalId(workflow.monitoring.topic) },
    });

    const bad = new App({ context: { 'aws:cdk:bundling-stacks': [], [ALARM_EMAIL_CONTEXT]: 'on call' } });
    expect(() => createLetheStacks(bad, { dataMap: adtechDataMap() })).toThrow(/must be an e-mail address/);
  });
});

describe('the alarms', () => {
  it('every alarm notifies the topic when its metric reaches 1', () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [topicRef],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])(
    '%s of both state machines',
    (metric) => {
      for (const machine of [built.workflow.stateMachine, built.workflow.sweepStateMachine]) {
        const watching = alarmsOn('AWS/States', metric, {
          name: 'StateMachineArn',
          ref: { Ref: logicalId(machine) },
        });
        expect({ machine: machine.node.id, alarms: watching.length }).toEqual({
          machine: machine.node.id,
          alarms: 1,
        });
      }
    },
  );

  it('Errors and Throttles of every function', () => {
    const { workflow } = built;
    const functions = [
      ...Object.values(workflow.functions),
      workflow.intake,
      workflow.suppressionCheck,
      ...Object.values(workflow.sweepFunctions),
      workflow.monitoring.executionEnded,
      workflow.monitoring.overdueRequests,
      ...(workflow.identityIndexer ? [workflow.identityIndexer.function] : []),
      ...(workflow.indexBuild ? [workflow.indexBuild.function] : []),
    ];
    expect(functions).toHaveLength(Object.keys(REQUEST_STATES).length + Object.keys(SWEEP_STATES).length + 6);
    // every function but CDK's own handler of the indexed bucket's notifications
    expect(
      resources(template, 'AWS::Lambda::Function').filter(
        ([id]) => !id.startsWith('BucketNotificationsHandler'),
      ),
    ).toHaveLength(functions.length);
    for (const fn of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        const watching = alarmsOn('AWS/Lambda', metric, {
          name: 'FunctionName',
          ref: { Ref: logicalId(fn.fn) },
        });
        expect({ fn: fn.node.id, metric, alarms: watching.length }).toEqual({
          fn: fn.node.id,
          metric,
          alarms: 1,
        });
      }
    }
  });

  it("the depth of the sweep schedule's dead-letter queue", () => {
    const queue = built.workflow.sweepDeadLetterQueue;
    const watching = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible', {
      name: 'QueueName',
      ref: { 'Fn::GetAtt': [logicalId(queue), 'QueueName'] },
    });
    expect(watching).toHaveLength(1);
  });

  it('requests past their due date, as the overdue-requests function publishes them', () => {
    const watching = alarmsOn('Lethe', 'OverdueRequests');
    expect(watching).toHaveLength(1);
    expect(watching[0]?.Properties.Dimensions).toEqual([
      { Name: 'RequestsTable', Value: { 'Fn::ImportValue': expect.stringMatching(/RequestsTable/) } },
    ]);
    // The function runs hourly and can only read the requests table.
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(built.workflow.monitoring.overdueRequests.fn), 'Arn'] },
        }),
      ],
    });
    const statements = roleStatements(template, built.workflow.monitoring.overdueRequests.role);
    expect(actionsOn(statements, (arn) => arn.includes('RequestsTable'))).toEqual(['dynamodb:Scan']);
    expect(actionsOn(statements, (arn) => arn.includes('AuditTable'))).toEqual([]);
  });
});

describe('the rule on request executions that ended failed, timed out or aborted', () => {
  it('sends them to the executionEnded function and to the topic, naming the execution only', () => {
    const monitoring = built.workflow.monitoring;
    const [rule] = resources(template, 'AWS::Events::Rule')
      .map(([, resource]) => resource)
      .filter((resource) => resource.Properties.EventPattern !== undefined);
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ Ref: logicalId(built.workflow.stateMachine) }],
      },
    });
    const targets = rule?.Properties.Targets as Record<string, unknown>[];
    expect(targets.map((target) => target.Arn)).toEqual([
      { 'Fn::GetAtt': [logicalId(monitoring.executionEnded.fn), 'Arn'] },
      topicRef,
    ]);
    const message = JSON.stringify(targets[1]?.InputTransformer);
    expect(message).toContain('$.detail.name');
    expect(message).not.toMatch(/detail\.(input|output|cause)/);
  });

  it('the function may mark requests failed and audit it, and touch nothing else', () => {
    const statements = roleStatements(template, built.workflow.monitoring.executionEnded.role);
    expect(actionsOn(statements, (arn) => arn.includes('RequestsTable'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(statements, (arn) => arn.includes('AuditTable'))).toEqual([
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(
      actionsOn(statements, (arn) => /:table\/adtech-|:::adtech-|HoldsTable|secretsmanager/.test(arn)),
    ).toEqual([]);
  });
});
