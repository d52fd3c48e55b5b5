import { existsSync, writeFileSync } from 'node:fs';
import type { ExecutionProbe } from '../deps';
import { executionIdFor } from '../rights/request';
import type { ExecutionStart, StartedExecution, WorkflowStarter } from '../rights/submit';
import { createRequestSteps } from '../workflow/request-step-set';
import { REQUEST_STATES } from '../workflow/request-steps';
import { type AslObject, cachedWorkflowDefinition } from './definitions';
import type { LocalEnvironment } from './environment';
import {
  appendHistoryEvent,
  executionStatus,
  type FaultInjector,
  type HistoryEvent,
  historyFile,
  readHistory,
  runLocalExecution,
} from './execution';

export interface LocalRunnerOptions {
  /** The definition to run; default: the one CDK synthesizes for the environment's data map (cached in its state directory). */
  definition?: AslObject;
  faults?: FaultInjector;
}

/**
 * Executions this process is running. One process owns a state directory (the LevelDB lock), so
 * an execution whose history says RUNNING but that is not in here belongs to a process that died.
 */
const running = new Set<string>();

/**
 * Runs the request workflow's synthesized definition with aws-local-stepfunctions, each Task
 * state calling its step in-process against the local servers, and persists every event of
 * the execution under the state directory. Each attempt of a request is one execution, named
 * by request id and attempt, so it runs once: starting it again returns the existing execution,
 * or runs it again from the request's saved state when the process running it died.
 */
export class LocalRequestRunner implements WorkflowStarter, ExecutionProbe {
  private readonly definition: AslObject;

  constructor(
    private readonly env: LocalEnvironment,
    private readonly options: LocalRunnerOptions = {},
  ) {
    this.definition = options.definition ?? cachedWorkflowDefinition(env.stateDir, env.dataMap, 'request');
  }

  async start(execution: ExecutionStart): Promise<StartedExecution> {
    const { finished, ...started } = this.begin(execution);
    await finished;
    return started;
  }

  /**
   * Starts an execution as {@link start} does, without waiting for its end: returns as soon as it
   * runs (or is found started or ended), with `finished`, which settles when it ends. What the
   * console uses to answer a submission before the workflow is done.
   */
  begin({ requestId, attempt }: ExecutionStart): StartedExecution & { finished: Promise<void> } {
    const executionId = executionIdFor(requestId, attempt);
    const done = Promise.resolve();
    if (running.has(executionId)) return { executionId, alreadyStarted: true, finished: done };
    const file = historyFile(this.env, executionId);
    let resumed = false;
    if (existsSync(file)) {
      const status = executionStatus(readHistory(this.env, executionId));
      if (status === 'SUCCEEDED' || status === 'FAILED') {
        return { executionId, alreadyStarted: true, finished: done };
      }
      // Still RUNNING in its history but not in this process: the process running it died. Every
      // step is idempotent and works from the request's saved identities, so run it again.
      const interrupted: HistoryEvent = {
        at: new Date().toISOString(),
        type: 'ExecutionAborted',
        cause: 'the process running this execution stopped before it ended; started again',
      };
      appendHistoryEvent(file, interrupted);
      resumed = true;
    } else {
      writeFileSync(file, '');
    }
    // Marked running before anything is awaited, so a probe right after this call sees it.
    running.add(executionId);
    const finished = this.run(requestId, attempt, executionId, file).finally(() =>
      running.delete(executionId),
    );
    return { executionId, alreadyStarted: false, resumed, finished };
  }

  /** Running means running in this process: no other process can hold the state directory. */
  async isRunning(executionId: string): Promise<boolean> {
    return running.has(executionId);
  }

  private async run(requestId: string, attempt: number, executionId: string, file: string): Promise<void> {
    // What the request deletes (records, its own identities) lingers in LevelDB's files until
    // compacted: asked for before the first deletion, so that a kill cannot skip it.
    this.env.compactOnClose();
    // Faults run inside the steps, so an injected error is redacted as a step's own would be.
    const steps = createRequestSteps(
      { ...this.env.deps, executions: this },
      this.options.faults ? { faults: this.options.faults } : {},
    );
    await runLocalExecution({
      definition: this.definition,
      stateMachineName: 'lethe-requests',
      executionId,
      input: { requestId, attempt },
      historyFile: file,
      steps: Object.fromEntries(
        (Object.entries(REQUEST_STATES) as [keyof typeof REQUEST_STATES, string][]).map(
          ([step, stateName]) => [stateName, steps[step]],
        ),
      ),
    });
    // A failed execution is in its history (ExecutionFailed) and in the request record.
  }
}
