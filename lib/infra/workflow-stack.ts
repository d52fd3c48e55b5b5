import { ArnFormat, type CfnElement, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { LETHE_ENV } from '../aws/config';
import type { DataMap } from '../datamap/schema';
import { REQUEST_STATES, type RequestStep } from '../workflow/request-steps';
import { buildRequestWorkflow } from '../workflow/request-workflow';
import { SWEEP_STATES, type SweepStep } from '../workflow/sweep-steps';
import { buildStoreSweepWorkflow, buildSweepWorkflow } from '../workflow/sweep-workflow';
import { LetheConsole } from './console';
import { type ImportedStore, importStores } from './datamap-grants';
import { indexedStores, LetheIdentityIndexer } from './identity-indexer';
import { LetheIndexBuild } from './index-build';
import { LetheIntakeApi } from './intake-api';
import type { FunctionLogLevel, LetheFunction } from './lethe-function';
import { LetheWorkflow } from './lethe-workflow';
import { logicalIdWithoutGroups } from './logical-ids';
import { LetheMonitoring } from './monitoring';
import { acknowledgeWildcardResource } from './nag';
import type { LetheStatefulResources } from './stateful-stack';
import { SweepSchedule } from './sweep-schedule';
import { createWorkflowFunction, type WorkflowFunctionContext } from './workflow-function';

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
   * Days an ended request's record is kept before the sweep purges it (audited as request.purged).
   * Default: the context value `requestRecordDays`, else 730 (24 months, the CCPA minimum for
   * request records, 11 CCR §7101).
   */
  readonly requestRecordDays?: number;
  /**
   * When the retention sweep runs: an EventBridge Scheduler expression, in UTC. Default: the
   * context value `sweepSchedule`, else DEFAULT_SWEEP_SCHEDULE (daily at 03:00 UTC).
   */
  readonly sweepSchedule?: string;
  /** Who the alarm topic e-mails. Default: the context value `alarmEmail`, else nobody. */
  readonly alarmEmail?: string;
  /**
   * Also deploy the privacy console (lib/infra/console.ts): staff sign in with a Cognito user pool.
   * Default: the context value `console` (`true`), else off.
   */
  readonly console?: boolean;
  /** The console's Hosted UI domain prefix; default `<stack name, lowercase>-console-<account>`. */
  readonly consoleDomainPrefix?: string;
}

/**
 * The request workflow (a LetheWorkflow over REQUEST_STATES) and the intake function that starts
 * it; the retention sweep (a LetheWorkflow over SWEEP_STATES) and the SweepSchedule that starts
 * it. The data map's stores are imported by name; each function is granted only what its step
 * does (lib/infra/workflow-function.ts).
 */
export class LetheWorkflowStack extends Stack {
  public readonly functions: Readonly<Record<RequestStep, LetheFunction>>;
  public readonly intake: LetheFunction;
  /** The HTTP API privacy portals submit requests through (IAM-authorised). */
  public readonly intakeApi: LetheIntakeApi;
  /** Answers whether a subject is on the suppression list: reads the list, nothing else. */
  public readonly suppressionCheck: LetheFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineLogGroup: logs.LogGroup;
  public readonly sweepFunctions: Readonly<Record<SweepStep, LetheFunction>>;
  public readonly sweepStateMachine: sfn.StateMachine;
  /** Runs one store segment's sweep pages: a child execution of the sweep, per store segment. */
  public readonly storeSweepStateMachine: sfn.StateMachine;
  public readonly sweepSchedule: scheduler.Schedule;
  public readonly sweepScheduleRole: iam.Role;
  public readonly sweepDeadLetterQueue: sqs.Queue;
  public readonly stores: readonly ImportedStore[];
  public readonly monitoring: LetheMonitoring;
  /** Keeps the identity index current from S3 events; absent without an index table or indexed store. */
  public readonly identityIndexer?: LetheIdentityIndexer;
  /** Builds an indexed store's identity index on AWS; only when the data map indexes a store. */
  public readonly indexBuild?: LetheIndexBuild;
  /** The privacy console, when the stack deploys it. */
  public readonly console: LetheConsole | undefined;

