import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { REQUEST_STATES, type RequestStep } from '../workflow/request-steps';
import {
  grantDataMapAccess,
  grantIndexerAccess,
  grantSweepAccess,
  type ImportedStore,
} from './datamap-grants';
import { type FunctionLogLevel, LetheFunction } from './lethe-function';
import {
  grantOwnAccess,
  type LetheFunctionName,
  OWN_ACCESS,
  type OwnResources,
  ownResourceNames,
} from './lethe-grants';
import { RoleGrants } from './role-grants';

/** Handler file, memory and timeout of each function. */
export const FUNCTION_SETTINGS: Record<
  LetheFunctionName,
  { entry: string; memorySize?: number; timeout?: Duration; description: string }
> = {
  intake: { entry: 'lambdas/intake.ts', description: 'Records a rights request and starts its execution' },
  verify: { entry: 'lambdas/verify.ts', description: 'Verify: checks, normalisation, in-flight lock' },
  resolve: {
    entry: 'lambdas/resolve.ts',
    timeout: Duration.minutes(2),
    description: 'ResolveIdentities: follows data map links',
  },
  locateStore: {
    entry: 'lambdas/locate-store.ts',
    timeout: Duration.minutes(5),
    description: 'LocateStore: finds the subject in one store, writes a manifest',
  },
  recordReview: {
    entry: 'lambdas/record-review.ts',
    description: 'RecordReview: pauses a request whose claimed-link records wait for staff review',
  },
  exportPackage: {
    entry: 'lambdas/export-package.ts',
    memorySize: 1024,
    timeout: Duration.minutes(15),
    description: 'ExportPackage: streams located records into a zip',
  },
  eraseStore: {
    entry: 'lambdas/erase-store.ts',
    timeout: Duration.minutes(10),
    description: 'EraseStore: deletes, masks or rewrites in one store',
  },
  recordSuppression: {
    entry: 'lambdas/record-suppression.ts',
    description: 'RecordSuppression: puts an objecting subject on the suppression list',
  },
  applyStore: {
    entry: 'lambdas/apply-store.ts',
    timeout: Duration.minutes(10),
    description: 'ApplyStore: corrects, marks restricted or records withdrawn consent in one store',
  },
  suppressionCheck: {
    entry: 'lambdas/suppression-check.ts',
    description: 'Answers whether a subject is on the suppression list (reads only)',
  },
  confirm: {
    entry: 'lambdas/confirm.ts',
    timeout: Duration.minutes(5),
    description: 'Confirm: locates again, certifies the erasure or checks the export',
  },
  recordOutcome: {
    entry: 'lambdas/record-outcome.ts',
    description: 'RecordOutcome: request record and audit',
  },
  recordFailure: {
    entry: 'lambdas/record-failure.ts',
    description: 'RecordFailure: request record and audit',
  },
  planSweep: { entry: 'lambdas/plan-sweep.ts', description: 'PlanSweep: stores with a retention rule' },
  sweepPage: {
    entry: 'lambdas/sweep-page.ts',
    // A page stops starting new reads after its budget (one minute); the rest is the page in flight.
    timeout: Duration.minutes(5),
    description: 'SweepPage: purges or anonymises expired, unheld records of one store, one page',
  },
  reapRequests: {
    entry: 'lambdas/reap-requests.ts',
    timeout: Duration.minutes(5),
    description: 'ReapRequests: closes requests nobody finished, dropping their identities',
  },
  recordSweep: { entry: 'lambdas/record-sweep.ts', description: 'RecordSweep: totals and audit' },
  recordSweepFailure: {
    entry: 'lambdas/record-sweep-failure.ts',
    description: 'RecordSweepFailure: audit',
  },
  executionEnded: {
    entry: 'lambdas/execution-ended.ts',
    description: 'Marks a request failed when its execution ended outside the failure path',
  },
  overdueRequests: {
    entry: 'lambdas/overdue-requests.ts',
    timeout: Duration.minutes(2),
    description: 'Publishes how many requests are open and past their due date',
  },
  indexObjects: {
    entry: 'lambdas/index-objects.ts',
    timeout: Duration.minutes(5),
    description: 'Keeps the identity index current from S3 events of the indexed stores',
  },
  indexBatch: {
    entry: 'lambdas/index-batch.ts',
    timeout: Duration.minutes(15),
    description: 'IndexBatch: indexes one batch of an index build, or records its watermark',
  },
};

