import type { DataMap } from '../../../lib/datamap/schema';
import { extendedDueDate } from '../../../lib/rights/deadlines';
import { policyFor } from '../../../lib/rights/policy';

describe('policyFor', () => {
  const map = (requestPolicy: DataMap['requestPolicy']) => ({ requestPolicy });

  it('needs no approval and verifies every right without rules (an opt-out of sale is exempt at Verify)', () => {
    // act
    const policies = (['access', 'portability', 'erasure', 'objection'] as const).map((type) =>
      policyFor(map([]), type, 'gdpr'),
    );

    // assess
    expect(policies).toEqual([
      { approval: false, verification: true },
      { approval: false, verification: true },
      { approval: false, verification: true },
      { approval: false, verification: true },
    ]);
  });

  it('applies the rules naming the type and jurisdiction, later ones over earlier ones', () => {
    // prepare
    const rules = map([
      { types: ['erasure'], approval: 'required' },
      { types: ['erasure'], jurisdictions: ['ccpa'], approval: 'not-required' },
      { types: ['objection'], jurisdictions: ['ccpa'], verification: 'not-required' },
    ]);

    // act / assess
    expect(policyFor(rules, 'erasure', 'gdpr')).toEqual({ approval: true, verification: true });
    expect(policyFor(rules, 'erasure', 'ccpa')).toEqual({ approval: false, verification: true });
    expect(policyFor(rules, 'objection', 'gdpr')).toEqual({ approval: false, verification: true });
    expect(policyFor(rules, 'objection', 'ccpa')).toEqual({ approval: false, verification: false });
    expect(policyFor(rules, 'access', 'gdpr')).toEqual({ approval: false, verification: true });
  });
});

describe('extendedDueDate', () => {
  const gdpr = {
    jurisdiction: 'gdpr' as const,
    receivedAt: '2027-01-31T09:00:00.000Z',
    dueAt: '2027-02-28T09:00:00.000Z',
  };
  const ccpa = {
    jurisdiction: 'ccpa' as const,
    receivedAt: '2027-01-31T09:00:00.000Z',
    dueAt: '2027-03-17T09:00:00.000Z',
  };
  const now = new Date('2027-02-10T00:00:00.000Z');

  it('reaches up to two further months under the GDPR and 45 further days under the CCPA, not a day more', () => {
    // act / assess
    expect(extendedDueDate(gdpr, 61, now)).toEqual({ dueAt: new Date('2027-04-30T09:00:00.000Z') });
    expect(extendedDueDate(gdpr, 62, now)).toEqual({
      refused: expect.stringMatching(/latest due date is 2027-04-30/),
    });
    expect(extendedDueDate(ccpa, 45, now)).toEqual({ dueAt: new Date('2027-05-01T09:00:00.000Z') });
    expect(extendedDueDate(ccpa, 46, now)).toEqual({ refused: expect.stringMatching(/45 further days/) });
  });

  it('refuses a second extension, one decided after the original period, and a day count that is none', () => {
    // act / assess
    expect(
      extendedDueDate({ ...ccpa, extension: { at: '2027-02-01T00:00:00.000Z', days: 5 } }, 5, now),
    ).toEqual({
      refused: expect.stringMatching(/allows one extension/),
    });
    expect(extendedDueDate(gdpr, 10, new Date('2027-03-01T00:00:00.000Z'))).toEqual({
      refused: expect.stringMatching(/within the original period, which ended 2027-02-28/),
    });
    for (const days of [0, -3, 1.5, Number.NaN]) {
      expect(extendedDueDate(gdpr, days, now)).toEqual({ refused: expect.stringMatching(/whole number/) });
    }
  });
});
