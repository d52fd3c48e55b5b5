import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { LETHE_ENV } from '../../lib/aws/config';
import { parseDataMap } from '../../lib/datamap/load';
import { DEMO_TTL_ATTRIBUTE } from '../../lib/infra/demo-stores';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { DEFAULT_SWEEP_SCHEDULE } from '../../lib/infra/sweep-schedule';
import {
  type AslObject,
  localStateMachineRef,
  parseDefinitionString,
  sweepWorkflowDefinitions,
} from '../../lib/local/definitions';
import { SWEEP_STATES, type SweepStep } from '../../lib/workflow/sweep-steps';
import { CRASH_ERRORS } from '../../lib/workflow/tasks';
import {
  actionsOn,
  adtechDataMap,
  type BuiltStacks,
  bucketNamed,
  buildStacks,
  roleStatements,
  type Statement,
  tableNamed,
} from '../helpers/stacks';

/** The retention sweep on AWS: schedule, dead-letter queue, state machine, least privilege, demo backstops. */

type Resource = { Type: string; Properties: Record<string, unknown> };
const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type)) as [string, Resource][];
const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as never);

const ANONYMISE_DATAMAP = `
version: 1
identityTypes:
  userId: { normalise: opaque }
stores:
  - id: profiles
    kind: dynamodb
    table: t-profiles
    keySchema: { partitionKey: { name: userId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [user.profile]
    purpose: Running the account
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: mask, fields: [{ attribute: name, with: remove }] }
    retention: { period: P2Y, from: { attribute: lastSeenAt }, action: anonymise }
  - id: orders
    kind: dynamodb
    table: t-orders
    keySchema: { partitionKey: { name: userId } }
    locate: [{ identity: userId, attribute: userId }]
    categories: [user.orders]
    purpose: Orders
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
  - id: uploads
    kind: s3
    bucket: t-uploads
    retentionPrefix: users/archive/
    locate: [{ identity: userId, prefix: "users/{userId}/" }]
    categories: [user.content]
    purpose: Uploads
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
    retention: { period: P30D, from: { lastModified: true } }
`;

const STORE_WRITES = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  's3:DeleteObject',
  's3:PutObject',
];

let built: BuiltStacks;
let template: Template;
const sweepRole = (step: SweepStep, stacks: BuiltStacks = built): Statement[] =>
  roleStatements(stacks.workflowTemplate, stacks.workflow.sweepFunctions[step].role as IConstruct);

beforeAll(() => {
  // Prepare: the ad-tech data map, demo mode (so its stores and their backstops are created).
  built = buildStacks(adtechDataMap(), { demo: true });
  template = built.workflowTemplate;
});

