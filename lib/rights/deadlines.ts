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

/** What the law allows one request's single extension to do, given where it stands. */
export interface ExtensionRequest {
  jurisdiction: Jurisdiction;
  receivedAt: string;
  dueAt: string;
  /** The extension already granted, if any: the law allows one. */
  extension?: { at: string; days: number };
}

const LAW_NAMES: Record<Jurisdiction, string> = { gdpr: 'GDPR Art. 12(3)', ccpa: 'CCPA §1798.130(a)(2)' };
const FURTHER_PERIOD: Record<Jurisdiction, string> = { gdpr: 'two further months', ccpa: '45 further days' };

/**
 * The due date after extending a request by `days`, or why the law does not allow it: one
 * extension only, decided (and told to the subject) within the original period, reaching at most
 * the law's limit (maximumExtendedDueDate: GDPR two further months, CCPA 45 further days).
 * @returns the new due date, or `refused` with a sentence saying which rule and the limit
 */
export function extendedDueDate(
  request: ExtensionRequest,
  days: number,
  now: Date,
): { dueAt: Date } | { refused: string } {
  const law = LAW_NAMES[request.jurisdiction];
  if (!Number.isInteger(days) || days < 1)
    return { refused: `--days must be a whole number of days, at least 1` };
  if (request.extension) {
    return {
      refused: `${law} allows one extension, and this request was extended on ${request.extension.at.slice(0, 10)} by ${request.extension.days} days`,
    };
  }
  const dueAt = new Date(request.dueAt);
  if (now.getTime() > dueAt.getTime()) {
    return {
      refused: `${law}: an extension must be decided and told to the subject within the original period, which ended ${request.dueAt.slice(0, 10)}`,
    };
  }
  const extended = addDays(dueAt, days);
  const limit = maximumExtendedDueDate(request.jurisdiction, new Date(request.receivedAt));
  if (extended.getTime() > limit.getTime()) {
    return {
      refused: `${law} allows at most ${FURTHER_PERIOD[request.jurisdiction]}: the latest due date is ${limit.toISOString().slice(0, 10)}, and ${days} days would reach ${extended.toISOString().slice(0, 10)}`,
    };
  }
  return { dueAt: extended };
}
