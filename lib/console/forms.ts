/**
 * Form input as the console reads it: every field a string (or a list of them), errors collected
 * per field so the page can show each message beside its field.
 */

export type FormBody = Record<string, unknown>;

/** A field the staff member got wrong: which, and what to do about it. */
export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Messages by field name (`_form` for one about the whole form). */
export type FieldErrors = Record<string, string>;

/** One text field: trimmed; a repeated field or a non-string counts as empty. */
export function text(body: FormBody | undefined, name: string): string {
  const value = body?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** A repeated field as a list (one value or none become a list too). */
export function texts(body: FormBody | undefined, name: string): string[] {
  const value = body?.[name];
  if (Array.isArray(value)) return value.map((entry) => (typeof entry === 'string' ? entry.trim() : ''));
  return typeof value === 'string' ? [value.trim()] : [];
}

/** `value` if it is one of `allowed`, else a FieldError for `field`. */
export function oneOf<T extends string>(
  value: string,
  allowed: readonly T[],
  field: string,
  what: string,
): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new FieldError(field, `choose ${what}: one of ${allowed.join(', ')}`);
}

/**
 * Runs `check`, turning what it throws into a message for `field`: domain errors (an invalid
 * identity, free text with an identifier) already say what to fix and never echo the value.
 * Anything else is not a validation error and is thrown on.
 */
export function checkField<T>(field: string, check: () => T, errors: FieldErrors): T | undefined {
  try {
    return check();
  } catch (error) {
    if (error instanceof FieldError) {
      errors[error.field] = error.message;
      return undefined;
    }
    if (error instanceof Error && VALIDATION_ERRORS.has(error.name)) {
      errors[field] = error.message;
      return undefined;
    }
    throw error;
  }
}

/**
 * Errors a domain function throws for input staff can correct: shown on the form, by its field
 * or at its top, with nothing changed.
 */
export const VALIDATION_ERRORS = new Set([
  'InvalidIdentityError',
  'InvalidFreeTextError',
  'InvalidHoldError',
  'InvalidRequestError',
  'UnknownStoreError',
  'NoRetentionRuleError',
  'InvalidSweepInputError',
  'RequestStateError',
  'RequestAlreadyExistsError',
  'HoldNotFoundError',
  'HoldAlreadyReleasedError',
  'InvalidReportPeriodError',
  'FieldError',
  'ZodError',
]);

/** A posted form as a handler starts on it: the body, the values shown back (never the CSRF token), no errors yet. */
export function postedForm(request: { body?: unknown }): {
  body: FormBody;
  values: Record<string, unknown>;
  errors: FieldErrors;
} {
  const body = (request.body ?? {}) as FormBody;
  return { body, values: { ...body, _csrf: undefined }, errors: {} };
}
