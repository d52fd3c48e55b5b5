import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { DataMap } from '../datamap/schema';
import { checkDataMap, DataMapError } from '../datamap/validate';
import { createLetheDeps, type ExecutionProbe, type LetheDeps, type SubjectNotifier } from '../deps';
import type { Logger } from '../log';
import type { WorkflowStarter } from '../rights/submit';
import { redactingStep, type StepFunction } from '../workflow/request-steps';
import {
  BUNDLED_DATAMAP_FILE,
  DATAMAP_FILE_ENV,
  LETHE_ENV,
  type LetheConfig,
  LetheConfigError,
  parseLetheConfig,
} from './config';
import { powertoolsLogger, publishMetrics, type StepMetrics, traced } from './observability';

/**
 * Builds LetheDeps for a Lambda function: configuration from the environment and the data map
 * bundled with the code, read and checked at cold start (module scope); the DynamoDB and S3
 * clients created once per container. What only some functions use comes in as capabilities
 * their handlers import (lib/aws/secrets.ts: the HMAC keys; lib/aws/executions.ts: Step
 * Functions), so the other functions' bundles carry neither client. Everything is injectable for
 * tests.
 */

/** The clients every lethe function uses. */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
}

/** What only some functions use, passed in by their handlers. */
export interface AwsCapabilities {
  /** The HMAC keys of the secret the stack names (functions with hmacKeys in lib/infra/lethe-grants.ts). */
  hmacKeys?: (secretArn: string) => Promise<LetheDeps['keys']>;
  /** Step Functions executions of a state machine: started (intake) or probed (Verify). */
  executions?: (stateMachineArn: string) => WorkflowStarter & ExecutionProbe;
  /** Where notices for the subject go (functions with notify in lib/infra/lethe-grants.ts): EventBridge. */
  notifier?: () => SubjectNotifier;
  /** What the step's result says in metrics (lib/aws/observability.ts), published after it returns. */
  metrics?: StepMetrics;
}

let containerClients: Partial<AwsClients> = {};

/**
 * The container's clients: each created on first use and then reused by every invocation,
 * so connections and credentials are set up once per cold start, not per request.
 */
export function awsClients(): AwsClients {
  // Traced: each call is an X-Ray subsegment (in Lambda; the Tracer is off elsewhere).
  containerClients.dynamodb ??= traced(new DynamoDBClient({}));
  containerClients.s3 ??= traced(new S3Client({}));
  return containerClients as AwsClients;
}

/** Keys for a function the stack gave no access to the secret: any use names what is missing. */
function keysNotGranted(): LetheDeps['keys'] {
  const denied = (): never => {
    throw new LetheConfigError(
      LETHE_ENV.hmacSecretArn,
      'not set: the stack gives the HMAC keys only to the functions that hash subjects or match legal holds (hmacKeys in lib/infra/lethe-grants.ts), and this is not one of them',
    );
  };
  return {
    get subjectHash() {
      return denied();
    },
    get mask() {
      return denied();
    },
  };
}

/**
 * The data map bundled with the function: the JSON file the stack copies next to the handler
 * (BUNDLED_DATAMAP_FILE), or the file DATAMAP_FILE_ENV names. Parsed with the same schema and
 * checks as the YAML file.
 * @throws LetheConfigError when there is no such file
 * @throws DataMapError when the data map in it is invalid
 */
export function bundledDataMap(
  file: string = process.env[DATAMAP_FILE_ENV] ?? join(__dirname, BUNDLED_DATAMAP_FILE),
): DataMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LetheConfigError(
      DATAMAP_FILE_ENV,
      `cannot read the data map ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): the stack bundles it as ${BUNDLED_DATAMAP_FILE} next to the handler; outside Lambda set ${DATAMAP_FILE_ENV} to a data map JSON file`,
    );
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw new DataMapError(file, [{ path: '', message: `not JSON: ${(error as Error).message}` }]);
  }
  // The same schema and checks as the YAML loader, without carrying a YAML parser.
  return checkDataMap(content, file);
}

export interface AwsDepsOptions extends AwsCapabilities {
  /** Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Default: the container's clients (awsClients()). */
  clients?: Partial<AwsClients>;
  /** Default: the bundled data map. */
  dataMap?: DataMap;
  now?: () => Date;
  log?: Logger;
}

/** What a function builds at cold start, before any invocation: synchronous, so it runs at module scope. */
interface Prepared {
  config: LetheConfig;
  dataMap: DataMap;
}

function prepare(options: AwsDepsOptions): Prepared {
  return {
    config: parseLetheConfig(options.env ?? process.env),
    dataMap: options.dataMap ?? bundledDataMap(),
  };
}