describe('the sweep schedule', () => {
  it('starts the sweep state machine daily at 03:00 UTC, with a retry policy and a dead-letter queue', () => {
    const [[, schedule]] = resources(template, 'AWS::Scheduler::Schedule') as [[string, Resource]];
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: DEFAULT_SWEEP_SCHEDULE,
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: {
        Arn: { Ref: logicalId(built.workflow.sweepStateMachine) },
        RoleArn: { 'Fn::GetAtt': [logicalId(built.workflow.sweepScheduleRole), 'Arn'] },
        Input: JSON.stringify({ dryRun: false }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 6 * 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(built.workflow.sweepDeadLetterQueue), 'Arn'] } },
      },
    });
    expect(DEFAULT_SWEEP_SCHEDULE).toBe('cron(0 3 * * ? *)');
  });

  it('takes its expression from the context value sweepSchedule, and refuses a malformed one', () => {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], sweepSchedule: 'rate(12 hours)' },
      builtinCloudFormationValidation: false,
    });
    const { workflow } = createLetheStacks(app, { dataMap: adtechDataMap() });
    const [[, schedule]] = resources(Template.fromStack(workflow), 'AWS::Scheduler::Schedule') as [
      [string, Resource],
    ];
    expect(schedule.Properties.ScheduleExpression).toBe('rate(12 hours)');

    const bad = new App({ context: { 'aws:cdk:bundling-stacks': [], sweepSchedule: 'every night' } });
    expect(() => createLetheStacks(bad, { dataMap: adtechDataMap() })).toThrow(
      /EventBridge Scheduler expression/,
    );
  });

  it('tells only ReapRequests how long ended requests are kept, when the context sets it; refuses a bad period', () => {
    // prepare
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [], requestRecordDays: '1095' },
      builtinCloudFormationValidation: false,
    });
    const { workflow } = createLetheStacks(app, { dataMap: adtechDataMap() });
    const variable = LETHE_ENV.requestRecordDays;
    const told = (stack: Template) =>
      resources(stack, 'AWS::Lambda::Function')
        .filter(([, fn]) => JSON.stringify(fn.Properties).includes(variable))
        .map(
          ([, fn]) =>
            (fn.Properties.Environment as { Variables: Record<string, string> }).Variables[variable],
        );

    // act
    const configured = told(Template.fromStack(workflow));
    const byDefault = told(template);

    // assess: by default no function is told (the runtime's default, 730 days, applies)
    expect(configured).toEqual(['1095']);
    expect(
      Template.fromStack(workflow).findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { [variable]: '1095' } } },
      }),
    ).toHaveProperty([logicalId(workflow.sweepFunctions.reapRequests.fn)]);
    expect(byDefault).toEqual([]);
    const bad = new App({ context: { 'aws:cdk:bundling-stacks': [], requestRecordDays: 'two years' } });
    expect(() => createLetheStacks(bad, { dataMap: adtechDataMap() })).toThrow(/requestRecordDays must be/);
  });

  it('dead-letters into a queue encrypted with the CMK that refuses plain HTTP', () => {
    const queueId = logicalId(built.workflow.sweepDeadLetterQueue);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::ImportValue': Match.stringLikeRegexp('Key') },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("the schedule's role can start the sweep state machine and dead-letter, nothing else", () => {
    const statements = roleStatements(template, built.workflow.sweepScheduleRole);
    expect(statements.flatMap((statement) => statement.actions).sort()).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'sqs:SendMessage',
      'states:StartExecution',
    ]);
    expect(actionsOn(statements, (arn) => arn.includes('SweepStateMachine'))).toEqual([
      'states:StartExecution',
    ]);
    expect(actionsOn(statements, (arn) => arn.includes('RequestStateMachine'))).toEqual([]);
  });
});

