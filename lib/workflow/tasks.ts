import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { StepInputError } from './request-steps';

/**
 * How every Task of lethe's state machines is built: one place sets the timeout, the retries and
 * the catch into the failure path, so the request and sweep workflows cannot drift apart.
 */

/**
 * Errors of the Lambda service itself, as Step Functions reports them when it could not invoke a
 * function (not errors the function threw). TooManyRequestsException is the account's or the
 * function's concurrency being used up: the commonest of them under load.
 */
export const LAMBDA_SERVICE_ERRORS: readonly string[] = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.EC2ThrottledException',
];

/**
 * A function that crashed: it timed out, ran out of memory, or died unhandled. Retried only where
 * the step is idempotent and a crash may be transient (a sweep page continues from its token).
 */
export const CRASH_ERRORS: readonly string[] = ['Sandbox.Timedout', 'Runtime.ExitError', 'Lambda.Unknown'];

/** A class of errors Retry and Catch can match: its errors' `name` is the class name. */
export type NamedErrorClass = abstract new (...args: never[]) => Error;

/**
 * The names Step Functions matches for errors of these classes. Every lethe error class sets its
 * `name` to its class name (test/infra/workflow-tasks.test.ts checks those used here), so a
 * renamed class renames its retry and cannot silently stop matching.
 */
export function errorNames(...classes: NamedErrorClass[]): string[] {
  return classes.map((errorClass) => errorClass.name);
}

/**
 * The longest a Task may run: the Lambda maximum, so the function's own timeout ends it first.
 * Set on every Task because aws-local-stepfunctions otherwise times a Task out after 60 s.
 */
export const STEP_TIMEOUT_SECONDS = 900;

/**
 * The longest a child execution may run (a store's sweep pages, lib/workflow/sweep-workflow.ts):
 * a day. Set because aws-local-stepfunctions otherwise times a Task out after 60 s.
 */
export const CHILD_EXECUTION_TIMEOUT_SECONDS = 24 * 60 * 60;

/**
 * Errors of the Step Functions service itself when one execution starts another (not a failure of
 * the child execution, which is States.TaskFailed): retried like the Lambda service's.
 */
export const STEP_FUNCTIONS_SERVICE_ERRORS: readonly string[] = [
  'StepFunctions.ExecutionLimitExceededException',
  'StepFunctions.SdkClientException',
  'StepFunctions.AWSStepFunctionsException',
];

/** The context value that sets how many Map iterations (stores, scan segments) run at once. */
export const MAP_CONCURRENCY_CONTEXT = 'mapConcurrency';
/** Iterations of a Map run at once unless `-c mapConcurrency=N` says otherwise. */
export const DEFAULT_MAP_CONCURRENCY = 4;
/** An inline Map runs at most 40 iterations at once whatever MaxConcurrency says. */
export const MAX_MAP_CONCURRENCY = 40;

/**
 * The Map concurrency: the context value `mapConcurrency`, else DEFAULT_MAP_CONCURRENCY. Each
 * iteration is one Lambda invocation at a time, so requests × this is what the workflows ask of
 * the account's Lambda concurrency (docs/OPERATIONS.md).
 * @throws Error naming the allowed range for anything but an integer from 1 to 40
 */
export function mapConcurrency(scope: Construct): number {
  const value: unknown = scope.node.tryGetContext(MAP_CONCURRENCY_CONTEXT);
  if (value === undefined || value === null || value === '') return DEFAULT_MAP_CONCURRENCY;
  const concurrency = Number(value);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_MAP_CONCURRENCY) {
    throw new Error(
      `${MAP_CONCURRENCY_CONTEXT} "${String(value)}" must be an integer from 1 to ${MAX_MAP_CONCURRENCY}`,
    );
  }
  return concurrency;
}

export interface WorkflowTasksProps {
  /** Errors every Task retries with backoff: throttling, transient service errors, partial work. */
  readonly transientErrors: readonly string[];
  /**
   * The first state of the failure path for a failure of the state named: a Pass noting where
   * it failed, which the failure recorder follows.
   */
  readonly failureNote: (failedState: string) => sfn.Pass;
}

/** A LambdaInvoke's props, less what WorkflowTasks sets itself. */
export type StepTaskProps = Omit<
  tasks.LambdaInvokeProps,
  'lambdaFunction' | 'retryOnServiceExceptions' | 'taskTimeout' | 'timeout'
