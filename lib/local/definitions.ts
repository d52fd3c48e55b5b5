import { App, Stack } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { DataMap } from '../datamap/schema';
import { createLetheStacks } from '../infra/lethe-app';
import { DEFINITION_ONLY_CONTEXT } from '../infra/lethe-function';

/**
 * The request workflow's definition exactly as the stack deploys it, as plain Amazon States
 * Language JSON: the local runtime runs this, so the CDK definition is the single source.
 * Every CloudFormation token is replaced by a fixed string: a Lambda ARN becomes
 * `arn:aws:lambda:local:000000000000:function:<LogicalId>`, the partition `aws`, the region
 * `local`, the account `000000000000`.
 */

/** Amazon States Language: a definition or a state, as plain JSON. */
export type AslObject = Record<string, unknown>;

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';

/** The placeholder ARN of the Lambda function with this logical id. */
export function localFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The placeholder ARN of a state machine run locally. */
export function localStateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

/** A CloudFormation intrinsic this resolver does not know: the definition changed shape. */
export class UnresolvableTokenError extends Error {
  override readonly name = 'UnresolvableTokenError';
}

/**
 * Replaces CloudFormation intrinsics (Fn::Join, Fn::GetAtt, Ref of pseudo parameters) in a
 * value with strings. `getAtt` names the string for a resource attribute; by default any
 * `Arn` is taken to be a Lambda function's.
 * @throws UnresolvableTokenError for anything else, so a new kind of reference is noticed
 */
export function resolveIntrinsics(
  value: unknown,
  getAtt: (logicalId: string, attribute: string) => string = (logicalId, attribute) => {
    if (attribute !== 'Arn') throw new UnresolvableTokenError(`cannot resolve ${logicalId}.${attribute}`);
    return localFunctionArn(logicalId);
  },
): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, getAtt));
  if (value === null || typeof value !== 'object') return value;
  const node = value as Record<string, unknown>;
  const keys = Object.keys(node);
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only === 'Fn::Join') {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map((item) => String(resolveIntrinsics(item, getAtt))).join(delimiter);
  }
  if (only === 'Fn::GetAtt') {
    const [logicalId, attribute] = node['Fn::GetAtt'] as [string, string];
    return getAtt(logicalId, attribute);
  }
  if (only === 'Ref') {
    const name = String(node.Ref);
    const pseudo = PSEUDO_PARAMETERS[name];
    if (pseudo === undefined) throw new UnresolvableTokenError(`cannot resolve Ref ${name}`);
    return pseudo;
  }
  if (only?.startsWith('Fn::')) throw new UnresolvableTokenError(`cannot resolve ${only}`);
  return Object.fromEntries(keys.map((key) => [key, resolveIntrinsics(node[key], getAtt)]));
}

/**
 * Turns a state machine's DefinitionString (as in a template: a string, or an Fn::Join of
 * strings and references) into the ASL object.
 */
export function parseDefinitionString(
  definitionString: unknown,
  getAtt?: (logicalId: string, attribute: string) => string,
): AslObject {
  const text = resolveIntrinsics(definitionString, getAtt);
  if (typeof text !== 'string')
    throw new UnresolvableTokenError('the definition did not resolve to a string');
  return JSON.parse(text) as AslObject;
}

function synthesizedDefinition(dataMap: DataMap, which: 'request' | 'sweep'): AslObject {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [DEFINITION_ONLY_CONTEXT]: true } });
  const { workflow } = createLetheStacks(app, { dataMap });
  const stack = Stack.of(workflow);
  const machine = which === 'request' ? workflow.stateMachine : workflow.sweepStateMachine;
  const cfn = machine.node.defaultChild as sfn.CfnStateMachine;
  return parseDefinitionString(stack.resolve(cfn.definitionString));
}

/**
 * Builds the workflow stack for `dataMap` in a fresh app, with placeholder function code (no
 * bundling, no handler files needed) and nothing written to disk, and returns its request state machine definition as plain ASL with every token replaced.
 */
export function requestWorkflowDefinition(dataMap: DataMap): AslObject {
  return synthesizedDefinition(dataMap, 'request');
}

/** The retention sweep state machine's definition, exactly as the stack deploys it (see requestWorkflowDefinition). */
export function sweepWorkflowDefinition(dataMap: DataMap): AslObject {
  return synthesizedDefinition(dataMap, 'sweep');
}
