import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { LETHE_ENV } from '../../lib/aws/config';
import type { LetheFunction } from '../../lib/infra/lethe-function';
import { functionsWithHmacKeys, type LetheFunctionName } from '../../lib/infra/lethe-grants';
import type { LetheWorkflowStack } from '../../lib/infra/workflow-stack';
import { REQUEST_STATES, type RequestStep } from '../../lib/workflow/request-steps';
import {
  actionsOn,
  adtechDataMap,
  allStatements,
  type BuiltStacks,
  bucketNamed,
  buildStacks,
  INDEX_KEEPER_ACTIONS,
  roleStatements,
  type Statement,
  tableNamed,
  testDataMap,
} from '../helpers/stacks';

const DYNAMO_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];
const S3_WRITES = ['s3:PutObject', 's3:DeleteObject'];
const STORE_TABLES = ['test-orders', 'test-profiles', 'test-invoices'];
const STORE_BUCKETS = ['test-uploads', 'test-events', 'test-archive'];
const isStore = (arn: string) =>
  STORE_TABLES.some((name) => tableNamed(name)(arn)) || STORE_BUCKETS.some((name) => bucketNamed(name)(arn));

/** Actions AWS offers no resource-level permissions for: the only ones allowed on "*". */
const XRAY_ACTIONS = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];
const S3_OBJECT_ACTIONS = [
  's3:GetObject',
  's3:GetObjectTagging',
  's3:PutObject',
  's3:PutObjectTagging',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  // versioned buckets: versions deleted by id, and the Object Lock of a version S3 refused read
  's3:DeleteObjectVersion',
  's3:GetObjectRetention',
  's3:GetObjectLegalHold',
];

let built: BuiltStacks;
let template: Template;
let stack: LetheWorkflowStack;
const statementsOf = (step: RequestStep | 'intake'): Statement[] =>
  roleStatements(template, (step === 'intake' ? stack.intake : stack.functions[step]).role as IConstruct);

beforeAll(() => {
  // Prepare: the workflow for a data map with delete, mask, rewrite and exempt-only stores.
  built = buildStacks(testDataMap());
  template = built.workflowTemplate;
  stack = built.workflow;
});

describe('data map stores: read-only steps', () => {
  it.each<RequestStep>(['resolve', 'locateStore', 'exportPackage', 'confirm'])(
    '%s can read the stores and write none of them',
    (step) => {
      // Act
      const statements = statementsOf(step);
      const onStores = actionsOn(statements, isStore);

      // Assess
      expect(onStores.filter((action) => DYNAMO_WRITES.includes(action))).toEqual([]);
      expect(onStores.filter((action) => S3_WRITES.includes(action))).toEqual([]);
      expect(onStores).toEqual(
        expect.arrayContaining([
          'dynamodb:Query',
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          's3:ListBucket',
          's3:GetObject',
        ]),
      );
    },
  );

  it('locateStore writes no table but the audit log (what it located), and in S3 only its manifests', () => {
    // Act
    const statements = statementsOf('locateStore');
    const writes = statements.filter((statement) =>
      statement.actions.some((action) => DYNAMO_WRITES.includes(action) || S3_WRITES.includes(action)),
    );
    const onAudit = (statement: Statement) => statement.resources.some((arn) => arn.includes('AuditTable'));

    // Assess
    expect(writes.filter(onAudit).map((statement) => [...statement.actions].sort())).toEqual([
      ['dynamodb:PutItem', 'dynamodb:Query'],
    ]);
    const others = writes.filter((statement) => !onAudit(statement));
    expect(others.map((statement) => statement.actions)).toEqual([['s3:PutObject']]);
    expect(others[0]?.resources).toEqual([
      'arn:<AWS::Partition>:s3:::lethe-manifests-<AWS::AccountId>-<AWS::Region>/requests/*',
    ]);
  });

  it('queries exactly the tables and indexes the locate rules name, never index/*', () => {
    // Act
    const queried = statementsOf('locateStore')
      .filter((statement) => statement.actions.includes('dynamodb:Query'))
      .flatMap((statement) => statement.resources)
      .filter(isStore)
      .map((arn) => arn.slice(arn.indexOf(':table/') + 1))
      .sort();

    // Assess: profiles' byCountry index is declared but no locate rule uses it.
    expect(queried).toEqual([
      'table/test-invoices',
      'table/test-orders/index/byEmail',
      'table/test-profiles',
      'table/test-profiles/index/byEmail',
    ]);
  });

  it('lists buckets only under the data map prefixes and reads objects only there', () => {
    // Act
    const statements = statementsOf('locateStore');
    const list = statements.filter(
      (statement) => statement.actions.includes('s3:ListBucket') && statement.resources.some(isStore),
    );
    const objects = statements
      .filter((statement) => statement.actions.includes('s3:GetObject'))
      .flatMap((statement) => statement.resources)
      .filter(isStore)
      .map((arn) => arn.slice(arn.indexOf(':::') + 3))
      .sort();

    // Assess
    expect(list.map((statement) => statement.condition)).toEqual(
      expect.arrayContaining([{ StringLike: { 's3:prefix': ['users/*'] } }]),
    );
    expect(objects).toEqual(['test-archive/archive/*', 'test-events/events/*', 'test-uploads/users/*']);
  });
});

