import { assertNoIdentifiers } from '../audit/free-text';
import { parseIso8601 } from '../datamap/timestamps';
import { REQUEST_ID_PATTERN } from '../rights/request-values';
import { UsageError } from './errors';

/**
 * Checks of what was typed on the command line that need nothing but the text: made before
 * anything is opened, so that input that cannot be right is refused in one line with nothing
 * started and nothing written.
 */

/** At most 80 characters of what was typed, in quotes, for a message that says what is wrong with it. */
export function quoted(value: string): string {
  return `"${value.slice(0, 80)}${value.length > 80 ? '…' : ''}"`;
}

/** Refuses what cannot be a request id. */
export function checkRequestId(requestId: string, option = 'a request id'): void {
  if (typeof requestId !== 'string' || !REQUEST_ID_PATTERN.test(requestId)) {
    throw new UsageError(
      `${quoted(requestId)} is not ${option}: request ids are 8 to 64 letters, digits, - or _ (see lethe request list)`,
    );
  }
}

/** A date and time: the date, `T`, hours and minutes, optional seconds and fraction, optional offset. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * `--now` as the sweep reads it: an ISO-8601 date and time whose every field is in range (no
 * February 30, no April 31, no 24:00), returned in the canonical UTC form.
 */
export function checkNow(now: string): string {
  const ms = DATE_TIME.test(now) ? parseIso8601(now) : undefined;
  if (ms === undefined) {
    throw new UsageError(
      `--now must be an ISO-8601 date and time that exists, YYYY-MM-DDTHH:MM:SSZ such as 2026-11-01T03:00:00Z (hours 00 to 23, days the month has); got ${quoted(now)}`,
    );
  }
  return new Date(ms).toISOString();
}

/** The shortest reason that can say anything. */
const MIN_REASON_LENGTH = 3;

/**
 * A reason kept in the audit log, checked as far as the text alone allows: long enough to say
 * something, short, one line of plain text, no email address or phone number. The command checks
 * it again against the subject's identities once it has them.
 */
export function checkReasonText(reason: string, option = '--reason'): void {
  const text = (reason ?? '').trim();
  if (text.length < MIN_REASON_LENGTH) {
    throw new UsageError(`give the reason with ${option}, e.g. ${option} "Litigation hold, case 2026-0042"`);
  }
  assertNoIdentifiers(text, [], `the reason (${option})`);
}

/** A whole number written in decimal digits only (no sign, point, exponent or hex), or NaN. */
export function wholeNumber(text: string): number {
  return /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
}
