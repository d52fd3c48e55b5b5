import { hkdfSync } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { parseDataMap } from '../datamap/load';
import type { DataMap } from '../datamap/schema';
import { createLetheDeps, type LetheDeps } from '../deps';
import { createLogger, type Logger } from '../log';
import { SfnWorkflowStarter } from '../rights/sfn-starter';
import { createRequestSteps, type RequestStep } from '../workflow/request-steps';
import { createSweepSteps, type SweepStep } from '../workflow/sweep-steps';
import { LETHE_ENV, type LetheConfig, LetheConfigError, parseLetheConfig } from './config';

/**
 * Builds LetheDeps for a Lambda function at cold start: configuration from the environment,
 * the data map bundled into the code, AWS clients created once per container, and the HMAC
 * keys fetched once from Secrets Manager. Everything is injectable for tests.
 */

/** The AWS clients a lethe function uses. */
export interface AwsClients {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  sfn: SFNClient;
}

let containerClients: Partial<AwsClients> = {};

/**
 * The container's clients: each created on first use and then reused by every invocation,
 * so connections and credentials are set up once per cold start, not per request.
 */
export function awsClients(): AwsClients {
  containerClients.dynamodb ??= new DynamoDBClient({});
  containerClients.s3 ??= new S3Client({});
  containerClients.secrets ??= new SecretsManagerClient({});
  containerClients.sfn ??= new SFNClient({});
  return containerClients as AwsClients;
}

/** The HMAC keys in the secret are missing, malformed or too short. Never includes key material. */
export class InvalidHmacSecretError extends Error {
  override readonly name = 'InvalidHmacSecretError';
}

const MIN_KEY_BYTES = 32;
const MIN_SEED_LENGTH = 32;

/**
 * Reads the two HMAC keys from the secret's JSON. Either explicit keys, base64 of at least 32
 * bytes each: `{"subjectHash": "...", "mask": "..."}`; or the form the stack generates,
 * `{"seed": "<64 random characters>"}` (Secrets Manager generates one random string per
 * secret), from which both keys are derived with HKDF-SHA-256 under distinct labels.
 */
export function parseHmacKeys(secretString: string): LetheDeps['keys'] {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new InvalidHmacSecretError('the HMAC secret is not JSON');
  }
  const record = (value ?? {}) as Record<string, unknown>;
  if (typeof record.subjectHash === 'string' || typeof record.mask === 'string') {
    const decode = (field: 'subjectHash' | 'mask') => {
      const text = record[field];
      const key = typeof text === 'string' ? Buffer.from(text, 'base64') : Buffer.alloc(0);
      if (key.length < MIN_KEY_BYTES) {
        throw new InvalidHmacSecretError(
          `the HMAC secret's "${field}" must be base64 of at least ${MIN_KEY_BYTES} random bytes`,
        );
      }
      return key;
    };
    return { subjectHash: decode('subjectHash'), mask: decode('mask') };
  }
  if (typeof record.seed === 'string' && record.seed.length >= MIN_SEED_LENGTH) {
    const derive = (label: string) =>
      Buffer.from(hkdfSync('sha256', record.seed as string, 'lethe', `lethe/${label}/v1`, MIN_KEY_BYTES));
    return { subjectHash: derive('subject-hash'), mask: derive('mask') };
  }
  throw new InvalidHmacSecretError(
    `the HMAC secret must hold {"subjectHash", "mask"} (base64, ${MIN_KEY_BYTES}+ bytes each) or {"seed"} (${MIN_SEED_LENGTH}+ characters)`,
  );
}

const keyCache = new Map<string, Promise<LetheDeps['keys']>>();

/**
 * The HMAC keys from Secrets Manager, fetched once per container: the promise is cached, so
 * concurrent cold-start callers share one request; a failed fetch is forgotten and retried.
 */
