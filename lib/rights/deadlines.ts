import type { Jurisdiction } from './request';

/**
 * Adds calendar months the way GDPR Art. 12(3) counts "one month": the same day of the
 * month after; when that month is shorter (31 Jan + 1 month), the last day of that month.
 */
export function addCalendarMonths(from: Date, months: number): Date {
  const result = new Date(from.getTime());
  const day = from.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

function addDays(from: Date, days: number): Date {
  return new Date(from.getTime() + days * 24 * 60 * 60 * 1000);
}

/**
 * The date a request must be answered by: GDPR one calendar month from receipt
 * (Art. 12(3)); CCPA 45 calendar days (Cal. Civ. Code §1798.130(a)(2)).
 */
export function dueDate(jurisdiction: Jurisdiction, receivedAt: Date): Date {
  return jurisdiction === 'gdpr' ? addCalendarMonths(receivedAt, 1) : addDays(receivedAt, 45);
}

/**
 * The latest date an extension may reach: GDPR two further months (Art. 12(3)),
 * CCPA a further 45 days.
 */
export function maximumExtendedDueDate(jurisdiction: Jurisdiction, receivedAt: Date): Date {
  return jurisdiction === 'gdpr' ? addCalendarMonths(receivedAt, 3) : addDays(receivedAt, 90);
}
