import { ArnFormat, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { sharedObjectPrefixes } from '../datamap/prefixes';
import { LAMBDA_SERVICE_ERRORS, STEP_TIMEOUT_SECONDS } from '../workflow/tasks';
import type { ImportedStore } from './datamap-grants';
import { indexedStores } from './identity-indexer';
import type { LetheFunction } from './lethe-function';
import { acknowledgeWildcardResource } from './nag';
import { createWorkflowFunction, type WorkflowFunctionContext } from './workflow-function';

/** Listed objects per child batch of the Distributed Map (DEFAULT_INDEX_BATCH_SIZE of a local build). */
export const INDEX_BUILD_BATCH_SIZE = 100;
/** Child batches of one Distributed Map run at once: bounds the Lambda concurrency and the index table's writes. */
export const INDEX_BUILD_CONCURRENCY = 10;

export interface IndexBuildProps {
  /** The data map's stores as imported; a Distributed Map lists each indexed S3 store's bucket. */
  readonly stores: readonly ImportedStore[];
  readonly functionContext: WorkflowFunctionContext;
}

/**
 * Builds the identity index of an existing bucket on AWS (`lethe index build --target aws`): the
 * IndexBuild state machine takes {storeId}, and for that store runs one Step Functions Distributed
 * Map per shared-object prefix over the bucket's listing (S3ObjectsItemReader), batched
 * INDEX_BUILD_BATCH_SIZE objects a child, each child invoking the IndexBatch function (the same
 * indexBatch a local build runs), with no failure tolerated. Only after every map succeeded does
 * its last state record the watermark, the execution's start less the margin, so index lag can
 * never hide an object. An object whose upload completes after the listing is indexed from its S3
 * event by the identity indexer, so one listing suffices here (a local build lists twice).
 */
export class LetheIndexBuild extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly function: LetheFunction;

  constructor(scope: Construct, id: string, props: IndexBuildProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.function = createWorkflowFunction(this, 'IndexBatchFunction', 'indexBatch', props.functionContext);
    const invoke = (name: string, payload?: sfn.TaskInput) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: this.function.fn,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TIMEOUT_SECONDS)),
        ...(payload ? { payload } : {}),
      });
      task.addRetry({
        errors: [...LAMBDA_SERVICE_ERRORS],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        maxDelay: Duration.seconds(60),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    const stores = indexedStores(props.stores);
    const choice = new sfn.Choice(this, 'WhichStore');
    const unknown = new sfn.Fail(this, 'NotAnIndexedStore', {
      error: 'NotAnIndexedStore',
      cause: 'storeId names no store of the data map that keeps an identity index',
    });
    stores.forEach((imported, storeIndex) => {
      const finish = invoke(
        `FinishIndexBuild${storeIndex + 1}`,
        sfn.TaskInput.fromObject({
          finish: true,
          storeId: imported.store.id,
          startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        }),
      );
      const maps = sharedObjectPrefixes(imported.store).map((prefix, prefixIndex) =>
        new sfn.DistributedMap(this, `IndexStore${storeIndex + 1}Prefix${prefixIndex + 1}`, {
          comment: `store ${imported.store.id}, objects under "${prefix}"`,
          itemReader: new sfn.S3ObjectsItemReader({ bucket: imported.bucket, prefix }),
          itemBatcher: new sfn.ItemBatcher({
            maxItemsPerBatch: INDEX_BUILD_BATCH_SIZE,
            batchInput: { storeId: imported.store.id },
          }),
          maxConcurrency: INDEX_BUILD_CONCURRENCY,
          toleratedFailurePercentage: 0,
          mapExecutionType: sfn.StateMachineType.STANDARD,
          // Only success matters; the batches' counts would pass the 256 KiB state limit on a large bucket.
          resultPath: sfn.JsonPath.DISCARD,
        }).itemProcessor(invoke(`IndexBatch${storeIndex + 1}_${prefixIndex + 1}`)),
      );
      const [first, ...rest] = maps;
      const chain = first
        ? rest.reduce<sfn.IChainable & sfn.INextable>((previous, next) => {
            previous.next(next);
            return next;
          }, first)
        : undefined;
      if (chain) chain.next(finish);
      choice.when(sfn.Condition.stringEquals('$.storeId', imported.store.id), first ?? finish);
    });
    choice.otherwise(unknown);

    const logGroup = new logs.LogGroup(this, 'IndexBuildWorkflowLogs', {
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-index-build-${Fn.select(2, Fn.split('/', stack.stackId))}`,
      encryptionKey: props.functionContext.own.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'IndexBuildStateMachine', {
      comment: "lethe: builds an indexed store's identity index over its bucket's listing (Distributed Map)",
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(choice),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // CDK grants the Distributed Map StartExecution on this machine and its own executions'
    // Describe/Stop/Redrive; AWS's policy for Distributed Map also names the child executions
    // (`<machine>/<map run>:<id>`), which CDK's `<machine>:*` does not cover.
    const machineName = Fn.select(6, Fn.split(':', this.stateMachine.stateMachineArn));
    const childExecutions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machineName}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // A policy of its own: in the role's default policy, which the machine depends on, its ARN would be a cycle.
    new iam.Policy(this, 'IndexBuildChildExecutions', {
      roles: [this.stateMachine.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [childExecutions],
        }),
      ],
    });
    const executions = (name: string) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${machineName}${name}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    for (const [pattern, what] of [
      [':*', "its own executions (CDK's grant of DescribeExecution and StopExecution for a Distributed Map)"],
      ['/*:*', "its map runs' child executions (CDK's grant of RedriveExecution for a Distributed Map)"],
      [
        '/*',
        "its map runs' child executions (DescribeExecution and StopExecution, as AWS's policy for Distributed Map asks)",
      ],
    ] as const) {
      acknowledgeWildcardResource(
        this,
        executions(pattern),
        `Executions of the IndexBuild state machine only, named by Step Functions: ${what}.`,
      );
    }
    acknowledgeWildcardResource(
      this.stateMachine.role,
      '*',
      'Step Functions log delivery (logs:CreateLogDelivery and the other vended-log calls) and X-Ray (PutTraceSegments, sampling rules) support no resource-level permissions: AWS requires Resource "*". Added by CDK for logging and tracing of the IndexBuild state machine.',
    );
    acknowledgeWildcardResource(
      this.stateMachine.role,
      `${this.function.fn.functionArn}:*`,
      "lambda:InvokeFunction on the versions and aliases of the IndexBatch function only; CDK's LambdaInvoke grants the function ARN and its qualified ARNs.",
    );
  }
}
