import type { Environment } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DataMap } from '../datamap/schema';
import { withDemoBucketNames } from './demo-stores';
import type { FunctionLogLevel } from './lethe-function';
import { LetheStatefulStack } from './stateful-stack';
import { LetheWorkflowStack } from './workflow-stack';

export interface LetheStacksProps {
  readonly dataMap: DataMap;
  /**
   * Also create the data map's stores in the stateful stack; with a concrete `env`, their buckets
   * are named `<data map name>-<account>-<region>` (withDemoBucketNames).
   */
  readonly demo?: boolean;
  /** Stack names are `<prefix>-Stateful` and `<prefix>-Workflow`. Default `Lethe`. */
  readonly stackPrefix?: string;
  readonly env?: Environment;
  readonly logLevel?: FunctionLogLevel;
  /** When the retention sweep runs (EventBridge Scheduler expression, UTC); default: context `sweepSchedule`, else daily 03:00 UTC. */
  readonly sweepSchedule?: string;
  /** Who the alarm topic e-mails; default: context `alarmEmail`, else nobody. */
  readonly alarmEmail?: string;
  /** Days an ended request's record is kept before the sweep purges it; default 730 (24 months). */
  readonly requestRecordDays?: number;
  /** Also deploy the privacy console (Cognito sign-in); default: context `console`, else off. */
  readonly console?: boolean;
}

export const DEFAULT_STACK_PREFIX = 'Lethe';

/**
 * Adds lethe's two stacks to an app (or stage): the stateful one (key, tables, buckets, secret;
 * with `demo`, the data map's stores) and the workflow (functions and state machine), which
 * receives the stateful resources as typed props.
 */
export function createLetheStacks(
  scope: Construct,
  props: LetheStacksProps,
): { stateful: LetheStatefulStack; workflow: LetheWorkflowStack } {
  const prefix = props.stackPrefix ?? DEFAULT_STACK_PREFIX;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,19}$/.test(prefix)) {
    throw new Error(`stackPrefix "${prefix}" must be 1-20 letters, digits or dashes, starting with a letter`);
  }
  // Demo buckets are named after the account and region they are deployed to (global names).
  const dataMap = props.demo ? withDemoBucketNames(props.dataMap, props.env ?? {}) : props.dataMap;
  const stateful = new LetheStatefulStack(scope, `${prefix}-Stateful`, {
    stackName: `${prefix}-Stateful`,
    description: 'lethe: key, requests and audit tables, manifests and exports buckets, HMAC keys',
    resourcePrefix: prefix.toLowerCase(),
    dataMap,
    demo: props.demo ?? false,
    ...(props.env ? { env: props.env } : {}),
  });
  const workflow = new LetheWorkflowStack(scope, `${prefix}-Workflow`, {
    stackName: `${prefix}-Workflow`,
    description:
      'lethe: the request and retention sweep workflows (Step Functions), their Lambda functions and the sweep schedule',
    stateful,
    dataMap,
    storesUseLetheKey: props.demo ?? false,
    ...(props.logLevel ? { logLevel: props.logLevel } : {}),
    ...(props.sweepSchedule ? { sweepSchedule: props.sweepSchedule } : {}),
    ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    ...(props.requestRecordDays !== undefined ? { requestRecordDays: props.requestRecordDays } : {}),
    ...(props.console !== undefined ? { console: props.console } : {}),
    ...(props.env ? { env: props.env } : {}),
  });
  // Explicit, because the data map's stores and the buckets are referenced by name.
  workflow.addStackDependency(stateful, 'the workflow references the buckets and data map stores by name');
  return { stateful, workflow };
}