describe('the sweep function can delete only in stores that have a retention rule', () => {
  it('ad-tech: deletes in the stores with retention, through the reads their rule needs', () => {
    const statements = sweepRole('sweepPage');
    expect(actionsOn(statements, tableNamed('adtech-ad-events'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:Query',
    ]);
    // Query on stores: the expiry index only (the others are the audit log's last event, the
    // identity index, which the objects a sweep deletes leave, and the active-holds index).
    const queried = statements.filter((statement) => statement.actions.includes('dynamodb:Query'));
    expect(
      queried
        .flatMap((statement) => statement.resources)
        .filter(
          (arn) =>
            !arn.includes('AuditTable') && !arn.includes('IdentityIndexTable') && !arn.includes('HoldsTable'),
        ),
    ).toEqual([expect.stringMatching(/:table\/adtech-ad-events\/index\/byExpiry$/)]);
    for (const table of ['adtech-inquiries', 'adtech-conversions']) {
      expect(actionsOn(statements, tableNamed(table))).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Scan']);
    }
    expect(actionsOn(statements, tableNamed('adtech-partner-contacts'))).toEqual([]);
    // Versioned buckets: versions listed and deleted by id, the Object Lock of a refused one read.
    // GetObjectTagging: an expired object carrying the restriction tag is kept.
    expect(actionsOn(statements, bucketNamed('adtech-call-recordings'))).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:GetBucketVersioning',
      's3:GetObjectLegalHold',
      's3:GetObjectRetention',
      's3:GetObjectTagging',
      's3:ListBucket',
      's3:ListBucketVersions',
    ]);
    expect(actionsOn(statements, bucketNamed('adtech-recruitment'))).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:GetBucketVersioning',
      's3:GetObjectLegalHold',
      's3:GetObjectRetention',
      's3:GetObjectTagging',
      's3:ListBucket',
      's3:ListBucketVersions',
    ]);
    // JSON-lines objects are read to find lines of held subjects; one holding restricted lines
    // is written back with only those (keeping its tags).
    expect(actionsOn(statements, bucketNamed('adtech-clickstream'))).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:GetBucketVersioning',
      's3:GetObject',
      's3:GetObjectLegalHold',
      's3:GetObjectRetention',
      's3:GetObjectTagging',
      's3:ListBucket',
      's3:ListBucketVersions',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
    // Parquet objects likewise, to find rows of held subjects.
    expect(actionsOn(statements, bucketNamed('adtech-bid-logs'))).toContain('s3:GetObject');
    const objects = statements
      .filter((statement) => statement.actions.includes('s3:DeleteObject'))
      .flatMap((statement) => statement.resources)
      .map((arn) => arn.slice(arn.indexOf(':::') + 3))
      .sort();
    expect(objects).toEqual([
      'adtech-bid-logs/bids/*',
      'adtech-call-recordings/calls/*',
      'adtech-clickstream/clicks/*',
      'adtech-recruitment/applications/*',
    ]);
  });

  it('anonymise gets GetItem/UpdateItem, not deletes; a store without retention nothing; a retentionPrefix is the scope', () => {
    const stacks = buildStacks(parseDataMap(ANONYMISE_DATAMAP, 'test'));
    const statements = sweepRole('sweepPage', stacks);
    expect(actionsOn(statements, tableNamed('t-profiles'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(statements, tableNamed('t-orders'))).toEqual([]);
    const uploads = statements.filter((statement) => statement.resources.some(bucketNamed('t-uploads')));
    // Statements come grouped by action set and condition, in no order the test should rely on.
    const granted = uploads
      .map((statement) => [
        [...statement.actions].sort(),
        statement.resources.map((arn) => arn.slice(arn.indexOf(':::') + 3)),
        statement.condition,
      ])
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(granted).toEqual([
      [
        ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObjectLegalHold', 's3:GetObjectRetention'],
        ['t-uploads/users/archive/*'],
        undefined,
      ],
      [['s3:GetBucketVersioning'], ['t-uploads'], undefined],
      [
        ['s3:ListBucket', 's3:ListBucketVersions'],
        ['t-uploads'],
        { StringLike: { 's3:prefix': ['users/archive/*'] } },
      ],
    ]);
  });

  it.each<SweepStep>(['planSweep', 'recordSweep', 'recordSweepFailure'])(
    '%s has no access to any store',
    (step) => {
      const statements = sweepRole(step);
      const onStores = (arn: string) => /:table\/adtech-|:::adtech-/.test(arn);
      expect(actionsOn(statements, onStores)).toEqual([]);
    },
  );

  it('only SweepPage writes to stores, and puts objects only in the JSON-lines store that restricts lines', () => {
    const onStores = (arn: string) => /:table\/adtech-|:::adtech-/.test(arn);
    const writers = (Object.keys(SWEEP_STATES) as SweepStep[]).filter((step) =>
      actionsOn(sweepRole(step), onStores).some((action) => STORE_WRITES.includes(action)),
    );
    const puts = (arn: string) =>
      onStores(arn) && !arn.includes(':::adtech-clickstream') && !arn.includes('/adtech-clickstream');
    expect(writers).toEqual(['sweepPage']);
    expect(actionsOn(sweepRole('sweepPage'), puts).filter((action) => action.endsWith('PutObject'))).toEqual(
      [],
    );
  });

  it('reads the legal holds and the HMAC keys in SweepPage only, and every step appends to the audit log', () => {
    const holds = (step: SweepStep) => actionsOn(sweepRole(step), (arn) => arn.includes('HoldsTable'));
    const audit = (step: SweepStep) => actionsOn(sweepRole(step), (arn) => arn.includes('AuditTable'));
    const secret = (step: SweepStep) =>
      sweepRole(step).some((statement) => statement.actions.includes('secretsmanager:GetSecretValue'));
    // A Query of the active-holds index; a Scan only until every hold placed before the index has its attribute.
    expect(holds('sweepPage')).toEqual(['dynamodb:Query', 'dynamodb:Scan']);
    expect(secret('sweepPage')).toBe(true);
    for (const step of ['planSweep', 'recordSweep', 'recordSweepFailure'] as SweepStep[]) {
      expect(holds(step)).toEqual([]);
      expect(secret(step)).toBe(false);
    }
    // sweep.started, sweep.page, sweep.completed, sweep.failed
    for (const step of Object.keys(SWEEP_STATES) as SweepStep[]) {
      expect(audit(step)).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
    }
  });
});

