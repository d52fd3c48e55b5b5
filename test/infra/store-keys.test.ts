import type { IConstruct } from 'constructs';
import { parseDataMap } from '../../lib/datamap/load';
import type { LetheFunctionName } from '../../lib/infra/lethe-grants';
import { type BuiltStacks, buildStacks, roleStatements, TEST_DATAMAP_YAML } from '../helpers/stacks';

/**
 * A store encrypted with the company's own KMS key (`kmsKeyArn`) gives exactly the steps that
 * touch it the use of that key they need, only through the store's service, and no other step
 * anything.
 */

const KEYS = {
  orders: 'arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111',
  uploads: 'arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222',
  events: 'arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333',
};

/** The test data map with keys on orders (DynamoDB, delete), uploads (S3, delete), events (S3, rewrite). */
function keyedDataMapYaml(): string {
  return TEST_DATAMAP_YAML.replace('table: test-orders', `table: test-orders\n    kmsKeyArn: ${KEYS.orders}`)
    .replace('bucket: test-uploads', `bucket: test-uploads\n    kmsKeyArn: ${KEYS.uploads}`)
    .replace(
      'bucket: test-events',
      `bucket: test-events\n    kmsKeyArn: ${KEYS.events}\n    retention: { period: P1Y, from: { lastModified: true }, action: delete }`,
    );
}

let built: BuiltStacks;

/** Per function, the actions it may take with `key`, and the services it may take them through. */
function keyUse(key: string): Partial<Record<LetheFunctionName, { actions: string[]; via: unknown }>> {
  const functions = {
    ...built.workflow.functions,
    ...built.workflow.sweepFunctions,
    intake: built.workflow.intake,
  };
  const use: Partial<Record<LetheFunctionName, { actions: string[]; via: unknown }>> = {};
  for (const [name, fn] of Object.entries(functions)) {
    const statements = roleStatements(built.workflowTemplate, fn.role as IConstruct).filter((statement) =>
      statement.resources.includes(key),
    );
    if (statements.length === 0) continue;
    use[name as LetheFunctionName] = {
      actions: [...new Set(statements.flatMap((statement) => statement.actions))].sort(),
      via: [...new Set(statements.map((statement) => JSON.stringify(statement.condition)))].map((text) =>
        JSON.parse(text),
      ),
    };
  }
  return use;
}

const through = (service: string) => [
  {
    StringEquals: {
      'kms:ViaService': [{ 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] }],
    },
  },
];

beforeAll(() => {
  // Prepare
  const dataMap = parseDataMap(keyedDataMapYaml(), 'keyed test data map');
  expect(dataMap.stores.filter((store) => store.kmsKeyArn).map((store) => store.id)).toEqual([
    'orders',
    'uploads',
    'events',
  ]);
  built = buildStacks(dataMap);
});

/** The read-only steps, each allowed to decrypt through `service`. */
function readersDecrypting(service: string) {
  const decrypt = { actions: ['kms:Decrypt'], via: through(service) };
  return { resolve: decrypt, locateStore: decrypt, exportPackage: decrypt, confirm: decrypt };
}

it('a DynamoDB store: its readers and its eraser decrypt through DynamoDB, nobody else', () => {
  expect(keyUse(KEYS.orders)).toEqual({
    ...readersDecrypting('dynamodb'),
    eraseStore: { actions: ['kms:Decrypt'], via: through('dynamodb') },
  });
});

it('an S3 store erased by deleting objects: only its readers decrypt, through S3', () => {
  expect(keyUse(KEYS.uploads)).toEqual(readersDecrypting('s3'));
});

it('an S3 store erased by rewriting objects: erasure also generates data keys; the sweep reads its JSON lines', () => {
  expect(keyUse(KEYS.events)).toEqual({
    ...readersDecrypting('s3'),
    eraseStore: { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], via: through('s3') },
    sweepPage: { actions: ['kms:Decrypt'], via: through('s3') },
  });
});

it("a data map without keys grants no key but lethe's own", () => {
  const plain = buildStacks(parseDataMap(TEST_DATAMAP_YAML, 'test data map'));
  const keyStatements = JSON.stringify(plain.workflowTemplate.toJSON()).match(/arn:aws:kms:/g);
  expect(keyStatements).toBeNull();
});
