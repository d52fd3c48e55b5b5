import { App } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AuditAppendConflictError } from '../../lib/audit/log';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { type AslObject, localStateMachineRef, parseDefinitionString } from '../../lib/local/definitions';
import { SweepIncompleteError } from '../../lib/retention/errors';
import { EraseIncompleteError, ReadIncompleteError } from '../../lib/stores/errors';
import { REQUEST_STATES, StepInputError } from '../../lib/workflow/request-steps';
import { SWEEP_STATES } from '../../lib/workflow/sweep-steps';
import { SWEEP_STORE_STATE } from '../../lib/workflow/sweep-workflow';
import {
  CHILD_EXECUTION_TIMEOUT_SECONDS,
  DEFAULT_MAP_CONCURRENCY,
  LAMBDA_SERVICE_ERRORS,
  MAP_CONCURRENCY_CONTEXT,
  STEP_FUNCTIONS_SERVICE_ERRORS,
  STEP_TIMEOUT_SECONDS,
} from '../../lib/workflow/tasks';
import { reachable, type State, statesOf, validateAsl } from '../helpers/asl';
import { adtechDataMap, generatedDataMap } from '../helpers/stacks';

/**
 * Every Task of the state machines, as synthesized: timeout, retries, catch into the failure path;
 * valid ASL. The sweep runs each store segment's pages in a child execution (the store sweep).
 */

