import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { INDEX_BUILD_BATCH_SIZE, INDEX_BUILD_CONCURRENCY } from '../../lib/infra/index-build';
import { type AslObject, localStateMachineRef, parseDefinitionString } from '../../lib/local/definitions';
import { LAMBDA_SERVICE_ERRORS, STEP_TIMEOUT_SECONDS } from '../../lib/workflow/tasks';
import { type State, statesOf, validateAsl } from '../helpers/asl';
import {
  actionsOn,
  adtechDataMap,
  type BuiltStacks,
  bucketNamed,
  buildStacks,
  INDEX_KEEPER_ACTIONS,
  roleStatements,
  testDataMap,
} from '../helpers/stacks';

/**
 * Building an indexed store's identity index on AWS: the IndexBuild state machine runs a
 * Distributed Map over the store's bucket listing under each shared-object prefix, child batches
 * invoking the IndexBatch function, and records the watermark only after every map succeeded.
 */

type MapState = State & {
  ItemReader?: { Resource: string; Parameters: Record<string, unknown> };
  ItemBatcher?: { MaxItemsPerBatch?: number; BatchInput?: Record<string, unknown> };
  ItemProcessor?: { ProcessorConfig?: { Mode?: string; ExecutionType?: string }; StartAt: string };
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  ResultPath?: string | null;
};

