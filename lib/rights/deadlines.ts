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

/** A period as a law counts it: calendar months (GDPR Art. 12(3)) or calendar days. */
type Period = { months: number } | { days: number };

/**
 * Each law's period to answer, the further period one extension may add (undefined: the law sets
 * no limit, only that the subject is told the new date), and how staff cite it.
 */
interface DeadlineRule {
  answer: Period;
  further: Period | undefined;
  law: string;
  furtherInWords: string;
}

const US_STATE = (law: string): DeadlineRule => ({
  answer: { days: 45 },
  further: { days: 45 },
  law,
  furtherInWords: '45 further days',
});

/**
 * The deadlines per jurisdiction. The US state acts all give 45 days, extendable once by 45 when
 * reasonably necessary, except Iowa (90 days, extendable by 45).
 */
const RULES: Record<Jurisdiction, DeadlineRule> = {
  gdpr: {
    answer: { months: 1 },
    further: { months: 2 },
    law: 'GDPR Art. 12(3)',
    furtherInWords: 'two further months',
  },
  // UK GDPR Art. 12(3): one month, extendable by two further months, as the EU GDPR.
  'uk-gdpr': {
    answer: { months: 1 },
    further: { months: 2 },
    law: 'UK GDPR Art. 12(3)',
    furtherInWords: 'two further months',
  },
  // Swiss FADP: the Data Protection Ordinance (DPO, SR 235.11) Art. 18 gives 30 days; if that is
  // not enough the controller tells the subject the period within which it will answer. No upper
  // limit is set, so one extension of any length is allowed, told to the subject.
  fadp: {
    answer: { days: 30 },
    further: undefined,
    law: 'FADP (DPO Art. 18)',
    furtherInWords: 'no set limit',
  },
  ccpa: US_STATE('CCPA §1798.130(a)(2)'),
  'us-ca': US_STATE('CCPA §1798.130(a)(2)'),
  'us-va': US_STATE('Virginia CDPA §59.1-577'),
  'us-co': US_STATE('Colorado CPA §6-1-1306'),
  'us-ct': US_STATE('Connecticut CTDPA §42-518'),
  'us-ut': US_STATE('Utah CPA §13-61-203'),
  'us-tx': US_STATE('Texas DPSA §541.052'),
  'us-or': US_STATE('Oregon CPA §646A.576'),
  'us-mt': US_STATE('Montana CDPA'),
  'us-ia': { ...US_STATE('Iowa CDPA §715D.4'), answer: { days: 90 } },
  'us-de': US_STATE('Delaware PDPA'),
  'us-nh': US_STATE('New Hampshire privacy act (RSA 507-H)'),
  'us-nj': US_STATE('New Jersey privacy act'),
  'us-tn': US_STATE('Tennessee Information Protection Act'),
  'us-mn': US_STATE('Minnesota CDPA'),
  'us-md': US_STATE('Maryland ODPA'),
  'us-in': US_STATE('Indiana CDPA'),
  'us-ky': US_STATE('Kentucky CDPA'),
  'us-ri': US_STATE('Rhode Island DTPPA'),
  'us-ne': US_STATE('Nebraska DPA'),
};

function addPeriod(from: Date, period: Period): Date {
  return 'months' in period ? addCalendarMonths(from, period.months) : addDays(from, period.days);
}

/**
 * The date a request must be answered by, from receipt: GDPR and UK GDPR one calendar month
 * (Art. 12(3)); FADP 30 days; CCPA and the US state acts 45 calendar days (Iowa 90).
 */
export function dueDate(jurisdiction: Jurisdiction, receivedAt: Date): Date {
  return addPeriod(receivedAt, RULES[jurisdiction].answer);
}

/**
 * The latest date an extension may reach, or undefined where the law sets none (FADP): GDPR and
 * UK GDPR two further months, CCPA and the US state acts a further 45 days.
 */
export function maximumExtendedDueDate(jurisdiction: Jurisdiction, receivedAt: Date): Date | undefined {
  const rule = RULES[jurisdiction];
  const { answer, further } = rule;
  if (!further) return undefined;
  // Counted from receipt as one period (31 Jan + three months is 30 Apr, not 28 Feb + two months).
  return 'months' in answer && 'months' in further
    ? addCalendarMonths(receivedAt, answer.months + further.months)
    : 'days' in answer && 'days' in further
      ? addDays(receivedAt, answer.days + further.days)
      : addPeriod(addPeriod(receivedAt, answer), further);
}

/** What the law allows one request's single extension to do, given where it stands. */
export interface ExtensionRequest {
  jurisdiction: Jurisdiction;
  receivedAt: string;
  dueAt: string;
  /** The extension already granted, if any: the law allows one. */
  extension?: { at: string; days: number };
}

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
  const law = RULES[request.jurisdiction].law;
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
  if (limit && extended.getTime() > limit.getTime()) {
    return {
      refused: `${law} allows at most ${RULES[request.jurisdiction].furtherInWords}: the latest due date is ${limit.toISOString().slice(0, 10)}, and ${days} days would reach ${extended.toISOString().slice(0, 10)}`,
    };
  }
  return { dueAt: extended };
}
