import { existsSync, writeFileSync } from 'node:fs';
import type { WorkflowStarter } from '../rights/submit';
import { createRequestSteps, REQUEST_STATES } from '../workflow/request-steps';
import { type AslObject, requestWorkflowDefinition } from './definitions';
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
  /** The definition to run; default: the one CDK synthesizes for the environment's data map. */
  definition?: AslObject;
  faults?: FaultInjector;
}

/**
 * Runs the request workflow's synthesized definition with aws-local-stepfunctions, each Task
 * state calling its step in-process against the local servers, and persists every event of
 * the execution under the state directory. The execution name is the request id, so a
 * request runs once: starting it again returns the existing execution.
 */
export class LocalRequestRunner implements WorkflowStarter {
  private readonly definition: AslObject;

  constructor(
    private readonly env: LocalEnvironment,
    private readonly options: LocalRunnerOptions = {},
  ) {
    this.definition = options.definition ?? requestWorkflowDefinition(env.dataMap);
  }

  async start(requestId: string): Promise<{ executionId: string; alreadyStarted: boolean }> {
    const file = historyFile(this.env, requestId);
    if (existsSync(file)) {
      // One process owns a state directory, so a history still RUNNING here belongs to a run
      // whose process died: run it again (every step is idempotent), keeping the old events.
      const status = executionStatus(readHistory(this.env, requestId));
      if (status === 'SUCCEEDED' || status === 'FAILED') {
        return { executionId: requestId, alreadyStarted: true };
      }
      const interrupted: HistoryEvent = {
        at: new Date().toISOString(),
        type: 'ExecutionAborted',
        cause: 'the process running this execution stopped before it ended; started again',
      };
      appendHistoryEvent(file, interrupted);
    } else {
      writeFileSync(file, '');
    }
    await this.run(requestId, file);
    return { executionId: requestId, alreadyStarted: false };
  }

  private async run(requestId: string, file: string): Promise<void> {
    // Faults run inside the steps, so an injected error is redacted as a step's own would be.
    const steps = createRequestSteps(
      this.env.deps,
      this.options.faults ? { faults: this.options.faults } : {},
    );
    await runLocalExecution({
      definition: this.definition,
      executionId: requestId,
      input: { requestId },
      historyFile: file,
      steps: Object.fromEntries(
        (Object.entries(REQUEST_STATES) as [keyof typeof REQUEST_STATES, string][]).map(
          ([step, stateName]) => [stateName, steps[step]],
        ),
      ),
    });
    // A failed execution is in its history (ExecutionFailed) and in the request record.
    // What the request deleted (records, its own identities) lingers in LevelDB's files until compacted.
    this.env.compactOnClose();
  }
}
