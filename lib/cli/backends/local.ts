import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { requestIdentifierValues } from '../../audit/free-text';
import type { LetheDeps } from '../../deps';
import { type LocalEnvironment, openLocalEnvironment } from '../../local/environment';
import { type FaultInjector, readHistory } from '../../local/execution';
import { LocalRequestRunner } from '../../local/request-runner';
import { LocalSweepRunner, type SweepProgress } from '../../local/sweep-runner';
import { closeRequest, type ReviewInput, retryRequest, reviewRequest } from '../../rights/lifecycle';
import type { RequestRecord, RequestStatus, SubmitRequestInput } from '../../rights/request';
import { getRequest, listRequests } from '../../rights/requests-table';
import { submitRequest } from '../../rights/submit';
import { type RequestSummary, summariseRequest } from '../../rights/summary';
import {
  failureMessage,
  type LetheBackend,
  redactHistory,
  requestHistory,
  type SweepOutcome,
  type SweepRequest,
} from './backend';

/** The embedded runtime: dynalite, s3rver and aws-local-stepfunctions under a state directory. */
export class LocalBackend implements LetheBackend {
  readonly env: LocalEnvironment;
  private readonly runner: LocalRequestRunner;

  private constructor(parts: { env: LocalEnvironment; runner: LocalRequestRunner }) {
    this.env = parts.env;
    this.runner = parts.runner;
  }

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
    try {
      return new LocalBackend({
        env,
        runner: new LocalRequestRunner(env, options.faults ? { faults: options.faults } : {}),
      });
    } catch (error) {
      // the runner synthesizes the definition, which can fail: the servers must not outlive it
      await env.close();
      throw error;
    }
  }

  /** The domain's dependencies with this runner as the execution probe: a request is running only if this process runs it. */
  private get runnerDeps(): LetheDeps {
    return { ...this.env.deps, executions: this.runner };
  }

  async submit(input: SubmitRequestInput) {
    const result = await submitRequest(this.runnerDeps, this.runner, input);
    return { summary: await this.status(result.requestId), outcome: result.outcome };
  }

  async retry(requestId: string, by: string) {
    await retryRequest(this.runnerDeps, this.runner, requestId, by);
    return this.status(requestId);
  }

  async review(requestId: string, input: ReviewInput) {
    await reviewRequest(this.runnerDeps, this.runner, requestId, input);
    return this.status(requestId);
  }

  async close(requestId: string, by: string, reason: string) {
    // The identities dropped from the record must not linger in the store's files either: asked
    // for before they are dropped, so that a kill cannot skip it, and only once the close is
    // accepted, so that a refused one leaves the state directory as it was.
    await closeRequest(this.runnerDeps, requestId, by, reason, () => this.env.compactOnClose());
    return this.status(requestId);
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
    const record = await getRequest(this.env.deps, requestId);
    const history = await requestHistory(record, async (executionId) => readHistory(this.env, executionId));
    return redactHistory(history, requestIdentifierValues(record));
  }

  async sweepHistory(sweepId: string) {
    return readHistory(this.env, sweepId);
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

  dispose() {
    return this.env.close();
  }
}
