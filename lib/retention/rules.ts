import type { DataMap } from '../datamap/schema';
import type { RetainedStore } from '../stores';

/**
 * Retention arithmetic, in UTC only, with ONE rule for the boundary, applied everywhere
 * (DynamoDB attributes in every encoding, S3 LastModified, the expiry-index query, the scan
 * filter and the in-code check):
 *
 *   the cut-off is `now − period`, subtracted calendar-wise in UTC, and a record EXPIRES when its
 *   timestamp is STRICTLY BEFORE the cut-off. A record exactly at the cut-off is kept.
 *
 * Timestamps are compared in whole milliseconds, rounded down: `floor(t) < cutoff` is exactly
 * `t < cutoff` because the cut-off is a whole millisecond. A timestamp that is missing or cannot
 * be read is never purged: the sweep counts it as `skipped`. How each timestamp format is read,
 * and how the cut-off is written in it for a query or a filter, is in lib/datamap/timestamps.ts.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const SECOND_MS = 1_000;

/** The ISO-8601 durations the data map accepts (whole numbers; Y, M, W, D, and T H, M, S). */
const DURATION =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** A period that is not an ISO-8601 duration lethe supports. */
export class InvalidDurationError extends Error {
  override readonly name = 'InvalidDurationError';
}

/** Parses an ISO-8601 duration such as P3Y, P13M, P1Y6M, P2W, P90D, PT12H. */
export function parseDuration(period: string): Duration {
  const match = DURATION.exec(period);
  if (!match) {
    throw new InvalidDurationError(
      `"${period}" is not an ISO-8601 duration such as P90D, P13M, P7Y or PT12H`,
    );
  }
  const part = (index: number) => Number(match[index] ?? 0);
  return {
    years: part(1),
    months: part(2),
    weeks: part(3),
    days: part(4),
    hours: part(5),
    minutes: part(6),
    seconds: part(7),
  };
}

/**
 * The retention cut-off: `now` minus `period`, in UTC.
 *
 * - Years and months are subtracted calendar-wise, keeping the day of the month and the time of
 *   day; when the target month is shorter, the day is clamped to its last day. P1M before
 *   31 March is 28 February (29 in a leap year); P1Y before 29 February 2028 is 28 February 2027.
 * - Weeks and days are then subtracted as 7 and 1 calendar days. UTC has no daylight saving
 *   time, so a day is always 24 hours.
 * - Hours, minutes and seconds last, as exact durations.
 *
 * A record expires when its timestamp is strictly before the cut-off (see {@link isExpired}).
 * @throws InvalidDurationError for a period lethe does not support
 * @throws RangeError for an invalid `now`
 */
export function cutoff(period: string, now: Date): Date {
  const duration = parseDuration(period);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a valid date');
  const months = now.getUTCFullYear() * 12 + now.getUTCMonth() - (duration.years * 12 + duration.months);
  const year = Math.floor(months / 12);
  const month = months - year * 12;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month + 1, 0);
  const lastDay = date.getUTCDate();
  date.setUTCFullYear(year, month, Math.min(now.getUTCDate(), lastDay));
  date.setUTCHours(now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds(), now.getUTCMilliseconds());
  const ms =
    date.getTime() -
    (duration.weeks * 7 + duration.days) * DAY_MS -
    duration.hours * HOUR_MS -
    duration.minutes * MINUTE_MS -
    duration.seconds * SECOND_MS;
  return new Date(ms);
}

/** THE boundary rule: expired when strictly before the cut-off; a timestamp at the cut-off is kept. */
export function isExpired(timestampMs: number, cutoffAt: Date | number): boolean {
  const limit = typeof cutoffAt === 'number' ? cutoffAt : cutoffAt.getTime();
  return timestampMs < limit;
}

/**
 * The longest a period can be, in whole days (a year counted as 366 days, a month as 31): a
 * native expiry (S3 lifecycle, DynamoDB TTL) set at least this long never removes a record
 * before the sweep would.
 */
export function maxPeriodDays(period: string): number {
  const d = parseDuration(period);
  const ms =
    (d.years * 366 + d.months * 31 + d.weeks * 7 + d.days) * DAY_MS +
    d.hours * HOUR_MS +
    d.minutes * MINUTE_MS +
    d.seconds * SECOND_MS;
  return Math.ceil(ms / DAY_MS);
}

// ---------------------------------------------------------------------------------------------
// Which stores, and where

/** The data map's stores that have a retention rule, in data-map order. */
export function storesWithRetention(dataMap: Pick<DataMap, 'stores'>): RetainedStore[] {
  return dataMap.stores.filter((store): store is RetainedStore => store.retention !== undefined);
}
