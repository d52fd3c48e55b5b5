/**
 * Errors of legal holds. Each has a stable `name`, and no message holds an identifier or a
 * record key.
 */

/** A hold that cannot be placed as given: the message says what to give instead. */
export class InvalidHoldError extends Error {
  override readonly name = 'InvalidHoldError';
}

export class HoldNotFoundError extends Error {
  override readonly name = 'HoldNotFoundError';
  constructor(readonly holdId: string) {
    super(`legal hold ${holdId} does not exist; list the holds with "lethe hold list"`);
  }
}

export class HoldAlreadyReleasedError extends Error {
  override readonly name = 'HoldAlreadyReleasedError';
  constructor(
    readonly holdId: string,
    readonly releasedAt: string | undefined,
  ) {
    super(`legal hold ${holdId} was released already${releasedAt ? ` (${releasedAt})` : ''}`);
  }
}