  constructor(scope: Construct, id: string, props: LetheWorkflowStackProps) {
    super(scope, id, props);
    // Exports protect the producer: the stateful stack cannot drop a table this stack uses.
    this.node.setContext('@aws-cdk/core:defaultCrossStackReferences', 'strong');
    const { stateful } = props;
    const recordDaysContext = this.node.tryGetContext('requestRecordDays');
    const requestRecordDays =
      props.requestRecordDays ?? (recordDaysContext === undefined ? undefined : Number(recordDaysContext));
    if (requestRecordDays !== undefined && (!Number.isInteger(requestRecordDays) || requestRecordDays < 1)) {
      throw new Error(`requestRecordDays must be a whole number of days from 1; got ${requestRecordDays}`);
    }
    this.stores = importStores(this, props.dataMap);
    const functionContext: WorkflowFunctionContext = {
      own: {
        key: stateful.key,
        requestsTable: stateful.requestsTable,
        auditTable: stateful.auditTable,
        holdsTable: stateful.holdsTable,
        ...(stateful.identityIndexTable ? { identityIndexTable: stateful.identityIndexTable } : {}),
        ...(stateful.suppressionTable ? { suppressionTable: stateful.suppressionTable } : {}),
        hmacSecret: stateful.hmacSecret,
        manifestsBucket: s3.Bucket.fromBucketName(this, 'ManifestsBucket', stateful.manifestsBucketName),
        exportsBucket: s3.Bucket.fromBucketName(this, 'ExportsBucket', stateful.exportsBucketName),
        ...(stateful.auditBucketName
          ? { auditBucket: s3.Bucket.fromBucketName(this, 'AuditBucket', stateful.auditBucketName) }
          : {}),
      },
      stores: this.stores,
      dataMapJson: JSON.stringify(props.dataMap),
      storesUseLetheKey: props.storesUseLetheKey ?? false,
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      ...(props.exportUrlTtlSeconds ? { exportUrlTtlSeconds: props.exportUrlTtlSeconds } : {}),
      ...(requestRecordDays !== undefined ? { requestRecordDays } : {}),
    };

    const requests = new LetheWorkflow(this, 'Requests', {
      name: 'Request',
      states: REQUEST_STATES,
      definition: buildRequestWorkflow,
      comment: 'lethe: fulfils one data-subject rights request; the execution name is the request id',
      logGroupSuffix: 'requests',
      functionContext,
    });
    this.functions = requests.functions;
    this.stateMachine = requests.stateMachine;
    this.stateMachineLogGroup = requests.logGroup;
    this.intake = createWorkflowFunction(
      this,
      'IntakeFunction',
      'intake',
      functionContext,
      this.stateMachine.stateMachineArn,
    );
    this.stateMachine.grantStartExecution(this.intake.role);
    this.intakeApi = new LetheIntakeApi(this, 'IntakeApi', { intake: this.intake, key: stateful.key });
    this.suppressionCheck = createWorkflowFunction(
      this,
      'SuppressionCheckFunction',
      'suppressionCheck',
      functionContext,
    );
    this.grantVerifyDescribeExecutions();

    const sweeps = new LetheWorkflow<SweepStep>(this, 'Sweeps', {
      name: 'Sweep',
      states: SWEEP_STATES,
      definition: (scope, functions, storeSweep) => {
        if (!storeSweep) throw new Error('the sweep workflow runs its stores in child executions');
        return buildSweepWorkflow(scope, functions, storeSweep);
      },
      child: {
        name: 'StoreSweep',
        steps: ['sweepPage'],
        comment: "lethe: one store segment's retention sweep, page by page (a child execution of a sweep)",
        definition: buildStoreSweepWorkflow,
      },
      comment: 'lethe: retention sweep of every store with a retention rule, honouring legal holds',
      logGroupSuffix: 'sweeps',
      functionContext,
    });
    this.sweepFunctions = sweeps.functions;
    this.sweepStateMachine = sweeps.stateMachine;
    this.storeSweepStateMachine = sweeps.childStateMachine as sfn.StateMachine;
    const schedule = new SweepSchedule(this, 'Schedule', {
      stateMachine: this.sweepStateMachine,
      key: stateful.key,
      expression: props.sweepSchedule ?? this.node.tryGetContext('sweepSchedule'),
    });
    this.sweepSchedule = schedule.schedule;
    // PlanSweep asks whether an earlier sweep still runs (ListExecutions on the sweep machine). A
    // policy of its own, as for Verify: the function must not depend on the machine invoking it.
    new iam.Policy(this, 'PlanSweepListsSweeps', {
      roles: [this.sweepFunctions.planSweep.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:ListExecutions'],
          resources: [this.sweepStateMachine.stateMachineArn],
        }),
      ],
    });
    this.sweepScheduleRole = schedule.role;
    this.sweepDeadLetterQueue = schedule.deadLetterQueue;

    if (stateful.identityIndexTable && indexedStores(this.stores).length > 0) {
      this.identityIndexer = new LetheIdentityIndexer(this, 'IdentityIndexer', {
        key: stateful.key,
        stores: this.stores,
        functionContext,
      });
      new CfnOutput(this, 'IdentityIndexerDeadLetterQueueUrl', {
        value: this.identityIndexer.deadLetterQueue.queueUrl,
      });
      this.indexBuild = new LetheIndexBuild(this, 'IndexBuild', { stores: this.stores, functionContext });
      new CfnOutput(this, 'IndexBuildStateMachineArn', {
        value: this.indexBuild.stateMachine.stateMachineArn,
        description: LETHE_ENV.indexBuildStateMachineArn,
      });
    }

    this.monitoring = new LetheMonitoring(this, 'Monitoring', {
      requestStateMachine: this.stateMachine,
      sweepStateMachine: this.sweepStateMachine,
      functions: [
        ...Object.values(this.functions),
        this.intake,
        this.suppressionCheck,
        ...Object.values(this.sweepFunctions),
        ...(this.identityIndexer ? [this.identityIndexer.function] : []),
        ...(this.indexBuild ? [this.indexBuild.function] : []),
      ],
      sweepDeadLetterQueue: this.sweepDeadLetterQueue,
      key: stateful.key,
      functionContext,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    // As `-c demo=true` is read: the context holds the string given on the command line.
    const consoleContext = String(this.node.tryGetContext('console'));
    if (props.console ?? ['true', '1'].includes(consoleContext)) {
      this.console = new LetheConsole(this, 'Console', {
        own: functionContext.own,
        requestStateMachine: this.stateMachine,
        sweepStateMachine: this.sweepStateMachine,
        dataMapJson: functionContext.dataMapJson,
        domainPrefix:
          props.consoleDomainPrefix ??
          `${this.stackName.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-console-${this.account}`,
        ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      });
      new CfnOutput(this, 'ConsoleSignInUrl', { value: this.console.signInUrl });
      new CfnOutput(this, 'ConsoleUserPoolId', { value: this.console.userPool.userPoolId });
    }

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: LETHE_ENV.stateMachineArn,
    });
    new CfnOutput(this, 'IntakeFunctionName', { value: this.intake.fn.functionName });
    new CfnOutput(this, 'IntakeApiUrl', { value: this.intakeApi.api.url });
    new CfnOutput(this, 'SuppressionCheckFunctionName', { value: this.suppressionCheck.fn.functionName });
    new CfnOutput(this, 'SweepStateMachineArn', {
      value: this.sweepStateMachine.stateMachineArn,
      description: LETHE_ENV.sweepStateMachineArn,
    });
    new CfnOutput(this, 'SweepDeadLetterQueueUrl', { value: this.sweepDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }

  /**
   * The workflows and the schedule were first written out in this stack itself: their resources
   * keep the logical ids they were deployed with (lib/infra/logical-ids.ts).
   */
  protected override allocateLogicalId(element: CfnElement): string {
    return (
      logicalIdWithoutGroups(
        this,
        element,
        (scope) =>
          scope instanceof LetheWorkflow ||
          scope instanceof SweepSchedule ||
          scope instanceof LetheMonitoring,
      ) ?? super.allocateLogicalId(element)
    );
  }

  /**
   * Verify asks whether the execution of the request holding a subject's lock still runs
   * (DescribeExecution), so a request whose execution died is failed instead of blocking its
   * subject. A policy of its own, not the role's default one: the function must not depend on the
   * state machine that invokes it.
   */
  private grantVerifyDescribeExecutions(): void {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const policy = new iam.Policy(this, 'VerifyDescribesExecutions', {
      roles: [this.functions.verify.role],
      statements: [
        new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
      ],
    });
    acknowledgeWildcardResource(
      policy,
      executions,
      'DescribeExecution on the executions of the request state machine only: their names are request ids, not known at deploy time.',
    );
  }
}
