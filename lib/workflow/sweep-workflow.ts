import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TRANSIENT_ERRORS } from './request-workflow';
import { SWEEP_STATES, type SweepStep } from './sweep-steps';

/** One Lambda function per Task state of the sweep workflow. */
export type SweepWorkflowFunctions = Record<SweepStep, IFunction>;

/** Transient errors of a sweep page: the request workflow's, plus a page that could not purge or re-read everything. */
export const SWEEP_TRANSIENT_ERRORS = [...TRANSIENT_ERRORS, 'SweepIncompleteError', 'ReadIncompleteError'];

/**
 * A page whose Lambda crashed: timed out, ran out of memory, or died unhandled. A page is
 * idempotent (it continues from the token it was given), so it is simply run again.
 */
export const CRASH_ERRORS = ['Sandbox.Timedout', 'Runtime.ExitError', 'Lambda.Unknown'];

/** Stores (and scan segments) swept at once: they share capacity with the company's own traffic. */
export const SWEEP_CONCURRENCY = 4;

/**
 * The sweep workflow:
 *
 * ```
 * PlanSweep (audit event sweep.started) ─▶ SweepStores (Map over stores and scan segments)
 *                 └─ SweepPage (sweep.page) ─▶ MorePages? ─ token ─▶ SweepPage (loop)
 *                                          └─ done ──▶ StoreSwept
 *           ─▶ ReapRequests (closes requests nobody finished, audit request.closed)
 *           ─▶ RecordSweep (sums, audit event sweep.completed) ─▶ SweepDone
 * any failure ─▶ <State>Failed ─▶ RecordSweepFailure (audit event sweep.failed) ─▶ SweepFailed
 * ```
 *
 * Each SweepPage runs for a bounded time and hands back a sealed continuation token, so a store
 * of any size is swept without hitting the Lambda time limit; the state carries only ids, counts
 * and the token. The execution input is `{ now?, dryRun?, storeId?, segments?, budgetMs?,
 * pageSize? }` (the schedule sends `{}`). The same definition is deployed by the stack and run by
 * the local sweep runner, which finds its Task states by the names in SWEEP_STATES.
 */
export function buildSweepWorkflow(scope: Construct, functions: SweepWorkflowFunctions): sfn.IChainable {
  const invoke = (step: SweepStep, props: Omit<tasks.LambdaInvokeProps, 'lambdaFunction'>) => {
    const task = new tasks.LambdaInvoke(scope, SWEEP_STATES[step], {
      lambdaFunction: functions[step],
      retryOnServiceExceptions: true,
      ...props,
    });
    task.addRetry({
      errors: SWEEP_TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    if (step === 'sweepPage') {
      task.addRetry({ errors: CRASH_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 2 });
    }
    return task;
  };

  const recordFailure = invoke('recordSweepFailure', {
    payload: sfn.TaskInput.fromObject({
      sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      failure: sfn.JsonPath.objectAt('$.failure'),
    }),
    resultSelector: { 'status.$': '$.Payload.status' },
    resultPath: '$.outcome',
  });
  recordFailure.next(
    new sfn.Fail(scope, 'SweepFailed', {
      error: 'SweepFailed',
      cause: 'The sweep failed; the audit event sweep.failed names the failing state and error.',
    }),
  );

  const catchInto = <T extends tasks.LambdaInvoke | sfn.Map>(state: T, name: string): T => {
    const note = new sfn.Pass(scope, `${name}Failed`, {
      parameters: { failure: { state: name, 'error.$': '$.caught.Error', 'cause.$': '$.caught.Cause' } },
    });
    note.next(recordFailure);
    state.addCatch(note, { errors: ['States.ALL'], resultPath: '$.caught' });
    return state;
  };

  const plan = catchInto(
    invoke('planSweep', {
      payload: sfn.TaskInput.fromObject({
        sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        input: sfn.JsonPath.objectAt('$'),
      }),
      resultSelector: {
        'now.$': '$.Payload.now',
        'dryRun.$': '$.Payload.dryRun',
        'stores.$': '$.Payload.stores',
        'items.$': '$.Payload.items',
      },
      resultPath: '$.plan',
    }),
    SWEEP_STATES.planSweep,
  );

  // One Map item: a store (segment); SweepPage returns the item for its next page.
  const sweepPage = invoke('sweepPage', {
    payload: sfn.TaskInput.fromJsonPathAt('$'),
    outputPath: '$.Payload',
  });
  const storeSwept = new sfn.Pass(scope, 'StoreSwept', {
    parameters: {
      'storeId.$': '$.storeId',
      'segment.$': '$.segment',
      'totalSegments.$': '$.totalSegments',
      'totals.$': '$.totals',
      'pages.$': '$.pages',
    },
  });
  // Phrased as IsNull: true, never IsNull: false: aws-local-stepfunctions 3 evaluates every
  // negative type test (IsNull, IsPresent, IsNumeric, IsString… set to false) as false.
  sweepPage.next(
    new sfn.Choice(scope, 'MorePages').when(sfn.Condition.isNull('$.token'), storeSwept).otherwise(sweepPage),
  );
  const sweepStores = catchInto(
    new sfn.Map(scope, 'SweepStores', {
      itemsPath: '$.plan.items',
      maxConcurrency: SWEEP_CONCURRENCY,
      resultPath: '$.swept',
    }),
    'SweepStores',
  );
  sweepStores.itemProcessor(sweepPage);

  const record = catchInto(
    invoke('recordSweep', {
      payload: sfn.TaskInput.fromObject({
        sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
        now: sfn.JsonPath.stringAt('$.plan.now'),
        dryRun: sfn.JsonPath.stringAt('$.plan.dryRun'),
        swept: sfn.JsonPath.listAt('$.swept'),
      }),
      resultSelector: {
        'sweepId.$': '$.Payload.sweepId',
        'now.$': '$.Payload.now',
        'dryRun.$': '$.Payload.dryRun',
        'stores.$': '$.Payload.stores',
        'totals.$': '$.Payload.totals',
        'durationMs.$': '$.Payload.durationMs',
      },
      resultPath: '$.summary',
    }),
    SWEEP_STATES.recordSweep,
  );
  const reap = catchInto(
    invoke('reapRequests', {
      payload: sfn.TaskInput.fromObject({
        sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
        now: sfn.JsonPath.stringAt('$.plan.now'),
        dryRun: sfn.JsonPath.stringAt('$.plan.dryRun'),
      }),
      resultSelector: { 'reaped.$': '$.Payload.reaped', 'wouldReap.$': '$.Payload.wouldReap' },
      resultPath: '$.reaped',
    }),
    SWEEP_STATES.reapRequests,
  );
  record.next(new sfn.Succeed(scope, 'SweepDone'));
  return plan.next(sweepStores).next(reap).next(record);
}
