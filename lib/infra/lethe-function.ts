import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy, Stage } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  BUNDLED_DATAMAP_FILE,
  CONSOLE_ENV,
  DATAMAP_FILE_ENV,
  DEFAULT_EXPORT_URL_TTL_SECONDS,
  LETHE_ENV,
} from '../aws/config';
import type { LetheResources } from '../deps';
import { acknowledgeRule, acknowledgeWildcardResource, XRAY_WILDCARD_REASON } from './nag';

/** The project root: NodejsFunction bundles from here with the lockfile found here. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/**
 * Context flag for building a stack only to read its state machine definitions (the local
 * runtime does): functions get placeholder code, so neither the handler files, the lockfile nor
 * esbuild are needed, and an installed package or a built tree can synthesize the definition.
 * The definition is the same: it references functions by logical id only.
 */
export const DEFINITION_ONLY_CONTEXT = 'lethe:definitionOnly';

/**
 * The package entry points esbuild prefers: the ES module build first. The AWS SDK ships both;
 * its CommonJS build is one file per package that the bundler must keep whole, while its ES
 * modules let it drop what a function never calls (about 300 KB of the SDK per function).
 */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/** Log level of the functions' structured logger. */
export type FunctionLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LetheFunctionProps {
  /** The handler file, e.g. `lambdas/verify.ts` (relative to the project root, or absolute). */
  readonly entry: string;
  readonly description?: string;
  /** The customer-managed key: encrypts the log group; its id goes to LETHE_KMS_KEY_ID. */
  readonly key: kms.IKey;
  /** Names of lethe's own tables and buckets, set as the reserved LETHE_* variables. */
  readonly resources: Omit<LetheResources, 'kmsKeyId' | 'auditBucketVersioned'>;
  /** The data map as JSON: bundled as BUNDLED_DATAMAP_FILE next to the handler. */
  readonly dataMapJson: string;
  /** The HMAC keys secret, for the functions allowed to read it (the grant is separate). */
  readonly hmacSecretArn?: string;
  /** The state machine, for the function that starts executions (the grant is separate). */
  readonly stateMachineArn?: string;
  /** The sweep state machine, for the console, which starts sweeps (the grant is separate). */
  readonly sweepStateMachineArn?: string;
  /** Default 512 MB. */
  readonly memorySize?: number;
  /** Default one minute. */
  readonly timeout?: Duration;
  /** Default one year. */
  readonly logRetention?: logs.RetentionDays;
  /** Default info. */
  readonly logLevel?: FunctionLogLevel;
  /** Default 86,400 (one day). */
  readonly exportUrlTtlSeconds?: number;
  /** Days an ended request's record is kept before the sweep purges it; default: not set (24 months). */
  readonly requestRecordDays?: number;
  /** More variables; names lethe reserves (LETHE_*, NODE_OPTIONS, LOG_LEVEL, ...) are refused. */
  readonly environment?: Record<string, string>;
}

/** The console's own variables (lib/infra/console.ts), which it passes as `environment`. */
const CONSOLE_ENV_NAMES = new Set<string>(Object.values(CONSOLE_ENV));
const RESERVED_ENV = new Set<string>([...Object.values(LETHE_ENV), 'NODE_OPTIONS', DATAMAP_FILE_ENV]);

/**
 * A lethe Lambda function: NodejsFunction with fixed, secure defaults. Node.js 22 on ARM64,
 * active X-Ray tracing, its own role with no managed policies (an explicit log-writing
 * grant on its own log group instead of AWSLambdaBasicExecutionRole), a log group with
 * retention encrypted with the CMK, and a minified bundle with source maps built by the local
 * esbuild (never Docker). Every permission beyond logging is granted by the caller, step by
 * step, on `role`.
 */
