import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { JURISDICTIONS } from '../../../lib/datamap/request-kinds';
import {
  addCalendarMonths,
  dueDate,
  extendedDueDate,
  maximumExtendedDueDate,
} from '../../../lib/rights/deadlines';
import type { Jurisdiction } from '../../../lib/rights/request';
import { propertyRun } from '../../helpers/property';

const at = (iso: string) => new Date(iso);
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Due dates computed by a separate Node process in each of `zones`: Jest gives a test a copy of
 * process.env, so setting TZ inside the test would not reach the clock. Also reports each
 * instant's local day of the month, to show the zone was in effect.
 */
function dueDatesInZones(
  zones: string[],
  received: string[],
): { zone: string; localDays: number[]; gdpr: string[]; ccpa: string[] }[] {
  const script = `
    const { dueDate } = require('./lib/rights/deadlines');
    const received = ${JSON.stringify(received)}.map((iso) => new Date(iso));
    const results = ${JSON.stringify(zones)}.map((zone) => {
      process.env.TZ = zone;
      return {
        zone,
        localDays: received.map((date) => date.getDate()),
        gdpr: received.map((date) => dueDate('gdpr', date).toISOString()),
        ccpa: received.map((date) => dueDate('ccpa', date).toISOString()),
      };
    });
    process.stdout.write(JSON.stringify(results));
  `;
  const output = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: join(__dirname, '../../..'),
    encoding: 'utf8',
  });
  return JSON.parse(output);
}