describe('demo backstops', () => {
  it('sets a TTL attribute on the demo tables that have a retention rule, and only those', () => {
    const tables = Object.fromEntries(
      resources(built.statefulTemplate, 'AWS::DynamoDB::Table').map(([, table]) => [
        String(table.Properties.TableName ?? ''),
        table.Properties.TimeToLiveSpecification,
      ]),
    );
    for (const name of ['adtech-inquiries', 'adtech-ad-events', 'adtech-conversions']) {
      expect(tables[name]).toEqual({ AttributeName: DEMO_TTL_ATTRIBUTE, Enabled: true });
    }
    expect(tables['adtech-partner-contacts']).toBeUndefined();
    expect(DEMO_TTL_ATTRIBUTE).toBe('expiresAt');
  });

  it('expires demo objects under the sweep prefixes no earlier than the longest the period can be', () => {
    const rules = Object.fromEntries(
      resources(built.statefulTemplate, 'AWS::S3::Bucket').map(([, bucket]) => [
        String(bucket.Properties.BucketName ?? ''),
        (
          bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] } | undefined
        )?.Rules.filter((rule) => String(rule.Id).startsWith('retention-backstop-')),
      ]),
    );
    expect(rules['adtech-call-recordings']).toEqual([
      expect.objectContaining({ Prefix: 'calls/', ExpirationInDays: 367, Status: 'Enabled' }),
    ]);
    expect(rules['adtech-recruitment']).toEqual([
      expect.objectContaining({ Prefix: 'applications/', ExpirationInDays: 187 }),
    ]);
    expect(rules['adtech-clickstream']).toEqual([
      expect.objectContaining({ Prefix: 'clicks/', ExpirationInDays: 91 }),
    ]);
    expect(rules['adtech-bid-logs']).toEqual([
      expect.objectContaining({ Prefix: 'bids/', ExpirationInDays: 31 }),
    ]);
  });

  it('sets no backstop when lethe does not own the stores', () => {
    const owned = buildStacks(adtechDataMap());
    const tables = resources(owned.statefulTemplate, 'AWS::DynamoDB::Table');
    expect(tables.some(([, table]) => table.Properties.TimeToLiveSpecification !== undefined)).toBe(false);
  });
});

