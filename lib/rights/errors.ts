/**
 * Errors of the request workflow. Each has a stable `name`: Step Functions Retry and
 * Catch match on it. Messages never contain a subject identifier.
 */
export class RequestNotFoundError extends Error {
  override readonly name = 'RequestNotFoundError';
  constructor(readonly requestId: string) {
    super(`request ${requestId} does not exist`);
  }
}

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

export class RequestAlreadyExistsError extends Error {
  override readonly name = 'RequestAlreadyExistsError';
  constructor(readonly requestId: string) {
    super(`request ${requestId} already exists with different content; use a new request id`);
  }
}

/** Confirm found records of the subject that erasure should have removed. */
export class ResidualDataError extends Error {
  override readonly name = 'ResidualDataError';
  constructor(readonly remaining: { store: string; count: number }[]) {
    super(
      `erasure incomplete: ${remaining.map((entry) => `${entry.count} record(s) remain in store ${entry.store}`).join('; ')}`,
    );
  }
}

/** Confirm found an export package that does not match what was located. */
export class ExportMismatchError extends Error {
  override readonly name = 'ExportMismatchError';
}

/** A step was invoked in a state the request is not in (e.g. erasing a completed request). */
export class RequestStateError extends Error {
  override readonly name = 'RequestStateError';
}

/**
 * An execution ran an attempt of a request that has moved on (it was retried or reviewed since):
 * the stale run must not act on the request. Never retried.
 */
export class StaleAttemptError extends Error {
  override readonly name = 'StaleAttemptError';
  constructor(
    readonly requestId: string,
    readonly attempt: number,
    readonly current: number,
  ) {
    super(`request ${requestId} is on attempt ${current}; this execution ran attempt ${attempt} and stops`);
  }
}

/** Confirm read a store's records again and found some that do not hold what the request wrote. */
export class RecordsMismatchError extends Error {
  override readonly name = 'RecordsMismatchError';
  constructor(readonly mismatched: { store: string; count: number }[]) {
    super(
      `records not as the request left them: ${mismatched.map((entry) => `${entry.count} record(s) in store ${entry.store}`).join('; ')}`,
    );
  }
}