describe('data map stores: Object Lock after erasure', () => {
  it('lets confirm read the Object Lock of objects under the data map prefixes, and no other read step', () => {
    // Act
    const lockReads = (step: RequestStep) =>
      actionsOn(statementsOf(step), isStore).filter(
        (action) => action.startsWith('s3:GetObjectRe') || action.startsWith('s3:GetObjectLe'),
      );
    const confirmObjects = statementsOf('confirm')
      .filter((statement) => statement.actions.includes('s3:GetObjectRetention'))
      .flatMap((statement) => statement.resources)
      .map((arn) => arn.slice(arn.indexOf(':::') + 3))
      .sort();

    // Assess: confirm finds a locked object again after erasure and must tell it from residual data.
    expect(lockReads('confirm')).toEqual(['s3:GetObjectLegalHold', 's3:GetObjectRetention']);
    expect(actionsOn(statementsOf('confirm'), isStore)).toContain('s3:GetBucketVersioning');
    expect(confirmObjects).toEqual([
      'test-archive/archive/*',
      'test-events/events/*',
      'test-uploads/users/*',
    ]);
    for (const step of ['resolve', 'locateStore', 'exportPackage'] as RequestStep[]) {
      expect(lockReads(step)).toEqual([]);
    }
  });
});

describe('data map stores: steps that never touch them', () => {
  it.each<RequestStep | 'intake'>(['verify', 'recordReview', 'recordOutcome', 'recordFailure', 'intake'])(
    '%s has no access to any store',
    (step) => {
      expect(actionsOn(statementsOf(step), isStore)).toEqual([]);
    },
  );
});

describe('data map stores: eraseStore', () => {
  let statements: Statement[];
  beforeAll(() => {
    statements = statementsOf('eraseStore');
  });

  it('deletes items only in the delete store and masks only in the mask store', () => {
    expect(actionsOn(statements, tableNamed('test-orders'))).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
    ]);
    expect(actionsOn(statements, tableNamed('test-profiles'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    const updated = statements
      .filter((statement) => statement.actions.includes('dynamodb:UpdateItem'))
      .flatMap((statement) => statement.resources)
      .filter(isStore);
    expect(updated).toHaveLength(1);
    expect(tableNamed('test-profiles')(updated[0] ?? '')).toBe(true);
  });

  it('cannot touch stores whose every record is exempt', () => {
    expect(actionsOn(statements, tableNamed('test-invoices'))).toEqual([]);
    expect(actionsOn(statements, bucketNamed('test-archive'))).toEqual([]);
  });

  it('deletes objects under the delete store prefix and rewrites only the JSON-lines store', () => {
    // Versioned buckets: GetBucketVersioning tells them apart; versions are listed and deleted by
    // id; the Object Lock of a version S3 refuses to delete is read, to report it exempt.
    expect(actionsOn(statements, bucketNamed('test-uploads'))).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:GetBucketVersioning',
      's3:GetObjectLegalHold',
      's3:GetObjectRetention',
      's3:ListBucketVersions',
    ]);
    expect(actionsOn(statements, bucketNamed('test-events'))).toEqual([
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:GetBucketVersioning',
      's3:GetObject',
      's3:GetObjectLegalHold',
      's3:GetObjectRetention',
      's3:GetObjectTagging',
      's3:ListBucketVersions',
      's3:PutObject',
      's3:PutObjectTagging',
    ]);
  });

  it('lists object versions only under the prefixes of the stores it erases', () => {
    // Act
    const versions = statements.filter(
      (statement) => statement.actions.includes('s3:ListBucketVersions') && statement.resources.some(isStore),
    );

    // Assess
    expect(
      versions.map((statement) => [
        statement.resources.map((arn) => arn.slice(arn.indexOf(':::') + 3)),
        statement.condition,
      ]),
    ).toEqual([
      [['test-uploads'], { StringLike: { 's3:prefix': ['users/*'] } }],
      [['test-events'], { StringLike: { 's3:prefix': ['events/*'] } }],
    ]);
  });
});

