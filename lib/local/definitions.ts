import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { canonicalJson } from '../audit/log';
import type { DataMap } from '../datamap/schema';
import { writeFileAtomicSync } from './atomic-file';
import { packageRoot, packageVersion } from './package-root';

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
  ref: (logicalId: string) => string = (logicalId) => {
    throw new UnresolvableTokenError(`cannot resolve Ref ${logicalId}`);
  },
): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, getAtt, ref));
  if (value === null || typeof value !== 'object') return value;
  const node = value as Record<string, unknown>;
  const keys = Object.keys(node);
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only === 'Fn::Join') {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map((item) => String(resolveIntrinsics(item, getAtt, ref))).join(delimiter);
  }
  if (only === 'Fn::GetAtt') {
    const [logicalId, attribute] = node['Fn::GetAtt'] as [string, string];
    return getAtt(logicalId, attribute);
  }
  if (only === 'Ref') {
    const name = String(node.Ref);
    return PSEUDO_PARAMETERS[name] ?? ref(name);
  }
  if (only?.startsWith('Fn::')) throw new UnresolvableTokenError(`cannot resolve ${only}`);
  return Object.fromEntries(keys.map((key) => [key, resolveIntrinsics(node[key], getAtt, ref)]));
}

/**
 * Turns a state machine's DefinitionString (as in a template: a string, or an Fn::Join of
 * strings and references) into the ASL object.
 */
export function parseDefinitionString(
  definitionString: unknown,
  getAtt?: (logicalId: string, attribute: string) => string,
  ref?: (logicalId: string) => string,
): AslObject {
  const text = resolveIntrinsics(definitionString, getAtt, ref);
  if (typeof text !== 'string')
    throw new UnresolvableTokenError('the definition did not resolve to a string');
  return JSON.parse(text) as AslObject;
}

/**
 * A state machine's ARN where a definition references it (`Ref` of its logical id: the sweep's
 * store sweep): the placeholder ARN of a local state machine named by the logical id.
 */
export function localStateMachineRef(logicalId: string): string {
  return localStateMachineArn(logicalId);
}

/** The state machines of the workflow stack, by what the local runtime calls them. */
export type WorkflowName = 'request' | 'sweep' | 'storeSweep';
const WORKFLOW_NAMES: readonly WorkflowName[] = ['request', 'sweep', 'storeSweep'];

/** The definitions of `which`, from one synthesis of the workflow stack. */
function synthesizedDefinitions(
  dataMap: DataMap,
  which: readonly WorkflowName[],
): Partial<Record<WorkflowName, AslObject>> {
  // aws-cdk-lib and the stacks take seconds to load: only a synthesis brings them in.
  const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { createLetheStacks } = require('../infra/lethe-app') as typeof import('../infra/lethe-app');
  const { DEFINITION_ONLY_CONTEXT } =
    require('../infra/lethe-function') as typeof import('../infra/lethe-function');
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], [DEFINITION_ONLY_CONTEXT]: true } });
  const { workflow } = createLetheStacks(app, { dataMap });
  const stack = Stack.of(workflow);
  const machines: Record<WorkflowName, sfn.StateMachine> = {
    request: workflow.stateMachine,
    sweep: workflow.sweepStateMachine,
    storeSweep: workflow.storeSweepStateMachine,
  };
  const definitions: Partial<Record<WorkflowName, AslObject>> = {};
  for (const name of which) {
    const cfn = machines[name].node.defaultChild as sfn.CfnStateMachine;
    definitions[name] = parseDefinitionString(
      stack.resolve(cfn.definitionString),
      undefined,
      localStateMachineRef,
    );
  }
  return definitions;
}

function synthesizedDefinition(dataMap: DataMap, which: WorkflowName): AslObject {
  const definition = synthesizedDefinitions(dataMap, [which])[which];
  if (!definition) throw new UnresolvableTokenError(`the workflow stack has no ${which} state machine`);
  return definition;
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

/**
 * Both definitions of the retention sweep, from one synthesis: the sweep, and the store sweep its
 * SweepStore task runs as a child execution per store segment.
 */
export function sweepWorkflowDefinitions(dataMap: DataMap): { sweep: AslObject; storeSweep: AslObject } {
  const { sweep, storeSweep } = synthesizedDefinitions(dataMap, ['sweep', 'storeSweep']);
  if (!sweep || !storeSweep)
    throw new UnresolvableTokenError('the workflow stack has no sweep state machines');
  return { sweep, storeSweep };
}

let codeVersion: string | undefined;

/**
 * SHA-256 of everything a synthesized definition depends on besides the data map: lethe's
 * version, aws-cdk-lib's, and lethe's code (every file of the lib folder this module is in: the
 * TypeScript sources in development, the compiled JavaScript when built), so that an edit to a
 * workflow is picked up without a version bump. Computed once per process.
 */
function letheCodeVersion(): string {
  if (codeVersion === undefined) {
    const libDir = join(__dirname, '..');
    const hash = createHash('sha256')
      .update(`lethe ${packageVersion(join(packageRoot(), 'package.json'))}\0`)
      .update(`aws-cdk-lib ${packageVersion(require.resolve('aws-cdk-lib/package.json'))}\0`);
    const files = readdirSync(libDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.(ts|js)$/.test(file))
      .sort();
    for (const file of files) hash.update(`${file}\0`).update(readFileSync(join(libDir, file)));
    codeVersion = hash.digest('hex');
  }
  return codeVersion;
}

/** Where a state directory keeps synthesized definitions. */
const DEFINITIONS_DIR = 'definitions';

/**
 * The definition of `which` for `dataMap`, synthesized once per data map and lethe version and
 * kept in `<stateDir>/definitions/`: loading aws-cdk-lib and synthesizing take seconds, reading
 * the file a few milliseconds. The file is named by the SHA-256 of the data map (as loaded, so a
 * comment changes nothing), lethe's version and code, and aws-cdk-lib's version; a change to any
 * of them synthesizes afresh, and the files of other keys are removed.
 * `synthesize` is for tests, which count syntheses.
 */
export function cachedWorkflowDefinition(
  stateDir: string,
  dataMap: DataMap,
  which: WorkflowName,
  synthesize: (dataMap: DataMap, which: WorkflowName) => AslObject = synthesizedDefinition,
): AslObject {
  const key = createHash('sha256')
    .update(`${letheCodeVersion()}\0${canonicalJson(dataMap)}`)
    .digest('hex')
    .slice(0, 32);
  const dir = join(stateDir, DEFINITIONS_DIR);
  const file = join(dir, `${which}-${key}.json`);
  if (existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as AslObject;
    } catch {
      // a damaged file is synthesized afresh (and replaced) below
    }
  }
  // One synthesis builds every machine: keep them all, so the next one asked for is a file read.
  const synthesized: Partial<Record<WorkflowName, AslObject>> =
    synthesize === synthesizedDefinition
      ? synthesizedDefinitions(dataMap, WORKFLOW_NAMES)
      : { [which]: synthesize(dataMap, which) };
  mkdirSync(dir, { recursive: true });
  for (const [name, definition] of Object.entries(synthesized)) {
    for (const stale of readdirSync(dir).filter((entry) => entry.startsWith(`${name}-`)))
      rmSync(join(dir, stale), { force: true });
    writeFileAtomicSync(join(dir, `${name}-${key}.json`), `${JSON.stringify(definition)}\n`);
  }
  const definition = synthesized[which];
  if (!definition) throw new UnresolvableTokenError(`the workflow stack has no ${which} state machine`);
  return definition;
}
