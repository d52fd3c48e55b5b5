import fc from 'fast-check';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  isRetryableError,
  type RetryPolicy,
  waitBeforeRetry,
  withRetry,
} from '../../../lib/stores/retry';
import { propertyRun } from '../../helpers/property';

function namedError(name: string, extra: Record<string, unknown> = {}): Error {
  const error = new Error(`${name} (test)`);
  error.name = name;
  return Object.assign(error, extra);
}

function policyWith(overrides: Partial<RetryPolicy> = {}): RetryPolicy & { slept: number[] } {
  const slept: number[] = [];
  return {
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...overrides,
    slept,
  };
}

describe('backoffDelay', () => {
  it('grows exponentially from the base delay until the cap', () => {
    // prepare: random just below 1 gives (almost) the ceiling of each attempt
    const policy = policyWith({ random: () => 0.999999 });
    // act
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(policy, attempt));
    // assess: 100, 200, 400, 800, then capped at 1,000
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('never exceeds maxDelayMs, however many attempts (no overflow to Infinity or NaN)', () => {
    // prepare
    const policy = policyWith({ random: () => 0.999999 });
    // act
    const delay = backoffDelay(policy, 5_000);
    // assess
    expect(delay).toBe(999);
  });

  it('uses full jitter: anywhere from 0 up to the capped ceiling', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseDelayMs, maxDelayMs, random) => {
          // prepare
          const policy = { maxAttempts: 8, baseDelayMs, maxDelayMs, random: () => random };
          const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
          // act
          const delay = backoffDelay(policy, attempt);
          // assess
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling);
          expect(delay).toBe(Math.floor(random * ceiling));
        },
      ),
      propertyRun(),
    );
  });

  it('reaches both ends of the jitter range', () => {
    // prepare
    const low = policyWith({ random: () => 0 });
    const half = policyWith({ random: () => 0.5 });
    // act / assess
    expect(backoffDelay(low, 3)).toBe(0);
    expect(backoffDelay(half, 3)).toBe(200);
  });

  it('uses Math.random when no random source is injected', () => {
    // prepare
    const policy = { ...DEFAULT_RETRY_POLICY };
    // act
    const delays = Array.from({ length: 50 }, () => backoffDelay(policy, 4));
    // assess: within [0, 400) and not all equal
    expect(delays.every((delay) => delay >= 0 && delay < 400)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});

describe('waitBeforeRetry', () => {
  it('sleeps the backoff delay through the injected sleep', async () => {
    // prepare
    const policy = policyWith({ random: () => 0.5 });
    // act
    await waitBeforeRetry(policy, 2);
    // assess
    expect(policy.slept).toEqual([100]);
  });
});

describe('isRetryableError', () => {
  it.each([
    ['ThrottlingException', namedError('ThrottlingException')],
    ['ProvisionedThroughputExceededException', namedError('ProvisionedThroughputExceededException')],
    ['SlowDown', namedError('SlowDown')],
    ['a request that timed out', namedError('TimeoutError')],
    ['an HTTP 503', namedError('SomethingElse', { $metadata: { httpStatusCode: 503 } })],
    ['an HTTP 429', namedError('SomethingElse', { $metadata: { httpStatusCode: 429 } })],
    ['an SDK-marked retryable error', namedError('SomethingElse', { $retryable: {} })],
    ['a reset connection', namedError('Error', { code: 'ECONNRESET' })],
  ])('retries %s', (_label, error) => {
    // act / assess
    expect(isRetryableError(error)).toBe(true);
  });

  it.each([
    ['ValidationException', namedError('ValidationException', { $metadata: { httpStatusCode: 400 } })],
    ['ConditionalCheckFailedException', namedError('ConditionalCheckFailedException')],
    ['AccessDeniedException', namedError('AccessDeniedException', { $metadata: { httpStatusCode: 403 } })],
    ['a non-Error value', 'ThrottlingException'],
  ])('does not retry %s', (_label, error) => {
    // act / assess
    expect(isRetryableError(error)).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries retryable errors with backoff and returns the eventual result', async () => {
    // prepare
    const policy = policyWith({ random: () => 0.5 });
    const attempts: number[] = [];
    // act
    const result = await withRetry(policy, async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw namedError('ThrottlingException');
      return 'done';
    });
    // assess
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
    expect(policy.slept).toEqual([50, 100]);
  });

  it('throws a non-retryable error at once, without sleeping', async () => {
    // prepare
    const policy = policyWith();
    const operation = jest.fn(async () => {
      throw namedError('ValidationException');
    });
    // act
    const outcome = withRetry(policy, operation);
    // assess
    await expect(outcome).rejects.toMatchObject({ name: 'ValidationException' });
    expect(operation).toHaveBeenCalledTimes(1);
    expect(policy.slept).toEqual([]);
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    // prepare
    const policy = policyWith({ maxAttempts: 4 });
    let calls = 0;
    // act
    const outcome = withRetry(policy, async () => {
      calls += 1;
      throw namedError('ThrottlingException', { message: `throttled ${calls}` });
    });
    // assess
    await expect(outcome).rejects.toThrow('throttled 4');
    expect(calls).toBe(4);
    expect(policy.slept).toHaveLength(3);
  });

  it('makes exactly one attempt when maxAttempts is 1', async () => {
    // prepare
    const policy = policyWith({ maxAttempts: 1 });
    const operation = jest.fn(async () => {
      throw namedError('ThrottlingException');
    });
    // act / assess
    await expect(withRetry(policy, operation)).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(operation).toHaveBeenCalledTimes(1);
  });
});
