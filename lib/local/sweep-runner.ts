import './polyfills';
import { existsSync, writeFileSync } from 'node:fs';
import type { SweepItem, SweepSummary } from '../retention';
import { newSweepId } from '../retention/sweep';

export { newSweepId };

import { createSweepSteps, SWEEP_STATES, type SweepStep } from '../workflow/sweep-steps';
import { SWEEP_STORE_STATE } from '../workflow/sweep-workflow';
import { type AslObject, cachedWorkflowDefinition, localStateMachineArn } from './definitions';
import type { LocalEnvironment } from './environment';
import { ChildExecutionFailedError, type FaultInjector, historyFile, runLocalExecution } from './execution';

/**
 * Runs the retention sweep's synthesized state machine (the definition CDK deploys) with
 * aws-local-stepfunctions, each Task state calling its sweep step in-process against the local
 * servers, and persists every event of the execution under the state directory, as the request
 * runner does (lib/local/request-runner.ts): `<state-dir>/executions/<sweepId>.jsonl`.
 */

/** What `lethe sweep` asks for: the execution input of the sweep state machine. */
export interface LocalSweepInput {
  /** The sweep's "now" (ISO-8601 or a Date); default: the environment's clock. */
  now?: string | Date;
  dryRun?: boolean;
  /** Only this store (it must have a retention rule). */
  storeId?: string;
  /** Who started it by hand: the actor of its `sweep.started` event (default `lethe:sweep`). */
  startedBy?: string;
  /** Scan segments per DynamoDB store without an expiry index (default 4). */
  segments?: number;
  /** Time budget of one SweepPage, in milliseconds (default one minute). */
  budgetMs?: number;
  /** Records per Query/Scan page or objects per listing (default: the service's). */
  pageSize?: number;
  /** The execution name; default `sweep-<UTC timestamp>-<random>`. Letters, digits, - and _ only. */
  sweepId?: string;
}

/** One store segment after one of its pages: for a live progress display. */
export type SweepProgress = Pick<SweepItem, 'storeId' | 'segment' | 'totalSegments' | 'totals' | 'pages'> & {
  done: boolean;
};

export interface LocalSweepRunnerOptions {
  /** The definition to run; default: the one CDK synthesizes for the environment's data map (cached in its state directory). */
  definition?: AslObject;
  /** The store sweep each SweepStore task runs as a child execution; default: the synthesized one. */
  storeDefinition?: AslObject;
  /** Called before each Task state's step: throw to fail the state (tests). */
  faults?: FaultInjector;
  /** Called after every SweepPage. */
  onProgress?: (progress: SweepProgress) => void;
}

export interface LocalSweepResult {
  sweepId: string;
  status: 'SUCCEEDED' | 'FAILED';
  /** Per-store totals and the sweep's totals (as RecordSweep recorded them), when it succeeded. */
  summary?: SweepSummary;
  /** The error and cause the execution failed with. */
  error?: string;
  cause?: string;
  /** Where the execution's history is. */
  historyFile: string;
}

/** A sweep id that is not usable as an execution name (and file name). */
export class InvalidSweepIdError extends Error {
  override readonly name = 'InvalidSweepIdError';
}

/** The local name of the store sweep state machine (its executions are the sweep's children). */
const STORE_SWEEP_LOCAL_NAME = 'lethe-store-sweeps';

/** Runs the synthesized sweep state machine locally. */
export class LocalSweepRunner {
  private readonly definition: AslObject;
  private readonly storeDefinition: AslObject;

  constructor(
    private readonly env: Pick<
      LocalEnvironment,
      'stateDir' | 'deps' | 'dataMap' | 'executionsDir' | 'compactOnClose'
    >,
    private readonly options: LocalSweepRunnerOptions = {},
  ) {
    this.definition = options.definition ?? cachedWorkflowDefinition(env.stateDir, env.dataMap, 'sweep');
    this.storeDefinition =
      options.storeDefinition ?? cachedWorkflowDefinition(env.stateDir, env.dataMap, 'storeSweep');
  }

