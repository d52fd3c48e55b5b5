import type { CfnElement } from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { LetheWorkflowStack } from '../../lib/infra/workflow-stack';
import {
  type AslObject,
  localFunctionArn,
  parseDefinitionString,
  requestWorkflowDefinition,
  UnresolvableTokenError,
} from '../../lib/local/definitions';
import { REQUEST_STATES } from '../../lib/workflow/request-steps';
import { DEFAULT_MAP_CONCURRENCY } from '../../lib/workflow/tasks';
import { reachable, type State, statesOf } from '../helpers/asl';
import { adtechDataMap, buildStacks } from '../helpers/stacks';

let stack: LetheWorkflowStack;
let template: Template;
let definition: AslObject;

beforeAll(() => {
  // Prepare: the definition as it is in the synthesized template.
  const built = buildStacks(adtechDataMap());
  stack = built.workflow;
  template = built.workflowTemplate;
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
    Properties: { DefinitionString: unknown };
  }[];
  definition = parseDefinitionString(machine?.Properties.DefinitionString);
});

describe('the synthesized request workflow', () => {
  it('has one Task state per step, named as in REQUEST_STATES', () => {
    const tasks = statesOf(definition).filter(({ state }) => state.Type === 'Task');
    expect(tasks.map(({ name }) => name).sort()).toEqual(Object.values(REQUEST_STATES).sort());
  });

  it('invokes each step function by its ARN', () => {
    for (const [step, name] of Object.entries(REQUEST_STATES)) {
      const task = statesOf(definition).find((entry) => entry.name === name)?.state;
      const logicalId = Stack.of(stack).getLogicalId(
        stack.functions[step as keyof typeof REQUEST_STATES].fn.node.defaultChild as CfnElement,
      );
      expect((task?.Parameters as { FunctionName?: string } | undefined)?.FunctionName).toBe(
        localFunctionArn(logicalId),
      );
    }
  });

  it('catches every failure of every Task (or of the Map around it) into RecordFailure', () => {
    const all = statesOf(definition);
    for (const { name, state, parent } of all.filter(({ state }) => state.Type === 'Task')) {
      if (name === REQUEST_STATES.recordFailure) {
        expect(state.Next).toBe('RequestFailed');
        continue;
      }
      const catching = parent ? all.find((entry) => entry.name === parent)?.state : state;
      const handler = catching?.Catch?.find((entry) => entry.ErrorEquals.includes('States.ALL'));
      expect({ name, caught: handler !== undefined }).toEqual({ name, caught: true });
      expect({
        name,
        reaches: reachable(definition, handler?.Next ?? '').has(REQUEST_STATES.recordFailure),
      }).toEqual({ name, reaches: true });
    }
    expect((definition.States as Record<string, State>).RequestFailed?.Type).toBe('Fail');
  });

  it('runs RecordReview after LocateStores only when links reached claimed identities, and ends when it pauses', () => {
    // prepare
    type Choice = State & { Default?: string; Choices?: (AslObject & { Next: string })[] };
    const states = definition.States as Record<string, Choice>;

    // act
    const claimedLinks = states[states.LocateStores?.Next ?? ''];
    const reviewPending = states[states[REQUEST_STATES.recordReview]?.Next ?? ''];

    // assess
    expect(states.LocateStores?.Next).toBe('ClaimedLinks');
    // An objection does not wait for review (only verified identities go on the suppression list).
    expect(claimedLinks?.Choices).toEqual([
      {
        And: [
          { Variable: '$.resolve.claimedIdentities', NumericGreaterThan: 0 },
          { Not: { Variable: '$.verify.type', StringEquals: 'objection' } },
        ],
        Next: REQUEST_STATES.recordReview,
      },
    ]);
    expect(reviewPending?.Choices).toEqual([
      { Variable: '$.review.paused', BooleanEquals: true, Next: 'AwaitingReview' },
    ]);
    expect(states.AwaitingReview?.Type).toBe('Succeed');
    // Without a pause both go on to the same Choice on the request type.
    expect(reviewPending?.Default).toBe(claimedLinks?.Default);
    expect(reachable(definition, claimedLinks?.Default ?? '').has(REQUEST_STATES.exportPackage)).toBe(true);
  });

  it('bounds the concurrency of every Map', () => {
    const maps = statesOf(definition).filter(({ state }) => state.Type === 'Map');
    expect(maps.map(({ name }) => name).sort()).toEqual(['ApplyStores', 'EraseStores', 'LocateStores']);
    for (const { state } of maps) expect(state.MaxConcurrency).toBe(DEFAULT_MAP_CONCURRENCY);
  });

  it('never sets ResultPath to "$" (aws-local-stepfunctions mishandles it)', () => {
    const offending = statesOf(definition).filter(
      ({ state }) =>
        state.ResultPath === '$' ||
        (state.Catch ?? []).some((handler) => (handler as AslObject).ResultPath === '$'),
    );
    expect(offending.map(({ name }) => name)).toEqual([]);
  });

  it('uses no JSONata (aws-local-stepfunctions ignores it)', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const { state } of statesOf(definition)) expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });
});

describe('requestWorkflowDefinition', () => {
  it('returns exactly the synthesized definition, every token replaced', () => {
    // Act
    const local = requestWorkflowDefinition(adtechDataMap());

    // Assess
    expect(local).toEqual(definition);
    expect(JSON.stringify(local)).not.toMatch(/Fn::|"Ref"|\$\{Token/);
  });

  it('refuses a reference it does not know', () => {
    expect(() =>
      parseDefinitionString({ 'Fn::Join': ['', ['{"a":"', { 'Fn::ImportValue': 'x' }, '"}']] }),
    ).toThrow(UnresolvableTokenError);
    expect(() => parseDefinitionString({ Ref: 'SomeParameter' })).toThrow(UnresolvableTokenError);
  });
});
