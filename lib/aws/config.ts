import * as z from 'zod';

/**
 * The environment variables a lethe Lambda function reads. The stack sets them (see
 * lib/infra/lethe-function.ts) and names its outputs' descriptions after them, the runtime
 * parses them (lib/aws/deps.ts) and the CLI's aws target reads the outputs by them: all import
 * these names from here, so they can never drift apart.
 */
export const LETHE_ENV = {
  requestsTable: 'LETHE_REQUESTS_TABLE',
  auditTable: 'LETHE_AUDIT_TABLE',
  holdsTable: 'LETHE_HOLDS_TABLE',
  /** Only for the functions that read or keep the identity index of shared-object stores. */
  identityIndexTable: 'LETHE_IDENTITY_INDEX_TABLE',
  /** The suppression list; only for the functions that read or write it (and the CLI). */
  suppressionTable: 'LETHE_SUPPRESSION_TABLE',
  manifestsBucket: 'LETHE_MANIFESTS_BUCKET',
  exportsBucket: 'LETHE_EXPORTS_BUCKET',
  /** Only for the functions that anchor the audit log (the sweep's last steps), and the CLI. */
  auditBucket: 'LETHE_AUDIT_BUCKET',
  kmsKeyId: 'LETHE_KMS_KEY_ID',
  /** Only for the functions that may read the HMAC keys (hmacKeys in lib/infra/lethe-grants.ts). */
  hmacSecretArn: 'LETHE_HMAC_SECRET_ARN',
  /** Only for the intake function, which starts executions. */
  stateMachineArn: 'LETHE_STATE_MACHINE_ARN',
  /** The deployed console starts sweeps by it; the CLI's aws target finds the sweep machine by it in the stack outputs. */
  sweepStateMachineArn: 'LETHE_SWEEP_STATE_MACHINE_ARN',
  /** The CLI's aws target finds the IndexBuild state machine by it in the stack outputs (a stack indexing a store has one). */
  indexBuildStateMachineArn: 'LETHE_INDEX_BUILD_STATE_MACHINE_ARN',
  exportUrlTtlSeconds: 'EXPORT_URL_TTL_SECONDS',
  /** Only where the stack sets a period other than the default: days an ended request's record is kept. */
  requestRecordDays: 'REQUEST_RECORD_DAYS',
  logLevel: 'LOG_LEVEL',
} as const;

/**
 * The data map's file in every function's bundle, next to the handler: the stack writes the data
 * map as JSON and copies it in after bundling, so it travels with the code (an environment
 * variable holds 4 KB; a data map of a few hundred stores is a few hundred KB).
 */
export const BUNDLED_DATAMAP_FILE = 'datamap.json';

/** Outside Lambda (tests, a container of one's own): the data map JSON file to read instead. */
export const DATAMAP_FILE_ENV = 'LETHE_DATAMAP_FILE';

export const DEFAULT_EXPORT_URL_TTL_SECONDS = 86_400;
/** The SigV4 limit; createLetheDeps checks it again (kept here so the stack need not load the SDK). */
const MAX_EXPORT_URL_TTL_SECONDS = 7 * 24 * 60 * 60;

export const logLevelSchema = z.enum(['debug', 'info', 'warn', 'error']);

const name = (what: string) => z.string({ error: `required: the ${what}; the stack sets it` }).min(1);