> & {
  /** Also retry a crashed function (CRASH_ERRORS): only for idempotent steps. */
  readonly retryCrashes?: boolean;
};

/**
 * Builds the Tasks and Maps of one state machine. Every Task invokes its function with
 * STEP_TIMEOUT_SECONDS, retries the Lambda service errors and the workflow's transient errors
 * with capped, jittered backoff, and is caught (itself, or through the Map around it) into the
 * failure path, whose recorder retries any error generously.
 */
export class WorkflowTasks {
  /** Iterations of every Map run at once (mapConcurrency). */
  public readonly mapConcurrency: number;
  private recorder: tasks.LambdaInvoke | undefined;

  constructor(
    private readonly scope: Construct,
    private readonly props: WorkflowTasksProps,
  ) {
    this.mapConcurrency = mapConcurrency(scope);
  }

  /**
   * The Task that records a failure: the end of the failure path, so it catches nothing; it
   * retries any error but invalid input, because a failure nobody records leaves the request
   * looking as if it still ran. Create it before any other Task.
   */
  failureRecorder(name: string, fn: IFunction, props: StepTaskProps): tasks.LambdaInvoke {
    const task = this.invoke(name, fn, props);
    task.addRetry({ errors: errorNames(StepInputError), maxAttempts: 0 });
    task.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 10,
      maxDelay: Duration.minutes(5),
      jitterStrategy: sfn.JitterType.FULL,
    });
    this.recorder = task;
    return task;
  }

  /** A Task whose failures are caught into the failure path. */
  task(name: string, fn: IFunction, props: StepTaskProps): tasks.LambdaInvoke {
    return this.catchInto(this.invoke(name, fn, props), name);
  }

  /**
   * A Task inside a Map's item processor: caught by the Map around it (a state inside a Map
   * cannot move to one outside it), so map() must wrap it.
   */
  mapItemTask(name: string, fn: IFunction, props: StepTaskProps): tasks.LambdaInvoke {
    return this.invoke(name, fn, props);
  }

  /**
   * A Task inside a Map's item processor that runs `stateMachine` to its end with the state as
   * input (StartExecution .sync:2, linked to this execution) and continues with its output. A
   * failed child execution fails the Task (States.TaskFailed, the child's error and cause in the
   * Cause), which the Map around it catches; only Step Functions' own errors are retried, since
   * the child retried its steps itself.
   */
  mapItemChildExecution(
    name: string,
    stateMachine: sfn.IStateMachine,
    props: { resultSelector: Record<string, unknown> },
  ): tasks.StepFunctionsStartExecution {
    const task = new tasks.StepFunctionsStartExecution(this.scope, name, {
      stateMachine,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      input: sfn.TaskInput.fromObject({ item: sfn.JsonPath.objectAt('$') }),
      associateWithParent: true,
      resultSelector: props.resultSelector,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(CHILD_EXECUTION_TIMEOUT_SECONDS)),
    });
    task.addRetry({
      errors: [...STEP_FUNCTIONS_SERVICE_ERRORS],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 8,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }

  /** A Map bounded by the Map concurrency, whose failures are caught into the failure path. */
  map(name: string, props: Omit<sfn.MapProps, 'maxConcurrency'>): sfn.Map {
    return this.catchInto(
      new sfn.Map(this.scope, name, { ...props, maxConcurrency: this.mapConcurrency }),
      name,
    );
  }

  private invoke(name: string, fn: IFunction, props: StepTaskProps): tasks.LambdaInvoke {
    const { retryCrashes, ...invokeProps } = props;
    const task = new tasks.LambdaInvoke(this.scope, name, {
      lambdaFunction: fn,
      // Replaced by the retry below, which adds TooManyRequestsException to CDK's list.
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TIMEOUT_SECONDS)),
      ...invokeProps,
    });
    task.addRetry({
      errors: [...LAMBDA_SERVICE_ERRORS],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 8,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    task.addRetry({
      errors: [...this.props.transientErrors],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    if (retryCrashes) {
      task.addRetry({
        errors: [...CRASH_ERRORS],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 2,
      });
    }
    return task;
  }

  private catchInto<T extends tasks.LambdaInvoke | sfn.Map>(state: T, name: string): T {
    if (!this.recorder) throw new Error('WorkflowTasks: create the failure recorder before the other states');
    const note = this.props.failureNote(name);
    note.next(this.recorder);
    state.addCatch(note, { errors: [sfn.Errors.ALL], resultPath: '$.caught' });
    return state;
  }
}
