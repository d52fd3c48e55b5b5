import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { requestIdentifierValues } from '../../audit/free-text';
import type { LetheDeps } from '../../deps';
import { type LocalEnvironment, openLocalEnvironment } from '../../local/environment';
import type { FaultInjector } from '../../local/execution';
import type { LocalRequestRunner } from '../../local/request-runner';
import type { SweepProgress } from '../../local/sweep-runner';
import type { ReviewInput } from '../../rights/lifecycle';
import type { DenyInput, ExtendInput } from '../../rights/manage';
import type { RequestListFilter } from '../../rights/overdue';
import type { RequestRecord, SubmitRequestInput } from '../../rights/request';
import { getRequest } from '../../rights/requests-table';
import type { ExecutionStart, StartedExecution, WorkflowStarter } from '../../rights/submit';
import { type RequestSummary, summariseRequest } from '../../rights/summary';
import {
  failureMessage,
  type LetheBackend,
  redactHistory,
  requestHistory,
  type SubmitOptions,
  type SweepOutcome,
  type SweepRequest,
} from './backend';

/**
 * The embedded runtime: dynalite, s3rver and aws-local-stepfunctions under a state directory.
 * What only running a workflow needs (the runtime, the synthesized definition, the steps) is
 * loaded when a request first runs: reading a status or a list goes without it.
 */
export class LocalBackend implements LetheBackend {
  readonly env: LocalEnvironment;
  private readonly faults: FaultInjector | undefined;
  private requestRunner: LocalRequestRunner | undefined;
  /** Executions started without waiting (submit with `wait: false`), until they end. */
  private readonly background = new Set<Promise<unknown>>();

  private constructor(parts: { env: LocalEnvironment; faults: FaultInjector | undefined }) {
    this.env = parts.env;
    this.faults = parts.faults;
  }

  get deps(): LetheDeps {
    return this.env.deps;
  }

  static async open(options: {
    stateDir?: string;
    dataMapPath?: string;
    faults?: FaultInjector;
    now?: () => Date;
    /** Only reads will be made: see OpenLocalEnvironmentOptions.readOnly. */
    readOnly?: boolean;
  }): Promise<LocalBackend> {
    const env = await openLocalEnvironment({
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
      ...(options.dataMapPath ? { dataMapPath: options.dataMapPath } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.readOnly ? { readOnly: true } : {}),
    });
    return new LocalBackend({ env, faults: options.faults });
  }

  /** The request runner, made on first use; making it loads (or synthesizes) the definition. */
  private async runner(): Promise<LocalRequestRunner> {
    if (!this.requestRunner) {
      const { LocalRequestRunner } =
        require('../../local/request-runner') as typeof import('../../local/request-runner');
      this.requestRunner = new LocalRequestRunner(this.env, this.faults ? { faults: this.faults } : {});
    }
    return this.requestRunner;
  }

  /** The domain's dependencies with this runner as the execution probe: a request is running only if this process runs it. */
  private async runnerDeps(): Promise<{ deps: LetheDeps; runner: LocalRequestRunner }> {
    const runner = await this.runner();
    return { deps: { ...this.env.deps, executions: runner }, runner };
  }

  async submit(input: SubmitRequestInput, options: SubmitOptions = {}) {
    const { submitRequest } = require('../../rights/submit') as typeof import('../../rights/submit');
    const { deps, runner } = await this.runnerDeps();
    const starter: WorkflowStarter =
      options.wait === false
        ? { start: async (execution) => this.startInBackground(runner, execution) }
        : runner;
    const result = await submitRequest(deps, starter, input);
    return { summary: await this.status(result.requestId), outcome: result.outcome };
  }

  /**
   * Starts an execution without waiting for its end; dispose() waits for it, so the state
   * directory is never closed under a running execution. Its failure is in its history and the
   * request record (the workflow's failure path); anything else is logged by name.
   */
  private startInBackground(runner: LocalRequestRunner, execution: ExecutionStart): StartedExecution {
    const { finished, ...started } = runner.begin(execution);
    const settled = finished.catch((error: unknown) =>
      this.env.deps.log.error('request execution stopped', {
        executionId: started.executionId,
        error: error instanceof Error ? error.name : 'Error',
      }),
    );
    this.background.add(settled);
    void settled.finally(() => this.background.delete(settled));
    return started;
  }