const configSchema = z.object({
  [LETHE_ENV.requestsTable]: name('requests table name'),
  [LETHE_ENV.auditTable]: name('audit table name'),
  [LETHE_ENV.holdsTable]: name('holds table name'),
  [LETHE_ENV.manifestsBucket]: name('manifests bucket name'),
  [LETHE_ENV.exportsBucket]: name('exports bucket name'),
  [LETHE_ENV.auditBucket]: z.string().min(1).optional(),
  [LETHE_ENV.identityIndexTable]: z.string().min(1).optional(),
  [LETHE_ENV.suppressionTable]: z.string().min(1).optional(),
  [LETHE_ENV.kmsKeyId]: z.string().min(1).optional(),
  [LETHE_ENV.hmacSecretArn]: z
    .string()
    .regex(/^arn:[a-z-]+:secretsmanager:/, 'must be a Secrets Manager secret ARN')
    .optional(),
  [LETHE_ENV.stateMachineArn]: z
    .string()
    .regex(
      /^arn:[a-z-]+:states:[^:]*:[^:]*:stateMachine:[^:]+$/,
      'must be a Step Functions state machine ARN',
    )
    .optional(),
  [LETHE_ENV.exportUrlTtlSeconds]: z.coerce
    .number({ error: 'must be a whole number of seconds' })
    .int('must be a whole number of seconds')
    .min(60, 'must be at least 60 seconds')
    .max(MAX_EXPORT_URL_TTL_SECONDS, `must be at most ${MAX_EXPORT_URL_TTL_SECONDS} seconds (7 days)`)
    .default(DEFAULT_EXPORT_URL_TTL_SECONDS),
  [LETHE_ENV.requestRecordDays]: z.coerce
    .number({ error: 'must be a whole number of days' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .optional(),
  [LETHE_ENV.logLevel]: z
    .string()
    .transform((level) => level.toLowerCase())
    .pipe(logLevelSchema)
    .default('info'),
});

/** The runtime configuration of a lethe function, read from its environment. */
export interface LetheConfig {
  resources: {
    requestsTable: string;
    auditTable: string;
    holdsTable: string;
    manifestsBucket: string;
    exportsBucket: string;
    kmsKeyId?: string;
    /** The audit bucket: versioned, with Object Lock, wherever the stack made it. */
    auditBucket?: string;
    auditBucketVersioned?: boolean;
    identityIndexTable?: string;
    suppressionTable?: string;
  };
  hmacSecretArn?: string;
  stateMachineArn?: string;
  exportUrlTtlSeconds: number;
  /** Days an ended request's record is kept; absent: the default (24 months). */
  requestRecordDays?: number;
  logLevel: z.infer<typeof logLevelSchema>;
}

/** A function's environment is wrong: names the variable and what it must be. */
export class LetheConfigError extends Error {
  override readonly name = 'LetheConfigError';
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`invalid lethe configuration: ${variable}: ${problem}`);
  }
}

/**
 * Parses a function's environment.
 * @throws LetheConfigError naming the first variable that is missing or invalid
 */
export function parseLetheConfig(env: Record<string, string | undefined>): LetheConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LetheConfigError(String(issue?.path[0] ?? '(environment)'), issue?.message ?? 'invalid');
  }
  const data = parsed.data;
  const kmsKeyId = data[LETHE_ENV.kmsKeyId];
  const auditBucket = data[LETHE_ENV.auditBucket];
  const identityIndexTable = data[LETHE_ENV.identityIndexTable];
  const suppressionTable = data[LETHE_ENV.suppressionTable];
  const hmacSecretArn = data[LETHE_ENV.hmacSecretArn];
  const stateMachineArn = data[LETHE_ENV.stateMachineArn];
  const requestRecordDays = data[LETHE_ENV.requestRecordDays];
  return {
    resources: {
      requestsTable: data[LETHE_ENV.requestsTable],
      auditTable: data[LETHE_ENV.auditTable],
      holdsTable: data[LETHE_ENV.holdsTable],
      manifestsBucket: data[LETHE_ENV.manifestsBucket],
      exportsBucket: data[LETHE_ENV.exportsBucket],
      ...(kmsKeyId ? { kmsKeyId } : {}),
      ...(auditBucket ? { auditBucket, auditBucketVersioned: true } : {}),
      ...(identityIndexTable ? { identityIndexTable } : {}),
      ...(suppressionTable ? { suppressionTable } : {}),
    },
    ...(hmacSecretArn ? { hmacSecretArn } : {}),
    ...(stateMachineArn ? { stateMachineArn } : {}),
    exportUrlTtlSeconds: data[LETHE_ENV.exportUrlTtlSeconds],
    ...(requestRecordDays !== undefined ? { requestRecordDays } : {}),
    logLevel: data[LETHE_ENV.logLevel],
  };
}

/** The user pool groups of the deployed console: privacy staff may act, auditors may only read. */
export const CONSOLE_GROUPS = { act: 'privacy-staff', read: 'auditors' } as const;

/** The cookie holding a staff member's Cognito ID token: `__Host-`, so only this origin over TLS sets and gets it. */
export const CONSOLE_ID_TOKEN_COOKIE = '__Host-lethe_id';

/** The console's paths API Gateway serves without the authoriser: the sign-in and sign-out themselves. */
export const CONSOLE_SIGN_IN_PATHS = ['/auth/login', '/auth/callback', '/auth/logout'] as const;

/** What the console's functions read besides LETHE_ENV: the user pool and its app client. */
export const CONSOLE_ENV = {
  userPoolId: 'LETHE_CONSOLE_USER_POOL_ID',
  clientId: 'LETHE_CONSOLE_CLIENT_ID',
  /** The Hosted UI's address, for the sign-in redirect. */
  hostedUiUrl: 'LETHE_CONSOLE_HOSTED_UI_URL',
  /** `read` (the GET routes: no write grant) or `act` (the POST routes). */
  mode: 'LETHE_CONSOLE_MODE',
} as const;
