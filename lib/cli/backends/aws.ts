import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  SFNClient,
  type HistoryEvent as SfnHistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { requestIdentifierValues } from '../../audit/free-text';
import { LETHE_ENV } from '../../aws/config';
import { type AwsClients, createAwsDeps } from '../../aws/deps';
import { eventBridgeNotifier } from '../../aws/notifier';
import { loadHmacKeys } from '../../aws/secrets';
import type { DataMap } from '../../datamap/schema';
import type { LetheDeps } from '../../deps';
import type { HistoryEvent } from '../../local/execution';

import { type Logger, silentLogger } from '../../log';
import type { SweepSummary } from '../../retention';
import { newSweepId } from '../../retention/sweep';
import { exportDownloadUrl } from '../../rights/export';
import { closeRequest, type ReviewInput, retryRequest, reviewRequest } from '../../rights/lifecycle';
import {
  approveRequest,
  cancelRequest,
  type DenyInput,
  denyRequest,
  type ExtendInput,
  extendRequest,
} from '../../rights/manage';
import { listRequestsBy, type RequestListFilter } from '../../rights/overdue';
import { currentAttempt, executionIdFor, type SubmitRequestInput } from '../../rights/request';
import { getRequest } from '../../rights/requests-table';
import { executionArnFor, SfnWorkflowStarter } from '../../rights/sfn-starter';
import { submitRequest } from '../../rights/submit';
import { summariseRequest } from '../../rights/summary';
import { type AwsIndexProgress, type IndexBuildOutcome, runIndexBuildOnAws } from './aws-index-build';
import {
  failureMessage,
  type LetheBackend,
  redactHistory,
  requestHistory,
  type SubmitOptions,
  type SweepOutcome,
  type SweepRequest,
} from './backend';

/** A deployed stack could not be used: names the stack and what is missing. */
export class AwsTargetError extends Error {
  override readonly name = 'AwsTargetError';
}

const ENV_NAMES = new Set<string>(Object.values(LETHE_ENV));

/** Reads the outputs of a stack; each output's description names the environment variable it feeds. */
async function stackEnvironment(cloudFormation: CloudFormationClient, stackName: string) {
  const response = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = response.Stacks?.[0];
  if (!stack) throw new AwsTargetError(`stack ${stackName} not found: deploy it with npx cdk deploy`);
  const env: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.Description && ENV_NAMES.has(output.Description) && output.OutputValue)
      env[output.Description] = output.OutputValue;
  }
  return env;
}

