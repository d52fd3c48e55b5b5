import { Aws, Duration, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag';

/** The retention sweep runs daily at 03:00 UTC unless `-c sweepSchedule=...` says otherwise. */
export const DEFAULT_SWEEP_SCHEDULE = 'cron(0 3 * * ? *)';
/** How often EventBridge Scheduler retries starting the sweep, and for how long, before the dead-letter queue. */
export const SWEEP_SCHEDULE_RETRY_ATTEMPTS = 3;
export const SWEEP_SCHEDULE_MAX_EVENT_AGE = Duration.hours(6);

/**
 * The sweep schedule: the given EventBridge Scheduler expression (`cron(...)`, `rate(...)` or
 * `at(...)`), evaluated in UTC, or the default daily run at 03:00 UTC.
 * @throws Error naming the expected form for anything else
 */
export function sweepScheduleExpression(value: unknown): string {
  if (value === undefined || value === null || value === '') return DEFAULT_SWEEP_SCHEDULE;
  const expression = String(value).trim();
  if (!/^(cron|rate|at)\(.+\)$/.test(expression)) {
    throw new Error(
      `sweepSchedule "${expression}" must be an EventBridge Scheduler expression such as "cron(0 3 * * ? *)" or "rate(12 hours)"`,
    );
  }
  return expression;
}

export interface SweepScheduleProps {
  /** The retention sweep state machine the schedule starts. */
  readonly stateMachine: sfn.IStateMachine;
  /** lethe's key: encrypts the dead-letter queue. */
  readonly key: kms.IKey;
  /** When the sweep runs, checked by sweepScheduleExpression; default DEFAULT_SWEEP_SCHEDULE. */
  readonly expression?: string;
}

/**
 * The EventBridge Scheduler schedule that starts the retention sweep: a role only it can assume
 * (from this account) that may start the sweep and nothing else, a retry policy, and a
 * dead-letter queue encrypted with lethe's key that accepts TLS only, for the starts it could not
 * make.
 */
export class SweepSchedule extends Construct {
  public readonly schedule: scheduler.Schedule;
  public readonly role: iam.Role;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SweepScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'SweepScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.deadLetterQueue,
      'SQS3',
      'This queue is the dead-letter queue of the sweep schedule: EventBridge Scheduler puts here the sweep starts it could not make after its retries. A dead-letter queue of its own would only move those events one step further.',
    );
    this.role = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description:
        'lethe: EventBridge Scheduler starts the retention sweep and dead-letters what it cannot start',
    });
    props.stateMachine.grantStartExecution(this.role);
    // The dead-letter queue is encrypted with lethe's key: sending to it needs a data key.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': [`sqs.${Aws.REGION}.amazonaws.com`] } },
      }),
    );
    const expression = sweepScheduleExpression(props.expression);
    this.schedule = new scheduler.Schedule(this, 'SweepSchedule', {
      description: `lethe: retention sweep, ${expression} UTC`,
      schedule: scheduler.ScheduleExpression.expression(expression, TimeZone.ETC_UTC),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject({ dryRun: false }),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: SWEEP_SCHEDULE_RETRY_ATTEMPTS,
        maxEventAge: SWEEP_SCHEDULE_MAX_EVENT_AGE,
      }),
    });
  }
}
