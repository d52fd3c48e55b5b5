import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import {
  type BuiltStacks,
  buildStacks,
  generatedDataMap,
  roleStatements,
  tableNamed,
} from '../helpers/stacks';

/**
 * A data map of 300 stores synthesizes into stacks CloudFormation and IAM accept: templates under
 * 1 MB, and every role within IAM's policy limits once deployed (10,240 characters inline in
 * all, 6,144 per managed policy, 10 managed policies without a quota increase).
 */

const STORES = 300;
const TEMPLATE_LIMIT = 1_000_000;
const INLINE_LIMIT = 10_240;
const MANAGED_LIMIT = 6_144;
const MANAGED_PER_ROLE = 10;

/** Every value as long as it can be once deployed: the longest partition and region, long ARNs. */
const LONGEST: Record<string, string> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-3',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
};
const LONG_ARN = `arn:aws-us-gov:dynamodb:ap-southeast-3:123456789012:table/${'x'.repeat(70)}`;

function deployed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deployed);
  if (!value || typeof value !== 'object') return value;
  const node = value as Record<string, unknown>;
  if (typeof node.Ref === 'string') return LONGEST[node.Ref] ?? LONG_ARN;
  const join = node['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(deployed).join(join[0]);
  if (node['Fn::GetAtt'] || node['Fn::ImportValue']) return LONG_ARN;
  return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, deployed(item)]));
}

/** A policy document's size as IAM counts it: characters without whitespace. */
const policySize = (document: unknown) => JSON.stringify(deployed(document)).length;

type Resource = { Type: string; Properties: Record<string, unknown> };

function policiesOf(template: Template, roleId: string) {
  const attachedTo = (resource: Resource) =>
    ((resource.Properties.Roles ?? []) as { Ref?: string }[]).some((ref) => ref.Ref === roleId);
  const inline = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>).filter(
    attachedTo,
  );
  const managed = Object.values(
    template.findResources('AWS::IAM::ManagedPolicy') as Record<string, Resource>,
  ).filter(attachedTo);
  return { inline, managed };
}

let built: BuiltStacks;

beforeAll(() => {
  // Prepare: 300 stores, 43 copies of each ad-tech store.
  built = buildStacks(generatedDataMap(STORES));
});

it('keeps each template under 1 MB', () => {
  for (const template of [built.statefulTemplate, built.workflowTemplate]) {
    expect(JSON.stringify(template.toJSON()).length).toBeLessThan(TEMPLATE_LIMIT);
  }
});

it("keeps every role within IAM's policy limits once deployed", () => {
  const roles = Object.keys(built.workflowTemplate.findResources('AWS::IAM::Role'));
  const sizes = roles.map((roleId) => {
    const { inline, managed } = policiesOf(built.workflowTemplate, roleId);
    return {
      roleId,
      inline: inline.reduce((sum, policy) => sum + policySize(policy.Properties.PolicyDocument), 0),
      managed: managed.map((policy) => policySize(policy.Properties.PolicyDocument)),
    };
  });
  for (const { roleId, inline, managed } of sizes) {
    expect({ roleId, inline }).toEqual({ roleId, inline: Math.min(inline, INLINE_LIMIT) });
    expect(managed.length).toBeLessThanOrEqual(MANAGED_PER_ROLE);
    for (const size of managed) expect(size).toBeLessThanOrEqual(MANAGED_LIMIT);
  }
  // Not vacuous: the data map's grants did overflow into managed policies.
  expect(Math.max(...sizes.map(({ managed }) => managed.length))).toBeGreaterThan(1);
});

it('still grants every store to the steps that read it', () => {
  const statements = roleStatements(
    built.workflowTemplate,
    built.workflow.functions.locateStore.role as IConstruct,
  );
  const tables = built.workflow.stores.flatMap((imported) =>
    imported.kind === 'dynamodb' ? [imported.store.table] : [],
  );
  expect(tables.length).toBeGreaterThan(100);
  for (const table of tables) {
    const granted = statements
      .filter((statement) => statement.resources.some(tableNamed(table)))
      .flatMap((statement) => statement.actions);
    expect(granted).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
  }
});