describe('dueDate: GDPR, one calendar month from receipt (Art. 12(3))', () => {
  it.each([
    [
      'the same day of the next month, time of day kept',
      '2026-01-15T08:30:00.000Z',
      '2026-02-15T08:30:00.000Z',
    ],
    ['31 January: the last day of February', '2026-01-31T10:00:00.000Z', '2026-02-28T10:00:00.000Z'],
    ['31 January of a leap year: 29 February', '2028-01-31T10:00:00.000Z', '2028-02-29T10:00:00.000Z'],
    ['30 January: 28 February', '2026-01-30T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    ['29 January: 28 February', '2026-01-29T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    ['29 January of a leap year: 29 February', '2028-01-29T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['28 January: 28 February', '2026-01-28T00:00:00.000Z', '2026-02-28T00:00:00.000Z'],
    ['1900 was no leap year (divisible by 100)', '1900-01-31T00:00:00.000Z', '1900-02-28T00:00:00.000Z'],
    ['2000 was a leap year (divisible by 400)', '2000-01-31T00:00:00.000Z', '2000-02-29T00:00:00.000Z'],
    ['2100 is no leap year', '2100-01-31T00:00:00.000Z', '2100-02-28T00:00:00.000Z'],
    ['28 February: 28 March, not the end of March', '2026-02-28T12:00:00.000Z', '2026-03-28T12:00:00.000Z'],
    ['29 February: 29 March', '2028-02-29T12:00:00.000Z', '2028-03-29T12:00:00.000Z'],
    ['31 March: 30 April', '2026-03-31T09:00:00.000Z', '2026-04-30T09:00:00.000Z'],
    ['31 May: 30 June', '2026-05-31T09:00:00.000Z', '2026-06-30T09:00:00.000Z'],
    ['31 July: 31 August (two long months)', '2026-07-31T09:00:00.000Z', '2026-08-31T09:00:00.000Z'],
    ['31 August: 30 September', '2026-08-31T09:00:00.000Z', '2026-09-30T09:00:00.000Z'],
    ['30 September: 30 October', '2026-09-30T09:00:00.000Z', '2026-10-30T09:00:00.000Z'],
    ['31 October: 30 November', '2026-10-31T09:00:00.000Z', '2026-11-30T09:00:00.000Z'],
    ['30 November: 30 December', '2026-11-30T09:00:00.000Z', '2026-12-30T09:00:00.000Z'],
    ['31 December: 31 January of the next year', '2026-12-31T23:59:59.999Z', '2027-01-31T23:59:59.999Z'],
    ['1 January at midnight UTC', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
  ])('%s', (_case, received, expected) => {
    // prepare
    const receivedAt = at(received);

    // act
    const due = dueDate('gdpr', receivedAt);

    // assess
    expect(due.toISOString()).toBe(expected);
  });

  it.each([
    [
      'late on 31 January in New York is 1 February in UTC',
      '2026-01-31T23:30:00-05:00',
      '2026-03-01T04:30:00.000Z',
    ],
    [
      'early on 1 March in Berlin is still 28 February in UTC',
      '2026-03-01T00:30:00+01:00',
      '2026-03-28T23:30:00.000Z',
    ],
    [
      'early on 1 February in Tokyo is 31 January in UTC',
      '2026-02-01T08:00:00+09:00',
      '2026-02-28T23:00:00.000Z',
    ],
  ])('counts in UTC: %s', (_case, received, expected) => {
    // prepare
    const receivedAt = at(received);

    // act
    const due = dueDate('gdpr', receivedAt);

    // assess
    expect(due.toISOString()).toBe(expected);
  });

  it('gives the same dates whatever the time zone of the process', () => {
    // prepare: instants whose local day differs from the UTC one in some of these zones
    const zones = ['UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/New_York', 'Asia/Kolkata'];
    const received = [
      '2026-01-31T12:00:00.000Z',
      '2026-01-31T01:00:00.000Z',
      '2026-05-31T02:00:00.000Z',
      '2026-02-28T23:00:00.000Z',
      '2026-03-01T01:00:00.000Z',
      '2026-10-31T23:59:59.999Z',
    ];
    const expected = {
      gdpr: received.map((iso) => dueDate('gdpr', at(iso)).toISOString()),
      ccpa: received.map((iso) => dueDate('ccpa', at(iso)).toISOString()),
    };

    // act
    const results = dueDatesInZones(zones, received);

    // assess
    expect(expected.gdpr[0]).toBe('2026-02-28T12:00:00.000Z');
    expect(expected.ccpa[0]).toBe('2026-03-17T12:00:00.000Z');
    const utcDays = received.map((iso) => at(iso).getUTCDate());
    for (const result of results) {
      expect({ zone: result.zone, gdpr: result.gdpr, ccpa: result.ccpa }).toEqual({
        zone: result.zone,
        ...expected,
      });
      // the zone was in effect: outside UTC, some instant falls on another local day
      expect(result.localDays.some((day, n) => day !== utcDays[n])).toBe(result.zone !== 'UTC');
    }
  });

  it('does not change the date it was given', () => {
    // prepare
    const receivedAt = at('2026-01-31T10:00:00.000Z');

    // act
    dueDate('gdpr', receivedAt);
    maximumExtendedDueDate('gdpr', receivedAt);

    // assess
    expect(receivedAt.toISOString()).toBe('2026-01-31T10:00:00.000Z');
  });

  it('is the same day of the next month, or that month’s last day when it is shorter, for any instant', () => {
    // prepare
    const instants = fc.date({
      min: at('1970-01-01T00:00:00.000Z'),
      max: at('2999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });
    const daysIn = (year: number, monthIndex: number) =>
      new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();

    // act
    const act = () =>
      fc.assert(
        fc.property(instants, (receivedAt) => {
          const due = dueDate('gdpr', receivedAt);
          const monthIndex = receivedAt.getUTCFullYear() * 12 + receivedAt.getUTCMonth() + 1;
          const [year, month] = [Math.floor(monthIndex / 12), monthIndex % 12];

          // assess (per instant)
          expect([due.getUTCFullYear(), due.getUTCMonth()]).toEqual([year, month]);
          expect(due.getUTCDate()).toBe(Math.min(receivedAt.getUTCDate(), daysIn(year, month)));
          expect(due.getTime() % DAY_MS).toBe(receivedAt.getTime() % DAY_MS);
        }),
        propertyRun({ numRuns: 500 }),
      );

    // assess
    expect(act).not.toThrow();
  });
});

describe('dueDate: CCPA, 45 calendar days from receipt (§1798.130(a)(2))', () => {
  it.each([
    ['from 1 January', '2026-01-01T00:00:00.000Z', '2026-02-15T00:00:00.000Z'],
    ['across February of a common year', '2026-02-01T09:00:00.000Z', '2026-03-18T09:00:00.000Z'],
    ['across February of a leap year', '2028-02-01T09:00:00.000Z', '2028-03-17T09:00:00.000Z'],
    ['from 31 January, no month-end clamping', '2026-01-31T10:00:00.000Z', '2026-03-17T10:00:00.000Z'],
    ['across the year end, to the millisecond', '2026-12-20T23:59:59.999Z', '2027-02-03T23:59:59.999Z'],
    ['across the US and EU daylight-saving changes', '2026-03-01T12:00:00.000Z', '2026-04-15T12:00:00.000Z'],
    ['from an offset time, counted in UTC', '2026-01-31T23:30:00-05:00', '2026-03-18T04:30:00.000Z'],
  ])('%s', (_case, received, expected) => {
    // prepare
    const receivedAt = at(received);

    // act
    const due = dueDate('ccpa', receivedAt);

    // assess
    expect(due.toISOString()).toBe(expected);
    expect(due.getTime() - receivedAt.getTime()).toBe(45 * DAY_MS);
  });
});

describe('dueDate and extensions under the UK, Swiss and US state laws', () => {
  const received = '2026-03-02T09:00:00.000Z';

  it.each<[Jurisdiction, string]>([
    ['uk-gdpr', '2026-04-02T09:00:00.000Z'],
    ['fadp', '2026-04-01T09:00:00.000Z'],
    ['us-ca', '2026-04-16T09:00:00.000Z'],
    ['us-va', '2026-04-16T09:00:00.000Z'],
    ['us-co', '2026-04-16T09:00:00.000Z'],
    ['us-ct', '2026-04-16T09:00:00.000Z'],
    ['us-ut', '2026-04-16T09:00:00.000Z'],
    ['us-ia', '2026-05-31T09:00:00.000Z'],
  ])('%s is due on %s', (jurisdiction, expected) => {
    // act
    const due = dueDate(jurisdiction, at(received));

    // assess
    expect(due.toISOString()).toBe(expected);
  });

  it('knows a deadline for every jurisdiction', () => {
    // act
    const dues = JURISDICTIONS.map((jurisdiction) => dueDate(jurisdiction, at(received)).getTime());

    // assess
    expect(dues.every((due) => due > at(received).getTime())).toBe(true);
  });

  it('refuses a US state extension past 45 further days and a second one, naming the act', () => {
    // prepare
    const request = {
      jurisdiction: 'us-co' as const,
      receivedAt: received,
      dueAt: '2026-04-16T09:00:00.000Z',
    };
    const now = at('2026-04-01T00:00:00.000Z');

    // act
    const tooLong = extendedDueDate(request, 46, now);
    const allowed = extendedDueDate(request, 45, now);
    const second = extendedDueDate(
      { ...request, extension: { at: '2026-03-20T00:00:00.000Z', days: 10 } },
      5,
      now,
    );

    // assess
    expect(tooLong).toEqual({
      refused: expect.stringContaining('Colorado CPA §6-1-1306 allows at most 45 further days'),
    });
    expect(allowed).toEqual({ dueAt: at('2026-05-31T09:00:00.000Z') });
    expect(second).toEqual({ refused: expect.stringContaining('allows one extension') });
  });

  it('lets a Swiss FADP request be extended once by any period, within the original 30 days', () => {
    // prepare
    const request = {
      jurisdiction: 'fadp' as const,
      receivedAt: received,
      dueAt: '2026-04-01T09:00:00.000Z',
    };

    // act
    const long = extendedDueDate(request, 120, at('2026-03-20T00:00:00.000Z'));
    const late = extendedDueDate(request, 10, at('2026-04-02T00:00:00.000Z'));

    // assess
    expect(maximumExtendedDueDate('fadp', at(received))).toBeUndefined();
    expect(long).toEqual({ dueAt: at('2026-07-30T09:00:00.000Z') });
    expect(late).toEqual({ refused: expect.stringContaining('within the original period') });
  });
});

describe('maximumExtendedDueDate: how far an extension may reach', () => {
  it.each<[string, Jurisdiction, string, string]>([
    ['GDPR: three calendar months', 'gdpr', '2026-01-15T08:00:00.000Z', '2026-04-15T08:00:00.000Z'],
    [
      'GDPR: from 30 November, the end of February',
      'gdpr',
      '2026-11-30T08:00:00.000Z',
      '2027-02-28T08:00:00.000Z',
    ],
    ['GDPR: 29 February in a leap year', 'gdpr', '2027-11-30T08:00:00.000Z', '2028-02-29T08:00:00.000Z'],
    ['GDPR: from 31 October, 31 January', 'gdpr', '2026-10-31T08:00:00.000Z', '2027-01-31T08:00:00.000Z'],
    [
      'GDPR: from 31 May, 31 August (not clamped by the 30-day month between)',
      'gdpr',
      '2026-05-31T08:00:00.000Z',
      '2026-08-31T08:00:00.000Z',
    ],
    ['CCPA: 90 days in a common year', 'ccpa', '2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
    ['CCPA: 90 days in a leap year', 'ccpa', '2028-01-01T00:00:00.000Z', '2028-03-31T00:00:00.000Z'],
    ['Virginia: 45 + 45 days', 'us-va', '2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
    ['Iowa: 90 + 45 days', 'us-ia', '2026-01-01T00:00:00.000Z', '2026-05-16T00:00:00.000Z'],
    ['UK GDPR: three calendar months', 'uk-gdpr', '2026-01-31T08:00:00.000Z', '2026-04-30T08:00:00.000Z'],
  ])('%s', (_case, jurisdiction, received, expected) => {
    // prepare
    const receivedAt = at(received);

    // act
    const latest = maximumExtendedDueDate(jurisdiction, receivedAt);

    // assess
    expect(latest?.toISOString()).toBe(expected);
  });

  it.each<Jurisdiction>(['gdpr', 'ccpa'])('is after the due date for any instant (%s)', (jurisdiction) => {
    // prepare
    const instants = fc.date({
      min: at('1970-01-01T00:00:00.000Z'),
      max: at('2999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });

    // act
    const act = () =>
      fc.assert(
        fc.property(instants, (receivedAt) => {
          const due = dueDate(jurisdiction, receivedAt);
          const latest = maximumExtendedDueDate(jurisdiction, receivedAt);

          // assess (per instant): an extension adds at least two short months or 45 days
          expect(due.getTime()).toBeGreaterThan(receivedAt.getTime());
          expect(latest!.getTime() - due.getTime()).toBeGreaterThanOrEqual(
            (jurisdiction === 'gdpr' ? 59 : 45) * DAY_MS,
          );
        }),
        propertyRun(),
      );

    // assess
    expect(act).not.toThrow();
  });
});

describe('addCalendarMonths', () => {
  it.each([
    ['zero months is the same instant', '2026-01-31T10:00:00.000Z', 0, '2026-01-31T10:00:00.000Z'],
    [
      'twelve months from 29 February: 28 February',
      '2028-02-29T10:00:00.000Z',
      12,
      '2029-02-28T10:00:00.000Z',
    ],
    [
      'forty-eight months from 29 February: 29 February',
      '2028-02-29T10:00:00.000Z',
      48,
      '2032-02-29T10:00:00.000Z',
    ],
    ['thirteen months across a year', '2026-12-31T00:00:00.000Z', 13, '2028-01-31T00:00:00.000Z'],
    ['one month back from 31 March', '2026-03-31T00:00:00.000Z', -1, '2026-02-28T00:00:00.000Z'],
    ['one month back across the year start', '2026-01-15T00:00:00.000Z', -1, '2025-12-15T00:00:00.000Z'],
  ])('%s', (_case, from, months, expected) => {
    // prepare
    const start = at(from);

    // act
    const result = addCalendarMonths(start, months);

    // assess
    expect(result.toISOString()).toBe(expected);
    expect(start.toISOString()).toBe(from);
  });
});