describe('the index build (adtech: clickstream and bid-logs are indexed)', () => {
  let built: BuiltStacks;
  let definition: AslObject;
  beforeAll(() => {
    built = buildStacks(adtechDataMap());
    const machine = built.workflow.indexBuild?.stateMachine as sfn.StateMachine;
    definition = parseDefinitionString(
      built.workflow.resolve((machine.node.defaultChild as sfn.CfnStateMachine).definitionString),
      undefined,
      localStateMachineRef,
    );
  });

  it('is valid ASL', () => {
    const verdict = validateAsl(definition);
    expect(verdict.errors).toEqual([]);
    expect(verdict.isValid).toBe(true);
  });

  it("lists the store's bucket under its prefix in a Distributed Map of batches, with no failure tolerated, then records the watermark", () => {
    const states = statesOf(definition);
    const maps = states.filter(({ state }) => state.Type === 'Map').map(({ state }) => state as MapState);
    expect(maps.map((map) => map.ItemBatcher?.BatchInput?.storeId)).toEqual(['clickstream', 'bid-logs']);
    const [map] = maps;
    expect(map?.ItemProcessor?.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map?.ItemReader).toEqual({
      Resource: 'arn:aws:states:::s3:listObjectsV2',
      Parameters: { Bucket: 'adtech-clickstream', Prefix: 'clicks/' },
    });
    expect(map?.ItemBatcher).toEqual({
      MaxItemsPerBatch: INDEX_BUILD_BATCH_SIZE,
      BatchInput: { storeId: 'clickstream' },
    });
    expect(map?.MaxConcurrency).toBe(INDEX_BUILD_CONCURRENCY);
    // CDK writes no tolerance for 0, and Step Functions tolerates no failed child when none is set
    expect(map?.ToleratedFailurePercentage ?? 0).toBe(0);
    expect(map?.ToleratedFailureCount ?? 0).toBe(0);
    expect(map?.ResultPath).toBeNull();
    // each child batch invokes IndexBatch, retrying only the Lambda service's errors
    const inner = states.filter(({ parent }) => parent !== undefined).map(({ state }) => state);
    expect(inner).toHaveLength(2);
    expect(String(inner[0]?.Resource)).toContain(':function:IndexBuildIndexBatchFunction');
    expect(inner[0]?.TimeoutSeconds).toBe(STEP_TIMEOUT_SECONDS);
    expect(inner[0]?.Retry?.flatMap((retrier) => retrier.ErrorEquals)).toEqual([...LAMBDA_SERVICE_ERRORS]);
    // the map goes on to the finish, which alone records the watermark, from the execution's start
    const finish = (definition.States as Record<string, State & { Parameters?: Record<string, unknown> }>)[
      String(map?.Next)
    ];
    expect(finish?.Type).toBe('Task');
    expect(finish?.End).toBe(true);
    expect(finish?.Parameters).toEqual({
      finish: true,
      storeId: 'clickstream',
      'startedAt.$': '$$.Execution.StartTime',
    });
    // the store id chooses the store's map; an unknown one fails before anything is listed
    const start = (
      definition.States as Record<
        string,
        Omit<State, 'Choices'> & { Choices?: { StringEquals?: string; Next: string }[] }
      >
    )[String(definition.StartAt)];
    expect(start?.Type).toBe('Choice');
    expect(start?.Choices?.map((choice) => [choice.StringEquals, choice.Next])).toEqual([
      ['clickstream', states.find(({ state }) => state === map)?.name],
      ['bid-logs', states.find(({ state }) => state === maps[1])?.name],
    ]);
    expect((definition.States as Record<string, State>)[String(start?.Default)]?.Type).toBe('Fail');
  });

  it('may list the bucket, start, describe and stop only its own child executions, and invoke IndexBatch', () => {
    const machine = built.workflow.indexBuild?.stateMachine as sfn.StateMachine;
    const statements = roleStatements(built.workflowTemplate, machine.role);
    for (const bucket of ['adtech-clickstream', 'adtech-bid-logs'])
      expect(actionsOn(statements, bucketNamed(bucket))).toEqual(['s3:ListBucket']);
    for (const bucket of ['adtech-call-recordings', 'adtech-recruitment'])
      expect(actionsOn(statements, bucketNamed(bucket))).toEqual([]);
    const states = statements.filter((statement) => statement.actions.some((a) => a.startsWith('states:')));
    const own = `<${built.workflow.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine)}>`;
    const ownName = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${own.slice(1, -1)}"}]}]}`;
    expect(states.map((statement) => [statement.actions, statement.resources])).toEqual(
      expect.arrayContaining([
        [['states:StartExecution'], [own]],
        [
          ['states:DescribeExecution', 'states:StopExecution'],
          [expect.stringMatching(new RegExp(`:execution:${escapeRegExp(ownName)}/\\*$`))],
        ],
      ]),
    );
    // every states: grant is on this machine or its executions
    for (const statement of states)
      for (const resource of statement.resources)
        expect(resource === own || resource.includes(`:execution:${ownName}`)).toBe(true);
    const invoked = statements.filter((statement) => statement.actions.includes('lambda:InvokeFunction'));
    expect(invoked.flatMap((statement) => statement.resources)).toEqual([
      expect.stringContaining('IndexBatchFunction'),
      expect.stringContaining('IndexBatchFunction'),
    ]);
    const other = statements
      .flatMap((statement) => statement.actions)
      .filter((action) => !/^(s3:ListBucket|states:|lambda:InvokeFunction|logs:|xray:|kms:)/.test(action));
    expect(other).toEqual([]);
  });

  it('grants IndexBatch GetObject under the indexed prefix and the index table, nothing more of the data map', () => {
    const fn = built.workflow.indexBuild?.function;
    const statements = roleStatements(built.workflowTemplate, fn?.role as never);
    expect(actionsOn(statements, bucketNamed('adtech-clickstream'))).toEqual(['s3:GetObject']);
    expect(
      statements
        .filter((statement) => statement.actions.includes('s3:GetObject'))
        .flatMap((statement) => statement.resources),
    ).toEqual([
      expect.stringMatching(/:s3:::adtech-clickstream\/clicks\/\*$/),
      expect.stringMatching(/:s3:::adtech-bid-logs\/bids\/\*$/),
    ]);
    for (const bucket of ['adtech-call-recordings', 'adtech-recruitment'])
      expect(actionsOn(statements, bucketNamed(bucket))).toEqual([]);
    const dynamo = [...new Set(statements.flatMap((statement) => statement.actions))].filter((action) =>
      action.startsWith('dynamodb:'),
    );
    expect(dynamo.sort()).toEqual(INDEX_KEEPER_ACTIONS);
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

it('builds no index build state machine when no store is indexed', () => {
  const built = buildStacks(testDataMap());
  expect(built.workflow.indexBuild).toBeUndefined();
  expect(
    Object.values(built.workflowTemplate.findResources('AWS::StepFunctions::StateMachine')).map(
      (resource) => (resource.Properties as { StateMachineName?: unknown }).StateMachineName,
    ),
  ).not.toContainEqual(expect.stringContaining('IndexBuild'));
});
