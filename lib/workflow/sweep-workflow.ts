import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { SweepIncompleteError } from '../retention/errors';
import { TRANSIENT_ERRORS } from './request-workflow';
import { SWEEP_STATES, type SweepStep } from './sweep-steps';
import { errorNames, type StepTaskProps, WorkflowTasks } from './tasks';

/** One Lambda function per Task state of the sweep workflow. */
export type SweepWorkflowFunctions = Record<SweepStep, IFunction>;

/** Transient errors of a sweep: the request workflow's, plus a page that could not purge everything. */
export const SWEEP_TRANSIENT_ERRORS: readonly string[] = [
  ...TRANSIENT_ERRORS,
  ...errorNames(SweepIncompleteError),
];

/**
 * The sweep workflow:
 *
 * ```
 * PlanSweep (audit event sweep.started) ─▶ AnotherSweepRunning? ─ yes (sweep.skipped) ─▶ SweepSkipped
 *                                        └─ no ─▶ SweepStores (Map over stores and scan segments)
 *                 └─ SweepStore: a child execution of the store sweep (below), run to its end
 *           ─▶ ReapRequests (closes requests nobody finished, audit request.closed; purges the
 *                            records of requests ended past their retention, audit request.purged)
 *           ─▶ RecordSweep (sums, audit event sweep.completed) ─▶ SweepDone
 * any failure ─▶ <State>Failed ─▶ RecordSweepFailure (audit event sweep.failed) ─▶ SweepFailed
 *
 * The store sweep (one execution per store segment):
 * FirstPage ─▶ SweepPage (sweep.page) ─▶ MorePages? ─ token ─▶ SweepPage (loop)
 *                                     └─ done ──▶ StoreSwept
 * ```
 *
 * Each SweepPage runs for a bounded time and hands back a sealed continuation token, so a store
 * of any size is swept without hitting the Lambda time limit; the state carries only ids, counts
 * and the token. Each store segment's pages run in an execution of their own, so the sweep's
 * history holds a few events per store (not every page of every store: an execution's history
 * ends at 25,000 events), and a store segment may run some 5,000 pages. The execution input is
 * `{ now?, dryRun?, storeId?, segments?, budgetMs?, pageSize? }` (the schedule sends `{}`). The
 * same definitions are deployed by the stack and run by the local sweep runner, which finds its
 * Task states by the names in SWEEP_STATES and runs the child execution in-process.
 */
export function buildSweepWorkflow(
  scope: Construct,
  functions: SweepWorkflowFunctions,
  storeSweep: sfn.IStateMachine,
): sfn.IChainable {
  const steps = new WorkflowTasks(scope, {
    transientErrors: SWEEP_TRANSIENT_ERRORS,
    failureNote: (failedState) =>
      new sfn.Pass(scope, `${failedState}Failed`, {
        parameters: {
          failure: { state: failedState, 'error.$': '$.caught.Error', 'cause.$': '$.caught.Cause' },
        },
      }),
  });
  const task = (step: SweepStep, props: StepTaskProps) =>
    steps.task(SWEEP_STATES[step], functions[step], props);

  const recordFailure = steps.failureRecorder(SWEEP_STATES.recordSweepFailure, functions.recordSweepFailure, {
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

  const plan = task('planSweep', {
    payload: sfn.TaskInput.fromObject({
      sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      // The machine's own ARN, so PlanSweep can ask whether an earlier sweep still runs.
      stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      input: sfn.JsonPath.objectAt('$'),
    }),
    resultSelector: {
      'now.$': '$.Payload.now',
      'dryRun.$': '$.Payload.dryRun',
      'stores.$': '$.Payload.stores',
      'items.$': '$.Payload.items',
      'skipped.$': '$.Payload.skipped',
    },
    resultPath: '$.plan',
  });

  // One Map item: a store (segment), swept page by page in a child execution (buildStoreSweepWorkflow).
  const sweepStore = steps.mapItemChildExecution(SWEEP_STORE_STATE, storeSweep, {
    resultSelector: {
      'storeId.$': '$.Output.storeId',
      'segment.$': '$.Output.segment',
      'totalSegments.$': '$.Output.totalSegments',
      'totals.$': '$.Output.totals',
      'pages.$': '$.Output.pages',
    },
  });
  // The Map replaces the planned items by what StoreSwept keeps of them (ids and counts): only
  // counts stay in the state after it (the state is capped at 256 KiB; see MAX_SWEEP_ITEMS).
  const sweepStores = steps.map('SweepStores', { itemsPath: '$.plan.items', resultPath: '$.plan.items' });
  sweepStores.itemProcessor(sweepStore);

  const record = task('recordSweep', {
    payload: sfn.TaskInput.fromObject({
      sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      now: sfn.JsonPath.stringAt('$.plan.now'),
      dryRun: sfn.JsonPath.stringAt('$.plan.dryRun'),
      swept: sfn.JsonPath.listAt('$.plan.items'),
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
  });
  const reap = task('reapRequests', {
    payload: sfn.TaskInput.fromObject({
      sweepId: sfn.JsonPath.stringAt('$$.Execution.Name'),
      now: sfn.JsonPath.stringAt('$.plan.now'),
      dryRun: sfn.JsonPath.stringAt('$.plan.dryRun'),
    }),
    resultSelector: {
      'reaped.$': '$.Payload.reaped',
      'wouldReap.$': '$.Payload.wouldReap',
      'recordsPurged.$': '$.Payload.recordsPurged',
      'recordsWouldPurge.$': '$.Payload.recordsWouldPurge',
    },
    resultPath: '$.reaped',
  });
  record.next(new sfn.Succeed(scope, 'SweepDone'));
  // A sweep that found an earlier one still running has audited sweep.skipped and ends here.
  const anotherRunning = new sfn.Choice(scope, 'AnotherSweepRunning')
    .when(sfn.Condition.booleanEquals('$.plan.skipped', true), new sfn.Succeed(scope, 'SweepSkipped'))
    .otherwise(sweepStores);
  sweepStores.next(reap).next(record);
  return plan.next(anotherRunning);
}

/** The Task state of the sweep that runs one store segment's pages as a child execution. */
export const SWEEP_STORE_STATE = 'SweepStore';

/**
 * The store sweep: one store segment's pages, one SweepPage after another until the token is
 * null, then only the counts (StoreSwept). Its input is `{ item }` (the plan's Map item, as the
 * sweep's SweepStore task passes it). A page that fails after its retries fails the execution,
 * and so the SweepStore task of the sweep, whose failure path records it.
 */
export function buildStoreSweepWorkflow(scope: Construct, functions: SweepWorkflowFunctions): sfn.IChainable {
  const steps = new WorkflowTasks(scope, {
    transientErrors: SWEEP_TRANSIENT_ERRORS,
    // Nothing to note: a failure here fails the child execution, and the sweep records it.
    failureNote: (failedState) => new sfn.Pass(scope, `${failedState}Failed`),
  });
  const firstPage = new sfn.Pass(scope, 'FirstPage', { inputPath: '$.item' });
  // A page is idempotent (it continues from the token it was given): a crashed one is run again.
  const sweepPage = steps.mapItemTask(SWEEP_STATES.sweepPage, functions.sweepPage, {
    payload: sfn.TaskInput.fromJsonPathAt('$'),
    outputPath: '$.Payload',
    retryCrashes: true,
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
  return firstPage.next(sweepPage);
}
