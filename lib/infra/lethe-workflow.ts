import { ArnFormat, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RequestStep } from '../workflow/request-steps';
import type { SweepStep } from '../workflow/sweep-steps';
import type { LetheFunction } from './lethe-function';
import { acknowledgeWildcardResource } from './nag';
import { createWorkflowFunction, type WorkflowFunctionContext } from './workflow-function';

export interface LetheWorkflowProps<Step extends RequestStep | SweepStep> {
  /** `Request` or `Sweep`: names the state machine (`<name>StateMachine`) and its log group (`<name>WorkflowLogs`). */
  readonly name: string;
  /** The Task state name of each step (lib/workflow): one function per step, `<state>Function`. */
  readonly states: Readonly<Record<Step, string>>;
  /**
   * Builds the definition from the step functions (buildRequestWorkflow, buildSweepWorkflow) and,
   * with `child`, the child state machine it starts.
   */
  readonly definition: (
    scope: Construct,
    functions: Record<Step, IFunction>,
    child: sfn.IStateMachine | undefined,
  ) => sfn.IChainable;
  /**
   * A second state machine over the same functions that the workflow runs as child executions
   * (the sweep's store sweeps): `<child.name>StateMachine`, logging to the same log group.
   */
  readonly child?: {
    readonly name: string;
    /** The steps the child runs; the workflow itself runs the others. */
    readonly steps: readonly Step[];
    readonly comment: string;
    readonly definition: (scope: Construct, functions: Record<Step, IFunction>) => sfn.IChainable;
  };
  readonly comment: string;
  /** The log group is `/aws/vendedlogs/states/<stack name>-<logGroupSuffix>-<stack UUID>`. */
  readonly logGroupSuffix: string;
  /** What the step functions are built from and granted. */
  readonly functionContext: WorkflowFunctionContext;
}

/**
 * One lethe workflow: a LetheFunction per Task state, each granted what its step does
 * (createWorkflowFunction), and the Standard state machine that runs them, traced with X-Ray and
 * logging to a log group encrypted with lethe's key. Used for the request workflow and the
 * retention sweep alike.
 */
export class LetheWorkflow<Step extends RequestStep | SweepStep> extends Construct {
  public readonly functions: Readonly<Record<Step, LetheFunction>>;
  public readonly stateMachine: sfn.StateMachine;
  /** The child state machine, when the props name one. */
  public readonly childStateMachine: sfn.StateMachine | undefined;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LetheWorkflowProps<Step>) {
    super(scope, id);
    const steps = Object.keys(props.states) as Step[];
    const functions = {} as Record<Step, LetheFunction>;
    const invoked = {} as Record<Step, IFunction>;
    for (const step of steps) {
      functions[step] = createWorkflowFunction(
        this,
        `${props.states[step]}Function`,
        step,
        props.functionContext,
      );
      invoked[step] = functions[step].fn;
    }
    this.functions = functions;

    this.logGroup = new logs.LogGroup(this, `${props.name}WorkflowLogs`, {
      // Step Functions delivers through CloudWatch Logs vended logs; this prefix keeps the
      // log resource policy small however many state machines there are.
      // The stack's id ends in a UUID new with each creation of the stack: a log group retained
      // after `cdk destroy` keeps its name to itself, and deploying again does not collide with it.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${props.logGroupSuffix}-${Fn.select(2, Fn.split('/', Stack.of(this).stackId))}`,
      encryptionKey: props.functionContext.own.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const childSteps = new Set<Step>(props.child?.steps ?? []);
    const machine = (name: string, comment: string, definition: sfn.IChainable, invokes: Step[]) => {
      const created = new sfn.StateMachine(this, `${name}StateMachine`, {
        comment,
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromChainable(definition),
        tracingEnabled: true,
        // State carries ids and counts only; execution data stays out of the logs all the same.
        logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      });
      acknowledgeWildcardResource(
        created.role,
        '*',
        `Step Functions log delivery (logs:CreateLogDelivery and the other vended-log calls) and X-Ray (PutTraceSegments, sampling rules) support no resource-level permissions: AWS requires Resource "*". Added by CDK for logging and tracing of the ${name} state machine.`,
      );
      for (const step of invokes) {
        acknowledgeWildcardResource(
          created.role,
          `${functions[step].fn.functionArn}:*`,
          `lambda:InvokeFunction on the versions and aliases of the ${props.states[step]} function only; CDK's LambdaInvoke grants the function ARN and its qualified ARNs.`,
        );
      }
      return created;
    };
    this.childStateMachine = props.child
      ? machine(
          props.child.name,
          props.child.comment,
          props.child.definition(new Construct(this, `${props.child.name}Definition`), invoked),
          [...childSteps],
        )
      : undefined;
    this.stateMachine = machine(
      props.name,
      props.comment,
      props.definition(new Construct(this, 'Definition'), invoked, this.childStateMachine),
      steps.filter((step) => !childSteps.has(step)),
    );
    if (this.childStateMachine) {
      // The resource exactly as CDK's StepFunctionsStartExecution (.sync) grants it.
      acknowledgeWildcardResource(
        this.stateMachine.role,
        Stack.of(this).formatArn({
          service: 'states',
          resource: 'execution',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          resourceName: `${Fn.select(6, Fn.split(':', this.childStateMachine.stateMachineArn))}*`,
        }),
        `states:DescribeExecution and StopExecution on the executions of the ${props.child?.name} state machine only, which the ${props.name} workflow starts and waits for (.sync); their names are generated, hence the wildcard. Added by CDK for StepFunctionsStartExecution.`,
      );
    }
  }
}
