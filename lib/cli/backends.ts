import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type HistoryEvent as SfnHistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type AwsClients, createAwsDeps } from '../aws/deps';
import type { DataMap } from '../datamap/schema';
import type { LetheDeps } from '../deps';
import { type LocalEnvironment, openLocalEnvironment } from '../local/environment';
import { type FaultInjector, type HistoryEvent, readHistory } from '../local/execution';
import { LocalRequestRunner } from '../local/request-runner';
import { LocalSweepRunner, newSweepId, type SweepProgress } from '../local/sweep-runner';
import { silentLogger } from '../log';
import type { SweepSummary } from '../retention';
import { exportDownloadUrl } from '../rights/export';
import type { RequestRecord, RequestStatus, SubmitRequestInput } from '../rights/request';
import { findRequest, getRequest, listRequests } from '../rights/requests-table';
import { executionArnFor, SfnWorkflowStarter } from '../rights/sfn-starter';
import { submitRequest, type WorkflowStarter } from '../rights/submit';
import { type RequestSummary, summariseRequest } from '../rights/summary';

/**
 * Where the CLI's request commands run: the embedded local runtime or a deployed stack.
 * Both call the same domain functions (submitRequest, the requests table, summaries).
 */
export interface LetheBackend {
  readonly deps: LetheDeps;
  submit(input: SubmitRequestInput): Promise<{ summary: RequestSummary; created: boolean }>;
  status(requestId: string): Promise<RequestSummary>;
  list(status?: RequestStatus): Promise<RequestSummary[]>;
  history(requestId: string): Promise<HistoryEvent[]>;
  /** Runs a retention sweep to its end; a failed sweep is returned, not thrown. */
  sweep(input: SweepRequest, onProgress?: (progress: SweepProgress) => void): Promise<SweepOutcome>;
  close(): Promise<void>;
}

/** What `lethe sweep` asks for. */
export interface SweepRequest {
  now?: string;
  dryRun: boolean;
  storeId?: string;
}

/** How a sweep ended: its summary, or the error it failed with. */
export interface SweepOutcome {
  sweepId: string;
  status: 'SUCCEEDED' | 'FAILED';
  summary: SweepSummary | null;
  error: { code: string; message: string } | null;
}

function failureMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** The embedded runtime: dynalite, s3rver and aws-local-stepfunctions under a state directory. */
export class LocalBackend implements LetheBackend {
  private constructor(
    readonly env: LocalEnvironment,
    private readonly runner: LocalRequestRunner,
  ) {}

  get deps(): LetheDeps {
    return this.env.deps;
  }

  static async open(options: {
    stateDir?: string;
    dataMapPath?: string;
    faults?: FaultInjector;
    now?: () => Date;
  }): Promise<LocalBackend> {
    const env = await openLocalEnvironment({
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      ...(options.dataMapPath ? { dataMapPath: options.dataMapPath } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    return new LocalBackend(
      env,
      new LocalRequestRunner(env, options.faults ? { faults: options.faults } : {}),
    );
  }

  async submit(input: SubmitRequestInput) {
    const result = await submitRequest(this.env.deps, this.runner, input);
    return { summary: await this.status(result.requestId), created: result.created };
  }

  async status(requestId: string): Promise<RequestSummary> {
    const record = await getRequest(this.env.deps, requestId);
    return summariseRequest(record, await this.exportLocation(record));
  }

  async list(status?: RequestStatus) {
    const records = await listRequests(this.env.deps, status ? { status } : {});
    return records.map((record) => summariseRequest(record));
  }

  async history(requestId: string) {
    await getRequest(this.env.deps, requestId);
    return readHistory(this.env, requestId);
  }

  async sweep(input: SweepRequest, onProgress?: (progress: SweepProgress) => void): Promise<SweepOutcome> {
    const runner = new LocalSweepRunner(this.env, onProgress ? { onProgress } : {});
    const result = await runner.run({
      dryRun: input.dryRun,
      ...(input.now ? { now: input.now } : {}),
      ...(input.storeId ? { storeId: input.storeId } : {}),
    });
    return {
      sweepId: result.sweepId,
      status: result.status,
      summary: result.summary ?? null,
      error:
        result.status === 'FAILED'
          ? { code: result.error ?? 'Unknown', message: failureMessage(result.cause) }
          : null,
    };
  }

  /** Copies the package out of the local S3 into the state directory, where a person can open it. */
  private async exportLocation(record: RequestRecord) {
    if (!record.export) return null;
    const dir = join(this.env.stateDir, 'exports');
    const path = join(dir, `${record.requestId}.zip`);
    if (!existsSync(path)) {
      mkdirSync(dir, { recursive: true });
      try {
        const object = await this.env.clients.s3.send(
          new GetObjectCommand({ Bucket: record.export.bucket, Key: record.export.key }),
        );
        // Streamed to a temporary name and renamed: never the whole package in memory, never a half file.
        await pipeline(object.Body as Readable, createWriteStream(`${path}.part`));
        renameSync(`${path}.part`, path);
      } catch (error) {
        rmSync(`${path}.part`, { force: true });
        if ((error as Error).name !== 'NoSuchKey') throw error;
        return { path: null, url: null };
      }
    }
    // A pre-signed URL of the embedded S3 would die with this process: locally the link is the file.
    return { path, url: pathToFileURL(path).href };
  }

  close() {
    return this.env.close();
  }
}

/** A deployed stack could not be used: names the stack and what is missing. */
export class AwsTargetError extends Error {
  override readonly name = 'AwsTargetError';
}

/** Reads the outputs of a stack; each output's description names the environment variable it feeds. */
async function stackEnvironment(cloudFormation: CloudFormationClient, stackName: string) {
  const response = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = response.Stacks?.[0];
  if (!stack) throw new AwsTargetError(`stack ${stackName} not found: deploy it with npx cdk deploy`);
  const env: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.Description?.startsWith('LETHE_') && output.OutputValue)
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

/**
 * A deployed lethe: the stack outputs name the tables, buckets, secret and state machine;
 * requests are written and started exactly as the intake function does it.
 */
export class AwsBackend implements LetheBackend {
  private constructor(
    readonly deps: LetheDeps,
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly starter: WorkflowStarter,
    private readonly waitSeconds: number,
    private readonly pollIntervalMs: number,
    private readonly sweepStateMachineArn: string | undefined,
  ) {}

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
    const stateMachineArn = env.LETHE_STATE_MACHINE_ARN;
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
    return new AwsBackend(
      deps,
      sfn,
      stateMachineArn,
      new SfnWorkflowStarter(sfn, stateMachineArn),
      options.waitSeconds ?? 900,
      options.pollIntervalMs ?? 2000,
      env.LETHE_SWEEP_STATE_MACHINE_ARN,
    );
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
    if (!(await findRequest(this.deps, requestId))) await getRequest(this.deps, requestId);
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
    return events;
  }

  async close() {
    this.sfn.destroy();
  }
}