describe("lethe's own resources", () => {
  it('gives the HMAC keys only to intake, verify, resolve, the steps that match legal holds, and export', () => {
    const readers = (['intake', ...Object.keys(stack.functions)] as (RequestStep | 'intake')[]).filter(
      (step) =>
        statementsOf(step).some((statement) => statement.actions.includes('secretsmanager:GetSecretValue')),
    );
    // locateStore, eraseStore and confirm hash the request's identities to match subject holds;
    // resolve hashes them to record how far each is trusted (link paths hold keyed hashes);
    // exportPackage indexes the package by them, so a later erasure deletes it; applyStore keys
    // the restriction records of JSON-lines lines by them.
    expect(readers.sort()).toEqual([
      'applyStore',
      'confirm',
      'eraseStore',
      'exportPackage',
      'intake',
      'locateStore',
      'recordSuppression',
      'resolve',
      'verify',
    ]);
  });

  it('lets locate and confirm read the identity index, erase and the sweep page keep it, and nobody else touch it', () => {
    // Prepare
    const all: [LetheFunctionName, IConstruct][] = [
      ['intake', stack.intake.role],
      ...(Object.entries(stack.functions) as [LetheFunctionName, LetheFunction][]).map(
        ([name, fn]) => [name, fn.role] as [LetheFunctionName, IConstruct],
      ),
      ...(Object.entries(stack.sweepFunctions) as [LetheFunctionName, LetheFunction][]).map(
        ([name, fn]) => [name, fn.role] as [LetheFunctionName, IConstruct],
      ),
    ];

    // Act
    const access = Object.fromEntries(
      all
        .map(
          ([name, role]) =>
            [
              name,
              actionsOn(roleStatements(template, role), (arn) => arn.includes('IdentityIndexTable')),
            ] as const,
        )
        .filter(([, actions]) => actions.length > 0),
    );

    // Assess
    const read = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
    const keep = INDEX_KEEPER_ACTIONS;
    expect(access).toEqual({ locateStore: read, confirm: read, eraseStore: keep, sweepPage: keep });
  });

  it('gives the HMAC keys secret to exactly the functions the grant table names', () => {
    // Prepare: every function of the stack, by its name in the grant table.
    const all: [LetheFunctionName, LetheFunction][] = [
      ['intake', stack.intake],
      ['suppressionCheck', stack.suppressionCheck],
      ...(Object.entries(stack.functions) as [LetheFunctionName, LetheFunction][]),
      ...(Object.entries(stack.sweepFunctions) as [LetheFunctionName, LetheFunction][]),
      ...(stack.identityIndexer
        ? [['indexObjects', stack.identityIndexer.function] as [LetheFunctionName, LetheFunction]]
        : []),
      ...(stack.indexBuild
        ? [['indexBatch', stack.indexBuild.function] as [LetheFunctionName, LetheFunction]]
        : []),
    ];
    const variables = (fn: LetheFunction) => {
      const logicalId = Stack.of(fn).getLogicalId(fn.fn.node.defaultChild as CfnElement);
      const resource = template.findResources('AWS::Lambda::Function')[logicalId];
      return (resource?.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
    };

    // Act
    const granted = all
      .filter(([, fn]) =>
        roleStatements(template, fn.role).some((statement) =>
          statement.actions.includes('secretsmanager:GetSecretValue'),
        ),
      )
      .map(([name]) => name);
    const told = all.filter(([, fn]) => LETHE_ENV.hmacSecretArn in variables(fn)).map(([name]) => name);
    const secretStatements = allStatements(template).filter((statement) =>
      statement.actions.some((action) => action.startsWith('secretsmanager:')),
    );

    // Assess: the grants, the ARN in the environment, and no other role, all follow the table.
    // (the identity indexer exists only where a store is indexed: not in this data map)
    const inStack = functionsWithHmacKeys().filter((name) => all.some(([present]) => present === name));
    expect(granted.sort()).toEqual(inStack.sort());
    expect(told.sort()).toEqual(inStack.sort());
    expect(secretStatements).toHaveLength(granted.length);
    expect(functionsWithHmacKeys().sort()).toEqual([
      'applyStore',
      'confirm',
      'eraseStore',
      'exportPackage',
      'indexBatch',
      'indexObjects',
      'intake',
      'locateStore',
      'recordSuppression',
      'resolve',
      'suppressionCheck',
      'sweepPage',
      'verify',
    ]);
  });

  it('names those functions where it explains why the secret is not rotated', () => {
    // Act
    const reasons = built.stateful.hmacSecret.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.values(entry.data as Record<string, string>));

    // Assess
    expect(reasons).toEqual([expect.stringContaining(`: ${functionsWithHmacKeys().join(', ')}.`)]);
  });

  it('lets verify, and no other step, ask whether an execution of the request machine still runs', () => {
    // Act
    const describing = (['intake', ...Object.keys(REQUEST_STATES)] as (RequestStep | 'intake')[]).filter(
      (step) =>
        statementsOf(step).some((statement) => statement.actions.includes('states:DescribeExecution')),
    );
    const resources = statementsOf('verify')
      .filter((statement) => statement.actions.includes('states:DescribeExecution'))
      .flatMap((statement) => statement.resources);

    // Assess
    expect(describing).toEqual(['verify']);
    expect(resources).toEqual([
      expect.stringMatching(/:execution:<RequestStateMachine[A-Za-z0-9]*\.Name>:\*$/),
    ]);
  });

  it('lets verify read and write the requests table and, in the buckets, only delete manifests', () => {
    const statements = statementsOf('verify');
    const requests = statements.filter((statement) =>
      statement.resources.some((arn) => arn.includes('RequestsTable')),
    );
    expect(requests.flatMap((statement) => statement.actions).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    // The manifests of a request holding the subject whose end was cut short (settleEndedRequest).
    expect(
      statements
        .flatMap((statement) => statement.actions)
        .filter((action) => action.startsWith('s3:'))
        .sort(),
    ).toEqual(['s3:DeleteObject', 's3:ListBucket']);
    expect(actionsOn(statements, (arn) => arn.includes('-exports-'))).toEqual([]);
  });

  it('lets exportPackage read manifests, write exports and encrypt with the key', () => {
    const statements = statementsOf('exportPackage');
    expect(actionsOn(statements, (arn) => arn.includes('-manifests-'))).toEqual(['s3:GetObject']);
    expect(actionsOn(statements, (arn) => arn.includes('-exports-'))).toEqual([
      's3:AbortMultipartUpload',
      's3:PutObject',
    ]);
    expect(actionsOn(statements, (arn) => arn.includes('Key'))).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']),
    );
  });

  it('recordReview writes the audit log and only reads manifests', () => {
    const statements = statementsOf('recordReview');
    expect(actionsOn(statements, (arn) => arn.includes('AuditTable'))).toEqual([
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(actionsOn(statements, (arn) => arn.includes('-manifests-'))).toEqual(['s3:GetObject']);
    expect(actionsOn(statements, (arn) => arn.includes('-exports-'))).toEqual([]);
  });

  it.each<RequestStep | 'intake'>(['recordOutcome', 'recordFailure', 'intake'])(
    '%s writes the requests table and the audit log and deletes manifests',
    (step) => {
      const statements = statementsOf(step);
      expect(actionsOn(statements, (arn) => arn.includes('AuditTable'))).toEqual([
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
      expect(actionsOn(statements, (arn) => arn.includes('-manifests-'))).toEqual([
        's3:DeleteObject',
        's3:ListBucket',
      ]);
      expect(actionsOn(statements, (arn) => arn.includes('-exports-'))).toEqual([]);
    },
  );

  it('uses the key only through DynamoDB, S3 and Secrets Manager', () => {
    const kms = allStatements(template).filter((statement) =>
      statement.actions.some((action) => action.startsWith('kms:')),
    );
    expect(kms.length).toBeGreaterThan(0);
    for (const statement of kms) {
      expect(statement.condition).toEqual({ StringEquals: { 'kms:ViaService': expect.any(Array) } });
    }
  });

  it('lets only intake start request executions, only the sweep schedule start sweeps, and only the sweep start store sweeps', () => {
    const starters = allStatements(template).filter((statement) =>
      statement.actions.includes('states:StartExecution'),
    );
    expect(starters.map((statement) => statement.resources).sort()).toEqual([
      [expect.stringMatching(/^<RequestStateMachine[0-9A-F]+>$/)],
      [expect.stringMatching(/^<StoreSweepStateMachine[0-9A-F]+>$/)],
      [expect.stringMatching(/^<SweepStateMachine[0-9A-F]+>$/)],
    ]);
    expect(
      actionsOn(roleStatements(template, stack.sweepStateMachine.role), (arn) =>
        arn.includes('StoreSweepStateMachine'),
      ),
    ).toEqual(['states:DescribeExecution', 'states:StartExecution', 'states:StopExecution']);
    expect(
      actionsOn(roleStatements(template, stack.sweepScheduleRole), (arn) =>
        arn.includes('SweepStateMachine'),
      ),
    ).toEqual(['states:StartExecution']);
    expect(actionsOn(statementsOf('intake'), (arn) => arn.includes('RequestStateMachine'))).toEqual([
      'states:StartExecution',
    ]);
  });
});

/**
 * Every wildcard in every identity policy must be one AWS requires or one scoped to a
 * prefix: adding `*` anywhere else fails here (and in cdk-nag, unacknowledged).
 */
function wildcardProblems(statements: Statement[]): string[] {
  const problems: string[] = [];
  for (const statement of statements) {
    for (const action of statement.actions) {
      if (action.includes('*')) problems.push(`wildcard action ${action}`);
    }
    for (const resource of statement.resources.filter((arn) => arn.includes('*'))) {
      const allowed =
        (resource === '*' &&
          statement.actions.every((action) => [...XRAY_ACTIONS, ...LOG_DELIVERY_ACTIONS].includes(action))) ||
        (/^arn:<AWS::Partition>:s3:::[A-Za-z0-9.<>:-]+\/[^*]+\/\*$/.test(resource) &&
          statement.actions.every((action) => S3_OBJECT_ACTIONS.includes(action))) ||
        (/^<[A-Za-z0-9]+\.Arn>:\*$/.test(resource) &&
          statement.actions.every((action) => action === 'lambda:InvokeFunction')) ||
        (/^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<RequestStateMachine[A-Za-z0-9]*\.Name>:\*$/.test(
          resource,
        ) &&
          statement.actions.every((action) => action === 'states:DescribeExecution')) ||
        // The sweep waits for each store sweep it starts (.sync:2): CDK names the executions by the
        // machine's name taken from its ARN, and the wildcard is the execution name.
        (/^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:\{"Fn::Select":\[6,\{"Fn::Split":\[":",\{"Ref":"StoreSweepStateMachine[A-Z0-9]+"\}\]\}\]\}\*$/.test(
          resource,
        ) &&
          statement.actions.every((action) =>
            ['states:DescribeExecution', 'states:StopExecution'].includes(action),
          )) ||
        // The index build's Distributed Map: its own executions (CDK's grant) and its map runs'
        // child executions, named by Step Functions (`<machine>/<map run>:<id>`).
        (/^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:\{"Fn::Select":\[6,\{"Fn::Split":\[":",\{"Ref":"IndexBuildIndexBuildStateMachine[A-Z0-9]+"\}\]\}\]\}(:\*|\/\*)$/.test(
          resource,
        ) &&
          statement.actions.every((action) =>
            ['states:DescribeExecution', 'states:StopExecution'].includes(action),
          )) ||
        (/^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:\{"Fn::Select":\[6,\{"Fn::Split":\[":",\{"Ref":"IndexBuildIndexBuildStateMachine[A-Z0-9]+"\}\]\}\]\}\/\*:\*$/.test(
          resource,
        ) &&
          statement.actions.every((action) => action === 'states:RedriveExecution'));
      if (!allowed) problems.push(`${statement.actions.join(',')} on ${resource}`);
    }
  }
  return problems;
}

describe('wildcards', () => {
  it.each([
    ['test data map', () => built],
    ['ad-tech demo', () => buildStacks(adtechDataMap(), { demo: true })],
  ])('%s: only the wildcards AWS requires, and object ARNs under a fixed prefix', (_name, stacks) => {
    // Act
    const { statefulTemplate, workflowTemplate } = stacks();
    const statements = [...allStatements(statefulTemplate), ...allStatements(workflowTemplate)];

    // Assess
    expect(wildcardProblems(statements)).toEqual([]);
    const onEverything = statements.filter((statement) => statement.resources.includes('*'));
    expect(onEverything.length).toBeGreaterThan(0);
  });

  it('flags a wildcard someone adds', () => {
    // Prepare
    const added: Statement = { effect: 'Allow', actions: ['dynamodb:Query'], resources: ['*'] };
    const index: Statement = {
      effect: 'Allow',
      actions: ['dynamodb:Query'],
      resources: ['arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/t/index/*'],
    };
    const bucket: Statement = {
      effect: 'Allow',
      actions: ['s3:GetObject'],
      resources: ['arn:<AWS::Partition>:s3:::b/*'],
    };

    // Act + Assess
    expect(wildcardProblems([added, index, bucket])).toHaveLength(3);
  });
});

describe('the suppression list', () => {
  const writes =
    /^(dynamodb:(Put|Update|Delete|BatchWrite)|s3:(Put|Delete|Abort)|kms:(Encrypt|GenerateDataKey))/;

  it('the suppression check function can only read: Query and GetItem on the list, the HMAC keys, nothing else', () => {
    // Act
    const statements = roleStatements(template, stack.suppressionCheck.role as IConstruct);
    const dataStatements = statements.filter((statement) =>
      statement.actions.some((action) => action.startsWith('dynamodb:') || action.startsWith('s3:')),
    );

    // Assess
    expect(
      statements.flatMap((statement) => statement.actions).filter((action) => writes.test(action)),
    ).toEqual([]);
    const listStatements = statements.filter((statement) =>
      statement.resources.some((arn) => arn.includes('SuppressionTable')),
    );
    expect(listStatements.flatMap((statement) => statement.actions).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    // Every table or bucket access is to the list itself: no request record, no store of the data map.
    expect(
      dataStatements
        .flatMap((statement) => statement.resources)
        .filter((arn) => !arn.includes('SuppressionTable')),
    ).toEqual([]);
    expect(
      statements
        .flatMap((statement) => statement.actions)
        .filter((action) => action.startsWith('dynamodb:') || action.startsWith('s3:'))
        .sort(),
    ).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('only RecordSuppression writes the list, and only new entries (no updates or deletes)', () => {
    // Act
    const writers = (Object.keys(stack.functions) as RequestStep[]).filter((step) =>
      statementsOf(step).some(
        (statement) =>
          statement.resources.some((arn) => arn.includes('SuppressionTable')) &&
          statement.actions.some((action) => writes.test(action)),
      ),
    );
    const actions = statementsOf('recordSuppression')
      .filter((statement) => statement.resources.some((arn) => arn.includes('SuppressionTable')))
      .flatMap((statement) => statement.actions)
      .sort();

    // Assess
    expect(writers).toEqual(['recordSuppression']);
    expect(actions).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query']);
  });
});