function fromSfnEvent(event: SfnHistoryEvent): HistoryEvent {
  const details =
    event.stateEnteredEventDetails ??
    event.stateExitedEventDetails ??
    event.executionStartedEventDetails ??
    event.executionSucceededEventDetails;
  const failure =
    event.executionFailedEventDetails ??
    event.taskFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails;
  const parse = (text: string | undefined) => {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  return {
    at: (event.timestamp ?? new Date(0)).toISOString(),
    type: event.type ?? 'Unknown',
    ...(details && 'name' in details && details.name ? { state: details.name } : {}),
    ...(details && 'input' in details && details.input ? { input: parse(details.input) } : {}),
    ...(details && 'output' in details && details.output ? { output: parse(details.output) } : {}),
    ...(failure?.error ? { error: failure.error } : {}),
    ...(failure?.cause ? { cause: failure.cause } : {}),
  };
}

/** The clients an AwsBackend talks through, each defaulting to one with the ambient credentials and region. */
export type AwsBackendClients = Partial<AwsClients> & {
  cloudFormation?: CloudFormationClient;
  secrets?: SecretsManagerClient;
  sfn?: SFNClient;
  eventBridge?: EventBridgeClient;
};

/** What an AwsBackend works with, read from the stack outputs when it is opened. */
interface AwsBackendParts {
  deps: LetheDeps;
  sfn: SFNClient;
  /** The request state machine; executions are named by request id. */
  stateMachineArn: string;
  starter: SfnWorkflowStarter;
  /** How long a command waits for an execution to end, and how often it asks. */
  waitSeconds: number;
  pollIntervalMs: number;
  /** Absent on stacks deployed before sweeps existed. */
  sweepStateMachineArn: string | undefined;
  /** Only on stacks whose data map indexes a store. */
  indexBuildStateMachineArn: string | undefined;
}

/**
 * A deployed lethe: the stack outputs name the tables, buckets, secret and state machine;
 * requests are written and started exactly as the intake function does it.
 */
export class AwsBackend implements LetheBackend {
  readonly deps: LetheDeps;
  private readonly sfn: SFNClient;
  private readonly stateMachineArn: string;
  private readonly starter: SfnWorkflowStarter;
  private readonly waitSeconds: number;
  private readonly pollIntervalMs: number;
  private readonly sweepStateMachineArn: string | undefined;
  private readonly indexBuildStateMachineArn: string | undefined;

  private constructor(parts: AwsBackendParts) {
    this.deps = parts.deps;
    this.sfn = parts.sfn;
    this.stateMachineArn = parts.stateMachineArn;
    this.starter = parts.starter;
    this.waitSeconds = parts.waitSeconds;
    this.pollIntervalMs = parts.pollIntervalMs;
    this.sweepStateMachineArn = parts.sweepStateMachineArn;
    this.indexBuildStateMachineArn = parts.indexBuildStateMachineArn;
  }

  static async open(options: {
    stackPrefix: string;
    dataMap: DataMap;
    waitSeconds?: number;
    pollIntervalMs?: number;
    /** Injectable for tests; by default clients with the ambient AWS credentials and region. */
    clients?: AwsBackendClients;
  }): Promise<AwsBackend> {
    const cloudFormation = options.clients?.cloudFormation ?? new CloudFormationClient({});
    const env = {
      ...(await stackEnvironment(cloudFormation, `${options.stackPrefix}-Stateful`)),
      ...(await stackEnvironment(cloudFormation, `${options.stackPrefix}-Workflow`)),
    };
    if (!env[LETHE_ENV.stateMachineArn]) {
      throw new AwsTargetError(
        `stack ${options.stackPrefix}-Workflow has no state machine output: redeploy it`,
      );
    }
    return AwsBackend.fromEnvironment({ ...options, env });
  }

  /**
   * A deployed lethe from the LETHE_* variables the stack sets (lib/aws/config.ts): how the
   * deployed console opens it; `open` reads the same names from the stack outputs.
   */
  static async fromEnvironment(options: {
    env: Record<string, string | undefined>;
    dataMap: DataMap;
    waitSeconds?: number;
    pollIntervalMs?: number;
    clients?: AwsBackendClients;
    log?: Logger;
  }): Promise<AwsBackend> {
    const { env } = options;
    const stateMachineArn = env[LETHE_ENV.stateMachineArn];
    if (!stateMachineArn) throw new AwsTargetError(`${LETHE_ENV.stateMachineArn} is not set`);
    const sfn = options.clients?.sfn ?? new SFNClient({});
    const secrets = options.clients?.secrets ?? new SecretsManagerClient({});
    const { deps } = await createAwsDeps({
      env,
      dataMap: options.dataMap,
      ...(options.clients ? { clients: options.clients } : {}),
      hmacKeys: (secretArn) => loadHmacKeys(secrets, secretArn),
      // deny and extend tell the subject, as the deployed functions do
      notifier: () => eventBridgeNotifier(options.clients?.eventBridge),
      // the CLI reports outcomes itself; the functions' logs are in CloudWatch
      log: options.log ?? silentLogger,
    });
    return new AwsBackend({
      deps,
      sfn,
      stateMachineArn,
      starter: new SfnWorkflowStarter(sfn, stateMachineArn),
      waitSeconds: options.waitSeconds ?? 900,
      pollIntervalMs: options.pollIntervalMs ?? 2000,
      sweepStateMachineArn: env[LETHE_ENV.sweepStateMachineArn],
      indexBuildStateMachineArn: env[LETHE_ENV.indexBuildStateMachineArn],
    });
  }

  /** The domain's dependencies with Step Functions as the execution probe. */
  private get probingDeps(): LetheDeps {
    return { ...this.deps, executions: this.starter };
  }

  async submit(input: SubmitRequestInput, options: SubmitOptions = {}) {
    const result = await submitRequest(this.probingDeps, this.starter, input);
    const record = await getRequest(this.deps, result.requestId);
    // A request the policy holds for approval has no execution until it is approved.
    if (record.status !== 'pending-approval' && options.wait !== false) {
      await this.waitFor(
        executionArnFor(this.stateMachineArn, executionIdFor(result.requestId, currentAttempt(record))),
      );
    }
    return { summary: await this.status(result.requestId), outcome: result.outcome };
  }

  async retry(requestId: string, by: string) {
    const retried = await retryRequest(this.probingDeps, this.starter, requestId, by);
    await this.waitFor(executionArnFor(this.stateMachineArn, executionIdFor(requestId, retried.attempt)));
    return this.status(requestId);
  }

  async review(requestId: string, input: ReviewInput) {
    const reviewed = await reviewRequest(this.probingDeps, this.starter, requestId, input);
    await this.waitFor(executionArnFor(this.stateMachineArn, executionIdFor(requestId, reviewed.attempt)));
    return this.status(requestId);
  }

  async close(requestId: string, by: string, reason: string) {
    await closeRequest(this.probingDeps, requestId, by, reason);
    return this.status(requestId);
  }

  async approve(requestId: string, by: string) {
    await approveRequest(this.probingDeps, this.starter, requestId, by);
    await this.waitFor(executionArnFor(this.stateMachineArn, executionIdFor(requestId, 1)));
    return this.status(requestId);
  }

  async deny(requestId: string, input: DenyInput) {
    await denyRequest(this.probingDeps, requestId, input);
    return this.status(requestId);
  }

  async cancel(requestId: string, by: string, reason: string) {
    await cancelRequest(this.probingDeps, requestId, by, reason);
    return this.status(requestId);
  }

  async extend(requestId: string, input: ExtendInput) {
    await extendRequest(this.probingDeps, requestId, input);
    return this.status(requestId);
  }

  /** Polls an execution until it ends or the wait runs out. */
  private async waitFor(executionArn: string) {
    const deadline = Date.now() + this.waitSeconds * 1000;
    for (;;) {
      const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING' || Date.now() > deadline) return execution;
      await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
    }
  }

  async sweep(input: SweepRequest): Promise<SweepOutcome> {
    if (!this.sweepStateMachineArn) {
      throw new AwsTargetError('the deployed stack has no sweep state machine output: redeploy it');
    }
    const sweepId = newSweepId();
    const started = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.sweepStateMachineArn,
        name: sweepId,
        input: JSON.stringify({
          dryRun: input.dryRun,
          ...(input.now ? { now: input.now } : {}),
          ...(input.storeId ? { storeId: input.storeId } : {}),
          ...(input.startedBy ? { startedBy: input.startedBy } : {}),
        }),
      }),
    );
    const execution = await this.waitFor(
      started.executionArn ?? executionArnFor(this.sweepStateMachineArn, sweepId),
    );
    if (execution.status === 'RUNNING') return { sweepId, status: 'RUNNING', summary: null, error: null };
    if (execution.status === 'SUCCEEDED') {
      const output = JSON.parse(execution.output ?? '{}') as { summary?: SweepSummary };
      return { sweepId, status: 'SUCCEEDED', summary: output.summary ?? null, error: null };
    }
    return {
      sweepId,
      status: 'FAILED',
      summary: null,
      error: {
        code: execution.error ?? execution.status ?? 'Unknown',
        message: failureMessage(execution.cause),
      },
    };
  }

  /**
   * Builds one store's identity index in the deployed IndexBuild state machine (a Distributed Map
   * over the bucket's listing), waiting for it as a sweep is waited for.
   */
  async buildIndex(
    storeId: string,
    onProgress?: (progress: AwsIndexProgress) => void,
  ): Promise<IndexBuildOutcome> {
    if (!this.indexBuildStateMachineArn) {
      throw new AwsTargetError(
        'the deployed stack has no index build state machine output: deploy it with a data map that indexes a store',
      );
    }
    return runIndexBuildOnAws(this.sfn, this.indexBuildStateMachineArn, storeId, {
      waitSeconds: this.waitSeconds,
      pollIntervalMs: this.pollIntervalMs,
      ...(onProgress ? { onProgress } : {}),
    });
  }

  async status(requestId: string) {
    const record = await getRequest(this.deps, requestId);
    const url = record.export
      ? await exportDownloadUrl(this.deps, record.export.bucket, record.export.key)
      : null;
    return summariseRequest(
      record,
      record.export ? { path: `s3://${record.export.bucket}/${record.export.key}`, url } : null,
    );
  }

  async list(filter: RequestListFilter = {}) {
    return (await listRequestsBy(this.deps, filter, this.deps.now())).map((record) =>
      summariseRequest(record),
    );
  }

  async history(requestId: string) {
    const record = await getRequest(this.deps, requestId);
    const history = await requestHistory(record, (executionId) =>
      this.executionHistory(executionArnFor(this.stateMachineArn, executionId)),
    );
    return redactHistory(history, requestIdentifierValues(record));
  }

  async sweepHistory(sweepId: string) {
    if (!this.sweepStateMachineArn) return [];
    return this.executionHistory(executionArnFor(this.sweepStateMachineArn, sweepId));
  }

  /**
   * An execution's history, or none once Step Functions no longer has it: it keeps a history 90
   * days after the execution ended, while lethe keeps request records 24 months.
   */
  private async executionHistory(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      let page: GetExecutionHistoryCommandOutput;
      try {
        page = await this.sfn.send(
          new GetExecutionHistoryCommand({ executionArn, nextToken, includeExecutionData: true }),
        );
      } catch (error) {
        if ((error as Error).name === 'ExecutionDoesNotExist') return [];
        throw error;
      }
      events.push(...(page.events ?? []).map(fromSfnEvent));
      nextToken = page.nextToken;
    } while (nextToken);
    return events;
  }

  async dispose() {
    this.sfn.destroy();
  }
}
