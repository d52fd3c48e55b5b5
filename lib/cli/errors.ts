import type { DataMapError } from '../datamap/load';
import type { ImportError } from '../local/import-errors';

/** Exit codes of the lethe CLI. */
export const EXIT = { ok: 0, requestFailed: 1, badInput: 2 } as const;

/** A command was called wrongly: the message says what and how to call it. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Errors that mean the input was wrong, not that lethe failed: exit 2, one clear line. */
const BAD_INPUT_ERRORS = new Set([
  'UsageError',
  'DataMapError',
  'InvalidRequestError',
  'InvalidIdentityError',
  'UnknownStoreError',
  'ImportError',
  'LocalStateError',
  'LocalStoreLockedError',
  'RequestNotFoundError',
  'RequestAlreadyExistsError',
  'RequestStateError',
  'AwsTargetError',
  'LetheConfigError',
  'InvalidHoldError',
  'InvalidFreeTextError',
  'HoldNotFoundError',
  'HoldAlreadyReleasedError',
  'NoRetentionRuleError',
  'InvalidSweepInputError',
  'InvalidSweepIdError',
  'InvalidReportPeriodError',
  'DiscoveryInputError',
  'NothingDiscoveredError',
]);

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  return error instanceof Error && BAD_INPUT_ERRORS.has(error.name) ? EXIT.badInput : EXIT.requestFailed;
}

/**
 * What to print for an error that ended a command: one line, or for a data map with several
 * problems, or an import file with bad lines, a line that says so and one line for each. The
 * message of any other error is one line by contract; a line break in it (a value someone typed)
 * is shown escaped, not obeyed.
 */
export function errorLines(error: Error): string[] {
  if (hasDetails(error)) return [error.summary, ...error.details];
  return [error.message];
}

/**
 * An error that lists its problems. Told by its name rather than by class, so that printing an
 * error does not load the modules (the data map's parser) that may never have been needed.
 */
function hasDetails(error: Error): error is DataMapError | ImportError {
  return (
    (error.name === 'DataMapError' || error.name === 'ImportError') &&
    typeof (error as Partial<DataMapError>).summary === 'string' &&
    Array.isArray((error as Partial<DataMapError>).details)
  );
}