export class LetheFunction extends Construct {
  public readonly fn: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: LetheFunctionProps) {
    super(scope, id);
    const reserved = Object.keys(props.environment ?? {}).filter(
      (name) => (RESERVED_ENV.has(name) || name.startsWith('LETHE_')) && !CONSOLE_ENV_NAMES.has(name),
    );
    if (reserved.length > 0) {
      throw new Error(
        `${this.node.path}: environment variables ${reserved.join(', ')} are reserved by lethe`,
      );
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `lethe ${id}: only what this step uses`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: props.key,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup.grantWrite(this.role);

    const environment: Record<string, string> = {
      ...props.environment,
      [LETHE_ENV.requestsTable]: props.resources.requestsTable,
      [LETHE_ENV.auditTable]: props.resources.auditTable,
      [LETHE_ENV.holdsTable]: props.resources.holdsTable,
      [LETHE_ENV.manifestsBucket]: props.resources.manifestsBucket,
      [LETHE_ENV.exportsBucket]: props.resources.exportsBucket,
      [LETHE_ENV.kmsKeyId]: props.key.keyArn,
      [LETHE_ENV.exportUrlTtlSeconds]: String(props.exportUrlTtlSeconds ?? DEFAULT_EXPORT_URL_TTL_SECONDS),
      [LETHE_ENV.logLevel]: props.logLevel ?? 'info',
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.hmacSecretArn) environment[LETHE_ENV.hmacSecretArn] = props.hmacSecretArn;
    if (props.resources.auditBucket) environment[LETHE_ENV.auditBucket] = props.resources.auditBucket;
    if (props.resources.identityIndexTable)
      environment[LETHE_ENV.identityIndexTable] = props.resources.identityIndexTable;
    if (props.resources.suppressionTable)
      environment[LETHE_ENV.suppressionTable] = props.resources.suppressionTable;
    if (props.stateMachineArn) environment[LETHE_ENV.stateMachineArn] = props.stateMachineArn;
    if (props.sweepStateMachineArn) environment[LETHE_ENV.sweepStateMachineArn] = props.sweepStateMachineArn;
    if (props.requestRecordDays !== undefined)
      environment[LETHE_ENV.requestRecordDays] = String(props.requestRecordDays);

    const common = {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment,
    };
    this.fn =
      this.node.tryGetContext(DEFINITION_ONLY_CONTEXT) === true
        ? new lambda.Function(this, 'Function', {
            ...common,
            code: lambda.Code.fromInline(
              'exports.handler = async () => { throw new Error("definition only"); };',
            ),
            handler: 'index.handler',
          })
        : this.bundled(props, common);

    acknowledgeWildcardResource(this.role, '*', XRAY_WILDCARD_REASON);
    acknowledgeRule(
      this.fn,
      'L1',
      'Node.js 22 is the runtime lethe is built and tested for (the embedded runtime runs the same handlers on Node 22); moving to a newer runtime is a deliberate, tested upgrade.',
    );
  }

  private bundled(
    props: LetheFunctionProps,
    common: Omit<nodejs.NodejsFunctionProps, 'entry'>,
  ): lambda.Function {
    return new nodejs.NodejsFunction(this, 'Function', {
      ...common,
      entry: resolve(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        format: nodejs.OutputFormat.CJS,
        mainFields: BUNDLE_MAIN_FIELDS,
        // Bundle the AWS SDK too: the versions the tests ran against, not the runtime's.
        externalModules: [],
        // The data map as a file, not an esbuild `define`: a define is one command-line argument,
        // and a data map of some 140 stores exceeds what one argument may hold (E2BIG).
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => [
            `cp ${shellQuote(dataMapFile(this, props.dataMapJson))} ${shellQuote(join(outputDir, BUNDLED_DATAMAP_FILE))}`,
          ],
        },
        forceDockerBundling: false,
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
  }
}

/** A word for bash -c, taken literally. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The data map JSON as a file in the cloud assembly's directory, named by its digest: written
 * once per synthesis and data map, however many functions bundle it.
 */
function dataMapFile(scope: Construct, json: string): string {
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const file = join(Stage.of(scope)?.outdir ?? tmpdir(), `lethe-datamap-${digest}.json`);
  if (!existsSync(file)) writeFileSync(file, json);
  return file;
}
