import './polyfills';
import { appendFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { type AslObject, localStateMachineArn } from './definitions';
import type { HistoryEvent } from './history';

export {
  appendHistoryEvent,
  type ExecutionStatus,
  executionStatus,
  type HistoryEvent,
  historyFile,
  readHistory,
} from './history';

type Execution = ReturnType<StateMachine['run']>;
type EventLog = Execution['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

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

/** What one local execution needs: the definition, its input, and a step function per Task state name. */
export interface LocalExecution {
  definition: AslObject;
  executionId: string;
  input: Record<string, unknown>;
  /** Appended to, one JSON history event per line. */
  historyFile: string;
  /** The step each Task state runs, by state name; it gets the Lambda payload and returns the result. */
  steps: Record<string, (payload: unknown) => Promise<unknown>>;
  faults?: FaultInjector;
  /** Names the local state machine in the context object (`$$.StateMachine`). */
  stateMachineName: string;
  /** Called with every step's result, e.g. for a progress display. */
  onStepOutput?: (stateName: string, output: unknown) => void;
  /**
   * What a Task state that is not a Lambda invocation does (a child execution), by state name: it
   * gets the state's effective input and returns the result the service integration would.
   */
  integrations?: Record<string, (input: unknown) => Promise<unknown>>;
  /**
   * Whether the execution's own events (started, succeeded, failed) go to the history file; a
   * child execution whose states are written into its parent's history leaves them out. Default true.
   */
  executionEvents?: boolean;
}

/** A child execution failed: what the parent's Task fails with, as Step Functions reports it (.sync). */
export class ChildExecutionFailedError extends Error {
  override readonly name = 'States.TaskFailed';
}

/** Definitions aws-local-stepfunctions has validated in this process. */
const validatedDefinitions = new WeakSet<AslObject>();

/**
 * Runs a synthesized definition with aws-local-stepfunctions: each Task state calls its step
 * in-process in Lambda's request/response shape, retries happen at once, every event is
 * appended to the history file. Never throws for a failed execution: it returns the failure,
 * once every step it started has finished.
 */
export async function runLocalExecution(
  execution: LocalExecution,
): Promise<{ output?: unknown; failure?: { error: string; cause: string } }> {
  const handlers: Record<string, (input: unknown) => Promise<{ Payload: unknown; StatusCode: number }>> = {};
  const inFlight = new Set<Promise<unknown>>();
  for (const [stateName, step] of Object.entries(execution.steps)) {
    const invoke = async (input: unknown) => {
      // A lambda:invoke task hands the handler {FunctionName, Payload} and expects Lambda's response shape.
      const payload = (input as { Payload?: unknown }).Payload;
      try {
        await execution.faults?.(stateName, payload);
        const output = await step(payload);
        execution.onStepOutput?.(stateName, output);
        return { Payload: output, StatusCode: 200 };
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        throw new TaskError(failure.name, failure.message);
      }
    };
    handlers[stateName] = (input) => {
      const call = invoke(input);
      inFlight.add(call);
      const settled = () => inFlight.delete(call);
      call.then(settled, settled);
      return call;
    };
  }
  for (const [stateName, integration] of Object.entries(execution.integrations ?? {})) {
    handlers[stateName] = async (input) => {
      const call = integration(input);
      inFlight.add(call);
      const settled = () => inFlight.delete(call);
      call.then(settled, settled);
      return (await call) as { Payload: unknown; StatusCode: number };
    };
  }
  // Retry waits are for AWS; locally a retry happens at once so runs stay fast.
  const retryIntervalOverrides = Object.fromEntries(
    allStates(execution.definition)
      .filter(([, state]) => Array.isArray(state.Retry))
      .map(([name]) => [name, 0]),
  );
  // Validating compiles the ASL schema, about half a second: once per definition object is enough.
  const machine = new StateMachine(
    execution.definition as unknown as ConstructorParameters<typeof StateMachine>[0],
    {
      validationOptions: validatedDefinitions.has(execution.definition)
        ? { noValidate: true }
        : { checkArn: false, checkPaths: false },
    },
  );
  validatedDefinitions.add(execution.definition);
  const input = execution.input as Parameters<StateMachine['run']>[0];
  const run = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    context: {
      StateMachine: {
        Id: localStateMachineArn(execution.stateMachineName),
        Name: execution.stateMachineName,
      },
      Execution: {
        Id: execution.executionId,
        Name: execution.executionId,
        Input: input,
        StartTime: new Date().toISOString(),
      },
    },
  });
  let failure: { error: string; cause: string } | undefined;
  const logging = (async () => {
    for await (const event of run.eventLogs) {
      const entry = historyEvent(event);
      if (entry.type === 'ExecutionFailed')
        failure = { error: entry.error ?? 'Unknown', cause: entry.cause ?? '' };
      if (execution.executionEvents === false && entry.type.startsWith('Execution')) continue;
      appendFileSync(execution.historyFile, `${JSON.stringify(entry)}\n`);
    }
  })();
  let output: unknown;
  try {
    output = await run.result;
  } catch (error) {
    failure ??= { error: (error as Error).name, cause: (error as Error).message };
  }
  // When a Map fails, the engine stops its other iterations but cannot stop a step half-way: wait
  // for those, so that no step is still writing to the stores once the run has returned.
  await Promise.allSettled([...inFlight]);
  await logging;
  return failure ? { failure } : { output };
}
