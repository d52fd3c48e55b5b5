import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { DataMap } from '../datamap/schema';
import { REQUEST_STATES, type RequestStep } from '../workflow/request-steps';
import { buildRequestWorkflow, type RequestWorkflowFunctions } from '../workflow/request-workflow';
import { grantDataMapAccess, type ImportedStore, importStores } from './datamap-grants';
import { type FunctionLogLevel, LetheFunction } from './lethe-function';
import { grantOwnAccess, type LetheFunctionName, OWN_ACCESS } from './lethe-grants';
import { acknowledgeWildcardResource } from './nag';
import type { LetheStatefulResources } from './stateful-stack';

export interface LetheStatelessStackProps extends StackProps {
  /** lethe's own resources, from the stateful stack. */
  readonly stateful: LetheStatefulResources;
  /** The data map: bundled into every function, and the source of the store grants. */
  readonly dataMap: DataMap;
  /** The data map's stores are encrypted with lethe's key (they were created by the stateful stack's demo mode). */
  readonly storesUseLetheKey?: boolean;
  readonly logLevel?: FunctionLogLevel;
  readonly exportUrlTtlSeconds?: number;
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
};

/**
 * The request workflow: one LetheFunction per Task state (REQUEST_STATES) plus intake, the
 * Standard state machine built by buildRequestWorkflow, logging to an encrypted log group and
 * traced. The data map's stores are imported by name; each function is granted only what its
 * step does (lib/infra/datamap-grants.ts, lib/infra/lethe-grants.ts).
 */
export class LetheStatelessStack extends Stack {
  public readonly functions: Readonly<Record<RequestStep, LetheFunction>>;
  public readonly intake: LetheFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineLogGroup: logs.LogGroup;
  public readonly stores: readonly ImportedStore[];

  constructor(scope: Construct, id: string, props: LetheStatelessStackProps) {
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
      hmacSecret: stateful.hmacSecret,
      manifestsBucket,
      exportsBucket,
    };
    this.stores = importStores(this, props.dataMap);
    const dataMapJson = JSON.stringify(props.dataMap);

    const create = (name: LetheFunctionName, extra: { stateMachineArn?: string } = {}) => {
      const settings = FUNCTION_SETTINGS[name];
      const fn = new LetheFunction(
        this,
        name === 'intake' ? 'IntakeFunction' : `${REQUEST_STATES[name]}Function`,
        {
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
        },
      );
      grantOwnAccess(fn.role, name, own, {
        writesEncryptedStores: (props.storesUseLetheKey ?? false) && name === 'eraseStore',
      });
      if (name !== 'intake') grantDataMapAccess(fn.role, name, this.stores);
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

    new CfnOutput(this, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'LETHE_STATE_MACHINE_ARN',
    });
    new CfnOutput(this, 'IntakeFunctionName', { value: this.intake.fn.functionName });
  }
}
