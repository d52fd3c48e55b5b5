import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { AuditAppendConflictError } from '../audit/log';
import { EraseIncompleteError, ReadIncompleteError } from '../stores/errors';
import { TRANSIENT_AWS_ERROR_NAMES } from '../stores/retry';
import { REQUEST_STATES, type RequestStep } from './request-steps';
import { errorNames, type StepTaskProps, WorkflowTasks } from './tasks';

/** One Lambda function per Task state of the request workflow. */
export type RequestWorkflowFunctions = Record<RequestStep, IFunction>;

/**
 * Errors worth retrying with backoff: throttling and transient service errors that got past the
 * adapters' own retries, partial erasures and reads (the adapter already retried; the workflow
 * tries the whole store again later, which is safe because erasure and reading are idempotent),
 * and an audit append that lost the race for the next sequence number too often.
 */
export const TRANSIENT_ERRORS: readonly string[] = [
  ...TRANSIENT_AWS_ERROR_NAMES,
  ...errorNames(EraseIncompleteError, ReadIncompleteError, AuditAppendConflictError),
];

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
  // Every run is one attempt of a request: the steps act only for the request's current attempt.
  const requestAndAttempt = {
    requestId: sfn.JsonPath.stringAt('$.requestId'),
    attempt: sfn.JsonPath.numberAt('$.attempt'),
  };
  const requestIdOnly = sfn.TaskInput.fromObject(requestAndAttempt);

  // Each failure passes through a state that notes where it happened, so the request
  // record and the audit event name the failing state, not only the error.
  const steps = new WorkflowTasks(scope, {
    transientErrors: TRANSIENT_ERRORS,
    failureNote: (failedState) =>
      new sfn.Pass(scope, `${failedState}Failed`, {
        parameters: {
          'requestId.$': '$.requestId',
          'attempt.$': '$.attempt',
          failure: { state: failedState, 'error.$': '$.caught.Error', 'cause.$': '$.caught.Cause' },
        },
      }),
  });
  const task = (step: RequestStep, props: StepTaskProps) =>
    steps.task(REQUEST_STATES[step], functions[step], props);
  const mapItemTask = (step: RequestStep, props: StepTaskProps) =>
    steps.mapItemTask(REQUEST_STATES[step], functions[step], props);

  const recordFailure = steps.failureRecorder(REQUEST_STATES.recordFailure, functions.recordFailure, {
    payload: sfn.TaskInput.fromObject({ ...requestAndAttempt, failure: sfn.JsonPath.objectAt('$.failure') }),
    resultSelector: { 'status.$': '$.Payload.status' },
    resultPath: '$.outcome',
  });
  const failed = new sfn.Fail(scope, 'RequestFailed', {
    error: 'RequestFailed',
    cause: 'The request failed; its record names the failing state and error.',
  });
  recordFailure.next(failed);

  const verify = task('verify', {
    // The machine's own ARN, so Verify can ask whether another request's execution still runs
    // (the function cannot be given it in its environment: the machine refers to the function).
    payload: sfn.TaskInput.fromObject({
      ...requestAndAttempt,
      stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
    }),
    resultSelector: { 'outcome.$': '$.Payload.outcome', 'type.$': '$.Payload.type' },
    resultPath: '$.verify',
  });
  const resolve = task('resolve', {
    payload: requestIdOnly,
    resultSelector: {
      'stores.$': '$.Payload.stores',
      'identityCount.$': '$.Payload.identityCount',
      'claimedIdentities.$': '$.Payload.claimedIdentities',
    },
    resultPath: '$.resolve',
  });
  const locateStores = steps.map('LocateStores', {
    itemsPath: '$.resolve.stores',
    itemSelector: { 'requestId.$': '$.requestId', 'storeId.$': '$$.Map.Item.Value' },
    resultPath: '$.located',
  });
  locateStores.itemProcessor(
    mapItemTask('locateStore', { payload: sfn.TaskInput.fromJsonPathAt('$'), outputPath: '$.Payload' }),
  );

  const exportPackage = task('exportPackage', {
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
  });
  // What a Map over the located stores gives each store's Task: the request, attempt and manifest.
  const locatedStore = {
    'requestId.$': '$.requestId',
    'attempt.$': '$.attempt',
    'storeId.$': '$$.Map.Item.Value.storeId',
    'manifestKey.$': '$$.Map.Item.Value.manifestKey',
  };
  const eraseStores = steps.map('EraseStores', {
    itemsPath: '$.located',
    itemSelector: locatedStore,
    resultPath: '$.erased',
  });
  eraseStores.itemProcessor(
    mapItemTask('eraseStore', { payload: sfn.TaskInput.fromJsonPathAt('$'), outputPath: '$.Payload' }),
  );

  // Rectification, restriction, its lift and objection change the located records in place.
  const applyStores = steps.map('ApplyStores', {
    itemsPath: '$.located',
    itemSelector: locatedStore,
    resultPath: '$.applied',
  });
  applyStores.itemProcessor(
    mapItemTask('applyStore', { payload: sfn.TaskInput.fromJsonPathAt('$'), outputPath: '$.Payload' }),
  );
  const recordSuppression = task('recordSuppression', {
    payload: requestIdOnly,
    resultSelector: { 'suppressed.$': '$.Payload.suppressed' },
    resultPath: '$.suppression',
  });
  recordSuppression.next(applyStores);

  const confirm = task('confirm', {
    payload: sfn.TaskInput.fromJsonPathAt('$'),
    resultSelector: { 'certificateDigest.$': '$.Payload.certificateDigest' },
    resultPath: '$.confirm',
  });
  const recordOutcome = task('recordOutcome', {
    payload: requestIdOnly,
    resultSelector: { 'status.$': '$.Payload.status' },
    resultPath: '$.outcome',
  });
  recordOutcome.next(new sfn.Succeed(scope, 'Done'));
  confirm.next(recordOutcome);
  exportPackage.next(confirm);
  eraseStores.next(confirm);
  applyStores.next(confirm);

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
    .when(
      sfn.Condition.or(
        sfn.Condition.stringEquals('$.verify.type', 'rectification'),
        sfn.Condition.stringEquals('$.verify.type', 'restriction'),
        sfn.Condition.stringEquals('$.verify.type', 'restriction-lift'),
      ),
      applyStores,
    )
    .when(sfn.Condition.stringEquals('$.verify.type', 'objection'), recordSuppression)
    .otherwise(unsupported);

  const recordReview = task('recordReview', {
    payload: sfn.TaskInput.fromObject({ ...requestAndAttempt, located: sfn.JsonPath.listAt('$.located') }),
    resultSelector: { 'paused.$': '$.Payload.paused' },
    resultPath: '$.review',
  });
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
  // An objection does not wait for review: only verified identities go on the suppression list,
  // and records only claimed links reached stay out of its manifests.
  const claimedLinks = new sfn.Choice(scope, 'ClaimedLinks')
    .when(
      sfn.Condition.and(
        sfn.Condition.numberGreaterThan('$.resolve.claimedIdentities', 0),
        sfn.Condition.not(sfn.Condition.stringEquals('$.verify.type', 'objection')),
      ),
      recordReview,
    )
    .otherwise(byType);

  resolve.next(locateStores);
  locateStores.next(claimedLinks);
  const verified = new sfn.Choice(scope, 'Verified')
    .when(sfn.Condition.stringEquals('$.verify.outcome', 'proceed'), resolve)
    .otherwise(recordOutcome);
  return verify.next(verified);
}
