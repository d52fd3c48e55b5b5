import type { IConstruct } from 'constructs';
import { HOLDS_TABLE, holdsTableInput } from '../../lib/holds';
import { adtechDataMap, type BuiltStacks, buildStacks, roleStatements } from '../helpers/stacks';

/**
 * The holds table on AWS has the same sparse index of active holds as the local runtime creates,
 * and the steps that read holds Query that index alone.
 */

let built: BuiltStacks;

beforeAll(() => {
  built = buildStacks(adtechDataMap());
});

it('the holds table has the active-holds index the local runtime creates', () => {
  // prepare
  const local = holdsTableInput('lethe-holds');

  // act
  const tables = Object.values(built.statefulTemplate.findResources('AWS::DynamoDB::Table')) as {
    Properties: Record<string, unknown>;
  }[];
  const holds = tables.find((table) =>
    JSON.stringify(table.Properties.KeySchema).includes(`"${HOLDS_TABLE.partitionKey}"`),
  );

  // assess
  expect(holds?.Properties.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
  expect(holds?.Properties.KeySchema).toEqual(local.KeySchema);
  expect(holds?.Properties.AttributeDefinitions).toEqual(
    expect.arrayContaining(local.AttributeDefinitions ?? []),
  );
});

it('the steps that apply holds Query the active-holds index, and only they', () => {
  // act
  const functions = {
    ...built.workflow.functions,
    ...built.workflow.sweepFunctions,
    intake: built.workflow.intake,
  };
  const onIndex: Record<string, string[]> = {};
  for (const [name, fn] of Object.entries(functions)) {
    const actions = roleStatements(built.workflowTemplate, fn.role as IConstruct)
      .filter((statement) =>
        statement.resources.some((arn) => arn.endsWith(`/index/${HOLDS_TABLE.activeIndex.name}`)),
      )
      .flatMap((statement) => statement.actions);
    if (actions.length > 0) onIndex[name] = actions;
  }

  // assess
  expect(onIndex).toEqual({
    locateStore: ['dynamodb:Query'],
    eraseStore: ['dynamodb:Query'],
    confirm: ['dynamodb:Query'],
    sweepPage: ['dynamodb:Query'],
  });
});
