import { createHash } from 'node:crypto';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * lethe's stacks were first written flat, every resource a direct child of its stack; their
 * resources were grouped into constructs by concern later. CloudFormation replaces a resource
 * whose logical id changes, so a group that added its id to the logical ids below it would empty
 * a table, fail the deploy on a named log group that already exists, and drop a state machine's
 * execution history. A stack leaves such groups out of its logical ids by overriding
 * `allocateLogicalId` with `logicalIdWithoutGroups`.
 */

const HIDDEN = 'Default';
const HIDDEN_FROM_HUMAN = 'Resource';
const MAX_ID_LENGTH = 255;
const MAX_HUMAN_LENGTH = 240;

const alphanumeric = (id: string) => id.replace(/[^A-Za-z0-9]/g, '');

/**
 * The logical id CDK allocates for a path of construct ids below a stack: aws-cdk-lib's
 * makeUniqueId (core/lib/private/uniqueid.ts), which it does not export. Its output is every
 * deployed CDK resource's name, so it does not change; test/infra/logical-ids.test.ts checks
 * that the two agree.
 */
export function cdkLogicalId(path: readonly string[]): string {
  const components = path.filter((id) => id !== HIDDEN);
  const [only] = components;
  if (components.length === 1 && only !== undefined && alphanumeric(only).length <= MAX_ID_LENGTH) {
    return alphanumeric(only);
  }
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  // A component that repeats the end of the one before it adds nothing to the readable part.
  const readable: string[] = [];
  for (const id of components) {
    if (readable.length === 0 || !readable[readable.length - 1]?.endsWith(id)) readable.push(id);
  }
  const human = readable
    .filter((id) => id !== HIDDEN_FROM_HUMAN)
    .map(alphanumeric)
    .join('')
    .slice(0, MAX_HUMAN_LENGTH);
  return human + hash;
}

/**
 * The logical id of `element` in `stack` with the ids of the grouping constructs on its path
 * left out (`isGroup` says which), or undefined when no group is on its path, for the stack's
 * own scheme to apply as it is.
 */
export function logicalIdWithoutGroups(
  stack: Stack,
  element: CfnElement,
  isGroup: (scope: IConstruct) => boolean,
): string | undefined {
  const scopes = element.node.scopes;
  const belowStack = scopes.slice(scopes.indexOf(stack) + 1);
  if (!belowStack.some(isGroup)) return undefined;
  return cdkLogicalId(belowStack.filter((scope) => !isGroup(scope)).map((scope) => scope.node.id));
}