  /**
   * Runs one sweep to its end and returns per-store totals. Failures are not thrown: the result
   * says FAILED with the error, the audit log has `sweep.failed`, and the history has every event.
   */
  async run(input: LocalSweepInput = {}): Promise<LocalSweepResult> {
    const sweepId = input.sweepId ?? newSweepId();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(sweepId)) {
      throw new InvalidSweepIdError('a sweep id is 1 to 80 letters, digits, "-" or "_"');
    }
    const file = historyFile(this.env, sweepId);
    if (existsSync(file))
      throw new InvalidSweepIdError(`sweep ${sweepId} has run already; use a new sweep id`);
    writeFileSync(file, '');

    const now = input.now instanceof Date ? input.now.toISOString() : input.now;
    const executionInput = {
      ...(now !== undefined ? { now } : {}),
      dryRun: input.dryRun ?? false,
      ...(input.storeId !== undefined ? { storeId: input.storeId } : {}),
      ...(input.startedBy !== undefined ? { startedBy: input.startedBy } : {}),
      ...(input.segments !== undefined ? { segments: input.segments } : {}),
      ...(input.budgetMs !== undefined ? { budgetMs: input.budgetMs } : {}),
      ...(input.pageSize !== undefined ? { pageSize: input.pageSize } : {}),
    };

    // Purged and anonymised values linger in LevelDB's files until compacted (a dry run changes
    // nothing): asked for before the first purge, so that a kill cannot skip it.
    if (!executionInput.dryRun) this.env.compactOnClose();
    const steps = createSweepSteps(this.env.deps);
    const byState = Object.fromEntries(
      (Object.entries(SWEEP_STATES) as [SweepStep, string][]).map(([step, stateName]) => [
        stateName,
        steps[step],
      ]),
    );
    const onStepOutput = (stateName: string, stepOutput: unknown) => {
      if (stateName !== SWEEP_STATES.sweepPage || !this.options.onProgress) return;
      const item = stepOutput as SweepItem;
      this.options.onProgress({
        storeId: item.storeId,
        segment: item.segment,
        totalSegments: item.totalSegments,
        totals: item.totals,
        pages: item.pages,
        done: item.token === null,
      });
    };
    let children = 0;
    // SweepStore starts a store sweep and waits for it (.sync:2): here, its execution runs
    // in-process, its states written into the sweep's history, and the task gets what Step
    // Functions returns: the child's output, or States.TaskFailed with the child's error and cause.
    const sweepStore = async (parameters: unknown) => {
      children += 1;
      const executionArn = `${localStateMachineArn(STORE_SWEEP_LOCAL_NAME).replace(':stateMachine:', ':execution:')}:${sweepId}-${children}`;
      const child = await runLocalExecution({
        stateMachineName: STORE_SWEEP_LOCAL_NAME,
        definition: this.storeDefinition,
        executionId: `${sweepId}-${children}`,
        input: ((parameters as { Input?: Record<string, unknown> }).Input ?? {}) as Record<string, unknown>,
        historyFile: file,
        executionEvents: false,
        steps: byState,
        ...(this.options.faults ? { faults: this.options.faults } : {}),
        onStepOutput,
      });
      if (child.failure) {
        throw new ChildExecutionFailedError(
          JSON.stringify({
            ExecutionArn: executionArn,
            Status: 'FAILED',
            Error: child.failure.error,
            Cause: child.failure.cause,
          }),
        );
      }
      return { ExecutionArn: executionArn, Status: 'SUCCEEDED', Output: child.output };
    };
    const { output, failure: failed } = await runLocalExecution({
      stateMachineName: 'lethe-sweeps',
      definition: this.definition,
      executionId: sweepId,
      input: executionInput,
      historyFile: file,
      steps: byState,
      integrations: { [SWEEP_STORE_STATE]: sweepStore },
      ...(this.options.faults ? { faults: this.options.faults } : {}),
      onStepOutput,
    });
    if (failed) return { sweepId, status: 'FAILED', ...failed, historyFile: file };
    const summary = (output as { summary?: SweepSummary } | undefined)?.summary;
    return { sweepId, status: 'SUCCEEDED', ...(summary ? { summary } : {}), historyFile: file };
  }
}