describe('the synthesized sweep workflow', () => {
  type State = AslObject & {
    Type: string;
    Next?: string;
    Catch?: { ErrorEquals: string[]; Next: string }[];
    Retry?: { ErrorEquals: string[] }[];
  };
  let definition: AslObject;
  let storeDefinition: AslObject;
  const statesOf = (asl: AslObject, parent?: string): { name: string; state: State; parent?: string }[] =>
    Object.entries(asl.States as Record<string, State>).flatMap(([name, state]) => [
      { name, state, ...(parent ? { parent } : {}) },
      ...(state.Type === 'Map' ? statesOf(state.ItemProcessor as AslObject, name) : []),
    ]);

  beforeAll(() => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const parsed = (machine: Resource) =>
      parseDefinitionString(machine.Properties.DefinitionString, undefined, localStateMachineRef);
    definition = parsed(machines[logicalId(built.workflow.sweepStateMachine)] as Resource);
    storeDefinition = parsed(machines[logicalId(built.workflow.storeSweepStateMachine)] as Resource);
  });

  it('is what the local runner runs', () => {
    expect(sweepWorkflowDefinitions(adtechDataMap())).toEqual({
      sweep: definition,
      storeSweep: storeDefinition,
    });
  });

  it('has one Task per sweep step, every failure caught into RecordSweepFailure, and no ResultPath "$"', () => {
    const all = statesOf(definition);
    const tasks = all.filter(({ state }) => state.Type === 'Task');
    const storeTasks = statesOf(storeDefinition).filter(({ state }) => state.Type === 'Task');
    // SweepPage runs in the store sweep, which SweepStore starts for each store segment.
    expect([...tasks, ...storeTasks].map(({ name }) => name).sort()).toEqual(
      [...Object.values(SWEEP_STATES), 'SweepStore'].sort(),
    );
    for (const { name, state, parent } of tasks) {
      if (name === SWEEP_STATES.recordSweepFailure) {
        expect(state.Next).toBe('SweepFailed');
        continue;
      }
      const catching = parent ? all.find((entry) => entry.name === parent)?.state : state;
      expect({
        name,
        caught: catching?.Catch?.some((handler) => handler.ErrorEquals.includes('States.ALL')),
      }).toEqual({ name, caught: true });
    }
    for (const { state } of [...all, ...statesOf(storeDefinition)]) {
      expect(state.ResultPath).not.toBe('$');
      for (const handler of state.Catch ?? []) expect((handler as AslObject).ResultPath).not.toBe('$');
    }
  });

  it('loops SweepPage until the token is null, retrying transient errors and crashed pages', () => {
    const all = statesOf(storeDefinition);
    const choice = all.find(({ name }) => name === 'MorePages')?.state as State & {
      Choices: AslObject[];
      Default: string;
    };
    expect(choice.Choices).toEqual([{ Variable: '$.token', IsNull: true, Next: 'StoreSwept' }]);
    expect(choice.Default).toBe(SWEEP_STATES.sweepPage);
    const page = all.find(({ name }) => name === SWEEP_STATES.sweepPage)!.state;
    const retried = (page.Retry ?? []).flatMap((retry) => retry.ErrorEquals);
    expect(retried).toEqual(
      expect.arrayContaining(['SweepIncompleteError', 'ThrottlingException', ...CRASH_ERRORS]),
    );
    // No negative type test anywhere: aws-local-stepfunctions evaluates them as false.
    expect(JSON.stringify([definition, storeDefinition])).not.toMatch(
      /"Is(Null|Present|Numeric|String|Boolean|Timestamp)":false/,
    );
  });

  it("ends a sweep that found an earlier one running right after PlanSweep; PlanSweep may list the sweep machine's executions only", () => {
    const states = definition.States as Record<string, State & { Choices?: AslObject[]; Default?: string }>;
    expect(states[SWEEP_STATES.planSweep]?.Next).toBe('AnotherSweepRunning');
    expect(states.AnotherSweepRunning?.Choices).toEqual([
      { Variable: '$.plan.skipped', BooleanEquals: true, Next: 'SweepSkipped' },
    ]);
    expect(states.AnotherSweepRunning?.Default).toBe('SweepStores');
    expect(states.SweepSkipped?.Type).toBe('Succeed');

    const statements = sweepRole('planSweep');
    expect(actionsOn(statements, (arn) => arn.includes('SweepStateMachine'))).toEqual([
      'states:ListExecutions',
    ]);
    expect(actionsOn(statements, (arn) => arn.includes('RequestStateMachine'))).toEqual([]);
  });

  it("lets the sweep machine start and follow the store sweep's executions, and nothing else of Step Functions", () => {
    const statements = roleStatements(template, built.workflow.sweepStateMachine.role);
    const storeSweeps = (arn: string) => arn.includes('StoreSweepStateMachine');
    expect(actionsOn(statements, storeSweeps)).toEqual([
      'states:DescribeExecution',
      'states:StartExecution',
      'states:StopExecution',
    ]);
    const elsewhere = actionsOn(statements, (arn) => !storeSweeps(arn));
    expect(elsewhere.filter((action) => action.startsWith('states:'))).toEqual([]);
  });
});
