import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, OVERDUE_REQUESTS_METRIC, REQUESTS_TABLE_DIMENSION } from '../aws/metrics';
import type { LetheFunction } from './lethe-function';
import { createWorkflowFunction, type WorkflowFunctionContext } from './workflow-function';

/** The context value naming the address the alarm topic e-mails (`-c alarmEmail=oncall@example.com`). */
export const ALARM_EMAIL_CONTEXT = 'alarmEmail';

/** Execution statuses the failure rule reacts to: every way an execution ends but succeeding. */
export const ENDED_UNSUCCESSFULLY = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * The address from the context value alarmEmail, or undefined when none is given.
 * @throws Error when it is not an e-mail address
 */
export function alarmEmail(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const address = String(value).trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
    throw new Error(`${ALARM_EMAIL_CONTEXT} "${address}" must be an e-mail address, e.g. oncall@example.com`);
  }
  return address;
}

export interface LetheMonitoringProps {
  readonly requestStateMachine: sfn.StateMachine;
  readonly sweepStateMachine: sfn.StateMachine;
  /** Every lethe function of the stack: each gets an Errors and a Throttles alarm. */
  readonly functions: readonly LetheFunction[];
  /** The sweep schedule's dead-letter queue: a message in it is a sweep that never started. */
  readonly sweepDeadLetterQueue: sqs.IQueue;
  /** lethe's key: encrypts the topic. */
  readonly key: kms.IKey;
  /** What the watching functions are built from and granted. */
  readonly functionContext: WorkflowFunctionContext;
  /** Who the topic e-mails; default: the context value alarmEmail, else nobody (subscribe later). */
  readonly alarmEmail?: string;
}

/**
 * How lethe on AWS tells someone it failed, and cleans up after executions that ended outside
 * the workflow's failure path:
 * - an SNS topic encrypted with lethe's key (TLS only), e-mailing the alarmEmail address;
 * - alarms into the topic on executions of both state machines that failed, timed out or were
 *   aborted, on every function's errors and throttles, on the sweep schedule's dead-letter queue,
 *   and on requests past their due date (published hourly by the overdueRequests function);
 * - an EventBridge rule on request executions ending failed, timed out or aborted: the
 *   executionEnded function marks the request failed if its own failure path could not (a
 *   `States.Runtime` error, a timeout, a stop), and the topic gets a line naming the execution.
 */
export class LetheMonitoring extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly executionEnded: LetheFunction;
  public readonly executionEndedRule: events.Rule;
  public readonly overdueRequests: LetheFunction;

  constructor(scope: Construct, id: string, props: LetheMonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'lethe alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    const email = props.alarmEmail ?? alarmEmail(this.node.tryGetContext(ALARM_EMAIL_CONTEXT));
    if (email) this.topic.addSubscription(new subscriptions.EmailSubscription(email));

    this.executionEnded = createWorkflowFunction(
      this,
      'ExecutionEndedFunction',
      'executionEnded',
      props.functionContext,
    );
    this.executionEndedRule = new events.Rule(this, 'RequestExecutionEndedRule', {
      description: 'lethe: a request execution ended failed, timed out or aborted',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...ENDED_UNSUCCESSFULLY],
          stateMachineArn: [props.requestStateMachine.stateMachineArn],
        },
      },
    });
    this.executionEndedRule.addTarget(
      new targets.LambdaFunction(this.executionEnded.fn, {
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      }),
    );
    // Names the request (its id is the execution name) and never its subject: no input, no cause.
    this.executionEndedRule.addTarget(
      new targets.SnsTopic(this.topic, {
        message: events.RuleTargetInput.fromText(
          `lethe: request execution ${events.EventField.fromPath('$.detail.name')} ended ${events.EventField.fromPath('$.detail.status')}. See "lethe request status" for it, then retry or close it.`,
        ),
      }),
    );

    this.overdueRequests = createWorkflowFunction(
      this,
      'OverdueRequestsFunction',
      'overdueRequests',
      props.functionContext,
    );
    new events.Rule(this, 'OverdueRequestsSchedule', {
      description: 'lethe: counts the requests past their due date, hourly',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.overdueRequests.fn, { retryAttempts: 2 })],
    });

    const fiveMinutes = Duration.minutes(5);
    const machines: [string, sfn.StateMachine][] = [
      ['Request', props.requestStateMachine],
      ['Sweep', props.sweepStateMachine],
    ];
    for (const [name, machine] of machines) {
      this.alarm(`${name}ExecutionsFailed`, machine.metricFailed({ period: fiveMinutes }), {
        description: `${name} executions failed: see the failed requests (lethe request list --status failed) or the sweep.failed audit event`,
      });
      this.alarm(`${name}ExecutionsTimedOut`, machine.metricTimedOut({ period: fiveMinutes }), {
        description: `${name} executions timed out`,
      });
      this.alarm(`${name}ExecutionsAborted`, machine.metricAborted({ period: fiveMinutes }), {
        description: `${name} executions were stopped`,
      });
    }
    for (const fn of [...props.functions, this.executionEnded, this.overdueRequests]) {
      const name = fn.node.id;
      this.alarm(`${name}Errors`, fn.fn.metricErrors({ period: fiveMinutes }), {
        description: `${name} threw (a step retried, or a request or sweep failed): see its log group`,
      });
      this.alarm(`${name}Throttles`, fn.fn.metricThrottles({ period: fiveMinutes }), {
        description: `${name} was throttled: the account's Lambda concurrency is used up (see mapConcurrency)`,
      });
    }
    this.alarm(
      'SweepScheduleDeadLetters',
      props.sweepDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      { description: 'The schedule could not start a retention sweep: the message in the queue says why' },
    );
    this.alarm(
      'OverdueRequests',
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: OVERDUE_REQUESTS_METRIC,
        dimensionsMap: { [REQUESTS_TABLE_DIMENSION]: props.functionContext.own.requestsTable.tableName },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      }),
      { description: 'Requests are past their due date: lethe request list shows which' },
    );
  }

  /** An alarm into the topic when `metric` reaches 1 in a period; no data is no trouble. */
  private alarm(id: string, metric: cloudwatch.IMetric, options: { description: string }): void {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `lethe (${Stack.of(this).stackName}): ${options.description}`,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
