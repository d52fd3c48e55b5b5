import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DataMap } from '../datamap/schema';
import { REQUEST_STATES, type RequestStep } from '../workflow/request-steps';
import { buildRequestWorkflow, type RequestWorkflowFunctions } from '../workflow/request-workflow';
import { SWEEP_STATES, type SweepStep } from '../workflow/sweep-steps';
import { buildSweepWorkflow, type SweepWorkflowFunctions } from '../workflow/sweep-workflow';
import { grantDataMapAccess, grantSweepAccess, type ImportedStore, importStores } from './datamap-grants';
import { type FunctionLogLevel, LetheFunction } from './lethe-function';
import { grantOwnAccess, type LetheFunctionName, OWN_ACCESS } from './lethe-grants';
import { acknowledgeRule, acknowledgeWildcardResource } from './nag';
import type { LetheStatefulResources } from './stateful-stack';

export interface LetheWorkflowStackProps extends StackProps {
  /** lethe's own resources, from the stateful stack. */
  readonly stateful: LetheStatefulResources;
  /** The data map: bundled into every function, and the source of the store grants. */
  readonly dataMap: DataMap;
  /** The data map's stores are encrypted with lethe's key (they were created by the stateful stack's demo mode). */
  readonly storesUseLetheKey?: boolean;
  readonly logLevel?: FunctionLogLevel;
  readonly exportUrlTtlSeconds?: number;
  /**
   * When the retention sweep runs: an EventBridge Scheduler expression, in UTC. Default: the
   * context value `sweepSchedule`, else DEFAULT_SWEEP_SCHEDULE (daily at 03:00 UTC).
   */
  readonly sweepSchedule?: string;
}

/** The retention sweep runs daily at 03:00 UTC unless `-c sweepSchedule=...` says otherwise. */
export const DEFAULT_SWEEP_SCHEDULE = 'cron(0 3 * * ? *)';
/** How often EventBridge Scheduler retries starting the sweep, and for how long, before the dead-letter queue. */
export const SWEEP_SCHEDULE_RETRY_ATTEMPTS = 3;
export const SWEEP_SCHEDULE_MAX_EVENT_AGE = Duration.hours(6);

/** The state name of each function's step (and so its construct id). */
function stepName(name: LetheFunctionName): string {
  if (name === 'intake') return 'Intake';
  return name in REQUEST_STATES ? REQUEST_STATES[name as RequestStep] : SWEEP_STATES[name as SweepStep];
}

/** Handler file, memory and timeout of each function. */
export const FUNCTION_SETTINGS: Record<
  LetheFunctionName,
  { entry: string; memorySize?: number; timeout?: Duration; description: string }
> = {
  intake: { entry: 'lambdas/intake.ts', description: 'Records a rights request and starts its execution' },
  verify: { entry: 'lambdas/verify.ts', description: 'Verify: checks, normalisation, in-flight lock' },
  resolve: {
    entry: 'lambdas/resolve.ts',
    timeout: Duration.minutes(2),
    description: 'ResolveIdentities: follows data map links',
  },
  locateStore: {
    entry: 'lambdas/locate-store.ts',
    timeout: Duration.minutes(5),
    description: 'LocateStore: finds the subject in one store, writes a manifest',
  },
  exportPackage: {
    entry: 'lambdas/export-package.ts',
    memorySize: 1024,
    timeout: Duration.minutes(15),
    description: 'ExportPackage: streams located records into a zip',
  },
  eraseStore: {
    entry: 'lambdas/erase-store.ts',
    timeout: Duration.minutes(10),
    description: 'EraseStore: deletes, masks or rewrites in one store',
  },
  confirm: {
    entry: 'lambdas/confirm.ts',
    timeout: Duration.minutes(5),
    description: 'Confirm: locates again, certifies the erasure or checks the export',
  },
  recordOutcome: {
    entry: 'lambdas/record-outcome.ts',
    description: 'RecordOutcome: request record and audit',
  },
  recordFailure: {
    entry: 'lambdas/record-failure.ts',
    description: 'RecordFailure: request record and audit',
  },
  planSweep: { entry: 'lambdas/plan-sweep.ts', description: 'PlanSweep: stores with a retention rule' },
  sweepPage: {
    entry: 'lambdas/sweep-page.ts',
    // A page stops starting new reads after its budget (one minute); the rest is the page in flight.
    timeout: Duration.minutes(5),
    description: 'SweepPage: purges or anonymises expired, unheld records of one store, one page',
  },
  recordSweep: { entry: 'lambdas/record-sweep.ts', description: 'RecordSweep: totals and audit' },
  recordSweepFailure: {
    entry: 'lambdas/record-sweep-failure.ts',
    description: 'RecordSweepFailure: audit',
  },
};