  async retry(requestId: string, by: string) {
    const { retryRequest } = require('../../rights/lifecycle') as typeof import('../../rights/lifecycle');
    const { deps, runner } = await this.runnerDeps();
    await retryRequest(deps, runner, requestId, by);
    return this.status(requestId);
  }

  async review(requestId: string, input: ReviewInput) {
    const { reviewRequest } = require('../../rights/lifecycle') as typeof import('../../rights/lifecycle');
    const { deps, runner } = await this.runnerDeps();
    await reviewRequest(deps, runner, requestId, input);
    return this.status(requestId);
  }

  async close(requestId: string, by: string, reason: string) {
    const { closeRequest } = require('../../rights/lifecycle') as typeof import('../../rights/lifecycle');
    const { deps } = await this.runnerDeps();
    // The identities dropped from the record must not linger in the store's files either: asked
    // for before they are dropped, so that a kill cannot skip it, and only once the close is
    // accepted, so that a refused one leaves the state directory as it was.
    await closeRequest(deps, requestId, by, reason, () => this.env.compactOnClose());
    return this.status(requestId);
  }

  async approve(requestId: string, by: string) {
    const { approveRequest } = require('../../rights/manage') as typeof import('../../rights/manage');
    const { deps, runner } = await this.runnerDeps();
    await approveRequest(deps, runner, requestId, by);
    return this.status(requestId);
  }

  async deny(requestId: string, input: DenyInput) {
    const { denyRequest } = require('../../rights/manage') as typeof import('../../rights/manage');
    const { deps } = await this.runnerDeps();
    await denyRequest(deps, requestId, input, () => this.env.compactOnClose());
    return this.status(requestId);
  }

  async cancel(requestId: string, by: string, reason: string) {
    const { cancelRequest } = require('../../rights/manage') as typeof import('../../rights/manage');
    const { deps } = await this.runnerDeps();
    await cancelRequest(deps, requestId, by, reason, () => this.env.compactOnClose());
    return this.status(requestId);
  }

  async extend(requestId: string, input: ExtendInput) {
    const { extendRequest } = require('../../rights/manage') as typeof import('../../rights/manage');
    const { deps } = await this.runnerDeps();
    await extendRequest(deps, requestId, input);
    return this.status(requestId);
  }

  async status(requestId: string): Promise<RequestSummary> {
    const record = await getRequest(this.env.deps, requestId);
    return summariseRequest(record, await this.exportLocation(record));
  }

  async list(filter: RequestListFilter = {}) {
    const { listRequestsBy } = require('../../rights/overdue') as typeof import('../../rights/overdue');
    const records = await listRequestsBy(this.env.deps, filter, this.env.deps.now());
    return records.map((record) => summariseRequest(record));
  }

  async history(requestId: string) {
    const { readHistory } = require('../../local/execution') as typeof import('../../local/execution');
    const record = await getRequest(this.env.deps, requestId);
    const history = await requestHistory(record, async (executionId) => readHistory(this.env, executionId));
    return redactHistory(history, requestIdentifierValues(record));
  }

  async sweepHistory(sweepId: string) {
    const { readHistory } = require('../../local/execution') as typeof import('../../local/execution');
    return readHistory(this.env, sweepId);
  }

  async sweep(input: SweepRequest, onProgress?: (progress: SweepProgress) => void): Promise<SweepOutcome> {
    const { LocalSweepRunner } =
      require('../../local/sweep-runner') as typeof import('../../local/sweep-runner');
    const runner = new LocalSweepRunner(this.env, onProgress ? { onProgress } : {});
    const result = await runner.run({
      dryRun: input.dryRun,
      ...(input.startedBy ? { startedBy: input.startedBy } : {}),
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
    const dir = join(this.env.stateDir, 'exports');
    // Copies of packages a later erasure deleted go as the packages did.
    for (const deleted of record.exportsDeleted ?? [])
      rmSync(join(dir, `${deleted.requestId}.zip`), { force: true });
    if (record.exportDeletedAt) rmSync(join(dir, `${record.requestId}.zip`), { force: true });
    if (!record.export || record.exportDeletedAt) return null;
    const path = join(dir, `${record.requestId}.zip`);
    if (!existsSync(path)) {
      mkdirSync(dir, { recursive: true });
      try {
        const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
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

  async dispose() {
    await Promise.all(this.background);
    return this.env.close();
  }
}