const retried = (state: State) => (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
const invokesLambda = (state: State) =>
  state.Type === 'Task' && String(state.Resource).includes(':lambda:invoke');

interface Machines {
  request: AslObject;
  sweep: AslObject;
  storeSweep: AslObject;
}

function definitionsOf(app: App, options: { demo?: boolean; stores?: number } = {}): Machines {
  const dataMap = options.stores === undefined ? adtechDataMap() : generatedDataMap(options.stores);
  const { workflow } = createLetheStacks(app, { dataMap, demo: options.demo ?? false });
  const definition = (machine: sfn.StateMachine) =>
    parseDefinitionString(
      workflow.resolve((machine.node.defaultChild as sfn.CfnStateMachine).definitionString),
      undefined,
      localStateMachineRef,
    );
  return {
    request: definition(workflow.stateMachine),
    sweep: definition(workflow.sweepStateMachine),
    storeSweep: definition(workflow.storeSweepStateMachine),
  };
}

const freshApp = (context: Record<string, unknown> = {}) =>
  new App({ context: { 'aws:cdk:bundling-stacks': [], ...context }, builtinCloudFormationValidation: false });

const configurations: [string, Machines][] = [];

beforeAll(() => {
  // Prepare: both machines as the default, the demo and a 300-store stack synthesize them.
  configurations.push(['default', definitionsOf(freshApp())]);
  configurations.push(['demo', definitionsOf(freshApp(), { demo: true })]);
  configurations.push(['300 stores', definitionsOf(freshApp(), { stores: 300 })]);
});

const MACHINES = [
  { machine: 'request' as const, recorder: REQUEST_STATES.recordFailure, failed: 'RequestFailed' },
  { machine: 'sweep' as const, recorder: SWEEP_STATES.recordSweepFailure, failed: 'SweepFailed' },
];

describe.each(MACHINES)('every Task of the $machine workflow', ({ machine, recorder, failed }) => {
  const each = (check: (config: string, definition: AslObject) => void) => {
    expect(configurations.length).toBeGreaterThan(0);
    for (const [config, machines] of configurations) check(config, machines[machine]);
  };

  it('passes the Amazon States Language validator', () => {
    each((config, definition) => {
      const verdict = validateAsl(structuredClone(definition));
      expect({ config, errors: verdict.errors }).toEqual({ config, errors: [] });
      expect(verdict.isValid).toBe(true);
    });
  });

  it('the validator refuses a definition whose transition leads nowhere', () => {
    const [, machines] = configurations[0]!;
    const broken = structuredClone(machines[machine]);
    delete (broken.States as Record<string, State>)[failed];
    expect(validateAsl(broken).isValid).toBe(false);
  });

  it('has TimeoutSeconds and retries every Lambda service exception, TooManyRequests included', () => {
    each((config, definition) => {
      const tasks = statesOf(definition).filter(({ state }) => invokesLambda(state));
      expect(tasks.length).toBeGreaterThan(3);
      for (const { name, state } of tasks) {
        expect({ config, name, timeout: state.TimeoutSeconds }).toEqual({
          config,
          name,
          timeout: STEP_TIMEOUT_SECONDS,
        });
        expect({ config, name, retried: retried(state) }).toEqual({
          config,
          name,
          retried: expect.arrayContaining([...LAMBDA_SERVICE_ERRORS]),
        });
      }
      expect(LAMBDA_SERVICE_ERRORS).toContain('Lambda.TooManyRequestsException');
    });
  });

  it('catches every failure of a Task (or of the Map around it) into the failure path', () => {
    each((config, definition) => {
      const all = statesOf(definition);
      const recorderStates = reachable(definition, recorder);
      expect(recorderStates.has(failed)).toBe(true);
      for (const { name, state, parent } of all.filter(({ state }) => state.Type === 'Task')) {
        if (name === recorder) continue;
        const catching = parent ? all.find((entry) => entry.name === parent)?.state : state;
        const handler = catching?.Catch?.find((entry) => entry.ErrorEquals.includes('States.ALL'));
        expect({ config, name, caught: handler !== undefined }).toEqual({ config, name, caught: true });
        expect({ config, name, reaches: reachable(definition, handler?.Next ?? '').has(recorder) }).toEqual({
          config,
          name,
          reaches: true,
        });
      }
    });
  });

  it('records a failure however often that fails, except on invalid input', () => {
    each((_config, definition) => {
      const state = statesOf(definition).find(({ name }) => name === recorder)?.state as State;
      expect(state.Catch ?? []).toEqual([]);
      const all = state.Retry?.find((retrier) => retrier.ErrorEquals.includes('States.ALL'));
      expect(all?.MaxAttempts).toBeGreaterThanOrEqual(10);
      // States.ALL must come last; invalid input (a wiring bug) is not retried.
      expect(state.Retry?.at(-1)).toBe(all);
      const invalid = state.Retry?.find((retrier) => retrier.ErrorEquals.includes(StepInputError.name));
      expect(invalid?.MaxAttempts).toBe(0);
    });
  });

  it('bounds every Map by the default Map concurrency', () => {
    each((_config, definition) => {
      const maps = statesOf(definition).filter(({ state }) => state.Type === 'Map');
      expect(maps.length).toBeGreaterThan(0);
      for (const { state } of maps) expect(state.MaxConcurrency).toBe(DEFAULT_MAP_CONCURRENCY);
    });
  });
});

describe('the store sweep, a child execution per store segment', () => {
  it('passes the Amazon States Language validator', () => {
    for (const [config, { storeSweep }] of configurations) {
      const verdict = validateAsl(structuredClone(storeSweep));
      expect({ config, errors: verdict.errors }).toEqual({ config, errors: [] });
    }
  });

  it('runs SweepPage with its timeout and retries, a failure ending the child execution', () => {
    for (const [config, { storeSweep }] of configurations) {
      const tasks = statesOf(storeSweep).filter(({ state }) => state.Type === 'Task');
      expect(tasks.map(({ name }) => name)).toEqual([SWEEP_STATES.sweepPage]);
      const state = tasks[0]?.state as State;
      expect({ config, timeout: state.TimeoutSeconds }).toEqual({ config, timeout: STEP_TIMEOUT_SECONDS });
      expect(retried(state)).toEqual(
        expect.arrayContaining([...LAMBDA_SERVICE_ERRORS, 'SweepIncompleteError', 'Lambda.Unknown']),
      );
      // No catch: the child fails, and the sweep's Map catches its SweepStore task.
      expect(state.Catch ?? []).toEqual([]);
    }
  });

  it("is started by the sweep's Map and waited for (.sync:2), within a day, Step Functions' own errors retried", () => {
    for (const [config, { sweep }] of configurations) {
      const entry = statesOf(sweep).find(({ name }) => name === SWEEP_STORE_STATE);
      expect({ config, parent: entry?.parent }).toEqual({ config, parent: 'SweepStores' });
      const state = entry?.state as State;
      expect(state.Resource).toMatch(/:states:startExecution\.sync:2$/);
      expect(state.TimeoutSeconds).toBe(CHILD_EXECUTION_TIMEOUT_SECONDS);
      expect(retried(state)).toEqual([...STEP_FUNCTIONS_SERVICE_ERRORS]);
      // The sweep's history holds no page: every SweepPage runs in the child.
      expect(statesOf(sweep).some(({ name }) => name === SWEEP_STATES.sweepPage)).toBe(false);
    }
  });
});

describe('retried errors', () => {
  it('the request workflow retries partial reads, audit append races and S3 InternalError and SlowDown', () => {
    const [, { request }] = configurations[0]!;
    for (const { name, state } of statesOf(request).filter(({ state }) => state.Type === 'Task')) {
      expect({ name, retried: retried(state) }).toEqual({
        name,
        retried: expect.arrayContaining([
          'ReadIncompleteError',
          'AuditAppendConflictError',
          'EraseIncompleteError',
          'InternalError',
          'SlowDown',
          'ThrottlingException',
        ]),
      });
    }
  });

  it('the sweep retries an incomplete page and its crashes', () => {
    const [, { storeSweep }] = configurations[0]!;
    const page = statesOf(storeSweep).find(({ name }) => name === SWEEP_STATES.sweepPage)!.state;
    expect(retried(page)).toEqual(expect.arrayContaining(['SweepIncompleteError', 'Lambda.Unknown']));
  });

  it('names each error as its class does, so a retry matches what the step throws', () => {
    // Prepare: one error of each class the retries name by class.
    const errors: [string, Error][] = [
      [ReadIncompleteError.name, new ReadIncompleteError('store', [], 1)],
      [EraseIncompleteError.name, new EraseIncompleteError('store', [])],
      [AuditAppendConflictError.name, new AuditAppendConflictError('race')],
      [SweepIncompleteError.name, new SweepIncompleteError('store', [])],
      [StepInputError.name, new StepInputError('bad')],
    ];
    // Assess: what Step Functions sees (the error's name) is the class's name.
    for (const [className, error] of errors) expect(error.name).toBe(className);
  });
});

describe('the Map concurrency', () => {
  it('is the context value mapConcurrency, in both machines', () => {
    // Act
    const machines = definitionsOf(freshApp({ [MAP_CONCURRENCY_CONTEXT]: '12' }));

    // Assess
    for (const definition of [machines.request, machines.sweep]) {
      const maps = statesOf(definition).filter(({ state }) => state.Type === 'Map');
      expect(maps.map(({ state }) => state.MaxConcurrency)).toEqual(maps.map(() => 12));
    }
  });

  it.each(['0', '41', 'many', '2.5'])('refuses %s', (value) => {
    expect(() => definitionsOf(freshApp({ [MAP_CONCURRENCY_CONTEXT]: value }))).toThrow(
      /mapConcurrency .* must be an integer from 1 to 40/,
    );
  });
});
