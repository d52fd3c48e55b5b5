import './polyfills';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { WorkflowStarter } from '../rights/submit';
import { createRequestSteps, REQUEST_STATES } from '../workflow/request-steps';
import { type AslObject, requestWorkflowDefinition } from '../workflow/synthesized-definition';
import type { LocalEnvironment } from './environment';

type Execution = ReturnType<StateMachine['run']>;
type EventLog = Execution['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

/** One entry of an execution's history, the same shape locally and from GetExecutionHistory. */
export interface HistoryEvent {
  at: string;
  type: string;
  state?: string;
  /** Map iteration index, for states inside a Map. */
  index?: number;
  input?: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  attempt?: number;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** Replaces a task's behaviour in tests: throw to fail the state, return to pass through. */
export type FaultInjector = (stateName: string, payload: unknown) => void | Promise<void>;

/** A step's error as Lambda reports it: Error is the error's name, Cause a JSON body with its message. */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(JSON.stringify({ errorType: name, errorMessage: message }));
    this.name = name;
  }
}

/** Every state of a definition, Map item processors included, by name. */
function allStates(definition: AslObject): [string, Record<string, unknown>][] {
  const states = Object.entries((definition.States ?? {}) as Record<string, Record<string, unknown>>);
  return states.flatMap(([name, state]) => {
    const nested = (state.ItemProcessor ?? state.Iterator) as AslObject | undefined;
    return [[name, state] as [string, Record<string, unknown>], ...(nested ? allStates(nested) : [])];
  });
}

function historyEvent(event: EventLog): HistoryEvent {
  const base: HistoryEvent = { at: new Date(event.timestamp).toISOString(), type: event.type };
  if ('state' in event) {
    base.state = event.state.name;
    base.input = event.state.input;
    if (event.state.output !== undefined) base.output = event.state.output;
    if (event.index !== undefined) base.index = event.index;
  }
  if ('parentState' in event) {
    base.state = event.parentState.name;
    if ('index' in event) base.index = event.index;
  }
  if ('input' in event && event.type === 'ExecutionStarted') base.input = event.input;
  if ('output' in event && event.type === 'ExecutionSucceeded') base.output = event.output;
  if ('Error' in event) {
    base.error = event.Error;
    base.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
  }
  if ('retry' in event) base.attempt = event.retry.attempt;
  return base;
}

/** The file an execution's history is appended to, one JSON event per line. */
export function historyFile(env: Pick<LocalEnvironment, 'executionsDir'>, executionId: string): string {
  return join(env.executionsDir, `${executionId}.jsonl`);
}

/** Reads a persisted execution history; an empty list when the execution never started. */
export function readHistory(
  env: Pick<LocalEnvironment, 'executionsDir'>,
  executionId: string,
): HistoryEvent[] {
  const file = historyFile(env, executionId);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as HistoryEvent);
}

/** RUNNING until the history ends with ExecutionSucceeded or ExecutionFailed. */
export function executionStatus(events: HistoryEvent[]): ExecutionStatus | undefined {
  if (events.length === 0) return undefined;
  const last = events[events.length - 1]!;
  if (last.type === 'ExecutionSucceeded') return 'SUCCEEDED';
  if (last.type === 'ExecutionFailed' || last.type === 'ExecutionTerminated') return 'FAILED';
  return 'RUNNING';
}

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
export class LocalWorkflowRunner implements WorkflowStarter {
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
      appendFileSync(file, `${JSON.stringify(interrupted)}\n`);
    } else {
      writeFileSync(file, '');
    }
    await this.run(requestId, file);
    return { executionId: requestId, alreadyStarted: false };
  }

  private async run(requestId: string, file: string): Promise<void> {
    const steps = createRequestSteps(this.env.deps);
    const handlers: Record<string, (input: unknown) => Promise<{ Payload: unknown; StatusCode: number }>> =
      {};
    for (const [step, stateName] of Object.entries(REQUEST_STATES) as [
      keyof typeof REQUEST_STATES,
      string,
    ][]) {
      handlers[stateName] = async (input) => {
        // A lambda:invoke task hands the handler {FunctionName, Payload} and expects Lambda's response shape.
        const payload = (input as { Payload?: unknown }).Payload;
        try {
          await this.options.faults?.(stateName, payload);
          return { Payload: await steps[step](payload), StatusCode: 200 };
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          throw new TaskError(failure.name, failure.message);
        }
      };
    }
    // Retry waits are for AWS; locally a retry happens at once so runs stay fast.
    const retryIntervalOverrides = Object.fromEntries(
      allStates(this.definition)
        .filter(([, state]) => Array.isArray(state.Retry))
        .map(([name]) => [name, 0]),
    );
    const machine = new StateMachine(
      this.definition as unknown as ConstructorParameters<typeof StateMachine>[0],
      {
        validationOptions: { checkArn: false, checkPaths: false },
      },
    );
    const execution = machine.run(
      { requestId },
      {
        overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
        context: {
          Execution: {
            Id: requestId,
            Name: requestId,
            Input: { requestId },
            StartTime: new Date().toISOString(),
          },
        },
      },
    );
    const logging = (async () => {
      for await (const event of execution.eventLogs)
        appendFileSync(file, `${JSON.stringify(historyEvent(event))}\n`);
    })();
    try {
      await execution.result;
    } catch {
      // A failed execution is recorded in its history (ExecutionFailed) and in the request record.
    }
    await logging;
  }
}