async function depsFrom(
  { config, dataMap }: Prepared,
  options: AwsDepsOptions,
): Promise<{ deps: LetheDeps; config: LetheConfig; clients: AwsClients }> {
  const injected = options.clients ?? {};
  const clients = { ...(injected.dynamodb && injected.s3 ? {} : awsClients()), ...injected } as AwsClients;
  let keys = keysNotGranted();
  if (config.hmacSecretArn) {
    if (!options.hmacKeys) {
      throw new LetheConfigError(
        LETHE_ENV.hmacSecretArn,
        "set, but this function's handler does not load the HMAC keys: pass hmacKeysFromSecretsManager (lib/aws/secrets.ts)",
      );
    }
    keys = await options.hmacKeys(config.hmacSecretArn);
  }
  const executions = options.executions;
  const deps = createLetheDeps({
    dataMap,
    clients: { dynamodb: clients.dynamodb, s3: clients.s3 },
    resources: config.resources,
    keys,
    exportUrlTtlSeconds: config.exportUrlTtlSeconds,
    ...(config.requestRecordDays !== undefined ? { requestRecordDays: config.requestRecordDays } : {}),
    now: options.now ?? (() => new Date()),
    // Verify asks Step Functions whether the execution of a request holding a lock still runs.
    ...(executions ? { executionProbeFor: (stateMachineArn: string) => executions(stateMachineArn) } : {}),
    ...(options.notifier ? { notifier: options.notifier() } : {}),
    log:
      options.log ??
      powertoolsLogger({
        level: config.logLevel,
        context: { function: (options.env ?? process.env).AWS_LAMBDA_FUNCTION_NAME },
      }),
  });
  return { deps, config, clients };
}

/** Builds LetheDeps from a function's environment. */
export async function createAwsDeps(
  options: AwsDepsOptions = {},
): Promise<{ deps: LetheDeps; config: LetheConfig; clients: AwsClients }> {
  return depsFrom(prepare(options), options);
}

/**
 * What a handler module holds: configuration and data map read and checked when the module loads
 * (the cold start), then what is built from them once, on first use. A failure is kept and thrown
 * by every invocation until one retries it successfully (a failed key fetch, or the environment of
 * a test set after the module loaded).
 */
function container<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined = build();
  built.catch(() => {
    built = undefined;
  });
  return () => {
    if (!built) {
      built = build();
      built.catch(() => {
        built = undefined;
      });
    }
    return built;
  };
}

function preparedOnce(options: AwsDepsOptions): () => Promise<Prepared> {
  // Synchronous at module scope: a bad environment or data map fails the cold start, not a request.
  let prepared: Prepared | undefined;
  try {
    prepared = prepare(options);
  } catch {
    // Kept for the first invocation, which prepares again and reports the failure.
  }
  return async () => {
    prepared ??= prepare(options);
    return prepared;
  };
}

/** The container's LetheDeps, for a handler module (built at cold start, see `container`). */
export function containerLetheDeps(
  options: AwsDepsOptions = {},
): () => Promise<{ deps: LetheDeps; config: LetheConfig; clients: AwsClients }> {
  const prepared = preparedOnce(options);
  return container(async () => depsFrom(await prepared(), options));
}

/**
 * The Lambda handler of one request workflow step over the container's LetheDeps, its errors
 * redacted as every request step's are (redactingStep). The handler module passes its own step
 * only, so its bundle carries that step's code and nothing of the others.
 */
export function requestStepHandler(
  step: StepFunction,
  capabilities: AwsCapabilities = {},
): (event: unknown) => Promise<unknown> {
  const deps = containerLetheDeps(capabilities);
  const run = container(async () => {
    const { deps: built, config } = await deps();
    return measured(redactingStep(built, step), config.resources.requestsTable, capabilities.metrics);
  });
  return async (event) => (await run())(event);
}

/** The Lambda handler of one sweep workflow step over the container's LetheDeps (see requestStepHandler). */
export function sweepStepHandler(
  step: StepFunction,
  capabilities: AwsCapabilities = {},
): (event: unknown) => Promise<unknown> {
  const deps = containerLetheDeps(capabilities);
  return async (event) => {
    const { deps: built, config } = await deps();
    return measured(
      (input) => step(built, input),
      config.resources.requestsTable,
      capabilities.metrics,
    )(event);
  };
}

/** A step that publishes what `metrics` reads from its input and result, once it has returned. */
export function measured(
  step: (input: unknown) => Promise<unknown>,
  requestsTable: string,
  metrics?: StepMetrics,
): (input: unknown) => Promise<unknown> {
  if (!metrics) return step;
  return async (input) => {
    const result = await step(input);
    publishMetrics(metrics(input, result), requestsTable);
    return result;
  };
}

/** The intake function's starter: Step Functions, with the execution named by the request id. */
export function intakeStarter(
  capabilities: AwsCapabilities & Required<Pick<AwsCapabilities, 'executions'>>,
): () => Promise<{ deps: LetheDeps; starter: WorkflowStarter }> {
  const deps = containerLetheDeps(capabilities);
  return container(async () => {
    const { deps: built, config } = await deps();
    if (!config.stateMachineArn) {
      throw new LetheConfigError(
        LETHE_ENV.stateMachineArn,
        'required by the intake function; the stack sets it',
      );
    }
    return { deps: built, starter: capabilities.executions(config.stateMachineArn) };
  });
}

/** Forgets the container's clients: for tests only. */
export function resetContainerForTests(): void {
  containerClients = {};
}
