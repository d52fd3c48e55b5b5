import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type HistoryEvent as SfnHistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { requestIdentifierValues } from '../../audit/free-text';
import { LETHE_ENV } from '../../aws/config';
import { type AwsClients, createAwsDeps } from '../../aws/deps';
import type { DataMap } from '../../datamap/schema';
import type { LetheDeps } from '../../deps';
import type { HistoryEvent } from '../../local/execution';
import { newSweepId } from '../../local/sweep-runner';
import { silentLogger } from '../../log';
import type { SweepSummary } from '../../retention';
import { exportDownloadUrl } from '../../rights/export';
import type { RequestStatus, SubmitRequestInput } from '../../rights/request';
import { findRequest, getRequest, listRequests } from '../../rights/requests-table';
import { executionArnFor, SfnWorkflowStarter } from '../../rights/sfn-starter';
import { submitRequest, type WorkflowStarter } from '../../rights/submit';
import { summariseRequest } from '../../rights/summary';
import {
  failureMessage,
  type LetheBackend,
  redactHistory,
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

/** What an AwsBackend works with, read from the stack outputs when it is opened. */
interface AwsBackendParts {
  deps: LetheDeps;
  sfn: SFNClient;
  /** The request state machine; executions are named by request id. */
  stateMachineArn: string;
  starter: WorkflowStarter;
  /** How long a command waits for an execution to end, and how often it asks. */
  waitSeconds: number;
  pollIntervalMs: number;
  /** Absent on stacks deployed before sweeps existed. */
  sweepStateMachineArn: string | undefined;
}

/**
 * A deployed lethe: the stack outputs name the tables, buckets, secret and state machine;
 * requests are written and started exactly as the intake function does it.
 */
export class AwsBackend implements LetheBackend {
  readonly deps: LetheDeps;
  private readonly sfn: SFNClient;
  private readonly stateMachineArn: string;
  private readonly starter: WorkflowStarter;
  private readonly waitSeconds: number;
  private readonly pollIntervalMs: number;
  private readonly sweepStateMachineArn: string | undefined;

  private constructor(parts: AwsBackendParts) {
    this.deps = parts.deps;
    this.sfn = parts.sfn;
    this.stateMachineArn = parts.stateMachineArn;
    this.starter = parts.starter;
    this.waitSeconds = parts.waitSeconds;
    this.pollIntervalMs = parts.pollIntervalMs;
    this.sweepStateMachineArn = parts.sweepStateMachineArn;
  }

  static async open(options: {
    stackPrefix: string;
    dataMap: DataMap;
    waitSeconds?: number;
    pollIntervalMs?: number;
    /** Injectable for tests; by default clients with the ambient AWS credentials and region. */
    clients?: Partial<AwsClients> & { cloudFormation?: CloudFormationClient };
  }): Promise<AwsBackend> {
    const cloudFormation = options.clients?.cloudFormation ?? new CloudFormationClient({});
    const env = {
      ...(await stackEnvironment(cloudFormation, `${options.stackPrefix}-Stateful`)),
      ...(await stackEnvironment(cloudFormation, `${options.stackPrefix}-Workflow`)),
    };
    const stateMachineArn = env[LETHE_ENV.stateMachineArn];
    if (!stateMachineArn) {
      throw new AwsTargetError(
        `stack ${options.stackPrefix}-Workflow has no state machine output: redeploy it`,
      );
    }
    const sfn = options.clients?.sfn ?? new SFNClient({});
    const { deps } = await createAwsDeps({
      env,
      dataMap: options.dataMap,
      clients: { ...options.clients, sfn },
      // the CLI reports outcomes itself; the functions' logs are in CloudWatch
      log: silentLogger,
    });
    return new AwsBackend({
      deps,
      sfn,
      stateMachineArn,
      starter: new SfnWorkflowStarter(sfn, stateMachineArn),
      waitSeconds: options.waitSeconds ?? 900,
      pollIntervalMs: options.pollIntervalMs ?? 2000,
      sweepStateMachineArn: env[LETHE_ENV.sweepStateMachineArn],
    });
  }

  async submit(input: SubmitRequestInput) {
    const result = await submitRequest(this.deps, this.starter, input);
    await this.waitFor(executionArnFor(this.stateMachineArn, result.requestId));
    return { summary: await this.status(result.requestId), created: result.created };
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
        }),
      }),
    );
    const execution = await this.waitFor(
      started.executionArn ?? executionArnFor(this.sweepStateMachineArn, sweepId),
    );
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

  async list(status?: RequestStatus) {
    return (await listRequests(this.deps, status ? { status } : {})).map((record) =>
      summariseRequest(record),
    );
  }

  async history(requestId: string) {
    const record = (await findRequest(this.deps, requestId)) ?? (await getRequest(this.deps, requestId));
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: executionArnFor(this.stateMachineArn, requestId),
          nextToken,
          includeExecutionData: true,
        }),
      );
      events.push(...(page.events ?? []).map(fromSfnEvent));
      nextToken = page.nextToken;
    } while (nextToken);
    return redactHistory(events, requestIdentifierValues(record));
  }

  async close() {
    this.sfn.destroy();
  }
}
