import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { REQUEST_STATES, type RequestStep } from './request-steps';

/** One Lambda function per Task state of the request workflow. */
export type RequestWorkflowFunctions = Record<RequestStep, IFunction>;

/**
 * Errors worth retrying with backoff: throttling and transient service errors surfaced by
 * the steps, and partial erasures (the store adapter already retried; the workflow tries
 * the whole store again later, which is safe because erasure is idempotent).
 */
export const TRANSIENT_ERRORS = [
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'EraseIncompleteError',
];

/** The longest a step may run: the Lambda maximum. */
export const STEP_TIMEOUT_SECONDS = 900;

/** Map concurrency: stores are independent, but a company's tables share capacity. */
export const STORE_CONCURRENCY = 4;

function addTransientRetry(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
  task.addRetry({
    errors: TRANSIENT_ERRORS,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 4,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

/**
 * The request workflow: Verify, resolve identities, Locate (a Map over the data map's
 * stores), then Export or Erase (a Map over stores), Confirm and Record outcome. Every
 * failure is caught into Record failure. The state carries request ids, store ids,
 * manifest keys and counts: never records and never identifiers.
 *
 * When links typed by people (claimed) reached some identities, RecordReview runs after Locate:
 * if records only they found wait for review in some store, it marks the request
 * pending-review and the execution ends (staff's `lethe request review` starts the next
 * attempt); otherwise the request goes on. A Choice cannot sum the Map's counts, so the Task
 * decides; the Choice before it spares the Task when no identity is claimed.
 *
 * The same definition is deployed by the stack and run by the local runtime, which finds
 * its Task states by the names in REQUEST_STATES.
 */
export function buildRequestWorkflow(scope: Construct, functions: RequestWorkflowFunctions): sfn.IChainable {
  const invoke = (step: RequestStep, props: Omit<tasks.LambdaInvokeProps, 'lambdaFunction'>) =>
    addTransientRetry(
      new tasks.LambdaInvoke(scope, REQUEST_STATES[step], {
        lambdaFunction: functions[step],
        retryOnServiceExceptions: true,
        // As long as a Lambda may run. Set explicitly because aws-local-stepfunctions
        // otherwise times a Task out after 60 s, which a large erasure can exceed.
        taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TIMEOUT_SECONDS)),
        ...props,
      }),
    );
  // Every run is one attempt of a request: the steps act only for the request's current attempt.
  const requestAndAttempt = {
    requestId: sfn.JsonPath.stringAt('$.requestId'),
    attempt: sfn.JsonPath.numberAt('$.attempt'),
  };
  const requestIdOnly = sfn.TaskInput.fromObject(requestAndAttempt);

  const recordFailure = invoke('recordFailure', {
    payload: sfn.TaskInput.fromObject({ ...requestAndAttempt, failure: sfn.JsonPath.objectAt('$.failure') }),
    resultSelector: { 'status.$': '$.Payload.status' },
    resultPath: '$.outcome',
  });
  const failed = new sfn.Fail(scope, 'RequestFailed', {
    error: 'RequestFailed',
    cause: 'The request failed; its record names the failing state and error.',
  });
  recordFailure.next(failed);

  // Each failure passes through a state that notes where it happened, so the request
  // record and the audit event name the failing state, not only the error.
  const catchInto = <T extends tasks.LambdaInvoke | sfn.Map>(state: T, name: string): T => {
    const note = new sfn.Pass(scope, `${name}Failed`, {
      parameters: {
        'requestId.$': '$.requestId',
        'attempt.$': '$.attempt',
        failure: { state: name, 'error.$': '$.caught.Error', 'cause.$': '$.caught.Cause' },
      },
    });
    note.next(recordFailure);
    state.addCatch(note, { errors: ['States.ALL'], resultPath: '$.caught' });
    return state;
  };

  const verify = catchInto(
    invoke('verify', {
      // The machine's own ARN, so Verify can ask whether another request's execution still runs
      // (the function cannot be given it in its environment: the machine refers to the function).
      payload: sfn.TaskInput.fromObject({
        ...requestAndAttempt,
        stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      }),
      resultSelector: { 'outcome.$': '$.Payload.outcome', 'type.$': '$.Payload.type' },
      resultPath: '$.verify',
    }),
    REQUEST_STATES.verify,
  );
  const resolve = catchInto(
    invoke('resolve', {
      payload: requestIdOnly,
      resultSelector: {
        'stores.$': '$.Payload.stores',
        'identityCount.$': '$.Payload.identityCount',
        'claimedIdentities.$': '$.Payload.claimedIdentities',
      },
      resultPath: '$.resolve',
    }),
    REQUEST_STATES.resolve,
  );
  const locateStores = catchInto(
    new sfn.Map(scope, 'LocateStores', {
      itemsPath: '$.resolve.stores',
      itemSelector: { 'requestId.$': '$.requestId', 'storeId.$': '$$.Map.Item.Value' },
      maxConcurrency: STORE_CONCURRENCY,
      resultPath: '$.located',
    }),
    'LocateStores',
  );
  locateStores.itemProcessor(
    invoke('locateStore', { payload: sfn.TaskInput.fromJsonPathAt('$'), outputPath: '$.Payload' }),
  );

  const exportPackage = catchInto(
    invoke('exportPackage', {
      payload: sfn.TaskInput.fromObject({
        requestId: sfn.JsonPath.stringAt('$.requestId'),
        located: sfn.JsonPath.listAt('$.located'),
      }),
      resultSelector: {
        'exportKey.$': '$.Payload.exportKey',
        'bytes.$': '$.Payload.bytes',
        'sha256.$': '$.Payload.sha256',
        'stores.$': '$.Payload.stores',
      },
      resultPath: '$.export',
    }),
    REQUEST_STATES.exportPackage,
  );
  const eraseStores = catchInto(
    new sfn.Map(scope, 'EraseStores', {
      itemsPath: '$.located',
      itemSelector: {
        'requestId.$': '$.requestId',
        'attempt.$': '$.attempt',
        'storeId.$': '$$.Map.Item.Value.storeId',
        'manifestKey.$': '$$.Map.Item.Value.manifestKey',
      },
      maxConcurrency: STORE_CONCURRENCY,
      resultPath: '$.erased',
    }),
    'EraseStores',
  );
  eraseStores.itemProcessor(
    invoke('eraseStore', { payload: sfn.TaskInput.fromJsonPathAt('$'), outputPath: '$.Payload' }),
  );

  const confirm = catchInto(
    invoke('confirm', {
      payload: sfn.TaskInput.fromJsonPathAt('$'),
      resultSelector: { 'certificateDigest.$': '$.Payload.certificateDigest' },
      resultPath: '$.confirm',
    }),
    REQUEST_STATES.confirm,
  );
  const recordOutcome = catchInto(
    invoke('recordOutcome', {
      payload: requestIdOnly,
      resultSelector: { 'status.$': '$.Payload.status' },
      resultPath: '$.outcome',
    }),
    REQUEST_STATES.recordOutcome,
  );
  recordOutcome.next(new sfn.Succeed(scope, 'Done'));
  confirm.next(recordOutcome);
  exportPackage.next(confirm);
  eraseStores.next(confirm);

  const unsupported = new sfn.Pass(scope, 'UnsupportedRequestType', {
    parameters: {
      'requestId.$': '$.requestId',
      'attempt.$': '$.attempt',
      failure: {
        state: 'RequestType',
        error: 'UnsupportedRequestType',
        cause: 'Verify accepted a request type the workflow has no branch for.',
      },
    },
  });
  unsupported.next(recordFailure);
  const byType = new sfn.Choice(scope, 'RequestType')
    .when(
      sfn.Condition.or(
        sfn.Condition.stringEquals('$.verify.type', 'access'),
        sfn.Condition.stringEquals('$.verify.type', 'portability'),
      ),
      exportPackage,
    )
    .when(sfn.Condition.stringEquals('$.verify.type', 'erasure'), eraseStores)
    .otherwise(unsupported);

  const recordReview = catchInto(
    invoke('recordReview', {
      payload: sfn.TaskInput.fromObject({ ...requestAndAttempt, located: sfn.JsonPath.listAt('$.located') }),
      resultSelector: { 'paused.$': '$.Payload.paused' },
      resultPath: '$.review',
    }),
    REQUEST_STATES.recordReview,
  );
  recordReview.next(
    new sfn.Choice(scope, 'ReviewPending')
      .when(
        sfn.Condition.booleanEquals('$.review.paused', true),
        new sfn.Succeed(scope, 'AwaitingReview', {
          comment: 'The request is pending-review; lethe request review starts its next attempt.',
        }),
      )
      .otherwise(byType),
  );
  const claimedLinks = new sfn.Choice(scope, 'ClaimedLinks')
    .when(sfn.Condition.numberGreaterThan('$.resolve.claimedIdentities', 0), recordReview)
    .otherwise(byType);

  resolve.next(locateStores);
  locateStores.next(claimedLinks);
  const verified = new sfn.Choice(scope, 'Verified')
    .when(sfn.Condition.stringEquals('$.verify.outcome', 'proceed'), resolve)
    .otherwise(recordOutcome);
  return verify.next(verified);
}