/**
 * The request workflow: one LetheFunction per Task state (REQUEST_STATES) plus intake, the
 * Standard state machine built by buildRequestWorkflow, logging to an encrypted log group and
 * traced. The retention sweep: one LetheFunction per Task state (SWEEP_STATES), its Standard
 * state machine (buildSweepWorkflow), and an EventBridge Scheduler schedule that starts it, with
 * a retry policy and an encrypted, TLS-only dead-letter queue. The data map's stores are imported
 * by name; each function is granted only what its step does (lib/infra/datamap-grants.ts,
 * lib/infra/lethe-grants.ts).
 */
export class LetheWorkflowStack extends Stack {
  public readonly functions: Readonly<Record<RequestStep, LetheFunction>>;
  public readonly intake: LetheFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineLogGroup: logs.LogGroup;
  public readonly sweepFunctions: Readonly<Record<SweepStep, LetheFunction>>;
  public readonly sweepStateMachine: sfn.StateMachine;
  public readonly sweepSchedule: scheduler.Schedule;
  public readonly sweepScheduleRole: iam.Role;
  public readonly sweepDeadLetterQueue: sqs.Queue;
  public readonly stores: readonly ImportedStore[];

  constructor(scope: Construct, id: string, props: LetheWorkflowStackProps) {
    super(scope, id, props);
    // Exports protect the producer: the stateful stack cannot drop a table this stack uses.
    this.node.setContext('@aws-cdk/core:defaultCrossStackReferences', 'strong');
    const { stateful } = props;
    const manifestsBucket = s3.Bucket.fromBucketName(this, 'ManifestsBucket', stateful.manifestsBucketName);
    const exportsBucket = s3.Bucket.fromBucketName(this, 'ExportsBucket', stateful.exportsBucketName);
    const own = {
      key: stateful.key,
      requestsTable: stateful.requestsTable,
      auditTable: stateful.auditTable,
      holdsTable: stateful.holdsTable,
      hmacSecret: stateful.hmacSecret,
      manifestsBucket,
      exportsBucket,
    };
    this.stores = importStores(this, props.dataMap);
    const dataMapJson = JSON.stringify(props.dataMap);

    const create = (name: LetheFunctionName, extra: { stateMachineArn?: string } = {}) => {
      const settings = FUNCTION_SETTINGS[name];
      const fn = new LetheFunction(this, `${stepName(name)}Function`, {
        entry: settings.entry,
        description: `lethe ${settings.description}`,
        ...(settings.memorySize ? { memorySize: settings.memorySize } : {}),
        ...(settings.timeout ? { timeout: settings.timeout } : {}),
        key: stateful.key,
        resources: {
          requestsTable: stateful.requestsTable.tableName,
          auditTable: stateful.auditTable.tableName,
          holdsTable: stateful.holdsTable.tableName,
          manifestsBucket: stateful.manifestsBucketName,
          exportsBucket: stateful.exportsBucketName,
        },
        dataMapJson,
        ...(OWN_ACCESS[name].hmacKeys ? { hmacSecretArn: stateful.hmacSecret.secretArn } : {}),
        ...extra,
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
        ...(props.exportUrlTtlSeconds ? { exportUrlTtlSeconds: props.exportUrlTtlSeconds } : {}),
      });
      grantOwnAccess(fn.role, name, own, {
        writesEncryptedStores:
          (props.storesUseLetheKey ?? false) && (name === 'eraseStore' || name === 'sweepPage'),
      });
      if (name === 'sweepPage') grantSweepAccess(fn.role, this.stores);
      else if (name in REQUEST_STATES) grantDataMapAccess(fn.role, name as RequestStep, this.stores);
      return fn;
    };

    const steps = Object.keys(REQUEST_STATES) as RequestStep[];
    const functions = {} as Record<RequestStep, LetheFunction>;
    const workflowFunctions = {} as RequestWorkflowFunctions;
    for (const step of steps) {
      functions[step] = create(step);
      workflowFunctions[step] = functions[step].fn;
    }
    this.functions = functions;

    this.stateMachineLogGroup = new logs.LogGroup(this, 'RequestWorkflowLogs', {
      // Step Functions delivers through CloudWatch Logs vended logs; this prefix keeps the
      // log resource policy small however many state machines there are.
      logGroupName: `/aws/vendedlogs/states/${this.stackName}-requests`,
      encryptionKey: stateful.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'RequestStateMachine', {
      comment: 'lethe: fulfils one data-subject rights request; the execution name is the request id',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildRequestWorkflow(new Construct(this, 'RequestWorkflow'), workflowFunctions),
      ),
      tracingEnabled: true,
      // State carries ids and counts only; execution data stays out of the logs all the same.
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    acknowledgeWildcardResource(
      this.stateMachine.role,
      '*',
      'Step Functions log delivery (logs:CreateLogDelivery and the other vended-log calls) and X-Ray (PutTraceSegments, sampling rules) support no resource-level permissions: AWS requires Resource "*". Added by CDK for logging and tracing.',
    );
    for (const step of steps) {
      acknowledgeWildcardResource(
        this.stateMachine.role,
        `${this.functions[step].fn.functionArn}:*`,
        `lambda:InvokeFunction on the versions and aliases of the ${REQUEST_STATES[step]} function only; CDK's LambdaInvoke grants the function ARN and its qualified ARNs.`,
      );
    }

    this.intake = create('intake', { stateMachineArn: this.stateMachine.stateMachineArn });
    this.stateMachine.grantStartExecution(this.intake.role);

    // ---- Retention sweep -------------------------------------------------------------------
    const sweepSteps = Object.keys(SWEEP_STATES) as SweepStep[];
    const sweepFunctions = {} as Record<SweepStep, LetheFunction>;
    const sweepWorkflowFunctions = {} as SweepWorkflowFunctions;
    for (const step of sweepSteps) {
      sweepFunctions[step] = create(step);
      sweepWorkflowFunctions[step] = sweepFunctions[step].fn;
    }
    this.sweepFunctions = sweepFunctions;
    const sweepLogGroup = new logs.LogGroup(this, 'SweepWorkflowLogs', {
      logGroupName: `/aws/vendedlogs/states/${this.stackName}-sweeps`,
      encryptionKey: stateful.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.sweepStateMachine = new sfn.StateMachine(this, 'SweepStateMachine', {
      comment: 'lethe: retention sweep of every store with a retention rule, honouring legal holds',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildSweepWorkflow(new Construct(this, 'SweepWorkflow'), sweepWorkflowFunctions),
      ),
      tracingEnabled: true,
      logs: { destination: sweepLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    acknowledgeWildcardResource(
      this.sweepStateMachine.role,
      '*',
      'Step Functions log delivery (logs:CreateLogDelivery and the other vended-log calls) and X-Ray (PutTraceSegments, sampling rules) support no resource-level permissions: AWS requires Resource "*". Added by CDK for logging and tracing of the sweep state machine.',
    );
    for (const step of sweepSteps) {
      acknowledgeWildcardResource(
        this.sweepStateMachine.role,
        `${sweepFunctions[step].fn.functionArn}:*`,
        `lambda:InvokeFunction on the versions and aliases of the ${SWEEP_STATES[step]} function only; CDK's LambdaInvoke grants the function ARN and its qualified ARNs.`,
      );
    }

    this.sweepDeadLetterQueue = new sqs.Queue(this, 'SweepScheduleDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: stateful.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.sweepDeadLetterQueue,
      'SQS3',
      'This queue is the dead-letter queue of the sweep schedule: EventBridge Scheduler puts here the sweep starts it could not make after its retries. A dead-letter queue of its own would only move those events one step further.',
    );
    this.sweepScheduleRole = new iam.Role(this, 'SweepScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description:
        'lethe: EventBridge Scheduler starts the retention sweep and dead-letters what it cannot start',
    });
    this.sweepStateMachine.grantStartExecution(this.sweepScheduleRole);
    // The dead-letter queue is encrypted with lethe's key: sending to it needs a data key.
    this.sweepScheduleRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [stateful.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': [`sqs.${Aws.REGION}.amazonaws.com`] } },
      }),
    );
    const expression = sweepScheduleExpression(
      props.sweepSchedule ?? this.node.tryGetContext('sweepSchedule'),
    );
    this.sweepSchedule = new scheduler.Schedule(this, 'SweepSchedule', {
      description: `lethe: retention sweep, ${expression} UTC`,
      schedule: scheduler.ScheduleExpression.expression(expression, TimeZone.ETC_UTC),
      target: new targets.StepFunctionsStartExecution(this.sweepStateMachine, {
        role: this.sweepScheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ dryRun: false }),
        deadLetterQueue: this.sweepDeadLetterQueue,
        retryAttempts: SWEEP_SCHEDULE_RETRY_ATTEMPTS,
        maxEventAge: SWEEP_SCHEDULE_MAX_EVENT_AGE,
      }),
    });

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'LETHE_STATE_MACHINE_ARN',
    });
    new CfnOutput(this, 'IntakeFunctionName', { value: this.intake.fn.functionName });
    new CfnOutput(this, 'SweepStateMachineArn', {
      value: this.sweepStateMachine.stateMachineArn,
      description: 'LETHE_SWEEP_STATE_MACHINE_ARN',
    });
    new CfnOutput(this, 'SweepDeadLetterQueueUrl', { value: this.sweepDeadLetterQueue.queueUrl });
  }
}

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