/** What every lethe function of a stack is built from and granted access to. */
export interface WorkflowFunctionContext {
  /** lethe's own key, tables, buckets and HMAC keys secret. */
  readonly own: OwnResources;
  /** The data map's stores, imported by name. */
  readonly stores: readonly ImportedStore[];
  /** The data map as JSON, bundled into every function. */
  readonly dataMapJson: string;
  /** The data map's stores are encrypted with lethe's key (demo): the steps that write them need it. */
  readonly storesUseLetheKey: boolean;
  readonly logLevel?: FunctionLogLevel;
  readonly exportUrlTtlSeconds?: number;
  /** Days an ended request's record is kept; only the step that purges records is told. */
  readonly requestRecordDays?: number;
}

/**
 * The LetheFunction of one lethe function, as FUNCTION_SETTINGS describes it, granted what its
 * step does and nothing else: lethe's own resources as OWN_ACCESS says (with the HMAC keys secret
 * ARN only where it grants the keys), the data map's stores as DATAMAP_ACCESS says (request
 * steps) or their retention rules need (sweepPage), or the indexed stores' objects (indexObjects).
 * @param id the construct id: `<Task state name>Function`
 * @param stateMachineArn for the function that starts executions (its grant is the caller's)
 */
export function createWorkflowFunction(
  scope: Construct,
  id: string,
  name: LetheFunctionName,
  context: WorkflowFunctionContext,
  stateMachineArn?: string,
): LetheFunction {
  const settings = FUNCTION_SETTINGS[name];
  const { own } = context;
  const fn = new LetheFunction(scope, id, {
    entry: settings.entry,
    description: `lethe ${settings.description}`,
    ...(settings.memorySize ? { memorySize: settings.memorySize } : {}),
    ...(settings.timeout ? { timeout: settings.timeout } : {}),
    key: own.key,
    resources: {
      ...ownResourceNames(own),
      ...(OWN_ACCESS[name].anchors && own.auditBucket ? { auditBucket: own.auditBucket.bucketName } : {}),
      ...(OWN_ACCESS[name].identityIndex && own.identityIndexTable
        ? { identityIndexTable: own.identityIndexTable.tableName }
        : {}),
      ...(OWN_ACCESS[name].suppression && own.suppressionTable
        ? { suppressionTable: own.suppressionTable.tableName }
        : {}),
    },
    dataMapJson: context.dataMapJson,
    ...(OWN_ACCESS[name].hmacKeys ? { hmacSecretArn: own.hmacSecret.secretArn } : {}),
    ...(stateMachineArn ? { stateMachineArn } : {}),
    ...(context.logLevel ? { logLevel: context.logLevel } : {}),
    ...(context.exportUrlTtlSeconds ? { exportUrlTtlSeconds: context.exportUrlTtlSeconds } : {}),
    ...(name === 'reapRequests' && context.requestRecordDays !== undefined
      ? { requestRecordDays: context.requestRecordDays }
      : {}),
  });
  const grants = new RoleGrants(fn.role);
  grantOwnAccess(grants, name, own, {
    writesEncryptedStores:
      context.storesUseLetheKey && (name === 'eraseStore' || name === 'applyStore' || name === 'sweepPage'),
  });
  if (name === 'sweepPage') grantSweepAccess(grants, context.stores);
  else if (name === 'indexObjects' || name === 'indexBatch') grantIndexerAccess(grants, context.stores);
  else if (name in REQUEST_STATES) grantDataMapAccess(grants, name as RequestStep, context.stores);
  grants.apply();
  return fn;
}
