import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag 3 acknowledgements, each for one finding on one construct with its reason. cdk-nag
 * names an IAM5 finding by the wildcard resource as it appears in the template, flattened
 * (`{"Fn::GetAtt": ["Fn1234", "Arn"]}` becomes `<Fn1234.Arn>`, `${AWS::Region}` becomes
 * `<AWS::Region>`); `flattenReference` does the same, so an acknowledgement is computed from
 * the very resource the statement grants and cannot silently cover anything else.
 */

/** cdk-nag's rendering of a CloudFormation value as one string (see cdk-nag flattenCfnReference). */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flattenReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  return JSON.stringify(value);
}

/** Acknowledges one AwsSolutions rule (no finding suffix) on `scope`, with the reason. */
export function acknowledgeRule(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/**
 * Acknowledges the IAM5 finding for one wildcard resource (e.g. the objects under a prefix)
 * on the role or policy `scope` that grants it.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const flat = flattenReference(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
}

/** Why X-Ray needs `Resource: *`: the one wildcard AWS requires of every traced function. */
export const XRAY_WILDCARD_REASON =
  'X-Ray PutTraceSegments/PutTelemetryRecords (and the sampling calls) support no resource-level permissions: AWS requires Resource "*". Added by CDK for active tracing; test/infra/iam.test.ts fails if any other action is granted on "*".';
