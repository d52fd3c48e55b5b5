import type { TimestampFormat } from './schema';

/**
 * The timestamp formats a data map declares for retention (`iso8601`, `epochSeconds`,
 * `epochMillis`): reading a stored value as epoch milliseconds, rounded down, and writing a
 * cut-off in a format so that a query or a filter selects exactly the records strictly before it
 * (the boundary rule of lib/retention/rules.ts).
 */

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/**
 * Parses an ISO-8601 date or date-time to epoch milliseconds (rounded down), or undefined when
 * the text is not one. Accepted: `2026-03-02`, `2026-03-02T11:28`, `2026-03-02T11:28:57`,
 * with a fraction of a second of any length, and with `Z`, `±hh`, `±hhmm` or `±hh:mm`.
 * A date-time without an offset is read as UTC (never as the machine's local time); a date alone
 * is midnight UTC. Upper-case `T` and `Z` only, and every field is range-checked, so nothing that
 * merely looks like a date (2026-02-30, 24:00) is read as one.
 */
export function parseIso8601(text: string): number | undefined {
  const match = ISO_8601.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, offset] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMs = 0;
  if (offset !== undefined && offset !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMinutes = Number(digits.slice(2) || 0);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offsetMs = (offset.startsWith('-') ? -1 : 1) * (offsetHours * HOUR_MS + offsetMinutes * MINUTE_MS);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number((fraction ?? '').slice(0, 3).padEnd(3, '0')));
  return date.getTime() - offsetMs;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * `floor(value × 10^scale)` for a decimal number given as text (DynamoDB's N), computed on the
 * digits so that 1772450937.533 seconds is exactly 1772450937533 ms, not a float off by a hair.
 * Exponent forms fall back to floating point. Undefined for anything that is not a finite number.
 */
function floorScaled(text: string, scale: number): number | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) {
    const value = Number(text);
    return text.trim() !== '' && Number.isFinite(value) ? Math.floor(value * 10 ** scale) : undefined;
  }
  const [, sign, whole, fraction = ''] = match;
  const kept = fraction.slice(0, scale).padEnd(scale, '0');
  const truncated = Number(`${whole}${kept}`);
  if (!Number.isSafeInteger(truncated)) return undefined;
  if (sign !== '-') return truncated;
  // For a negative value, rounding down goes away from zero when digits were cut off (+ 0: no -0).
  return /[1-9]/.test(fraction.slice(scale)) ? -truncated - 1 : -truncated + 0;
}

/**
 * A retention timestamp as epoch milliseconds (rounded down), or undefined when it is missing or
 * cannot be read in the declared format. `iso8601` takes a string; the epoch formats take a
 * number (as DynamoDB's N text, or a JS number). A number for iso8601, or a string for an epoch
 * format, is not read: the data map says what the attribute holds.
 */
export function parseTimestamp(
  format: TimestampFormat,
  value: string | number | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  if (format === 'iso8601') return typeof value === 'string' ? parseIso8601(value) : undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return parseEpochText(format, String(value));
}

/** Like {@link parseTimestamp} for an epoch format whose value is DynamoDB's N text. */
export function parseEpochText(
  format: Exclude<TimestampFormat, 'iso8601'>,
  text: string,
): number | undefined {
  return floorScaled(text, format === 'epochSeconds' ? 3 : 0);
}

/**
 * The cut-off as a DynamoDB N value in the store's epoch format, exact: milliseconds as an
 * integer, seconds as a decimal with three places (1772450937.533). `attribute < value` then
 * holds exactly for the records {@link isExpired} says have expired.
 */
export function epochCutoffValue(format: Exclude<TimestampFormat, 'iso8601'>, cutoffMs: number): string {
  if (format === 'epochMillis') return String(cutoffMs);
  const sign = cutoffMs < 0 ? '-' : '';
  const abs = Math.abs(cutoffMs);
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
}

/**
 * The sort-key bound for querying an iso8601 expiry index: the cut-off plus 15 hours, as
 * `toISOString()`. ISO strings sort by their local date-time, which for an offset up to +14:00
 * runs up to 14 hours ahead of UTC; querying below this bound returns every expired record
 * whatever its offset or precision, plus some that are not expired, which the in-code check
 * drops. (Strings that are not ISO-8601 at all may sort anywhere: such records are never purged.)
 */
export function iso8601QueryBound(cutoffMs: number): string {
  return new Date(cutoffMs + 15 * HOUR_MS).toISOString();
}
