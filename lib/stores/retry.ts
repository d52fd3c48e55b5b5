/**
 * Capped exponential backoff with full jitter, shared by every adapter that retries
 * partial failures (UnprocessedItems, throttling, per-key S3 errors).
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injectable for tests, so fault tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests; defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 5_000 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full-jitter delay before retry number `attempt` (1 for the first retry), capped at maxDelayMs. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor((policy.random ?? Math.random)() * ceiling);
}

/** Waits the backoff delay for retry number `attempt`. */
export function waitBeforeRetry(policy: RetryPolicy, attempt: number): Promise<void> {
  return (policy.sleep ?? realSleep)(backoffDelay(policy, attempt));
}

/**
 * The names the AWS SDK gives throttling and transient server errors of DynamoDB and S3 (S3's
 * InternalError and SlowDown have no modelled class). The adapters retry them; a step that still
 * fails with one is retried by the workflow (lib/workflow/tasks.ts), so both share this list.
 */
export const TRANSIENT_AWS_ERROR_NAMES: readonly string[] = [
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'TransactionConflictException',
  // A request that got no answer in time (the SDK's socket and connection timeouts).
  'TimeoutError',
];

const RETRYABLE_ERROR_NAMES = new Set(TRANSIENT_AWS_ERROR_NAMES);

/** Whether an AWS SDK error is worth retrying: throttling, 5xx or a transient network failure. */
export function isRetryableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const withMetadata = error as Error & {
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    code?: string;
  };
  if (RETRYABLE_ERROR_NAMES.has(error.name)) return true;
  if (withMetadata.$retryable) return true;
  const status = withMetadata.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  return ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED'].includes(withMetadata.code ?? '');
}

/**
 * Runs `operation`, retrying retryable errors with backoff until the policy's attempts are spent.
 * @throws the last error when it is not retryable or attempts are exhausted
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isRetryableError(error)) throw error;
      await waitBeforeRetry(policy, attempt);
    }
  }
}
