import { resolve } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { loadDataMap, parseDataMap } from '../../lib/datamap/load';
import type { DataMap } from '../../lib/datamap/schema';
import { createLetheStacks } from '../../lib/infra/lethe-app';
import { flattenReference } from '../../lib/infra/nag';
import type { LetheStatefulStack } from '../../lib/infra/stateful-stack';
import type { LetheWorkflowStack } from '../../lib/infra/workflow-stack';

/** Shared by the infra tests: stacks built with bundling skipped, and policy helpers. */

export const ADTECH_DATAMAP = resolve(__dirname, '../../examples/adtech/datamap.yaml');

export function adtechDataMap(): DataMap {
  return loadDataMap(ADTECH_DATAMAP);
}

/**
 * A small data map whose stores differ in what erasure may do: orders (DynamoDB, delete, found
 * through a GSI), profiles (DynamoDB, mask), invoices (DynamoDB, every record exempt), uploads
 * (S3 per-subject prefix, delete), events (S3 JSON lines, rewrite), archive (S3, exempt).
 */
export const TEST_DATAMAP_YAML = `
version: 1
identityTypes:
  email: { normalise: email }
  userId: { normalise: opaque }
stores:
  - id: orders
    kind: dynamodb
    table: test-orders
    keySchema: { partitionKey: { name: orderId } }
    indexes: [{ name: byEmail, partitionKey: { name: email } }]
    locate: [{ identity: email, index: byEmail, attribute: email }]
    categories: [user.contact.email, user.orders]
    purpose: Fulfilling orders
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
  - id: profiles
    kind: dynamodb
    table: test-profiles
    keySchema: { partitionKey: { name: userId } }
    indexes:
      - { name: byEmail, partitionKey: { name: email } }
      - { name: byCountry, partitionKey: { name: country } }
    locate:
      - { identity: userId, attribute: userId }
      - { identity: email, index: byEmail, attribute: email }
    categories: [user.profile]
    purpose: Running the account
    lawfulBasis: contract
    source: Provided by the subject
    erase:
      action: mask
      fields:
        - { attribute: name, with: fixed, value: "[erased]" }
        - { attribute: email, with: hmac }
  - id: invoices
    kind: dynamodb
    table: test-invoices
    keySchema: { partitionKey: { name: email }, sortKey: { name: invoiceId } }
    locate: [{ identity: email, attribute: email }]
    categories: [user.billing]
    purpose: Invoicing
    lawfulBasis: legal-obligation
    source: Provided by the subject
    erase: { action: delete }
    exemptions:
      - reason: Invoices are kept ten years by commercial law
        legalBasis: GDPR Art. 17(3)(b)
  - id: uploads
    kind: s3
    bucket: test-uploads
    locate: [{ identity: userId, prefix: "users/{userId}/" }]
    categories: [user.content]
    purpose: Storing what the subject uploads
    lawfulBasis: contract
    source: Provided by the subject
    erase: { action: delete }
  - id: events
    kind: s3
    bucket: test-events
    locate: [{ identity: userId, jsonLines: { prefix: "events/", field: userId } }]
    categories: [behaviour.events]
    purpose: Product analytics
    lawfulBasis: legitimate-interests
    source: Collected automatically
    erase: { action: rewrite }
  - id: archive
    kind: s3
    bucket: test-archive
    locate: [{ identity: userId, prefix: "archive/{userId}/" }]
    categories: [user.billing]
    purpose: Accounting records
    lawfulBasis: legal-obligation
    source: Provided by the subject
    erase: { action: delete }
    exemptions:
      - reason: Kept for the statutory retention of accounting records
`;

export function testDataMap(): DataMap {
  return parseDataMap(TEST_DATAMAP_YAML, 'test data map');
}

/**
 * A data map of `count` stores: the ad-tech stores over and over, each copy with its own id and
 * table or bucket (`<name>-<n>`), so each needs grants of its own.
 */
export function generatedDataMap(count: number): DataMap {
  const base = adtechDataMap();
  const stores = Array.from({ length: count }, (_, index) => {
    const store = base.stores[index % base.stores.length];
    if (!store) throw new Error('the ad-tech data map has no stores');
    const id = `${store.id}-${index}`;
    return store.kind === 'dynamodb'
      ? { ...store, id, table: `${store.table}-${index}` }
      : { ...store, id, bucket: `${store.bucket}-${index}` };
  });
  return parseDataMap(JSON.stringify({ ...base, stores }), `generated data map of ${count} stores`);
}

export interface BuiltStacks {
  app: App;
  stateful: LetheStatefulStack;
  workflow: LetheWorkflowStack;
  statefulTemplate: Template;
  workflowTemplate: Template;
}

/** Both stacks in a fresh app with bundling skipped (a template in well under a second). */
export function buildStacks(dataMap: DataMap, options: { demo?: boolean } = {}): BuiltStacks {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const { stateful, workflow } = createLetheStacks(app, { dataMap, demo: options.demo ?? false });
  return {
    app,
    stateful,
    workflow,
    statefulTemplate: Template.fromStack(stateful),
    workflowTemplate: Template.fromStack(workflow),
  };
}

/** A policy statement with actions and resources as lists, resources flattened like cdk-nag's. */
export interface Statement {
  effect: string;
  actions: string[];
  resources: string[];
  condition?: Record<string, unknown>;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

type CfnResource = { Type: string; Properties: Record<string, unknown> };

const statementsIn = (policy: CfnResource): Statement[] =>
  list((policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement).map(
    normalise,
  );

function normalise(statement: Record<string, unknown>): Statement {
  return {
    effect: String(statement.Effect),
    actions: list(statement.Action as string | string[]),
    resources: list(statement.Resource).map(flattenReference),
    ...(statement.Condition ? { condition: statement.Condition as Record<string, unknown> } : {}),
  };
}

/** Every statement of every identity policy (AWS::IAM::Policy, AWS::IAM::ManagedPolicy) in a template. */
export function allStatements(template: Template): Statement[] {
  const policies = [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ] as CfnResource[];
  return policies.flatMap(statementsIn);
}

/** The statements of the identity policies, inline and managed, attached to `role` (an iam.Role construct). */
export function roleStatements(template: Template, role: IConstruct): Statement[] {
  const roleId = Stack.of(role).getLogicalId(role.node.defaultChild as CfnElement);
  const policies = [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ] as CfnResource[];
  return policies
    .filter((policy) =>
      list(policy.Properties.Roles as unknown[]).some((ref) => (ref as { Ref?: string }).Ref === roleId),
    )
    .flatMap(statementsIn);
}

/** The actions a set of statements allows on resources matching `resource`. */
export function actionsOn(statements: Statement[], resource: (arn: string) => boolean): string[] {
  return [
    ...new Set(
      statements
        .filter((statement) => statement.effect === 'Allow' && statement.resources.some(resource))
        .flatMap((statement) => statement.actions),
    ),
  ].sort();
}

/** Matches the ARN of a data-map table (or its indexes) or bucket (or its objects) by name. */
export const tableNamed = (name: string) => (arn: string) =>
  arn.endsWith(`:table/${name}`) || arn.includes(`:table/${name}/`);
export const bucketNamed = (name: string) => (arn: string) =>
  arn.endsWith(`:s3:::${name}`) || arn.includes(`:s3:::${name}/`);

/** The DynamoDB actions of a function that keeps the identity index (reads and writes its items). */
export const INDEX_KEEPER_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
];