export function loadHmacKeys(client: SecretsManagerClient, secretArn: string): Promise<LetheDeps['keys']> {
  let keys = keyCache.get(secretArn);
  if (!keys) {
    keys = client.send(new GetSecretValueCommand({ SecretId: secretArn })).then((response) => {
      if (!response.SecretString) throw new InvalidHmacSecretError('the HMAC secret has no string value');
      return parseHmacKeys(response.SecretString);
    });
    keys.catch(() => keyCache.delete(secretArn));
    keyCache.set(secretArn, keys);
  }
  return keys;
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
 * The data map bundled into the function: esbuild replaces `process.env.LETHE_DATAMAP_JSON`
 * with its JSON text at bundle time. Parsed with the same schema and checks as the YAML file.
 * @throws LetheConfigError when the function was bundled without it
 */
export function bundledDataMap(json: string | undefined = process.env.LETHE_DATAMAP_JSON): DataMap {
  if (!json) {
    throw new LetheConfigError(
      'LETHE_DATAMAP_JSON',
      'not bundled: the stack defines it at bundle time; outside Lambda set it to the data map JSON',
    );
  }
  // JSON is YAML: the loader validates it and names the path of anything wrong.
  return parseDataMap(json, 'bundled data map');
}

export interface AwsDepsOptions {
  /** Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Default: the container's clients (awsClients()). */
  clients?: Partial<AwsClients>;
  /** Default: the bundled data map. */
  dataMap?: DataMap;
  now?: () => Date;
  log?: Logger;
}

function clientsFrom(options: AwsDepsOptions): AwsClients {
  const injected = options.clients ?? {};
  const needsDefaults = !injected.dynamodb || !injected.s3 || !injected.secrets || !injected.sfn;
  return { ...(needsDefaults ? awsClients() : {}), ...injected } as AwsClients;
}

/** Builds LetheDeps from a function's environment. */
export async function createAwsDeps(
  options: AwsDepsOptions = {},
): Promise<{ deps: LetheDeps; config: LetheConfig; clients: AwsClients }> {
  const config = parseLetheConfig(options.env ?? process.env);
  const dataMap = options.dataMap ?? bundledDataMap();
  const clients = clientsFrom(options);
  const keys = config.hmacSecretArn
    ? await loadHmacKeys(clients.secrets, config.hmacSecretArn)
    : keysNotGranted();
  const deps = createLetheDeps({
    dataMap,
    clients: { dynamodb: clients.dynamodb, s3: clients.s3 },
    resources: config.resources,
    keys,
    exportUrlTtlSeconds: config.exportUrlTtlSeconds,
    now: options.now ?? (() => new Date()),
    // Verify asks Step Functions whether the execution of a request holding a lock still runs.
    executionProbeFor: (stateMachineArn) => new SfnWorkflowStarter(clients.sfn, stateMachineArn),
    log:
      options.log ??
      createLogger({
        level: config.logLevel,
        context: { function: (options.env ?? process.env).AWS_LAMBDA_FUNCTION_NAME },
      }),
  });
  return { deps, config, clients };
}

let containerDeps: ReturnType<typeof createAwsDeps> | undefined;

/** The container's LetheDeps, built once at cold start (a failed build is retried next time). */
export function containerLetheDeps(): ReturnType<typeof createAwsDeps> {
  if (!containerDeps) {
    containerDeps = createAwsDeps();
    containerDeps.catch(() => {
      containerDeps = undefined;
    });
  }
  return containerDeps;
}

let containerSteps: Promise<Record<RequestStep, (input: unknown) => Promise<unknown>>> | undefined;

/** The workflow steps over the container's LetheDeps: what each step's handler calls. */
export function steps(): Promise<Record<RequestStep, (input: unknown) => Promise<unknown>>> {
  if (!containerSteps) {
    containerSteps = containerLetheDeps().then(({ deps }) => createRequestSteps(deps));
    containerSteps.catch(() => {
      containerSteps = undefined;
    });
  }
  return containerSteps;
}

let containerSweepSteps: Promise<Record<SweepStep, (input: unknown) => Promise<unknown>>> | undefined;

/** The sweep workflow steps over the container's LetheDeps: what each sweep handler calls. */
export function sweepSteps(): Promise<Record<SweepStep, (input: unknown) => Promise<unknown>>> {
  if (!containerSweepSteps) {
    containerSweepSteps = containerLetheDeps().then(({ deps }) => createSweepSteps(deps));
    containerSweepSteps.catch(() => {
      containerSweepSteps = undefined;
    });
  }
  return containerSweepSteps;
}

/** The intake function's starter: Step Functions, with the execution named by the request id. */
export async function intakeStarter(): Promise<{ deps: LetheDeps; starter: SfnWorkflowStarter }> {
  const { deps, config, clients } = await containerLetheDeps();
  if (!config.stateMachineArn) {
    throw new LetheConfigError(
      LETHE_ENV.stateMachineArn,
      'required by the intake function; the stack sets it',
    );
  }
  return { deps, starter: new SfnWorkflowStarter(clients.sfn, config.stateMachineArn) };
}

/** Forgets the container's clients, deps and keys: for tests only. */
export function resetContainerForTests(): void {
  containerClients = {};
  containerDeps = undefined;
  containerSteps = undefined;
  containerSweepSteps = undefined;
  keyCache.clear();
}
